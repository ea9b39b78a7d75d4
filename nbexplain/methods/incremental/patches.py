"""Patched copies of one input through a model: incrementally where it pays off, at the best batch size.

The perturbation methods (occlusion, superpixel games) describe their inputs as patches of a reference
input: N boxes of one size, a function building the patches of rows ``start:stop``, and one building whole
inputs (for the check below). :func:`engine_for` prepares the model's :class:`~.engine.IncrementalModel`
for the reference (cached per torch module, made again when its weights change), and
:func:`predict_patches` runs the plan one batch at a time, at the batch size a
:class:`~nbexplain.adapters.batching.BatchSizer` measures fastest (its own, per model and patch size: patches
are cheaper than images, so the best batch is larger), checking the outputs as the model adapter does and
reporting progress (which may cancel).

The traced graph is what ``torch.fx`` saw when it traced the module: Python state read in ``forward`` (a
flag, a temperature, a sleep) is frozen in it. So every call first runs the model's own forward pass on
the first patched input, through the adapter (a model that raises, raises as always), and the engine's
output for it must agree; if it does not, the engine is dropped and the caller runs full forward passes.

Whether it pays off is decided from the changed area: :attr:`~.engine.Plan.fraction` is the estimated cost
of the plan against full forward passes, and :data:`CROSSOVER` the fraction above which full forward passes
are faster (measured by ``benchmarks/superpixels.py``); :func:`worth_it` says it. Superposition through a
linear stem has its own, :data:`STEM_CROSSOVER`.

Examples
--------
>>> engine = engine_for(model, image)                     # None unless the model is a torch module
>>> plan = engine.plan(rows, cols, 16, 16)
>>> if worth_it(plan):
...     outputs = predict_patches(model, engine, plan, lambda a, b: patches[a:b], lambda a, b: images[a:b])
"""

from __future__ import annotations

import hashlib
import math
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..._types import Progress
from ...adapters.agreement import relative_gap
from ...adapters.batching import CANDIDATES, BatchSizer
from ...adapters.model import Model
from ...adapters.switch import Switch
from ...adapters.tracing import forget_trace, weights_version
from ...errors import ModelError

if TYPE_CHECKING:  # the engine imports torch: only when a torch model is explained
    from .engine import IncrementalModel, Plan

#: estimated cost (a fraction of full forward passes) above which full forward passes are used instead:
#: where the measured times cross on the ResNet-18-shaped CNN (benchmarks/superpixels.py, "crossover")
CROSSOVER = 0.8
#: the same for superposition through a linear stem (:mod:`.stem`): on the ResNet-18-shaped CNN
#: (benchmarks/superpixels.py, random coalitions against rendering and full forward passes) estimated 0.75,
#: 0.83 and 0.94 at widths 8, 16 and 64, measured 0.61-0.77, 0.80-0.90 and 0.86-0.87 in four runs of one
#: evening (LIME at width 64: 0.92 of the floor, full passes 1.02): the estimate is off by up to 0.08 either
#: way, so at 0.95 the worst case is a few percent slower than full passes, and the usual case faster
STEM_CROSSOVER = 0.95
#: engines (their cached activations) kept per model, most recent first
ENGINES_PER_MODEL = 2
#: largest batch of patches
MAX_PATCH_BATCH = 256
#: full forward passes a plan must save to be worth the check (one forward pass) and the set-up
MIN_SAVED_PASSES = 4.0
#: how closely the engine's output must match the model's own forward pass (relative to the output scale)
CHECK_TOLERANCE = 1e-4

#: whether perturbation methods may use incremental inference at all (see :func:`disabled`)
INCREMENTAL = Switch()

_ENGINES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # {torch module: {reference key: engine}}
_SIZERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # {torch module: {patch key: sizer}}


def disabled():
    """Within this context every perturbation method runs full forward passes (to compare, or to rule the
    engine out when something looks wrong); results then say ``engine="full (incremental inference is
    switched off)"``.

    >>> with disabled():
    ...     nbx.attribute(model, image, "occlusion").engine
    'full (incremental inference is switched off)'
    """
    return INCREMENTAL.off()


def why_not(model: Model) -> str | None:
    """Why the model's forward passes cannot be looked into at all (None when they can)."""
    if not INCREMENTAL.on:
        return "incremental inference is switched off"
    if model.kind != "torch":
        return f"a {model.kind} model: its forward pass cannot be looked into"
    return None


def engine_for(model: Model, reference: np.ndarray) -> IncrementalModel | None:
    """The model's incremental engine for ``reference`` (C, H, W), cached per torch module (a fresh
    ``as_model`` of the same network, which every ``nbx.lime_image(net, ...)`` makes, finds it) and made again
    when its weights changed in place since (training between two explanations); None when the model's
    forward passes cannot be looked into (see :func:`why_not`)."""
    if why_not(model) is not None:
        return None
    from .engine import IncrementalModel

    reference = np.ascontiguousarray(reference)
    return most_recent(_ENGINES, model.raw, array_key(reference) + (weights_version(model.raw),),
                       lambda: IncrementalModel(model.raw, reference), ENGINES_PER_MODEL)


def array_key(*arrays: np.ndarray) -> tuple:
    """A key for the contents of ``arrays``: their shapes and dtypes, and one SHA-1 of their bytes."""
    digest = hashlib.sha1()
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())
    return (*((a.shape, a.dtype.str) for a in arrays), digest.hexdigest())


