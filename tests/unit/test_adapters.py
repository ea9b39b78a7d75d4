"""Adapters: torch modules, scikit-learn estimators and plain callables all become one batched
``predict`` -> (N, n_outputs) float64, checked against the model called directly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from unit_kit import TinyCNN, ViewingCNN

import nbexplain as nbx
from nbexplain.adapters.model import Model


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.fixture
def batch() -> np.ndarray:
    return np.random.default_rng(0).random((10, 3, 16, 16))


# -- torch -------------------------------------------------------------------------------------------------
def test_torch_logits_round_trip_in_float64(cnn, batch):
    m = nbx.as_model(cnn)
    y = m.predict(batch)
    with torch.no_grad():
        ref = cnn(torch.from_numpy(batch)).numpy()
    assert y.dtype == np.float64 and y.shape == (10, 3)
    np.testing.assert_allclose(y, ref, rtol=1e-13)  # float64 kept (float32 would be off by ~1e-7)
    assert m.output == "logits" and m.n_outputs == 3 and m.differentiable
    np.testing.assert_allclose(
        m.predict_proba(batch), torch.softmax(torch.from_numpy(ref), 1).numpy(), rtol=1e-12
    )


def test_torch_float32_model_gets_float32_input(batch):
    model = TinyCNN().eval()
    y = nbx.as_model(model).predict(batch)  # float64 numpy in, cast to the module's dtype
    with torch.no_grad():
        ref = model(torch.from_numpy(batch).float()).numpy()
    np.testing.assert_allclose(y, ref.astype(np.float64), rtol=1e-5)


def test_conv_models_on_the_cpu_get_channels_last_batches_with_the_same_outputs(batch):
    model = TinyCNN().eval()
    seen = []
    model.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    m = nbx.as_model(model)
    y = m.predict(batch)
    assert m.channels_last and seen[0].is_contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        ref = model(torch.from_numpy(batch).float()).numpy()  # contiguous (N, C, H, W)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
    # a batch built channels last (image_batch) reaches the model as it is: no copy
    from nbexplain.adapters.model import image_batch

    built = image_batch(4, batch.shape[1:], np.float32, True)
    built[...] = batch[:4]
    seen.clear()
    m.predict(built)
    assert seen[0].data_ptr() == built.__array_interface__["data"][0]
    # no convolution (a table, a flattening MLP): nothing changes
    mlp = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 2)).eval()
    assert not nbx.as_model(mlp).channels_last


def test_a_model_that_cannot_take_channels_last_is_run_contiguous_from_then_on(batch):
    model = ViewingCNN().eval()  # .view() of a convolution's output needs contiguous memory
    m = nbx.as_model(model)
    y = m.predict(batch)
    with torch.no_grad():
        ref = model(torch.from_numpy(batch).float()).numpy()
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
    assert not m.channels_last  # remembered: later batches are built contiguous
    np.testing.assert_allclose(m.predict(batch[:3]), ref[:3], rtol=1e-5, atol=1e-6)


def test_torch_probabilities_pass_through(cnn, batch):
    model = torch.nn.Sequential(cnn, torch.nn.Softmax(dim=1))
    m = nbx.as_model(model)
    with torch.no_grad():
        ref = model(torch.from_numpy(batch)).numpy()
    np.testing.assert_allclose(m.predict_proba(batch), ref, rtol=1e-12)
    assert m.output == "probability"
    # and when told so explicitly, logits that happen to look like probabilities stay logits
    m2 = nbx.as_model(model, output="logits")
    np.testing.assert_allclose(m2.predict_proba(batch), softmax(ref), rtol=1e-12)


def test_torch_single_logit_is_binary(batch):
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 1)).double()
    m = nbx.as_model(model)
    with torch.no_grad():
        z = model(torch.from_numpy(batch)).numpy()[:, 0]
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(m.predict_proba(batch), np.stack([1 - p, p], 1), rtol=1e-12)
    assert m.n_classes(batch) == 2


def test_torch_preprocess_is_applied(cnn, batch):
    m = nbx.as_model(cnn, preprocess=lambda t: (t - 0.5) / 0.25)
    with torch.no_grad():
        ref = cnn((torch.from_numpy(batch) - 0.5) / 0.25).numpy()
    np.testing.assert_allclose(m.predict(batch), ref, rtol=1e-12)


def test_torch_low_precision_outputs_become_float64(batch):
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 4)).to(
        torch.bfloat16
    )
    y = nbx.as_model(model).predict(batch)
    with torch.no_grad():
        ref = model(torch.from_numpy(batch).to(torch.bfloat16)).float().numpy()
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, ref, rtol=2e-2, atol=1e-2)


class Dropper(torch.nn.Module):
    """Dropout makes train mode visible in the outputs; a frozen first layer tests requires_grad."""

    def __init__(self):
        super().__init__()
        self.cnn = TinyCNN().double()
        self.drop = torch.nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.cnn(x))


@pytest.mark.filterwarnings("ignore:Setting backward hooks:UserWarning")
@pytest.mark.parametrize(
    "method",
    [None, "gradient", "rectified", "smoothgrad", "gradcam", "integrated_gradients", "occlusion"],
)
def test_torch_state_is_restored(method, batch):
    model = Dropper()
    model.train()
    model.cnn.conv1.weight.requires_grad_(False)
    grads = {n: p.requires_grad for n, p in model.named_parameters()}
    m = nbx.as_model(model)
    image = batch[0]
    if method is None:
        y = m.predict(batch)
        with torch.no_grad():
            ref = model.eval()(torch.from_numpy(batch)).numpy()  # eval: dropout off, deterministic
        model.train()
        np.testing.assert_allclose(y, ref, rtol=1e-13)
    else:
        options = (
            {"n_samples": 2}
            if method == "smoothgrad"
            else {"steps": 3}
            if method == "integrated_gradients"
            else {}
        )
        nbx.attribute(m, image, method, **options)
    assert model.training and all(mod.training for mod in model.modules())
    assert {n: p.requires_grad for n, p in model.named_parameters()} == grads
    assert all(
        p.grad is None for p in model.parameters()
    )  # no gradient left accumulated on the weights
    for mod in model.modules():  # Captum's hooks are gone
        assert not mod._forward_hooks and not mod._forward_pre_hooks and not mod._backward_hooks


def test_a_training_model_predicts_in_eval_mode_switched_once_per_call_and_restored(batch):
    model = TinyCNN().float()
    model.train()
    modes, walks = [], []
    real_modules = model.modules
    model.register_forward_pre_hook(lambda _mod, _args: modes.append([m.training for m in real_modules()]))
    model.modules = lambda: walks.append(1) or real_modules()  # counts the walks that find training modules
    m = nbx.as_model(model, batch_size=2)
    m.predict(batch[:2])  # one batch
    walks.clear()
    m.predict(batch[:2])
    one_batch = len(walks)
    walks.clear()
    m.predict(np.repeat(batch, 4, axis=0))  # several batches
    assert len(modes) >= 4 and not any(any(flags) for flags in modes)  # every batch in eval mode
    # the walks (the eval switch's, batch-norm folding's look-up) are made once per call, not once per batch
    assert 1 <= len(walks) == one_batch <= 3
    assert all(mod.training for mod in real_modules())
    m._forward(batch)  # called on its own, a batch still runs in eval mode, restored after
    assert not any(modes[-1]) and all(mod.training for mod in real_modules())


def test_input_is_not_modified(cnn, batch):
    before = batch.copy()
    image = np.ascontiguousarray(batch[0].transpose(1, 2, 0)).astype(np.float32)
    image_before = image.copy()
    nbx.as_model(cnn).predict(batch)
    for method in ("gradient", "occlusion", "integrated_gradients"):
        nbx.attribute(cnn, image, method)
    np.testing.assert_array_equal(batch, before)
    np.testing.assert_array_equal(image, image_before)


class EditsItsInput(torch.nn.Module):
    """Normalises its input in place, as some hand-written forward() methods do."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv, self.fc = torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.Linear(4, 3)

    def forward(self, x):
        x.sub_(0.5)
        return self.fc(self.conv(x).mean((2, 3)))


