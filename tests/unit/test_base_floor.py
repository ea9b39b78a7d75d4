"""The base floor every other floor uses: checkers, renamed keywords, progress bars, the widget registry."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from nbexplain import _progress, _registry
from nbexplain._deprecation import renamed, renamed_value
from nbexplain._validation import (
    check_bool,
    check_choice,
    check_int,
    check_keywords,
    check_number,
    check_options,
    check_positive,
    check_probability,
    check_seed,
    nearest,
)
from nbexplain.errors import InputError, UnknownArgumentError


@pytest.mark.parametrize("call, message", [
    (lambda: check_int(0, "n_samples", 2), "n_samples must be an int >= 2; got 0"),
    (lambda: check_int(True, "n", 1), "n must be an int >= 1; got True"),
    (lambda: check_int(2.0, "n", 1), "n must be an int >= 1; got 2.0"),
    (lambda: check_int(12, "k", 1, 10), "k must be an int in 1..10; got 12"),
    (lambda: check_number(float("nan"), "alpha", 0.0), "alpha must be a non-negative number; got nan"),
    (lambda: check_positive(0, "kernel_width"), "kernel_width must be a positive number; got 0"),
    (lambda: check_number("1", "x"), "x must be a finite number; got '1'"),
    (lambda: check_probability(1.5, "threshold", strict=True), "threshold must be a number strictly between 0 and 1; got 1.5"),
    (lambda: check_bool(1, "sparse"), "sparse must be True or False; got 1"),
    (lambda: check_seed(-1), "seed must be a non-negative int or None; got -1"),
    (lambda: check_choice("occlussion", "method", ["occlusion", "gradient"]),
     "method='occlussion' is not valid: expected one of ['occlusion', 'gradient']; did you mean 'occlusion'?"),
])
def test_checkers_name_the_argument_and_what_was_expected(call, message):
    with pytest.raises(InputError) as info:
        call()
    assert str(info.value) == message


def test_checkers_return_clean_values():
    assert check_int(np.int64(3), "n", 1) == 3 and type(check_int(np.int64(3), "n", 1)) is int
    assert check_number(np.float32(0.5), "x", 0, 1) == 0.5
    assert check_seed(None) is None and check_seed(np.int32(4)) == 4
    assert check_bool(np.bool_(True), "b") is True


def test_unknown_keywords_are_errors_naming_the_nearest():
    with pytest.raises(UnknownArgumentError, match=r"Heatmap\(\) got an unexpected keyword argument 'methd'; did you mean 'method'\?"):
        check_keywords(["methd"], ["method", "target"], "Heatmap()")
    with pytest.raises(TypeError):  # an UnknownArgumentError is a TypeError as Python's own
        check_keywords(["zzz"], ["method"], "f()")
    with pytest.raises(UnknownArgumentError, match=r"options has an unknown option 'occlussion'; did you mean 'occlusion'"):
        check_options({"occlussion": {}}, "options", ["occlusion", "gradient"])
    assert nearest("n_segment", ["n_segments", "fill"]) == "n_segments"
    assert nearest("zzzz", ["n_segments"]) is None


def test_renamed_keywords_warn_and_still_work():
    @renamed(X_train="data")
    def explain(x, *, data=None):
        return data

    with pytest.warns(FutureWarning, match=r"'X_train' is now called 'data'"):
        assert explain(1, X_train=5) == 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert explain(1, data=6) == 6
    with pytest.raises(UnknownArgumentError, match="got both 'X_train' and its new name 'data'"):
        explain(1, X_train=1, data=2)
    with pytest.warns(FutureWarning, match=r"output='probabilities' is now spelled output='probability'"):
        assert renamed_value("probabilities", "output", {"probabilities": "probability"}) == "probability"


def test_progress_reporter_choices(capsys):
    assert _progress.reporter(False, "x") is None
    fn = lambda f: None  # noqa: E731
    assert _progress.reporter(fn, "x") is fn
    with pytest.raises(InputError, match="progress must be None, True, False or a callable"):
        _progress.reporter("yes", "x")
    bar = _progress.reporter(True, "LIME")
    for i in range(5):
        bar((i + 1) / 5)
    assert bar.done and bar.bar is not None  # True: a bar from the start, closed at the end
    quick = _progress.reporter(None, "quick")  # automatic: nothing for work shorter than the delay
    quick(0.5)
    quick(1.0)
    assert quick.bar is None
    _progress.progress_bars(False)
    try:
        assert _progress.reporter(None, "x") is None
    finally:
        _progress.progress_bars(True)
    assert _progress.estimate(0.25, 10.0) == pytest.approx(30.0)
    assert _progress.estimate(0.0, 10.0) is None


def test_registry_finds_the_widget_of_a_result_or_its_base_class():
    class Base:
        pass

    class Derived(Base):
        pass

    @_registry.shows(Base)
    def show(result, **options):
        return ("widget", type(result).__name__, options)

    try:
        assert _registry.widget_for(Derived(), model=1) == ("widget", "Derived", {"model": 1})
        with pytest.raises(InputError, match="no widget shows a int"):
            _registry.widget_for(3)
    finally:
        _registry._SHOWN_BY.pop(Base, None)
