"""Static matplotlib drawings of the feature-effect results (their ``.plot`` calls these).

Feature names, class names and output labels are user text: they go through
:func:`~nbexplain.plotting.figure.plain_text`, so "income from $5k to $10k" is drawn as written.
"""

from __future__ import annotations

import numpy as np

from .figure import axes, plain_text

LINE = "#1f77b4"
MEAN = "#d62728"
RUG_MAX = 2000
KIND_TITLES = {"plain": "ICE", "centred": "centred ICE (c-ICE)", "derivative": "derivative ICE (d-ICE)"}


def rug(ax, values: np.ndarray, color: str = "k") -> None:
    """Ticks of the data along the bottom of the x-axis, so data-sparse regions are visible."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if len(values) > RUG_MAX:
        values = np.random.default_rng(0).choice(values, RUG_MAX, replace=False)
    ax.plot(values, np.zeros_like(values), "|", color=color, alpha=0.25, markersize=9,
            transform=ax.get_xaxis_transform(), clip_on=False)


def level_text(levels, labels=None) -> list[str]:
    """Tick labels of a categorical feature's levels: their category labels (as plain text), else the numbers."""
    if labels is not None:
        return [plain_text(labels[int(v)]) if float(v).is_integer() and 0 <= v < len(labels) else f"{v:g}"
                for v in levels]
    return [f"{v:g}" for v in levels]


def _bars(ax, levels, heights, label, color=LINE, labels=None) -> None:
    positions = np.arange(len(levels))
    ax.bar(positions, heights, color=color, alpha=0.8, label=label)
    ax.set_xticks(positions, level_text(levels, labels))
    ax.axhline(0, color="k", lw=0.6)


def _surface(ax, x, y, z, features, zlabel, values, cmap="viridis") -> None:
    mesh = ax.pcolormesh(x, y, z.T, shading="gouraud" if z.shape == (len(x), len(y)) else "auto", cmap=cmap)
    ax.figure.colorbar(mesh, ax=ax, label=plain_text(zlabel))
    if values is not None and len(values):
        sample = values if len(values) <= RUG_MAX else values[np.random.default_rng(0).choice(len(values), RUG_MAX, replace=False)]
        ax.scatter(sample[:, 0], sample[:, 1], s=2, c="w", alpha=0.35, linewidths=0)
    ax.set_xlabel(plain_text(features[0]))
    ax.set_ylabel(plain_text(features[1]))


def plot_partial_dependence(result, ax=None, ice_lines: int = 100):
    """A :class:`~nbexplain.PartialDependence`: curve and ICE lines, bars (categorical) or a heatmap (a pair)."""
    ax = axes(ax, (5, 3.6))
    first = plain_text(result.features[0])
    if len(result.features) == 2:
        _surface(ax, result.grid[0], result.grid[1], result.average, result.features,
                 f"partial dependence of {result.output_label}", result.values)
        ax.set_title(f"2-D partial dependence: {first} × {plain_text(result.features[1])}", fontsize=9)
        return ax
    grid = result.grid[0]
    if result.categorical[0]:
        _bars(ax, grid, result.average, "partial dependence",
              labels=None if result.level_labels is None else result.level_labels[0])
        ax.set_ylim(min(0, result.average.min()) * 1.05, max(0, result.average.max()) * 1.05 or 1)
    else:
        if result.individual is not None and ice_lines:
            rows = np.random.default_rng(0).permutation(len(result.individual))[:ice_lines]
            ax.plot(grid, result.individual[rows].T, color=LINE, alpha=0.15, lw=0.7)
        ax.plot(grid, result.average, color=MEAN, lw=2.2, label="partial dependence")
        rug(ax, result.values[:, 0])
    ax.set_xlabel(first)
    ax.set_ylabel(plain_text(result.output_label))
    ax.set_title(f"Partial dependence on {first}", fontsize=9)
    return ax


