"""The result of a local explanation of one tabular row: one number per feature (Shapley values or LIME).

Shared by :func:`~nbexplain.shapley_tabular` and :func:`~nbexplain.lime_tabular` so that a view can show
either beside the counterfactual sliders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from ..plotting.figure import ShownAsPNG

LABELS = {"exact": "exact Shapley values", "sampled": "sampled Shapley values", "kernel": "KernelSHAP",
          "lime": "LIME"}


@dataclass
class TabularExplanation(ShownAsPNG):
    """Per-feature contributions to one output of the model at one row.

    Attributes
    ----------
    values : (F,) float64 — the contribution of each feature to the explained output. Shapley methods:
        Shapley values (they sum to ``prediction - base_value``). LIME: the surrogate's coefficient times
        the row's distance from the training mean in standard deviations, ``coef_j (x_j - mean_j) / sd_j``
        (they sum to the surrogate's ``prediction - base_value``).
    x : (F,) float64 — the explained row.
    feature_names : list of str
    prediction : float — the model's explained output at ``x``.
    base_value : float — Shapley: the mean output over the background; LIME: the surrogate at the mean.
    target : int — the explained class (0 for a regression); ``target_name`` its name.
    output : str — "probability" (of class ``target``) or "regression".
    method : "exact", "sampled", "kernel" or "lime".
    all_values : (F, K) — values for every class (Shapley methods; LIME: only the target's column).
    all_base : (K,) — base values for every class.
    std : (F,) or None — standard errors (sampled Shapley values).
    n_evaluations : int — model rows evaluated.
    fidelity : float or None — LIME: the surrogate's weighted R² on its samples.
    coef : (F,) or None — LIME: the surrogate's coefficients (per standard deviation; categorical
        features: for "same category as x").
    efficiency_gap : float or None — Shapley: ``values.sum() - (prediction - base_value)``.
    """

    _png_figsize = (5, 3.5)

    values: np.ndarray
    x: np.ndarray
    feature_names: list[str]
    prediction: float
    base_value: float
    target: int
    target_name: str
    output: str
    method: str
    all_values: np.ndarray
    all_base: np.ndarray
    std: np.ndarray | None = None
    n_evaluations: int = 0
    fidelity: float | None = None
    coef: np.ndarray | None = None
    efficiency_gap: float | None = None
    seconds: float = 0.0
    _model: Any = field(default=None, repr=False)
    _data: Any = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return LABELS.get(self.method, self.method)

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` features with the largest |value|, as (name, value)."""
        order = np.argsort(-np.abs(self.values), kind="stable")[:k]
        return [(self.feature_names[i], float(self.values[i])) for i in order]

    def plot(self, ax=None, *, max_features: int = 20):
        """Horizontal bars of the contributions (largest |value| on top); returns the Axes."""
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(5, 0.28 * min(len(self.values), max_features) + 1.2))
        order = np.argsort(-np.abs(self.values), kind="stable")[:max_features][::-1]
        colours = ["#b2182b" if self.values[i] > 0 else "#2166ac" for i in order]
        ax.barh(range(len(order)), self.values[order], color=colours,
                xerr=None if self.std is None else self.std[order])
        ax.set_yticks(range(len(order)), [f"{self.feature_names[i]} = {self.x[i]:.4g}" for i in order], fontsize=8)
        ax.axvline(0, color="0.5", lw=0.8)
        what = f"P({self.target_name})" if self.output == "probability" else "prediction"
        extra = f", fidelity R² = {self.fidelity:.2f}" if self.fidelity is not None else ""
        ax.set_title(f"{self.label}: {what} = {self.prediction:.3g} vs base {self.base_value:.3g}{extra}", fontsize=9)
        ax.set_xlabel(f"contribution to {what}")
        return ax

    def widget(self, model: Any = None, X_train: Any = None, **kwargs: Any):
        """:class:`~nbexplain.CounterfactualSliders` at this row, showing this kind of explanation as it moves."""
        from ..widgets.counterfactual import CounterfactualSliders

        model = model if model is not None else self._model
        X_train = X_train if X_train is not None else self._data
        if model is None or X_train is None:
            raise InputError("this explanation holds no model or data; pass model= and X_train=")
        explainer = "lime" if self.method == "lime" else "shapley"
        kwargs.setdefault("feature_names", self.feature_names)
        return CounterfactualSliders(model, X_train, self.x, explainer=explainer, **kwargs)
