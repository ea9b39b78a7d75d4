"""Weight histograms across training: are all our layers learning?

:class:`WeightRecorder`, hooked into a training loop (or given saved checkpoints), records per-parameter
histograms and statistics without keeping copies of the weights (TensorBoard's histogram dashboard, in
memory; :mod:`nbexplain.methods.internals.histograms`), and answers the survey's first question about a
network's training with :meth:`~WeightRecorder.flags` in plain words: frozen parameters, ones that barely
change (vanishing gradients), dead ReLUs, NaN weights (:mod:`nbexplain.methods.internals.diagnosis`).

Examples
--------
>>> rec = nbx.WeightRecorder(model, optimizer=opt, every=20)      # records after every 20th step
>>> ...train...
>>> rec.plot(); print(rec.summary())
>>> nbx.WeightRecorder.from_checkpoints(["epoch1.pt", "epoch2.pt"]).flags()
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import check_bool, check_choice, check_int, check_positive_int, is_int
from ..errors import InputError
from ..methods.internals.activations import ReluWatch, torch_module
from ..methods.internals.checkpoints import module_kinds, state_dict, stored_parameters
from ..methods.internals.diagnosis import Flag, diagnose
from ..methods.internals.histograms import STATS, ParameterTracks
from ..plotting import internals as draw
from .result import Result, frame


class WeightRecorder(Result):
    """Per-parameter weight histograms and statistics across training, and what they say about learning.

    Hook it into a training loop: give it the ``optimizer`` (it records after every ``every``-th
    ``optimizer.step()``), or call :meth:`record` after each step yourself. Each snapshot adds, for every
    parameter tensor, one histogram (computed in torch on the fly; bins fixed per tensor from its first
    snapshot and extended when values leave them, see :mod:`nbexplain.methods.internals.histograms`) and
    its statistics (mean, std, min, max, norm, gradient norm, relative change since the previous and since
    the first snapshot). No copy of the weights is kept. The initial weights are snapshot 0.

    With ``activations=True`` it also watches the model's ``nn.ReLU``/``nn.ReLU6`` modules on the forward
    pass before each snapshot and notes the share of dead units (zero for the whole batch).

    Parameters
    ----------
    model : torch.nn.Module
        The network being trained (or ``nbx.as_model`` of it).
    every : int
        Snapshot every ``every`` steps (steps count calls of :meth:`record` or of the optimiser's ``step``).
    bins : int
        Bins of each parameter's first histogram (more are added as values spread).
    parameters : list of str, optional
        Names (from ``named_parameters()``) to record; default all, frozen ones included.
    optimizer : torch.optim.Optimizer, optional
        Record after each of its steps (a post-step hook; :meth:`close` removes it).
    activations : bool
        Watch ReLU modules for dead units.

    Examples
    --------
    >>> rec = nbx.WeightRecorder(model, optimizer=opt, every=10)
    >>> for x, y in batches:
    ...     opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    >>> rec.close()                      # last snapshot, hooks removed
    >>> print(rec.summary()); rec.plot(); rec.to_frame()
    """

    _png_figsize = (9.0, 6.0)

    def __init__(self, model: Any, *, every: int = 10, bins: int = 64, parameters: Sequence[str] | None = None,
                 optimizer: Any = None, activations: bool = True):
        module = torch_module(model)
        self.every = check_positive_int(every, "every")
        if optimizer is not None and not hasattr(optimizer, "register_step_post_hook"):
            raise InputError(f"optimizer must be a torch.optim.Optimizer; got {type(optimizer).__name__}")
        named = dict(module.named_parameters())
        names = self._check_names(parameters, list(named))
        self._setup(check_int(bins, "bins", 2, 4096), names, module_kinds(module))
        self._module = module
        self._named = {n: named[n] for n in names}
        self._watch = ReluWatch(module) if check_bool(activations, "activations") else None
        self._gates = dict(self._watch.gates) if self._watch is not None else {}
        if optimizer is not None:
            self._hook = optimizer.register_step_post_hook(lambda *_args, **_kw: self.record())
        self.snapshot(0)
        self._arm()

    # -- set-up ------------------------------------------------------------------------------------
    def _setup(self, bins: int, names: list[str], kinds: dict[str, str]) -> None:
        self._tracks = ParameterTracks(bins)
        self._names = names
        self._kinds = kinds
        self._steps: list[int] = []
        self._dead: list[dict[str, float]] = []
        self.step = 0
        self._module = None
        self._named: dict[str, Any] = {}
        self._watch = None
        self._hook = None
        self._gates: dict[str, str | None] = {}
        self._closed = False
        self._listeners: list[Callable[[WeightRecorder], None]] = []
        self.every = getattr(self, "every", 1)

    @staticmethod
    def _check_names(parameters: Any, available: list[str]) -> list[str]:
        if parameters is None:
            return available
        if isinstance(parameters, str) or not isinstance(parameters, Iterable):
            raise InputError(f"parameters must be a list of parameter names; got {parameters!r}")
        chosen = list(parameters)
        for p in chosen:
            check_choice(p, "parameters", available)
        if not chosen:
            raise InputError("parameters must name at least one parameter")
        return chosen

    @classmethod
    def from_checkpoints(cls, checkpoints: Sequence[Any], *, steps: Sequence[int] | None = None,
                         model: Any = None, bins: int = 64) -> WeightRecorder:
        """Histograms of saved weights: one snapshot per checkpoint, in order.

        A checkpoint is a state dict (``{name: tensor or array}``), a dict holding one under
        ``"state_dict"`` or ``"model_state_dict"``, a torch module, or the path of a file saved with
        ``torch.save`` (loaded with ``weights_only=True``). With ``model`` the names recorded are its
        parameters; without, every floating-point entry except BatchNorm's running statistics.
        ``steps`` labels the checkpoints (default 0, 1, 2...).

        Examples
        --------
        >>> rec = nbx.WeightRecorder.from_checkpoints(["epoch1.pt", "epoch2.pt", "epoch3.pt"], steps=[1, 2, 3])
        """
        if isinstance(checkpoints, (str, os.PathLike, Mapping)) or not isinstance(checkpoints, Sequence):
            raise InputError("checkpoints must be a list of state dicts, modules or checkpoint files; got "
                             f"{type(checkpoints).__name__}")
        if len(checkpoints) == 0:
            raise InputError("checkpoints must hold at least one checkpoint")
        steps = list(range(len(checkpoints))) if steps is None else [check_int(s, "steps", 0) for s in steps]
        if len(steps) != len(checkpoints):
            raise InputError(f"steps has {len(steps)} values for {len(checkpoints)} checkpoints")
        if any(b <= a for a, b in zip(steps, steps[1:], strict=False)):
            raise InputError(f"steps must increase; got {steps}")
        dicts = [state_dict(c, i) for i, c in enumerate(checkpoints)]
        if model is not None:
            module = torch_module(model)
            names, kinds = [n for n, _ in module.named_parameters()], module_kinds(module)
        else:
            names, kinds = stored_parameters(dicts[0]), {}
        self = cls.__new__(cls)
        self.every = 1
        self._setup(check_int(bins, "bins", 2, 4096), names, kinds)
        for i, (d, step) in enumerate(zip(dicts, steps, strict=True)):
            missing = [n for n in names if n not in d]
            if missing:
                raise InputError(f"checkpoint {i} has no {missing[0]!r} (it has {sorted(d)[:8]})")
            self._take(step, [(n, d[n]) for n in names], {})
        return self

    # -- recording ---------------------------------------------------------------------------------
    def record(self, step: int | None = None) -> None:
        """Count a training step (or set the step number) and snapshot when it is a multiple of ``every``."""
        if self._closed:
            raise InputError("this recorder was closed: make a new one to record again")
        self.step = self.step + 1 if step is None else check_int(step, "step", 0)
        if self.step % self.every == 0 and (not self._steps or self._steps[-1] != self.step):
            self.snapshot()
        self._arm()

    def snapshot(self, step: int | None = None) -> None:
        """Snapshot every recorded parameter now (``step`` defaults to the current step)."""
        if self._module is None:
            raise InputError("this recorder was made from checkpoints: there is no model to snapshot")
        if self._closed:
            raise InputError("this recorder was closed: make a new one to record again")
        step = self.step if step is None else check_int(step, "step", 0)
        if self._steps and step <= self._steps[-1]:
            raise InputError(f"step={step} is not after the last snapshot's step {self._steps[-1]}")
        self.step = step
        dead = self._watch.take() if self._watch is not None else {}
        self._take(step, list(self._named.items()), dead)

    def _take(self, step: int, named: list, dead: dict[str, float]) -> None:
        self._tracks.snapshot(named)
        self._steps.append(int(step))
        self._dead.append(dead)
        for listener in list(self._listeners):
            listener(self)

    def _arm(self) -> None:
        if self._watch is not None:
            self._watch.armed = (self.step + 1) % self.every == 0

    def close(self) -> None:
        """Stop recording: snapshot the last step if it was not, remove the hooks."""
        if self._module is not None and self._steps and self.step > self._steps[-1]:
            self.snapshot()
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        self._closed = True

    @property
    def recording(self) -> bool:
        """Whether snapshots may still come (a model is attached and :meth:`close` was not called)."""
        return self._module is not None and not self._closed

    def __enter__(self) -> WeightRecorder:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def subscribe(self, listener: Callable[[WeightRecorder], None]) -> Callable[[], None]:
        """Call ``listener(recorder)`` after each snapshot (widgets follow a recording live); returns a
        function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # -- what was recorded ---------------------------------------------------------------------------
    @property
    def parameters(self) -> list[str]:
        """The recorded parameter names."""
        return list(self._names)

    @property
    def steps(self) -> np.ndarray:
        """(snapshots,) the step of each snapshot."""
        return np.asarray(self._steps, dtype=np.int64)

    def _track(self, parameter: str):
        check_choice(parameter, "parameter", self._names)
        return self._tracks[parameter]

    def counts(self, parameter: str) -> np.ndarray:
        """(snapshots, bins) int64 histogram counts of ``parameter`` on its current bins (:meth:`edges`)."""
        return self._track(parameter).counts.copy()

    def edges(self, parameter: str) -> np.ndarray:
        """(bins + 1,) the bin edges of ``parameter`` (in its dtype): ``numpy.histogram(w, bins=edges)``
        of the weights of snapshot s gives ``counts(parameter)[s]``."""
        return self._track(parameter).edges()

    def histogram(self, parameter: str, snapshot: int = -1) -> tuple[np.ndarray, np.ndarray]:
        """``(counts, edges)`` of one snapshot (the last by default), as ``numpy.histogram`` returns them."""
        counts = self.counts(parameter)
        n = len(counts)
        if not is_int(snapshot) or not -n <= snapshot < n:
            raise InputError(f"snapshot must be an int in {-n}..{n - 1}; got {snapshot!r}")
        return counts[snapshot], self.edges(parameter)

    def stats(self, parameter: str) -> dict[str, np.ndarray]:
        """The statistics of ``parameter`` over the snapshots: mean, std, min, max, norm, grad_norm (NaN
        without a gradient), change (relative to the previous snapshot, NaN at the first), change_total
        (relative to the first), nonfinite (count of NaN/inf values)."""
        track = self._track(parameter)
        return {name: track.stat(name).copy() for name in STATS}

    def shape(self, parameter: str) -> tuple[int, ...]:
        return self._track(parameter).shape

    def kind(self, parameter: str) -> str:
        """The type of the module holding ``parameter`` (``"Conv2d"``), or ``""`` when unknown."""
        return self._kinds.get(parameter, "")

    @property
    def dead(self) -> list[dict[str, float]]:
        """Per snapshot, the share of dead units after each watched ReLU (empty when not measured)."""
        return [dict(d) for d in self._dead]

    def flags(self) -> list[Flag]:
        """What did not learn, in plain words: frozen parameters, ones that barely change (vanishing
        gradients), dead ReLUs, NaN weights (see :mod:`nbexplain.methods.internals.diagnosis`)."""
        requires = {n: bool(p.requires_grad) for n, p in self._named.items()}
        last_dead = next((d for d in reversed(self._dead) if d), {})
        return diagnose(self.steps, {n: self.stats(n) for n in self._names}, requires_grad=requires,
                        dead=last_dead, gates=self._gates)

    def summary(self) -> str:
        """One paragraph: what was recorded and every flag (or that every parameter learned)."""
        steps = self.steps
        span = f"steps {steps[0]}-{steps[-1]}" if len(steps) > 1 else f"step {steps[0]}"
        head = f"{len(self._names)} parameter tensors, {len(steps)} snapshot(s) ({span})"
        flags = self.flags()
        if len(steps) < 2:
            return f"{head}: record more snapshots to see how the weights change"
        if not flags:
            return f"{head}: every parameter changed; no frozen, stalled or dead layer"
        return f"{head}; {len(flags)} finding(s):\n" + "\n".join(f"- {f.message}" for f in flags)

    def to_frame(self):
        """One row per (snapshot, parameter): step, parameter, module type, size, the statistics, flags."""
        flagged: dict[str, list[str]] = {}
        for f in self.flags():
            flagged.setdefault(f.parameter, []).append(f.kind)
        rows: dict[str, list] = {k: [] for k in ("step", "parameter", "layer", "size", *STATS, "flags")}
        for name in self._names:
            track = self._tracks[name]
            for s, step in enumerate(self._steps):
                rows["step"].append(int(step))
                rows["parameter"].append(name)
                rows["layer"].append(self.kind(name))
                rows["size"].append(int(np.prod(track.shape)))
                for k, stat in enumerate(STATS):
                    rows[stat].append(float(track.stats[s, k]))
                rows["flags"].append(", ".join(flagged.get(name, [])))
        return frame(rows)

    def plot(self, ax=None, *, parameters: Sequence[str] | None = None, log: bool = False, ncols: int = 4):
        """Ridgelines (TensorBoard's histogram view): per parameter, one histogram per snapshot stacked from
        the first (back) to the last (front); flagged parameters are titled in red. ``parameters`` None draws
        them all up to :attr:`PLOT_LIMIT` (flagged ones first, then in order). Returns the Axes."""
        names = self._shown() if parameters is None else self._check_names(parameters, self._names)
        flags = {f.parameter: f.kind for f in self.flags()}
        return draw.plot_weight_histograms(
            [(n, self._tracks[n].counts, self._tracks[n].edges(), flags.get(n)) for n in names], self.steps,
            ax=ax, log=check_bool(log, "log"), ncols=check_positive_int(ncols, "ncols"))

    #: parameters drawn by ``plot()`` without ``parameters=`` (a large model has hundreds)
    PLOT_LIMIT = 16

    def _shown(self) -> list[str]:
        if len(self._names) <= self.PLOT_LIMIT:
            return list(self._names)
        flagged = list(dict.fromkeys(f.parameter for f in self.flags() if f.parameter in self._names))
        rest = [n for n in self._names if n not in flagged]
        chosen = set(flagged[: self.PLOT_LIMIT] + rest[: max(0, self.PLOT_LIMIT - len(flagged))])
        return [n for n in self._names if n in chosen]

    def _png_size(self) -> tuple[float, float]:
        shown = len(self._shown())
        cols = min(4, shown)
        rows = -(-shown // max(cols, 1))
        return (2.6 * cols + 0.4, 2.1 * rows + 0.4)

    def __repr__(self) -> str:
        return (f"WeightRecorder({len(self._names)} parameters, {len(self._steps)} snapshots, step {self.step}, "
                f"every={self.every})")


__all__ = ["Flag", "WeightRecorder"]
