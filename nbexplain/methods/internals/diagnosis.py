"""The survey's check on recorded weights: "are all our network layers learning?", answered in plain words.

From the statistics of :mod:`.histograms` (and the dead-unit shares of :class:`.activations.ReluWatch`):

* **frozen** — a parameter identical in every snapshot: ``requires_grad=False`` left on by mistake, left out
  of the optimiser, or no gradient reaching it;
* **barely learning** — it changes far less per snapshot than the typical parameter (less than
  ``SLOW`` times the median relative change): vanishing gradients, or a learning rate far too small for it;
* **dead ReLUs** — at the last snapshot at least ``DEAD`` of the units after a ReLU were zero for the whole
  batch: they pass no gradient back, so what feeds them stops learning;
* **diverged** — NaN or infinite weights.

Examples
--------
>>> [f.message for f in diagnose(steps, stats, requires_grad={}, dead={}, gates={})]
["'4.weight' did not change at all from step 0 to step 300: its requires_grad is False (frozen by mistake?)"]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

#: a parameter changing less than this share of the median relative change per snapshot is flagged
SLOW = 0.01
#: a ReLU with at least this share of dead units at the last snapshot is flagged
DEAD = 0.5
KINDS = ("diverged", "frozen", "slow", "dead")


@dataclass(frozen=True)
class Flag:
    """One finding: its ``kind`` (one of :data:`KINDS`), the ``parameter`` (or layer) it is about, and the
    ``message`` in plain words."""

    kind: str
    parameter: str
    message: str


def _frozen_reason(requires_grad: bool | None, grad_norm: float) -> str:
    if requires_grad is False:
        return "its requires_grad is False (frozen by mistake?)"
    if np.isnan(grad_norm):
        return ("it had no gradient at the last snapshot: frozen, left out of the forward pass, or its "
                "gradients were cleared before recording" if requires_grad else
                "frozen, or left out of the optimiser?")
    if grad_norm == 0:
        return "its gradient is zero: nothing flows back to it (dead units below it?)"
    return "it has gradients but never moved: is it missing from the optimiser's parameters?"


def diagnose(steps: np.ndarray, stats: Mapping[str, Mapping[str, np.ndarray]], *,
             requires_grad: Mapping[str, bool], dead: Mapping[str, float], gates: Mapping[str, str | None]
             ) -> list[Flag]:
    """Flags for the recorded parameters.

    ``stats[name]`` holds arrays over the snapshots ("change", "change_total", "grad_norm", "nonfinite",
    "norm"); ``requires_grad`` what is known of each parameter's flag; ``dead`` the dead-unit share of each
    ReLU at the last snapshot and ``gates`` the layer each ReLU gates.
    """
    flags: list[Flag] = []
    if len(steps) == 0:
        return flags
    first, last = int(steps[0]), int(steps[-1])
    moving: dict[str, float] = {}
    for name, s in stats.items():
        if s["nonfinite"][-1] > 0:
            flags.append(Flag("diverged", name, f"{name!r} has {int(s['nonfinite'][-1])} NaN or infinite values at "
                                                f"step {last}: training diverged (lower the learning rate?)"))
            continue
        if len(steps) < 2 or last == first:
            continue
        changes = s["change"][1:]
        if np.all(changes == 0) and s["change_total"][-1] == 0:
            flags.append(Flag("frozen", name, f"{name!r} did not change at all from step {first} to step {last}: "
                                              + _frozen_reason(requires_grad.get(name), float(s['grad_norm'][-1]))))
        elif np.all(np.isfinite(changes)):
            moving[name] = float(np.median(changes))
    if len(moving) >= 3:
        typical = float(np.median(list(moving.values())))
        for name, change in moving.items():
            if typical > 0 and change < SLOW * typical:
                times = typical / change if change > 0 else float("inf")
                how = f"{times:.0f}x" if np.isfinite(times) else "infinitely"
                flags.append(Flag("slow", name, f"{name!r} barely learns: it changes {how} less per snapshot than the "
                                                f"median parameter ({change:.2g} against {typical:.2g}); vanishing "
                                                "gradients, or a learning rate far too small for it?"))
    for relu, share in dead.items():
        if share >= DEAD:
            gate = gates.get(relu)
            about = f" (the units of {gate!r})" if gate else ""
            flags.append(Flag("dead", f"{gate}.weight" if gate else relu,
                              f"{share:.0%} of the units after ReLU {relu!r}{about} were zero for the whole batch "
                              f"at step {last}: dead ReLUs pass no gradient back, so they stop learning"))
    return flags


__all__ = ["DEAD", "KINDS", "SLOW", "Flag", "diagnose"]
