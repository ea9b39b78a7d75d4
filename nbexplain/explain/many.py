"""Explain a whole dataset: any per-row or per-image explainer over many inputs, in-process or on Dask.

:func:`explain_many` runs one of the local explainers (:data:`EXPLAINERS`: pixel attribution, LIME, Shapley
values and anchors on superpixels, tabular Shapley values and LIME, counterfactuals) over every input and
returns a :class:`ManyExplanations`: the per-row results stacked (``values`` is (N, F) for tables, (N, H, W)
maps for images), per-row quality, every failed row with its error, a table (``.to_frame()``), global
importance (mean |value| per feature, as SHAP's summary bar) and per-group aggregates for a fairness audit
(:meth:`ManyExplanations.by_group`).

The same call runs in this process (``executor=None``) or on a Dask cluster (``executor="dask"``, a scheduler
address, or a ``distributed.Client``), with the same results to the last bit: row ``i`` is explained with the
seed ``SeedSequence(seed).spawn(N)[i]`` whatever ran it, and the model predicts in one batch size fixed for
the run. The machinery (seeds, the chunk-size rule, the executors, the Zarr store) lives in
:mod:`nbexplain.methods.many`; ``docs/scale-out.md`` says how to run on a real cluster.

Add an explainer with one line in :data:`EXPLAINERS`, e.g.
``"anchor_tabular": Explainer("anchors:anchor_tabular", "rows", values="mask", quality=("precision", "coverage"))``.

Examples
--------
>>> data = nbx.datasets.credit()
>>> many = nbx.explain_many(clf, data.X, "shapley_tabular", data=data.X, feature_names=data.feature_names)
>>> many.ranking()[:3]                      # global importance: mean |Shapley value| per feature
>>> many.by_group("Gender", names=data.categories).plot()
>>> nbx.explain_many(clf, data.X, "shapley_tabular", data=data.X, executor="dask")   # the same numbers
"""

from __future__ import annotations

import importlib
import inspect
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_int, check_keywords, nearest
from ..adapters.model import Model, as_model
from ..adapters.outputs import tabular_output
from ..errors import Cancelled, InputError, UnknownArgumentError
from ..inputs.tables import Table, as_table, tabular_model
from ..methods.coalitions.tabular import background_sample
from ..methods.fairness.groups import Grouping, grouping, intersection
from ..methods.many import batching
from ..methods.many.chunks import ChunkPlan, fixed_plan, plan_chunks
from ..methods.many.collect import Collector, systematic
from ..methods.many.executors import InProcess, dask_executor
from ..methods.many.progress import RowProgress
from ..methods.many.rows import Items, RowFailure, RowOutput, failure_of, is_lazy_array
from ..methods.many.seeds import row_seed, seed_entropy
from ..methods.many.store import ResultStore, location_of
from ..plotting.many import group_importance_plot, importance_plot
from .result import Result, frame

#: results larger than this share of the driver's available memory stay on the cluster (or need ``store=``)
MEMORY_SHARE = 0.25
#: rows a pilot may explain to find one that works (shapes, time per row, batch size)
PILOT_ROWS = 3
#: in-process, rows are written to a store in about this many chunks
INPROCESS_CHUNKS = 20
#: and a chunk holds at most this many bytes of per-row arrays
CHUNK_BYTES = 64 << 20


# ---------------------------------------------------------------------------------------------------
# the registry
# ---------------------------------------------------------------------------------------------------
def _path(result: Any, path: str | Callable[[Any], Any]) -> Any:
    if callable(path):
        return path(result)
    for part in path.split("."):
        result = getattr(result, part)
    return result


@dataclass(frozen=True)
class Explainer:
    """How :func:`explain_many` runs one per-row front door: one line of :data:`EXPLAINERS`.

    Attributes
    ----------
    door : str or function
        ``"module:function"`` under :mod:`nbexplain.explain` (imported when first used, also on workers; a
        dotted module path such as ``"mypackage.explainers:fn"`` is imported as it is), or the function itself;
        called as ``function(model, item, data=reference, seed=row_seed, progress=False, **options)``
        (``data`` and ``seed`` only when the function takes them).
    inputs : {"rows", "images", "texts"}
        What the inputs are: table rows (an (N, F) array or DataFrame), images (an (N, H, W, C) or
        (N, C, H, W) array, a list, a TankData), or texts (a list of str).
    values : str or callable
        The result's attribute (a dotted path, e.g. ``"best.delta"``) or a function of the result giving the
        per-row array stacked into ``ManyExplanations.values``.
    quality : tuple of str
        Attributes (dotted paths) with one number per row; the last part names the column.
    arrays : dict
        Other per-row arrays kept, name -> path or function.
    variant : str or None
        The keyword set by ``method="name:variant"`` (e.g. ``method`` for ``"shapley_tabular:kernel"``).
    label : str
        The explanation in words (titles, the progress bar).
    unit : str
        What a value is, for axis labels.
    ragged : bool
        Rows give arrays of different lengths (e.g. one weight per token): kept as one array per row.
    shared : callable, optional
        ``shared(reference, options, entropy) -> (reference, options)``, applied once per run (e.g. one
        background drawn for every row).
    global_target : bool
        ``target=None`` means one class for every row, as in global views (the positive class of a binary
        classifier, else the class with the highest mean probability over the reference rows), so the
        values of all rows explain the same number; otherwise each input's own default (its predicted class).
    allowed : callable, optional
        ``allowed(fixed) -> option names`` for a function that takes ``**options`` (pixel attribution).
    """

    door: str | Callable[..., Any]
    inputs: str
    values: str | Callable[[Any], Any] = "values"
    quality: tuple[str, ...] = ()
    arrays: Mapping[str, str | Callable[[Any], Any]] = field(default_factory=dict)
    variant: str | None = None
    label: str = ""
    unit: str = "value"
    ragged: bool = False
    shared: Callable[..., tuple[Any, dict]] | None = None
    allowed: Callable[[dict], Sequence[str]] | None = None
    global_target: bool = False

    def function(self) -> Callable[..., Any]:
        """The front door itself."""
        if callable(self.door):
            return self.door
        module, name = self.door.split(":")
        return getattr(importlib.import_module(module if "." in module else f"nbexplain.explain.{module}"), name)

    def parameters(self) -> dict[str, inspect.Parameter]:
        return dict(inspect.signature(self.function()).parameters)

    @property
    def takes_reference(self) -> bool:
        """Whether the function takes reference rows (``data=``)."""
        return "data" in self.parameters()

    def output(self, result: Any) -> RowOutput:
        """One row's arrays, quality numbers and explained class, taken from the function's result."""
        arrays = {"values": np.asarray(_path(result, self.values))}
        arrays.update({name: np.asarray(_path(result, path)) for name, path in self.arrays.items()})
        quality = {}
        for path in self.quality:
            value = _path(result, path)
            quality[path.rsplit(".", 1)[-1]] = None if value is None else float(value)
        target = getattr(result, "target", -1)
        return RowOutput(arrays, quality, -1 if target is None else int(target))