def plot_ice(result, ax=None, max_lines: int = 200):
    """An :class:`~nbexplain.ICE`: a sample of the curves, their mean (and ± sd for d-ICE), a rug."""
    ax = axes(ax, (5, 3.6))
    grid = result.grid
    rows = np.random.default_rng(0).permutation(len(result.curves))[:max_lines]
    x = np.arange(len(grid)) if result.categorical else grid
    ax.plot(x, result.curves[rows].T, color=LINE, alpha=0.2, lw=0.7, marker="o" if result.categorical else None,
            markersize=2)
    ax.plot(x, result.pdp, color=MEAN, lw=2.2, label="mean")
    if result.kind == "derivative":
        spread = result.spread
        ax.fill_between(grid, result.pdp - spread, result.pdp + spread, color=MEAN, alpha=0.12,
                        label="± sd over rows")
        ax.axhline(0, color="k", lw=0.6)
    if result.categorical:
        ax.set_xticks(x, level_text(grid, result.level_labels))
    else:
        rug(ax, result.values)
    if result.kind == "centred":
        ax.axvline(result.anchor if not result.categorical else int(np.searchsorted(grid, result.anchor)),
                   color="k", lw=0.6, ls=":")
    feature, output = plain_text(result.feature), plain_text(result.output_label)
    ylabel = {"plain": output, "centred": f"{output} − value at {result.anchor:g}",
              "derivative": f"d {output} / d {feature}"}[result.kind]
    ax.set_xlabel(feature)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{KIND_TITLES[result.kind]} of {feature} ({len(result.curves)} rows)", fontsize=9)
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_ale(result, ax=None):
    """An :class:`~nbexplain.ALE`: the curve with a rug, bars (categorical) or a heatmap (a pair)."""
    ax = axes(ax, (5, 3.6))
    first = plain_text(result.features[0])
    if result.order == 2:
        _surface(ax, result.edges[0], result.edges[1], result.effect, result.features,
                 f"2nd-order ALE of {result.output_label}", result.values, cmap="RdBu_r")
        ax.set_title(f"2-D ALE (interaction only): {first} × {plain_text(result.features[1])}", fontsize=9)
        return ax
    if result.categorical:
        _bars(ax, result.edges[0], result.effect, "ALE", labels=result.level_labels)
    else:
        ax.plot(result.edges[0], result.effect, color=MEAN, lw=2.2, marker="o", markersize=3, label="ALE")
        ax.axhline(0, color="k", lw=0.6)
        rug(ax, result.values[:, 0])
    ax.set_xlabel(first)
    ax.set_ylabel(f"ALE of {plain_text(result.output_label)}")
    ax.set_title(f"Accumulated local effect of {first}", fontsize=9)
    return ax


def plot_importance(result, ax=None):
    """A :class:`~nbexplain.PermutationImportance`: bars of the mean drop, ± 1 sd, most important on top."""
    n = len(result.feature_names)
    ax = axes(ax, (5, 0.9 + 0.28 * n))
    order = np.argsort(result.mean, kind="stable")  # least important at the bottom
    ax.barh(np.arange(n), result.mean[order], xerr=result.std[order], color=LINE, alpha=0.85,
            error_kw={"elinewidth": 0.8, "capsize": 2})
    ax.set_yticks(np.arange(n), [plain_text(result.feature_names[i]) for i in order])
    ax.axvline(0, color="k", lw=0.6)
    reference = "its own predictions" if result.against == "model" else "the labels"
    ax.set_xlabel(f"drop in {plain_text(result.scoring)} (vs {reference}) when shuffled")
    ax.set_title("Permutation importance (mean ± sd over repeats)", fontsize=9)
    return ax


def plot_surrogate(result, ax=None):
    """A :class:`~nbexplain.GlobalSurrogate`: the tree, or the linear coefficients; the fidelity as title."""
    ax = axes(ax, (7, 4.5))
    title = f"Global surrogate ({result.kind}): {result.fidelity_name} = {result.fidelity:.3f}"
    if result.test_fidelity is not None:
        title += f" (held out {result.test_fidelity:.3f})"
    if result.kind == "tree":
        from sklearn.tree import plot_tree

        class_names = None  # the tree learnt class indices; name the ones it has, in its order
        if result.class_names is not None and hasattr(result.model, "classes_"):
            class_names = [plain_text(result.class_names[int(c)]) for c in result.model.classes_]
        plot_tree(result.model, feature_names=[plain_text(n) for n in result.feature_names], ax=ax, filled=True,
                  impurity=False, class_names=class_names, fontsize=7, proportion=True, precision=2)
    else:
        terms = result.terms()
        ax.barh(np.arange(len(terms)), [t[1] for t in terms][::-1], color=LINE)
        ax.set_yticks(np.arange(len(terms)), [plain_text(t[0]) for t in terms][::-1])
        ax.axvline(0, color="k", lw=0.6)
        ax.set_xlabel(f"coefficient (change of {plain_text(result.output_label)} per unit)")
    ax.set_title(title, fontsize=9)
    return ax


__all__ = ["plot_ale", "plot_ice", "plot_importance", "plot_partial_dependence", "plot_surrogate", "rug"]
