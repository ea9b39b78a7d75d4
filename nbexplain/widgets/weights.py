"""WeightHistograms: the weight histograms of a :class:`~nbexplain.WeightRecorder`, snapshot by snapshot.

A list of the recorded parameters with a sparkline of each one's relative change and a badge when it is
flagged (frozen, barely learning, dead ReLUs, NaN); the histogram of the chosen parameter at the chosen
snapshot (slider or play), optionally overlaid with another snapshot, with linear or log counts; the chosen
parameter's statistics and what was found, in words. Every number is the recorder's: the histograms travel
once as binary arrays, so moving the slider needs no kernel. A recorder still recording (hooked into a
training loop in this kernel) updates the widget after each snapshot.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import traitlets

from .._registry import shows
from ..errors import InputError
from ..explain.internals import WeightRecorder
from ..methods.internals.histograms import STATS
from . import assets
from .base import ExplainerWidget
from .codec import encode_array


def _nested_to_json(value: Any, _widget: Any) -> Any:
    """Numpy arrays anywhere in a list/dict trait as binary ``{dtype, shape, buffer}`` (never JSON lists)."""
    if isinstance(value, np.ndarray):
        return encode_array(value)
    if isinstance(value, dict):
        return {k: _nested_to_json(v, _widget) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nested_to_json(v, _widget) for v in value]
    return value


#: a trait of lists/dicts holding numpy arrays, sent as binary buffers (read-only from the view)
nested_array_serialization = {"to_json": _nested_to_json}


class WeightHistograms(ExplainerWidget):
    """Weight histograms across training: parameters with change sparklines and flags, a snapshot slider.

    Parameters
    ----------
    recorder : WeightRecorder
        What to show (a live recorder keeps the widget up to date as it records).
    parameter : str or int, optional
        The parameter shown first (default: the first flagged one, else the first).
    log_counts : bool
        Count axis on a log scale (``log(1 + count)``).

    Examples
    --------
    >>> w = nbx.WeightHistograms(recorder)        # or recorder.widget()
    >>> w.checkpoint = 0; w.compare = len(recorder.steps) - 1
    >>> w.histogram()                             # (counts, edges) shown now
    """

    _esm = assets.view_esm("weights")
    _css = assets.view_css("weights")
    _view_writes: ClassVar[frozenset[str]] = frozenset({"parameter", "checkpoint", "compare", "log_counts"})

    parameters = traitlets.List([]).tag(sync=True)  # [{name, shape, layer, size}]
    steps = traitlets.List([]).tag(sync=True)
    tables = traitlets.List([]).tag(sync=True, **nested_array_serialization)  # per parameter {counts, edges, stats}
    stat_names = traitlets.List(list(STATS)).tag(sync=True)
    flags = traitlets.List([]).tag(sync=True)  # [{kind, parameter, message}]
    summary = traitlets.Unicode("").tag(sync=True)
    parameter = traitlets.Int(0).tag(sync=True)  # index into parameters
    checkpoint = traitlets.Int(0).tag(sync=True)  # index into steps
    compare = traitlets.Int(-1).tag(sync=True)  # a second snapshot drawn as an outline; -1 none
    log_counts = traitlets.Bool(False).tag(sync=True)
    live = traitlets.Bool(False).tag(sync=True)

    def __init__(self, recorder: WeightRecorder, *, parameter: str | int | None = None, log_counts: bool = False,
                 **kwargs: Any):
        if not isinstance(recorder, WeightRecorder):
            raise InputError(f"recorder must be a WeightRecorder (nbx.WeightRecorder); got {type(recorder).__name__}")
        super().__init__(**kwargs)
        self.recorder = recorder
        self._refresh(recorder)
        with self._applying():
            self.log_counts = bool(log_counts)
            self.checkpoint = len(self.steps) - 1
            if parameter is not None:
                self.parameter = self._parameter_index(parameter)
            else:
                flagged = [f["parameter"] for f in self.flags if f["parameter"] in recorder.parameters]
                self.parameter = recorder.parameters.index(flagged[0]) if flagged else 0
        self.live = recorder.recording
        self._unsubscribe = recorder.subscribe(self._refresh) if self.live else None

    def _parameter_index(self, parameter: str | int) -> int:
        names = self.recorder.parameters
        if isinstance(parameter, str):
            if parameter not in names:
                raise InputError(f"parameter={parameter!r} was not recorded; recorded: {names[:12]}")
            return names.index(parameter)
        if not isinstance(parameter, (int, np.integer)) or not 0 <= parameter < len(names):
            raise InputError(f"parameter must be a recorded name or an index in 0..{len(names) - 1}; got {parameter!r}")
        return int(parameter)

    def _refresh(self, recorder: WeightRecorder) -> None:
        """Send everything the recorder holds (after each snapshot of a live recording)."""
        following = self.checkpoint >= len(self.steps) - 1
        tables = []
        for name in recorder.parameters:
            stats = recorder.stats(name)
            tables.append({"counts": recorder.counts(name).astype(np.int32),
                           "edges": recorder.edges(name).astype(np.float64),
                           "stats": np.stack([stats[s] for s in STATS], axis=1).astype(np.float64)})
        with self._applying():
            self.parameters = [{"name": n, "shape": list(recorder.shape(n)), "layer": recorder.kind(n),
                                "size": int(np.prod(recorder.shape(n)))} for n in recorder.parameters]
            self.steps = [int(s) for s in recorder.steps]
            self.tables = tables
            self.flags = [{"kind": f.kind, "parameter": f.parameter, "message": f.message} for f in recorder.flags()]
            self.summary = recorder.summary()
            if following:
                self.checkpoint = len(self.steps) - 1

    def close(self) -> None:
        if getattr(self, "_unsubscribe", None) is not None:
            self._unsubscribe()
            self._unsubscribe = None
        super().close()

    # -- what the view (or Python) may set -----------------------------------------------------------
    @traitlets.validate("parameter")
    def _check_parameter(self, proposal: dict) -> int:
        value = proposal["value"]
        if not 0 <= value < max(1, len(self.parameters)):
            raise traitlets.TraitError(f"parameter must be an index in 0..{len(self.parameters) - 1}; got {value}")
        return value

    @traitlets.validate("checkpoint")
    def _check_checkpoint(self, proposal: dict) -> int:
        value = proposal["value"]
        if not 0 <= value < max(1, len(self.steps)):
            raise traitlets.TraitError(f"checkpoint must be a snapshot index in 0..{len(self.steps) - 1}; got {value}")
        return value

    @traitlets.validate("compare")
    def _check_compare(self, proposal: dict) -> int:
        value = proposal["value"]
        if not -1 <= value < max(1, len(self.steps)):
            raise traitlets.TraitError(f"compare must be -1 (none) or a snapshot index in 0..{len(self.steps) - 1}; "
                                       f"got {value}")
        return value

    # -- reading ---------------------------------------------------------------------------------
    @property
    def parameter_name(self) -> str:
        return self.recorder.parameters[self.parameter]

    def histogram(self, snapshot: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(counts, edges)`` of the shown parameter at ``snapshot`` (default: the shown checkpoint)."""
        return self.recorder.histogram(self.parameter_name, self.checkpoint if snapshot is None else snapshot)

    def _static_png(self) -> bytes | None:
        return self.recorder._repr_png_()


@shows(WeightRecorder)
def weight_histograms_of(recorder: WeightRecorder, **options: Any) -> WeightHistograms:
    """The widget of ``recorder.widget(**options)``."""
    return WeightHistograms(recorder, **options)


__all__ = ["WeightHistograms", "nested_array_serialization"]