class ClonesFirst(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x.clone())


def test_a_model_that_edits_its_input_gets_copies_and_occlusion_stays_exact():
    """Occlusion rewrites only the windows of one reused batch buffer: a model writing into its input would
    corrupt every later batch. The adapter sees the write and gives that model copies from then on."""
    from captum.attr import Occlusion

    from nbexplain.methods.incremental.patches import disabled

    net = EditsItsInput().eval()
    image = np.random.default_rng(0).random((3, 16, 16)).astype(np.float32)
    before = image.copy()
    model = nbx.as_model(net)
    with disabled():  # the buffer-reusing full passes
        ours = nbx.attribute(model, image, "occlusion", target=0, window=4, stride=4, baseline=0.0).attribution
    assert model._forward.layout["writes_input"] is True
    ref = Occlusion(ClonesFirst(net)).attribute(torch.from_numpy(image[None]), sliding_window_shapes=(3, 4, 4),
                                                strides=(3, 4, 4), baselines=0.0, target=0)[0].numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(image, before)


def test_a_write_into_a_layout_copy_is_seen_and_the_callers_buffer_is_never_written():
    """The first batch needs a copy for the layout (C order for a channels-last CNN): the model writes that
    copy, which must count, so that the next batch, already channels last, is not handed over unguarded."""
    net = EditsItsInput().eval()
    model = nbx.as_model(net, batch_size=2)
    c_order = np.random.default_rng(0).random((2, 3, 8, 8)).astype(np.float32)
    model.predict(c_order)
    assert model._forward.layout == {"channels_last": True, "writes_input": True}
    last = np.ascontiguousarray(c_order.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)  # channels last memory
    before = last.copy()
    np.testing.assert_allclose(model.predict(last), model.predict(c_order), rtol=1e-6)
    np.testing.assert_array_equal(last, before)