def _pixel_options(fixed: dict) -> Sequence[str]:
    from .pixel import METHODS

    return ["target", *METHODS[fixed["method"]].options]


def _shared_background(reference: Table, options: dict, entropy: int) -> tuple[Table, dict]:
    """Shapley values of every row against ONE background (as SHAP's explainers use one): ``n_background``
    rows of the reference drawn once with the run's seed."""
    n_background = options.get("n_background", 100)
    if n_background is not None:
        n_background = check_int(n_background, "n_background", 1)
    if n_background is None or reference.n_rows <= n_background:
        return reference, options
    rows = background_sample(reference.values, n_background, entropy)
    background = as_table(rows, reference.feature_names, "data", categorical=reference.categorical)
    return background, {**options, "n_background": None}


def _counterfactual_moves(result: Any) -> np.ndarray:
    """The best counterfactual's change of each feature in MADs (a changed category: 1), so that features
    in dollars and in years compare: its mean |value| over rows is each feature's share of the distance."""
    best = result.best
    moves = np.where(result.space.categorical, best.changed.astype(np.float64), best.delta / result.scale)
    return np.where(best.changed, moves, 0.0)


EXPLAINERS: dict[str, Explainer] = {
    "attribute": Explainer("pixel:attribute", "images", "map", ("probability",), variant="method",
                           label="pixel attribution", unit="attribution", allowed=_pixel_options),
    "lime_image": Explainer("superpixels:lime_image", "images", "map", ("fidelity", "prediction", "local_prediction"),
                            label="LIME on superpixels", unit="LIME weight"),
    "shapley_image": Explainer("superpixels:shapley_image", "images", "map",
                               ("full_value", "base_value", "efficiency_gap", "n_evaluations"), variant="method",
                               label="Shapley values of superpixels", unit="Shapley value"),
    "anchor_image": Explainer("superpixels:anchor_image", "images", "map",
                              ("precision", "precision_lower", "coverage", "meets_threshold", "n_samples"),
                              label="anchors of superpixels", unit="in the anchor"),
    "shapley_tabular": Explainer("tabular:shapley_tabular", "rows", "values",
                                 ("prediction", "base_value", "efficiency_gap", "n_evaluations"), variant="method",
                                 label="Shapley values", unit="Shapley value", shared=_shared_background,
                                 global_target=True),
    "lime_tabular": Explainer("tabular:lime_tabular", "rows", "values",
                              ("prediction", "base_value", "fidelity", "n_evaluations"), label="LIME",
                              unit="LIME contribution", global_target=True),
    "counterfactual": Explainer("counterfactual:counterfactual", "rows", _counterfactual_moves,
                                ("best.valid", "best.value", "best.distance", "best.n_changed", "n_evaluations"),
                                {"counterfactual": "best.x", "delta": "best.delta"}, variant="method",
                                label="counterfactual changes", unit="change (MADs; categories: 1)"),
}


def register(name: str, explainer: Explainer) -> None:
    """Add (or replace) an explainer under ``name``; the one-line alternative to editing :data:`EXPLAINERS`."""
    EXPLAINERS[name] = explainer


def _aliases() -> dict[str, str]:
    from .pixel import METHODS

    return {m: f"attribute:{m}" for m in METHODS}


def resolve(method: Any) -> tuple[str, Explainer, dict[str, Any]]:
    """``method`` as (name, explainer, fixed keywords): a registered name, ``"name:variant"``, a pixel
    attribution method's name (``"occlusion"`` = ``"attribute:occlusion"``), or the front-door function."""
    if callable(method):
        for name, spec in EXPLAINERS.items():
            try:
                if spec.function() is method:
                    return name, spec, {}
            except (ImportError, AttributeError):  # an explainer whose module is not there
                continue
        raise InputError(f"method={getattr(method, '__name__', method)!r} is not a per-row explainer that "
                         f"explain_many knows; it knows {sorted(EXPLAINERS)}")
    if not isinstance(method, str):
        raise InputError(f"method must be the name of an explainer, e.g. 'shapley_tabular'; got {method!r}")
    text = _aliases().get(method, method)
    name, _, variant = text.partition(":")
    if name not in EXPLAINERS:
        choices = sorted(EXPLAINERS) + sorted(_aliases())
        near = nearest(method, choices)
        raise InputError(f"method={method!r} is not an explainer explain_many knows; choose one of {choices}"
                         + (f"; did you mean {near!r}?" if near else ""))
    spec = EXPLAINERS[name]
    if variant and spec.variant is None:
        raise InputError(f"method={method!r}: {name} has no variants (nothing may follow the colon)")
    return name, spec, ({spec.variant: variant} if variant else {})


# ---------------------------------------------------------------------------------------------------
# the inputs
# ---------------------------------------------------------------------------------------------------
def _is_dataframe(x: Any) -> bool:
    return hasattr(x, "columns") and hasattr(x, "dtypes") and hasattr(x, "to_numpy")


