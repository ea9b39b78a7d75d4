"""Static matplotlib drawings of the feature-effect results (imported lazily by their ``.plot``)."""

from __future__ import annotations

import numpy as np

LINE = "#1f77b4"
MEAN = "#d62728"
RUG_MAX = 2000


def _axes(ax, figsize=(5, 3.6)):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    return ax


def rug(ax, values: np.ndarray, color: str = "k") -> None:
    """Ticks of the data along the bottom of the x-axis, so data-sparse regions are visible."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if len(values) > RUG_MAX:
        values = np.random.default_rng(0).choice(values, RUG_MAX, replace=False)
    ax.plot(values, np.zeros_like(values), "|", color=color, alpha=0.25, markersize=9,
            transform=ax.get_xaxis_transform(), clip_on=False)


def _bars(ax, levels, heights, label, color=LINE):
    positions = np.arange(len(levels))
    ax.bar(positions, heights, color=color, alpha=0.8, label=label)
    ax.set_xticks(positions, [f"{v:g}" for v in levels])
    ax.axhline(0, color="k", lw=0.6)
    return positions


def _surface(ax, x, y, z, xlabel, ylabel, zlabel, values, cmap="viridis"):
    mesh = ax.pcolormesh(x, y, z.T, shading="gouraud" if z.shape == (len(x), len(y)) else "auto", cmap=cmap)
    ax.figure.colorbar(mesh, ax=ax, label=zlabel)
    if values is not None and len(values):
        sample = values if len(values) <= RUG_MAX else values[np.random.default_rng(0).choice(len(values), RUG_MAX, replace=False)]
        ax.scatter(sample[:, 0], sample[:, 1], s=2, c="w", alpha=0.35, linewidths=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def plot_partial_dependence(result, ax=None, ice_lines: int = 100):
    ax = _axes(ax)
    if len(result.features) == 2:
        _surface(ax, result.grid[0], result.grid[1], result.average, result.features[0], result.features[1],
                 f"partial dependence of {result.output_label}", result.values)
        ax.set_title(f"2-D partial dependence: {result.features[0]} × {result.features[1]}", fontsize=9)
        return ax
    grid = result.grid[0]
    if result.categorical[0]:
        positions = _bars(ax, grid, result.average, "partial dependence")
        ax.set_ylim(min(0, result.average.min()) * 1.05, max(0, result.average.max()) * 1.05 or 1)
        del positions
    else:
        if result.individual is not None and ice_lines:
            rows = np.random.default_rng(0).permutation(len(result.individual))[:ice_lines]
            ax.plot(grid, result.individual[rows].T, color=LINE, alpha=0.15, lw=0.7)
        ax.plot(grid, result.average, color=MEAN, lw=2.2, label="partial dependence")
        rug(ax, result.values[:, 0])
    ax.set_xlabel(result.features[0])
    ax.set_ylabel(result.output_label)
    ax.set_title(f"Partial dependence on {result.features[0]}", fontsize=9)
    return ax


KIND_TITLES = {"plain": "ICE", "centred": "centred ICE (c-ICE)", "derivative": "derivative ICE (d-ICE)"}


def plot_ice(result, ax=None, max_lines: int = 200):
    ax = _axes(ax)
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
        ax.set_xticks(x, [f"{v:g}" for v in grid])
    else:
        rug(ax, result.values)
    if result.kind == "centred":
        ax.axvline(result.anchor if not result.categorical else int(np.searchsorted(grid, result.anchor)),
                   color="k", lw=0.6, ls=":")
    ylabel = {"plain": result.output_label, "centred": f"{result.output_label} − value at {result.anchor:g}",
              "derivative": f"d {result.output_label} / d {result.feature}"}[result.kind]
    ax.set_xlabel(result.feature)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{KIND_TITLES[result.kind]} of {result.feature} ({len(result.curves)} rows)", fontsize=9)
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_ale(result, ax=None):
    ax = _axes(ax)
    if result.order == 2:
        _surface(ax, result.edges[0], result.edges[1], result.effect, result.features[0], result.features[1],
                 f"2nd-order ALE of {result.output_label}", result.values, cmap="RdBu_r")
        ax.set_title(f"2-D ALE (interaction only): {result.features[0]} × {result.features[1]}", fontsize=9)
        return ax
    if result.categorical:
        _bars(ax, result.edges[0], result.effect, "ALE")
    else:
        ax.plot(result.edges[0], result.effect, color=MEAN, lw=2.2, marker="o", markersize=3, label="ALE")
        ax.axhline(0, color="k", lw=0.6)
        rug(ax, result.values[:, 0])
    ax.set_xlabel(result.features[0])
    ax.set_ylabel(f"ALE of {result.output_label}")
    ax.set_title(f"Accumulated local effect of {result.features[0]}", fontsize=9)
    return ax


def plot_importance(result, ax=None):
    n = len(result.feature_names)
    ax = _axes(ax, figsize=(5, 0.9 + 0.28 * n))
    order = np.argsort(result.mean, kind="stable")  # least important at the bottom
    ax.barh(np.arange(n), result.mean[order], xerr=result.std[order], color=LINE, alpha=0.85,
            error_kw={"elinewidth": 0.8, "capsize": 2})
    ax.set_yticks(np.arange(n), [result.feature_names[i] for i in order])
    ax.axvline(0, color="k", lw=0.6)
    ref = "its own predictions" if result.against == "model" else "the labels"
    ax.set_xlabel(f"drop in {result.scoring} (vs {ref}) when shuffled")
    ax.set_title("Permutation importance (mean ± sd over repeats)", fontsize=9)
    return ax


def plot_surrogate(result, ax=None):
    ax = _axes(ax, figsize=(7, 4.5))
    title = f"Global surrogate ({result.kind}): {result.fidelity_name} = {result.fidelity:.3f}"
    if result.test_fidelity is not None:
        title += f" (held out {result.test_fidelity:.3f})"
    if result.kind == "tree":
        from sklearn.tree import plot_tree

        plot_tree(result.model, feature_names=list(result.feature_names), ax=ax, filled=True, impurity=False,
                  class_names=result.class_names, fontsize=7, proportion=True, precision=2)
    else:
        terms = result.terms()
        names = [t[0] for t in terms][::-1]
        ax.barh(np.arange(len(terms)), [t[1] for t in terms][::-1], color=LINE)
        ax.set_yticks(np.arange(len(terms)), names)
        ax.axvline(0, color="k", lw=0.6)
        ax.set_xlabel(f"coefficient (change of {result.output_label} per unit)")
    ax.set_title(title, fontsize=9)
    return ax