def test_a_model_that_leaves_its_input_alone_reads_the_callers_batch_without_a_copy(cnn):
    seen = []
    cnn.register_forward_pre_hook(lambda _m, args: seen.append(args[0].data_ptr()))
    model = nbx.as_model(cnn, batch_size=4)
    # (N, C, H, W) over memory that keeps the channels last: how the perturbation methods build batches
    batch = np.random.default_rng(0).random((4, 8, 8, 3)).transpose(0, 3, 1, 2)
    model.predict(batch)  # the first call runs on a copy: nothing is known about the model yet
    assert model._forward.layout["writes_input"] is False
    model.predict(batch)
    assert seen[-1] == batch.ctypes.data  # then the caller's memory itself


def test_a_function_that_edits_its_input_gets_copies_and_occlusion_stays_exact():
    weights = np.random.default_rng(1).random((3, 16, 16))

    def edits(x):  # centres its input in place
        x -= 0.5
        return np.stack([(x * weights).sum((1, 2, 3)), (x ** 2).sum((1, 2, 3))], axis=1)

    def clean(x):
        return edits(np.array(x, copy=True))

    image = np.random.default_rng(0).random((3, 16, 16)).astype(np.float32)
    model = nbx.as_model(edits)
    ours = nbx.attribute(model, image, "occlusion", target=0, window=4, stride=4, baseline=0.0).attribution
    ref = nbx.attribute(clean, image, "occlusion", target=0, window=4, stride=4, baseline=0.0).attribution
    assert model._forward.writes_input == [True]
    np.testing.assert_allclose(ours, ref, rtol=1e-6)
    assert nbx.as_model(clean)._forward.writes_input == [None]  # (nothing known before a call)


# -- scikit-learn ------------------------------------------------------------------------------------------
def test_sklearn_predict_proba_round_trip(tabular):
    from sklearn.linear_model import LogisticRegression

    X, y = tabular
    est = LogisticRegression(max_iter=500).fit(X, y)
    m = nbx.as_model(est)
    assert m.kind == "sklearn" and not m.differentiable and m.output == "probability"
    np.testing.assert_array_equal(m.predict(X), est.predict_proba(X))
    np.testing.assert_array_equal(m.predict_proba(X), est.predict_proba(X))
    assert m.n_classes(X) == 4


@pytest.mark.parametrize("forest", ["RandomForestClassifier", "ExtraTreesClassifier", "RandomForestRegressor",
                                    "ExtraTreesRegressor"])
def test_forests_summed_tree_by_tree_equal_their_own_prediction(tabular, forest):
    import sklearn.ensemble

    from nbexplain.adapters import sklearn_models

    X, y = tabular
    est = getattr(sklearn.ensemble, forest)(n_estimators=25, max_depth=6, random_state=0).fit(X, y)
    own = est.predict_proba if hasattr(est, "predict_proba") else est.predict
    m = nbx.as_model(est)
    assert m.kind == "sklearn" and m.output == ("probability" if forest.endswith("Classifier") else "logits")
    for rows in (X[:1], X[:7], X, X.astype(np.float32), X[:, ::-1].copy()[:, ::-1]):
        np.testing.assert_array_equal(m.predict(rows), np.asarray(own(rows)).reshape(len(rows), -1))
    assert sklearn_models._CHECKED[est] == (sklearn_models.fitted_state(est), True)  # checked, fast path on
    # the fast path does not go through the estimator's own method; other cases do (and its errors come back)
    calls = []
    est.predict_proba = est.predict = lambda A: calls.append(len(A)) or own(A)  # instance attributes win
    m2 = nbx.as_model(est)
    m2.predict(X[:5])
    assert calls == []
    with pytest.raises(nbx.errors.ModelError, match="features"):
        m2.predict(X[:, :2])
    assert calls == [len(X)]