def read_rows(inputs: Any) -> tuple[Any, int, list[str] | None]:
    """Table rows as (source, N, column names or None). Rows are not checked here for NaN: a bad row fails
    alone when it is explained."""
    if isinstance(inputs, Table):
        return inputs.values, inputs.n_rows, list(inputs.feature_names)
    if _is_dataframe(inputs):
        bad = [str(c) for c, dt in zip(inputs.columns, inputs.dtypes, strict=True) if getattr(dt, "kind", "O") not in "biuf"]
        if bad:
            raise InputError(f"inputs has non-numeric columns {bad[:10]}: encode categories as integer codes first")
        return inputs.to_numpy(dtype=np.float64), len(inputs), [str(c) for c in inputs.columns]
    if is_lazy_array(inputs):
        if len(inputs.shape) != 2:
            raise InputError(f"inputs must be 2-D (rows, features); got shape {tuple(inputs.shape)}")
        return inputs, int(inputs.shape[0]), None
    try:
        values = np.asarray(inputs, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"inputs must be a 2-D array of numbers or a DataFrame; got {type(inputs).__name__}") from exc
    if values.ndim != 2:
        raise InputError(f"inputs must be 2-D (rows, features); got shape {values.shape} (one row: use the "
                         "explainer itself, e.g. nbx.shapley_tabular)")
    return values, len(values), None


def read_images(inputs: Any) -> tuple[Any, int]:
    """Images as (source, N): an (N, H, W[, C]) array, a lazy array, a list of images or paths, or an object
    with ``.images`` (e.g. :class:`~nbexplain.datasets.TankData`)."""
    if not isinstance(inputs, (np.ndarray, list, tuple)) and hasattr(inputs, "images"):
        inputs = inputs.images
    if isinstance(inputs, (list, tuple)):
        return list(inputs), len(inputs)
    if isinstance(inputs, np.ndarray) or is_lazy_array(inputs):
        if len(inputs.shape) not in (3, 4):
            raise InputError(f"inputs must hold images: an (N, H, W, C), (N, C, H, W) or (N, H, W) array; got "
                             f"shape {tuple(inputs.shape)} (one image: use the explainer itself)")
        return inputs, int(inputs.shape[0])
    raise InputError(f"inputs must be an array of images, a list of images or a TankData; got {type(inputs).__name__}")


def read_texts(inputs: Any) -> tuple[Any, int]:
    """Texts as (list of str, N)."""
    if isinstance(inputs, str) or not isinstance(inputs, Sequence) or not all(isinstance(t, str) for t in inputs):
        raise InputError("inputs must be a list of texts (str); one text: use the explainer itself")
    return list(inputs), len(inputs)


# ---------------------------------------------------------------------------------------------------
# the task sent to every worker
# ---------------------------------------------------------------------------------------------------
@dataclass
class DoorTask:
    """One row explained by a front door: the model, the reference rows and the options, sent once per
    worker; ``explain(item, seed, extra)`` calls the door (see :class:`~nbexplain.methods.many.rows.RowTask`)."""

    explainer: Explainer
    model: Model
    reference: Any
    options: dict[str, Any]
    seeded: bool
    shapes: dict[str, tuple[tuple[int, ...], str]] | None = None
    threads: int | None = None

    @property
    def ragged(self) -> bool:
        return self.explainer.ragged

    def call(self, item: Any, seed: int, extra: dict[str, Any]) -> Any:
        """The front door's own result for one input."""
        kwargs = {**self.options, **extra, "progress": False}
        if self.seeded:
            kwargs["seed"] = seed
        if self.reference is not None:
            kwargs["data"] = self.reference
        with batching.torch_threads(self.threads):
            return self.explainer.function()(self.model, item, **kwargs)

    def explain(self, item: Any, seed: int, extra: dict[str, Any]) -> RowOutput:
        return self.explainer.output(self.call(item, seed, extra))


def _row_bytes(shapes: dict[str, tuple[tuple[int, ...], str]] | None) -> int:
    if not shapes:
        return 0
    return sum(int(np.prod(s, dtype=np.int64)) * np.dtype(d).itemsize for s, d in shapes.values())