def most_recent(store: weakref.WeakKeyDictionary, owner: object, key: tuple, make: Callable[[], object],
                limit: int):
    """What ``store`` keeps for ``owner`` under ``key``, made by ``make()`` when missing; only the ``limit``
    most recently used are kept per owner (engines per module, superpositions per engine: large, and made
    again in milliseconds)."""
    kept = store.setdefault(owner, OrderedDict())
    found = kept.get(key)
    if found is None:
        found = kept[key] = make()
    kept.move_to_end(key, last=False)
    while len(kept) > limit:
        kept.popitem()
    return found


def worth_it(plan: Plan) -> bool:
    """Whether running the plan incrementally pays off: estimated below :data:`CROSSOVER` of full forward
    passes, and saving at least :data:`MIN_SAVED_PASSES` of them."""
    return plan.fraction < CROSSOVER and plan.n * (1 - plan.fraction) >= MIN_SAVED_PASSES


def not_worth_it(plan: Plan) -> str:
    """Why a plan runs as full forward passes, in words (for results)."""
    if plan.fraction < CROSSOVER:
        return f"{plan.n} input(s) are too few to pay for setting incremental inference up"
    return (f"a changed box of {plan.h} x {plan.w} would cost an estimated {plan.fraction:.0%} of a full "
            f"forward pass incrementally; incremental inference pays off below {CROSSOVER:.0%}")


def forget(model: Model, engine: IncrementalModel, reason: str) -> None:
    """Stop using ``engine`` (its results could not be trusted): say why, drop it and the traced graph."""
    engine.reason = reason
    engines = _ENGINES.get(model.raw, {})
    for key in [k for k, e in engines.items() if e is engine]:
        del engines[key]
    forget_trace(engine.traced_module)


def _sizer(model: Model, key: tuple, fraction: float) -> BatchSizer:
    """The batch sizer for patches of ``key``, kept per torch module (as the adapter keeps its own): a fresh
    ``as_model`` of the same network, which every ``nbx.attribute(net, ...)`` makes, does not climb again."""
    if model.batch_size:
        return BatchSizer(MAX_PATCH_BATCH, fixed=model.batch_size)
    sizers = _SIZERS.setdefault(model.raw, {})
    sizer = sizers.get(key)
    if sizer is None:
        sizer = BatchSizer(MAX_PATCH_BATCH)
        # an input costs a fraction of a forward pass: the climb starts where a batch holds a few passes' work
        start = 2 ** int(math.log2(max(1.0, min(64.0, 2.0 / max(fraction, 1e-3)))))
        sizer.candidates = [c for c in CANDIDATES if start <= c <= MAX_PATCH_BATCH]
        sizers[key] = sizer
    return sizer


class _Untrusted(Exception):
    """The engine's results cannot be used for this call (the reason is the message)."""


def predict_checked(model: Model, engine: IncrementalModel, n: int, run: Callable[[int, int], np.ndarray],
                    whole: Callable[[int, int], np.ndarray] | None, key: tuple, fraction: float,
                    progress: Progress = None) -> np.ndarray | None:
    """The model's outputs (n, n_outputs) float64 computed by ``run(start, stop)`` (an engine's way, rows
    ``start:stop``), or None when they cannot be trusted (then ``engine.engine`` says why and the caller
    runs full forward passes).

    ``whole(start, stop)`` returns the whole inputs (B, C, H, W), used once: the model's own forward pass on
    row 0 must give what ``run`` gives (see the module docstring; None skips the check, for a call that
    made it already). Batches are sized by a measuring :class:`BatchSizer` kept per model and ``key``,
    whose climb starts from the estimated cost ``fraction`` of a row against a forward pass.
    """
    truth = model.predict(whole(0, 1))[0] if whole is not None else None  # raises if the model raises
    out = np.empty((n, len(engine.reference_output)), dtype=np.float64)

    def forward(start: int, stop: int) -> None:
        try:
            y = run(start, stop)
        except Exception as exc:  # the engine does not cope with this model after all: full forward passes
            raise _Untrusted(f"incremental inference failed ({type(exc).__name__}: {exc})") from exc
        if y.shape != (stop - start, out.shape[1]):
            raise ModelError(f"the model returned shape {y.shape} for a batch of {stop - start}; "
                             f"expected ({stop - start}, {out.shape[1]})")
        if not np.all(np.isfinite(y)):
            raise ModelError(f"the model returned {int((~np.isfinite(y)).sum())} non-finite values (NaN or inf) "
                             f"for a batch of {stop - start}")
        if start == 0 and truth is not None:
            gap = relative_gap(y[0], truth)
            if gap > CHECK_TOLERANCE:
                raise _Untrusted(f"incremental inference gave {gap:.3g} (of the outputs' scale) away from the "
                                 "model's own forward pass, "
                                 "which may read Python state that torch.fx froze when it traced the model")
        out[start:stop] = y

    try:
        for _ in _sizer(model, key, fraction).chunks(n, forward, progress):
            pass
    except _Untrusted as why:
        forget(model, engine, str(why))
        return None
    return out


def predict_patches(model: Model, engine: IncrementalModel, plan: Plan, build: Callable[[int, int], np.ndarray],
                    whole: Callable[[int, int], np.ndarray] | None, progress: Progress = None) -> np.ndarray | None:
    """The model's outputs (N, n_outputs) float64 for the plan's N patches by incremental inference, or None
    when they cannot be trusted (see :func:`predict_checked`); ``build(start, stop)`` returns the patches of
    rows ``start:stop`` (B, C, h, w)."""
    return predict_checked(model, engine, plan.n, lambda a, b: engine.run(plan, a, b, build(a, b)), whole,
                           ("patches", plan.h, plan.w), plan.fraction, progress)


__all__ = ["CROSSOVER", "STEM_CROSSOVER", "INCREMENTAL", "array_key", "disabled", "engine_for", "most_recent", "why_not", "forget", "not_worth_it", "predict_checked", "predict_patches", "worth_it"]