def test_forests_with_parallel_jobs_or_subclasses_use_their_own_method(tabular):
    from sklearn.ensemble import RandomForestClassifier

    from nbexplain.adapters.sklearn_models import forest_forward as _forest_forward

    X, y = tabular

    class Calibrated(RandomForestClassifier):
        def predict_proba(self, X):
            return super().predict_proba(X) ** 2

    assert _forest_forward(RandomForestClassifier(5, n_jobs=2).fit(X, y)) is None
    assert _forest_forward(Calibrated(5).fit(X, y)) is None
    assert _forest_forward(RandomForestClassifier(5).fit(X, np.stack([y, y], 1))) is None  # two outputs
    assert _forest_forward(RandomForestClassifier(5).fit(X, y)) is not None


def test_sklearn_decision_function_binary_gives_sigmoid(tabular):
    from sklearn.svm import LinearSVC

    X, y = tabular
    est = LinearSVC().fit(X, y > 1)
    assert not hasattr(est, "predict_proba")
    d = est.decision_function(X)
    p = nbx.as_model(est).predict_proba(X)
    np.testing.assert_allclose(p[:, 1], 1 / (1 + np.exp(-d)), rtol=1e-12)
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-12)
    np.testing.assert_array_equal(p.argmax(1), est.predict(X).astype(int))


def test_sklearn_decision_function_multiclass_is_logits(tabular):
    from sklearn.svm import LinearSVC

    X, y = tabular
    est = LinearSVC().fit(X, y)
    m = nbx.as_model(est)
    np.testing.assert_array_equal(m.predict(X), est.decision_function(X))
    np.testing.assert_allclose(m.predict_proba(X), softmax(est.decision_function(X)), rtol=1e-12)


def test_sklearn_predict_only(tabular):
    from sklearn.linear_model import LinearRegression

    X, y = tabular
    est = LinearRegression().fit(X, y.astype(float))
    assert not hasattr(est, "predict_proba") and not hasattr(est, "decision_function")
    out = nbx.as_model(est).predict(X)
    np.testing.assert_array_equal(out, est.predict(X)[:, None])


# -- callables and batching --------------------------------------------------------------------------------
def test_callable_round_trip_and_batch_sizes(tabular):
    X, _ = tabular
    w = np.random.default_rng(3).normal(size=(5, 3))
    sizes = []

    def f(b):
        sizes.append(len(b))
        return b @ w

    m = nbx.as_model(f, batch_size=32)
    np.testing.assert_array_equal(m.predict(X), X @ w)
    assert sizes == [32, 32, 32, 24]
    assert m.kind == "callable" and m.output == "logits"
    sizes.clear()
    nbx.as_model(f).predict(X)  # tabular default: one call for the whole batch
    assert sizes == [120]


def test_callable_returning_torch_and_lists(tabular):
    X, _ = tabular
    np.testing.assert_array_equal(
        nbx.as_model(lambda b: torch.from_numpy(b[:, :2])).predict(X), X[:, :2]
    )
    np.testing.assert_array_equal(nbx.as_model(lambda b: b[:, 0].tolist()).predict(X), X[:, :1])


def test_torch_batches_cover_everything_once(batch):
    seen = []

    class Recorder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(3 * 16 * 16, 2).double()

        def forward(self, x):
            seen.append(x[:, 0, 0, 0].clone())
            return self.lin(x.flatten(1))

    big = np.random.default_rng(1).random((37, 3, 16, 16))
    m = nbx.as_model(Recorder())
    y = m.predict(big)
    np.testing.assert_array_equal(torch.cat(seen).numpy(), big[:, 0, 0, 0])
    assert y.shape == (37, 2)
    seen.clear()
    nbx.as_model(Recorder(), batch_size=5).predict(big)
    assert [len(s) for s in seen] == [5] * 7 + [2]