def _available_memory() -> float:
    try:
        import psutil

        return float(psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover - psutil comes with dask.distributed and jupyter
        return 4.0 * 2**30


@dataclass
class _Pilot:
    """What the first rows told: their shapes, seconds per row, the batch size measured, their outputs."""

    shapes: dict[str, tuple[tuple[int, ...], str]] | None = None
    seconds_per_row: float | None = None
    batch_size: int | None = None
    outputs: dict[int, RowOutput] = field(default_factory=dict)
    failure: RowFailure | None = None


def _pilot(task: DoorTask, items: Items, entropy: int, measure: bool) -> _Pilot:
    """Explain the first rows (at most :data:`PILOT_ROWS`, until one works) in this process. With ``measure``
    on a scratch copy of the model, whose climb through batch sizes gives the run's batch size."""
    pilot = _Pilot()
    probe = DoorTask(task.explainer, batching.scratch_copy(task.model) if measure else task.model, task.reference,
                     task.options, task.seeded)
    with batching.torch_threads(task.threads):
        _pilot_rows(pilot, probe, items, entropy, measure)
    if measure:
        pilot.batch_size = batching.measured_batch_size(probe.model)
        pilot.outputs = {}  # computed while the batch size climbed: not the run's bits
    return pilot


def _pilot_rows(pilot: _Pilot, probe: DoorTask, items: Items, entropy: int, measure: bool) -> None:
    times = []
    for row in range(min(PILOT_ROWS, len(items))):
        t0 = time.perf_counter()
        try:
            item, extra = items.item(row)
            out = probe.explain(item, row_seed(entropy, row), extra)
        except UnknownArgumentError:
            raise
        except Exception as exc:
            pilot.failure = pilot.failure or failure_of(row, exc)
            continue
        times.append(time.perf_counter() - t0)
        pilot.outputs[row] = out
        if pilot.shapes is None:
            pilot.shapes = ({k: ((), "|O") for k in out.arrays} if probe.ragged else
                            {k: (tuple(np.shape(v)), np.asarray(v).dtype.str) for k, v in out.arrays.items()})
        if not measure or len(times) >= 2:
            break
    if times:
        pilot.seconds_per_row = float(min(times))


def _check_options(spec: Explainer, fixed: dict, options: dict, method: Any) -> tuple[dict, bool]:
    """The explainer's options (a misspelt one is an error naming the nearest), and whether it takes a seed."""
    params = spec.parameters()
    reserved = {"model", list(params)[1], "progress", "seed", "data"}
    if spec.allowed is not None:
        known = [k for k in spec.allowed(dict(fixed)) if k not in reserved]
    else:
        known = [k for k, p in params.items() if k not in reserved and p.kind is not p.VAR_KEYWORD]
    if spec.allowed is not None or not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        check_keywords(options, known + list(OWN), f"explain_many(method={method!r})")
    seeded = "seed" in params or (spec.allowed is not None and "seed" in spec.allowed(dict(fixed)))
    return {**fixed, **options}, seeded


def _prepare(name: str, spec: Explainer, model: Any, inputs: Any, data: Any, options: dict,
             entropy: int) -> tuple[Items, Model, Any, list[str] | None, dict]:
    """The inputs as :class:`Items` (a per-row ``target`` among them), the model, the reference rows, the
    feature names and the options, validated."""
    options = dict(options)
    if spec.inputs == "rows":
        source, n, columns = read_rows(inputs)
    elif spec.inputs == "images":
        source, n, columns = (*read_images(inputs), None)
    else:
        source, n, columns = (*read_texts(inputs), None)
    if n == 0:
        raise InputError("inputs holds no rows to explain")
    extra = {}
    target = options.get("target")
    if target is not None and not isinstance(target, str) and np.ndim(target) == 1:
        if len(target) != n:
            raise InputError(f"target has {len(target)} values but inputs has {n} rows (give one target, or one per row)")
        extra["target"] = list(options.pop("target"))
    if not spec.takes_reference:
        if data is not None:
            raise InputError(f"method={name!r} takes no reference rows: leave data out")
        return Items(source, n, extra), as_model(model), None, None, options
    if data is None:
        raise InputError(f"method={name!r} needs data=: the reference rows (e.g. the training data) that say "
                         "what typical values are")
    reference = as_table(data, options.pop("feature_names", None) or columns, "data")
    m = tabular_model(model, reference, options.get("class_names"))
    if spec.inputs == "rows" and source.shape[1] != reference.n_features:
        raise InputError(f"inputs has {source.shape[1]} columns but data has {reference.n_features}")
    if spec.global_target and "target" not in extra and options.get("target") is None:
        out = tabular_output(m, reference)
        if out.kind != "regression":
            options["target"] = out.target
    feature_names = list(reference.feature_names)
    if spec.shared is not None:
        reference, options = spec.shared(reference, options, entropy)
    return Items(source, n, extra), m, reference, feature_names, options


def _batch_size(name: str, fixed: dict, m: Model, items: Items, batch_size: Any) -> tuple[Model, bool, tuple]:
    """The model with the run's batch size fixed (given, or measured earlier in the session for this model and
    input shape), whether it still has to be measured, and the key it is remembered under."""
    key = (name, tuple(sorted(fixed.items())), np.shape(items.item(0)[0]))
    if batch_size == "per_worker":
        return m, False, key
    if batch_size is not None:
        return batching.with_batch_size(m, check_int(batch_size, "batch_size", 1)), False, key
    if batching.needs_measuring(m) and batching.remembered(m.raw, key) is not None:
        return batching.with_batch_size(m, batching.remembered(m.raw, key)), False, key
    return m, batching.needs_measuring(m), key


def _plan(n: int, run_on: Any, chunk_size: Any, pilot: _Pilot) -> ChunkPlan:
    """The chunks: ``chunk_size`` when given; in-process about :data:`INPROCESS_CHUNKS` (store writes, partial
    results); on Dask the chunk-size rule with the measured per-task overhead and the pilot's time per row."""
    if chunk_size is not None:
        return fixed_plan(n, run_on.threads, check_int(chunk_size, "chunk_size", 1), "given",
                          seconds_per_row=pilot.seconds_per_row)
    if isinstance(run_on, InProcess):
        per_chunk = max(1, CHUNK_BYTES // max(1, _row_bytes(pilot.shapes)))
        return fixed_plan(n, 1, min(math.ceil(n / INPROCESS_CHUNKS), per_chunk), "in-process",
                          seconds_per_row=pilot.seconds_per_row)
    return plan_chunks(n, run_on.threads, pilot.seconds_per_row or 0.01, run_on.task_overhead())


# ---------------------------------------------------------------------------------------------------
# the front door
# ---------------------------------------------------------------------------------------------------
OWN = ("data", "executor", "chunk_size", "batch_size", "store", "seed", "progress")


def explain_many(
    model: Any,
    inputs: Any,
    method: Any,
    *,
    data: Any = None,
    executor: Any = None,
    chunk_size: int | None = None,
    batch_size: int | str | None = None,
    store: Any = None,
    seed: int | None = 0,
    progress: bool | Callable[[float], None] | None = None,
    **options: Any,
) -> ManyExplanations:
    """Explain every row (or image) of ``inputs`` with one local explainer, in this process or on Dask.

    Parameters
    ----------
    model : torch.nn.Module, scikit-learn estimator, callable or Model
    inputs : rows or images
        What to explain: table rows ((N, F) array or DataFrame) for tabular explainers; images ((N, H, W, C)
        or (N, C, H, W) array, a list, a TankData) for image explainers. A lazy array (Zarr, HDF5) is read
        chunk by chunk where each chunk is explained.
    method : str or function
        The explainer: "shapley_tabular", "lime_tabular", "counterfactual", "lime_image", "shapley_image",
        "anchor_image", a pixel attribution method ("occlusion", "gradient", "integrated_gradients", ...), or
        the function itself (``nbx.shapley_tabular``). The explainer's own ``method`` goes after a colon:
        ``"shapley_tabular:kernel"``, ``"counterfactual:growing_spheres"``, ``"attribute:occlusion"``.
    data : rows, optional
        The reference rows of tabular explainers (what "typical" is: Shapley's background, LIME's scales,
        counterfactuals' MADs), e.g. the training data; required by them, refused by image explainers.
        ``shapley_tabular`` draws its ``n_background`` rows (default 100) once for the whole run.
    executor : None, "dask", str or distributed.Client
        None: in this process. "dask": the current Dask client, else a local cluster for the session (one
        worker process per core). A scheduler address ("tcp://host:8786") or a Client: that cluster. The
        model, the reference rows and the options are sent once per worker. Needs ``nbexplain[dask]``.
    chunk_size : int, optional
        Rows per task. Default: the smallest chunk whose model work hides the measured per-task overhead
        (≤ 1 %), capped to give every worker thread at least 4 tasks and no task more than 30 s (see
        ``docs/scale-out.md``); in-process, about 20 chunks.
    batch_size : None, int or "per_worker"
        The model's batch size. None: a torch model's best batch size is measured once (a pilot row) and
        fixed for every row everywhere, so results are bit-identical across executors; an int fixes it;
        "per_worker" lets each worker measure its own (fastest on mixed hardware; torch outputs may then
        differ in the last bits). Other models predict in fixed chunks anyway.
    store : path or URL, optional
        Write the per-row arrays to this Zarr store as chunks finish (each task writes its own rows;
        the location must be reachable from every worker); ``values`` is then a lazy dask array over it.
    seed : int or None
        The run's seed; row ``i`` is explained with ``seed=SeedSequence(seed).spawn(N)[i]`` (32 bits),
        stored in ``seeds``. None: fresh entropy, kept in the result's ``seed``.
    progress : None, bool or callable
        None: a bar (rows done and failed, rate, time left) once the run takes long; True/False:
        always/never; a callable is given the fraction of rows done and may raise
        :class:`~nbexplain.errors.Cancelled` to stop (so does interrupting the kernel). A stopped run
        raises, with the rows done so far in the exception's ``partial`` attribute.
    **options
        The explainer's own options (e.g. ``target``, ``output``, ``n_samples``, ``feature_names``,
        ``class_names``, ``window``...). ``target`` may also be one value per row. ``target=None``: tabular
        Shapley values and LIME explain one class for every row, as global views do (the positive class of a
        binary classifier, else the class most probable on average over ``data``), so the rows add up to a
        global importance; image explainers explain each image's predicted class, counterfactuals aim each
        row at its most probable other class.

    Returns
    -------
    ManyExplanations

    Examples
    --------
    >>> many = nbx.explain_many(clf, X_test, "shapley_tabular", data=X_train, feature_names=names)
    >>> many.importance()                       # mean |Shapley value| per feature
    >>> many.to_frame().head(); many.failures   # one row per input; the rows that failed, with the error
    >>> nbx.explain_many(cnn, images, "occlusion", executor="dask", window=8).plot()
    """
    t0 = time.perf_counter()
    name, spec, fixed = resolve(method)
    label = spec.label + (f" ({fixed[spec.variant]})" if fixed and spec.variant else "")
    options, seeded = _check_options(spec, fixed, options, method)
    entropy = seed_entropy(seed)
    items, m, reference, feature_names, options = _prepare(name, spec, model, inputs, data, options, entropy)
    m, measure, key = _batch_size(name, fixed, m, items, batch_size)
    task = DoorTask(spec, m, reference, options, seeded,
                    threads=1 if m.kind == "torch" and batch_size != "per_worker" else None)
    n = len(items)

    # where: the executor, the pilot, the chunks
    run_on = InProcess() if executor is None else dask_executor(executor)
    in_process = executor is None
    bar = RowProgress(progress, n, f"explained ({label})")
    pilot = _pilot(task, items, entropy, measure) if measure or store is not None or not in_process else _Pilot()
    if measure and pilot.batch_size is not None:
        batching.remember(m.raw, key, pilot.batch_size)
        task.model = batching.with_batch_size(m, pilot.batch_size)
    task.shapes = pilot.shapes
    if store is not None and pilot.shapes is None:
        raise systematic(pilot.failure, PILOT_ROWS) if pilot.failure else InputError("no row to explain")
    plan = _plan(n, run_on, chunk_size, pilot)
    result_bytes = n * _row_bytes(pilot.shapes)
    keep = store is None and not in_process and result_bytes > MEMORY_SHARE * _available_memory()
    if store is None and in_process and result_bytes > MEMORY_SHARE * _available_memory():
        raise InputError(f"the results would take {result_bytes / 2**30:.1f} GiB, more than this machine can "
                         "hold comfortably: pass store='results.zarr' to stream them to disk")
    result_store = None if store is None else ResultStore.create(store, n, pilot.shapes, plan.chunk_size)

    # the run
    if getattr(run_on, "started", None):
        bar.note(run_on.started)
    if run_on.dashboard:
        bar.note(f"Dask dashboard: {run_on.dashboard}")
    collector = Collector(n, bar)
    context = dict(name=name, label=label, spec=spec, options=options, feature_names=feature_names,
                   class_names=task.model.class_names, entropy=entropy, executor=run_on.description,
                   plan=plan, batch_size=task.model.batch_size, dashboard=run_on.dashboard, task=task, items=items,
                   seconds_per_row=pilot.seconds_per_row)
    held = None
    try:
        if in_process:
            run_on.on_row = collector.on_row
            run_on.run(task, items, plan, entropy, result_store, collector.add,
                       done=pilot.outputs if not measure else None)
        else:
            held = run_on.run(task, items, plan, entropy, result_store, collector.add, keep=keep)
    except (Cancelled, KeyboardInterrupt) as stop:
        bar.close()
        stop.partial = _assemble(collector, context, result_store, None, time.perf_counter() - t0, finish=False)
        raise
    finally:
        bar.close()
    return _assemble(collector, context, result_store, held if keep else None, time.perf_counter() - t0,
                     executor=run_on)


def _assemble(collector: Collector, c: dict, store: ResultStore | None, held: dict | None, seconds: float,
              executor: Any = None, finish: bool = True) -> ManyExplanations:
    """The :class:`ManyExplanations` of what ``collector`` holds (``finish``: complete the store)."""
    task = c["task"]
    rows = collector.assemble(task.shapes, with_arrays=store is None and held is None)
    arrays = rows.arrays
    if store is not None and not finish:
        arrays = {name: store.array(name) for name in task.shapes}
    elif store is not None:
        columns = {f"quality/{q}": v for q, v in rows.quality.items()}
        columns.update(targets=rows.targets, seeds=rows.seeds, failed=rows.failed, row_seconds=rows.seconds)
        store.finish(columns, {"method": c["name"], "label": c["label"], "unit": c["spec"].unit,
                               "inputs": c["spec"].inputs, "feature_names": c["feature_names"],
                               "class_names": c["class_names"], "seed": str(c["entropy"]),
                               "options": {k: repr(v) for k, v in c["options"].items()},
                               "failures": [vars(f) for f in rows.failures], "executor": c["executor"]})
        arrays = {name: store.array(name) for name in task.shapes}
    elif held is not None:
        arrays = {name: executor.array(held, name, collector.n, shape, dtype)
                  for name, (shape, dtype) in task.shapes.items()}
    values = arrays.pop("values", None)
    if values is None:  # no row was explained
        values = np.full((collector.n, 0), np.nan)
    return ManyExplanations(
        method=c["name"], label=c["label"], unit=c["spec"].unit, inputs=c["spec"].inputs, values=values,
        arrays=arrays, row_quality=rows.quality, targets=rows.targets, seeds=rows.seeds, failed=rows.failed,
        pending=rows.pending, failures=rows.failures, feature_names=c["feature_names"],
        class_names=c["class_names"], options=dict(c["options"]), seed=c["entropy"], executor=c["executor"],
        plan=c["plan"], batch_size=c["batch_size"], seconds=seconds, row_seconds=rows.seconds,
        seconds_per_row=c["seconds_per_row"], store=None if store is None else store.location,
        dashboard=c["dashboard"], _task=task, _items=c["items"])


# ---------------------------------------------------------------------------------------------------
# the result
# ---------------------------------------------------------------------------------------------------
def _mean_rows(values: Any, rows: np.ndarray, transform: Callable[[np.ndarray], np.ndarray],
               block: int = 4096) -> np.ndarray:
    """Mean over ``rows`` (a bool mask) of ``transform(values[row])``, reading ``values`` (numpy, Zarr or dask)
    a block of rows at a time, so a stored result is never loaded whole."""
    if isinstance(values, np.ndarray):
        return transform(values[rows]).mean(axis=0)
    total, count = None, 0
    for a in range(0, len(rows), block):
        keep = rows[a:a + block]
        if not keep.any():
            continue
        part = transform(np.asarray(values[a:a + block])[keep])
        total = part.sum(axis=0) if total is None else total + part.sum(axis=0)
        count += int(keep.sum())
    return total / count


@dataclass
class GroupImportance(Result):
    """Mean |value| (and mean value) of every feature (or pixel) within each group of the explained rows.

    Attributes
    ----------
    attribute : str — what the groups are ("Gender", "Gender × Ethnicity").
    group_names : list of str; ``counts`` (G,) explained rows in each.
    mean_abs : (G, ...) — mean |value| per group (importance within the group); ``mean`` the signed mean.
    overall : (...) — mean |value| over every explained row.
    feature_names : list of str or None (images).
    label, unit : the explanation and what a value is, in words.
    """

    attribute: str
    group_names: list[str]
    counts: np.ndarray
    mean_abs: np.ndarray
    mean: np.ndarray
    overall: np.ndarray
    feature_names: list[str] | None
    label: str
    unit: str

    def _png_size(self) -> tuple[float, float]:
        if self.feature_names is None:
            return (2.4 * len(self.group_names) + 1, 3)
        return (6.0, 0.3 * min(len(self.feature_names), 12) * max(1, len(self.group_names)) ** 0.5 + 1.5)

    def gaps(self) -> list[tuple[str, float]]:
        """Features by the spread of their mean |value| between groups (max − min), largest first."""
        if self.feature_names is None:
            raise InputError("gaps() compares features; these values are maps (compare mean_abs per group)")
        spread = np.nanmax(self.mean_abs, axis=0) - np.nanmin(self.mean_abs, axis=0)
        return [(self.feature_names[j], float(spread[j])) for j in np.argsort(-spread, kind="stable")]

    def summary(self) -> str:
        """One line: the groups, and the feature whose importance differs most between them."""
        sizes = ", ".join(f"{g} ({c:,})" for g, c in zip(self.group_names, self.counts, strict=True))
        line = f"mean |{self.unit}| by {self.attribute}: {sizes}"
        if self.feature_names is None or len(self.group_names) < 2:
            return line
        name, gap = self.gaps()[0]
        j = self.feature_names.index(name)
        hi, lo = int(np.nanargmax(self.mean_abs[:, j])), int(np.nanargmin(self.mean_abs[:, j]))
        return (f"{line}; the largest difference is {name}: {self.mean_abs[hi, j]:.3g} for {self.group_names[hi]} "
                f"against {self.mean_abs[lo, j]:.3g} for {self.group_names[lo]}")

    def __str__(self) -> str:
        return self.summary()

    def to_frame(self):
        """One row per feature, one column of mean |value| per group, then "all" (tables only); for maps,
        one row per group with its count and the mean over pixels."""
        if self.feature_names is None:
            return frame({"group": list(self.group_names), "n": self.counts.copy(),
                          f"mean |{self.unit}|": self.mean_abs.reshape(len(self.group_names), -1).mean(axis=1)})
        columns = {"feature": list(self.feature_names)}
        for k, g in enumerate(self.group_names):
            columns.setdefault(g, self.mean_abs[k].copy())
        columns.setdefault("all", self.overall.copy())
        return frame(columns)

    def plot(self, ax=None, *, max_features: int = 12):
        """Grouped bars (one colour per group, features by overall importance) or one mean map per group;
        returns the Axes."""
        return group_importance_plot(self.mean_abs, self.group_names, self.counts, self.feature_names,
                                     title=f"{self.label} by {self.attribute}", unit=self.unit,
                                     max_features=check_int(max_features, "max_features", 1), ax=ax)


@dataclass
class ManyExplanations(Result):
    """The explanations of many inputs by one explainer: stacked per-row results, failures, aggregates.

    Attributes
    ----------
    values : (N, ...) array — each row's explanation: (N, F) contributions for tables (counterfactuals: the
        change of each feature in MADs), (N, H, W) maps for images. NaN rows where a row failed. A numpy
        array, or a lazy dask array when the results were written to ``store`` or stayed on the cluster
        (too large for this machine); a list of arrays for explainers whose rows differ in length.
    arrays : dict — other per-row arrays (counterfactuals: ``"counterfactual"`` x′ and ``"delta"``).
    row_quality : dict — name -> (N,) float: each row's quality numbers (fidelity, efficiency gap,
        prediction, validity...), NaN where it failed.
    targets : (N,) int — the class each row explains (-1: failed).
    seeds : (N,) uint32 — each row's seed; ``seed`` the run's.
    failed : (N,) bool, ``failures`` — the rows that failed, each with its error (:class:`RowFailure`).
    pending : (N,) bool — rows never explained (only in the partial result of a cancelled run).
    method, label, unit, inputs, options : what was run.
    feature_names, class_names : names for tables and views.
    executor, plan (the chunk plan: chunk size, tasks, measured per-task overhead), batch_size, seconds,
    row_seconds, seconds_per_row (the pilot's), store, dashboard : how it ran.
    """

    method: str
    label: str
    unit: str
    inputs: str
    values: Any
    arrays: dict[str, Any]
    row_quality: dict[str, np.ndarray]
    targets: np.ndarray
    seeds: np.ndarray
    failed: np.ndarray
    pending: np.ndarray
    failures: list[RowFailure]
    feature_names: list[str] | None
    class_names: list[str] | None
    options: dict[str, Any]
    seed: int
    executor: str
    plan: ChunkPlan | None
    batch_size: int | None
    seconds: float
    row_seconds: np.ndarray
    seconds_per_row: float | None = None
    store: str | None = None
    dashboard: str | None = None
    _task: Any = field(default=None, repr=False)
    _items: Any = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.failed)

    @property
    def explained(self) -> np.ndarray:
        """(N,) bool: the rows with an explanation."""
        return ~self.failed & ~self.pending

    @property
    def n_explained(self) -> int:
        return int(self.explained.sum())

    @property
    def n_failed(self) -> int:
        return int(self.failed.sum())

    def _need_rows(self, what: str) -> None:
        if self.n_explained == 0:
            raise InputError(f"{what} needs explained rows; every row failed or none ran")
        if np.dtype(getattr(self.values, "dtype", object)).kind == "O":
            raise InputError(f"{what} needs values of one shape per row; these rows differ in length")

    def importance(self, *, signed: bool = False) -> np.ndarray:
        """Mean |value| over the explained rows (``signed``: the mean value): per feature, the global
        importance of a tabular model (SHAP's summary bar); for images, the mean map (H, W)."""
        self._need_rows("importance()")
        return _mean_rows(self.values, self.explained, (lambda v: v) if signed else np.abs)

    def ranking(self) -> list[tuple[str, float]]:
        """The features by :meth:`importance`, largest first, as (name, mean |value|)."""
        if self.feature_names is None:
            raise InputError("ranking() ranks features; these values are maps (see importance())")
        imp = self.importance()
        return [(self.feature_names[j], float(imp[j])) for j in np.argsort(-imp, kind="stable")]

    def _is_feature(self, g: Any) -> bool:
        return isinstance(g, str) and self.feature_names is not None and g in self.feature_names

    def _groups(self, groups: Any, names: Any) -> Grouping:
        """``groups`` as a :class:`Grouping` (a list of feature names or label arrays: their intersection)."""
        several = (isinstance(groups, (list, tuple)) and len(groups) > 0
                   and all(self._is_feature(g) or np.ndim(g) == 1 for g in groups))
        made = []
        for k, g in enumerate(groups if several else [groups]):
            if isinstance(g, str):
                if self.feature_names is None or self._items is None or self._items.lazy:
                    raise InputError(f"groups={g!r} names a feature, but these inputs have no columns here: give "
                                     "one label per row")
                j = self.feature_names.index(g) if g in self.feature_names else None
                if j is None:
                    near = nearest(g, self.feature_names)
                    raise InputError(f"groups={g!r} is not a feature of the inputs ({self.feature_names})"
                                     + (f"; did you mean {near!r}?" if near else ""))
                mapping = names.get(g) if isinstance(names, Mapping) else None
                made.append(grouping(g, np.asarray(self._items.source[:, j]), mapping))
            else:
                labels = np.asarray(g)
                if labels.shape != (len(self),):
                    raise InputError(f"groups must be a feature name or one label per row ({len(self)}); got "
                                     f"shape {labels.shape}")
                made.append(grouping(f"group {k + 1}" if several else "group", labels,
                                     None if isinstance(names, Mapping) else names))
        return made[0] if len(made) == 1 else intersection(made)

    def by_group(self, groups: Any, *, names: Any = None) -> GroupImportance:
        """Mean |value| of every feature within each group: does the model lean on other features for some
        groups (a fairness audit's question)? ``groups``: a feature name of the inputs (e.g. "Gender"), one
        label per row, or a list of them for their intersection (Buolamwini & Gebru 2018). ``names``: display
        names (e.g. ``data.categories``: feature -> labels of its codes)."""
        self._need_rows("by_group()")
        g = self._groups(groups, names)
        ok = self.explained
        k = g.n_groups
        counts = np.array([int((ok & (g.codes == i)).sum()) for i in range(k)])
        shape = tuple(self.values.shape[1:])
        mean_abs, mean = np.full((k, *shape), np.nan), np.full((k, *shape), np.nan)
        for i in range(k):
            rows = ok & (g.codes == i)
            if rows.any():
                mean_abs[i] = _mean_rows(self.values, rows, np.abs)
                mean[i] = _mean_rows(self.values, rows, lambda v: v)
        return GroupImportance(g.attribute, list(g.names), counts, mean_abs, mean, self.importance(),
                               self.feature_names, self.label, self.unit)

    def explain(self, row: int) -> Any:
        """Row ``row`` explained again by the explainer itself (the full result, with its ``.plot()`` and
        ``.widget()``): the same numbers as in :attr:`values`, from the same seed and batch size."""
        if self._task is None or self._items is None:
            raise InputError("this result was loaded from a store: it has no model to explain a row again")
        row = check_int(row, "row", -len(self), len(self) - 1) % len(self)
        item, extra = self._items.item(row)
        return self._task.call(item, row_seed(self.seed, row), extra)

    def to_frame(self):
        """One row per input (index "row"): each feature's value for tables, then the quality numbers,
        ``target`` and ``error`` (None where the row was explained)."""
        columns: dict[str, Any] = {}
        if self.feature_names is not None and np.dtype(self.values.dtype).kind != "O":
            values = np.asarray(self.values)
            for j, name in enumerate(self.feature_names):
                columns[name] = values[:, j]
        for q, v in self.row_quality.items():
            columns.setdefault(q, v.copy())
        columns.setdefault("target", self.targets.copy())
        errors = np.full(len(self), None, dtype=object)
        for f in self.failures:
            errors[f.row] = f"{f.error}: {f.message}"
        if self.pending.any():
            errors[self.pending] = "not explained (the run was stopped)"
        columns.setdefault("error", errors)
        table = frame(columns)
        table.index.name = "row"
        return table

    def quality(self) -> list[str]:
        """How the run went, one short line each: rows explained and failed, each quality number's mean and
        worst, how it ran."""
        lines = [f"{self.n_explained:,} of {len(self):,} rows explained" +
                 (f", {self.n_failed:,} failed (see .failures)" if self.n_failed else "")]
        ok = self.explained
        for q, v in self.row_quality.items():
            if q.startswith("n_") or not ok.any() or not np.isfinite(v[ok]).any():
                continue
            lines.append(f"{q}: mean {np.nanmean(v[ok]):.3g} (min {np.nanmin(v[ok]):.3g}, max {np.nanmax(v[ok]):.3g})")
        if self.plan is not None:
            lines.append(f"{self.executor}; {self.plan.describe()}; {self.seconds:.1f} s")
        if self.dashboard:
            lines.append(f"Dask dashboard: {self.dashboard}")
        return lines

    def summary(self) -> str:
        """One line: what was explained, how many rows, where, and the most important features."""
        line = (f"{self.label} of {len(self):,} {self.inputs} ({self.n_explained:,} explained, {self.n_failed:,} "
                f"failed) {self.executor.split(' at ')[0]} in {self.seconds:.1f} s")
        if self.feature_names is not None and self.n_explained and np.dtype(self.values.dtype).kind != "O":
            top = ", ".join(f"{n} ({v:.3g})" for n, v in self.ranking()[:3])
            line += f"; mean |{self.unit}| largest for {top}"
        return line

    def __str__(self) -> str:
        return self.summary()

    def _png_size(self) -> tuple[float, float]:
        if self.feature_names is None:
            return (4.2, 4)
        return (5, 0.28 * min(len(self.feature_names), 20) + 1.2)

    def plot(self, ax=None, *, max_features: int = 20):
        """Global importance: bars of mean |value| per feature (tables) or the mean |map| (images); returns
        the Axes."""
        self._need_rows("plot()")
        failed = f", {self.n_failed:,} failed" if self.n_failed else ""
        return importance_plot(self.importance(), self.feature_names,
                               title=f"{self.label}: mean over {self.n_explained:,} rows{failed}", unit=self.unit,
                               max_features=check_int(max_features, "max_features", 1), ax=ax)

    @classmethod
    def from_zarr(cls, store: Any) -> ManyExplanations:
        """Open the results a run wrote with ``store=`` (lazily: the arrays stay on disk)."""
        s = ResultStore(location_of(store), 1)
        attrs = s.attrs()
        if "method" not in attrs:
            raise InputError(f"{s.location} holds no finished explain_many run (its attributes are missing)")
        names = s.names()
        arrays = {n: s.array(n) for n in names if n not in ("targets", "seeds", "failed", "row_seconds")
                  and not n.startswith("quality")}
        failed = s.column("failed").astype(bool)
        return cls(method=attrs["method"], label=attrs["label"], unit=attrs["unit"], inputs=attrs["inputs"],
                   values=arrays.pop("values"), arrays=arrays,
                   row_quality={q: s.column(f"quality/{q}") for q in s.names("quality")}, targets=s.column("targets"),
                   seeds=s.column("seeds"), failed=failed, pending=np.zeros(len(failed), dtype=bool),
                   failures=[RowFailure(**f) for f in attrs["failures"]], feature_names=attrs["feature_names"],
                   class_names=attrs["class_names"], options=attrs["options"], seed=int(attrs["seed"]),
                   executor=attrs["executor"], plan=None, batch_size=None, seconds=float("nan"),
                   row_seconds=s.column("row_seconds"), store=s.location)


__all__ = ["EXPLAINERS", "Explainer", "GroupImportance", "ManyExplanations", "explain_many", "register", "resolve"]