def test_a_reused_buffer_is_made_again_only_for_more_rows_or_another_key():
    from nbexplain.adapters.lazy import ReusedBuffer

    made = []
    buffer = ReusedBuffer()

    def make(n):
        made.append(n)
        return np.zeros((n, 3))

    a, fresh = buffer.take(4, "c", make)
    assert fresh and a.shape == (4, 3)
    b, fresh = buffer.take(2, "c", make)  # fewer rows: the front of the same memory
    assert not fresh and b.shape == (2, 3) and np.shares_memory(a, b)
    _, fresh = buffer.take(5, "c", make)  # more rows
    assert fresh
    _, fresh = buffer.take(5, "last", make)  # another layout
    assert fresh and made == [4, 5, 5]
    buffer.release()
    assert buffer.take(1, "last", make)[1] and made == [4, 5, 5, 1]


def test_lazy_batch_is_sliced_not_materialised(cnn):
    data = np.random.default_rng(2).random((9, 3, 16, 16))
    spans = []

    class Lazy:
        shape, dtype, ndim = data.shape, data.dtype, 4

        def __len__(self):
            return len(data)

        def __getitem__(self, span):
            spans.append((span.start, span.stop))
            return data[span]

    y = nbx.as_model(cnn, batch_size=4).predict(Lazy())
    with torch.no_grad():
        np.testing.assert_allclose(y, cnn(torch.from_numpy(data)).numpy(), rtol=1e-13)
    assert spans == [(0, 4), (4, 8), (8, 9)]


def test_as_model_is_idempotent_and_sets_class_names(cnn):
    m = nbx.as_model(cnn)
    assert nbx.as_model(m) is m
    assert isinstance(m, Model)
    nbx.as_model(m, class_names=["a", "b", "c"])
    assert m.class_name(1) == "b" and m.class_name(7) == "class 7"


@pytest.mark.parametrize("forest", ["RandomForestClassifier", "ExtraTreesRegressor"])
def test_a_wrapped_forest_follows_refits_and_warm_start_growth(tabular, forest):
    import sklearn.ensemble

    X, y = tabular
    est = getattr(sklearn.ensemble, forest)(n_estimators=5, max_depth=3, random_state=0).fit(X, y)
    own = est.predict_proba if hasattr(est, "predict_proba") else est.predict
    m = nbx.as_model(est)
    for _ in range(3):  # the fast path is on after the first batch
        np.testing.assert_array_equal(m.predict(X), np.asarray(own(X)).reshape(len(X), -1))
    est.set_params(max_depth=None, random_state=1).fit(X, y)  # a refit: new trees
    np.testing.assert_array_equal(m.predict(X), np.asarray(own(X)).reshape(len(X), -1))
    np.testing.assert_array_equal(m.predict(X), np.asarray(own(X)).reshape(len(X), -1))
    est.set_params(warm_start=True, n_estimators=12).fit(X, y)  # grown in place: the same list, longer
    assert len(est.estimators_) == 12
    np.testing.assert_array_equal(m.predict(X), np.asarray(own(X)).reshape(len(X), -1))
    np.testing.assert_array_equal(m.predict(X[:3]), np.asarray(own(X[:3])).reshape(3, -1))


def test_a_forest_whose_trees_disagree_answers_with_its_own_method_and_spoils_no_other(tabular):
    from sklearn.ensemble import RandomForestClassifier

    from nbexplain.adapters import sklearn_models

    X, y = tabular
    bad = RandomForestClassifier(5, random_state=0).fit(X, y)
    good = RandomForestClassifier(5, random_state=1).fit(X, y)
    summed = RandomForestClassifier.predict_proba(bad, X)
    # the estimator's own method no longer equals its summed trees (as a changed scikit-learn might)
    bad.predict_proba = lambda A: RandomForestClassifier.predict_proba(bad, A) * 0.9 + 0.1 / 4
    m = nbx.as_model(bad)
    np.testing.assert_array_equal(m.predict(X), bad.predict_proba(X))  # the first batch: its own numbers
    np.testing.assert_array_equal(m.predict(X[:9]), bad.predict_proba(X[:9]))  # and from then on
    assert not np.array_equal(m.predict(X), summed)
    assert sklearn_models._CHECKED[bad][1] is False
    m_good = nbx.as_model(good)
    np.testing.assert_array_equal(m_good.predict(X), good.predict_proba(X))
    assert sklearn_models._CHECKED[good][1] is True  # one disagreeing forest switches off no other


def test_class_names_must_be_a_sequence_of_names_not_one_string():
    with pytest.raises(nbx.InputError, match=r"class_names must be a sequence of names"):
        nbx.as_model(lambda x: x, class_names="abcd")
