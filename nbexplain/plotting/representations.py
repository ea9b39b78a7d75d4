"""Static matplotlib drawings of learned representations: maps (PCA, t-SNE, UMAP), linear probes, activations.

Class names, layer names and column names are user text: they go through
:func:`~nbexplain.plotting.figure.plain_text`, so "$5k" is drawn as written.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from .figure import axes, plain_text

#: categorical colours (matplotlib's tab10, then tab20's light tones): the Projector view uses the same list
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7",
           "#dbdb8d", "#9edae5")
METHOD_TITLES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
BAR = "#1f77b4"
MAX_CLASSES = len(PALETTE)


def colour_codes(y: Any, class_names: Any = None) -> tuple[str, np.ndarray | None, list[tuple[int, str]]]:
    """How ``y`` colours points: ``("classes", codes, [(code, name)])``, ``("scale", values, [])`` or
    ``("none", None, [])``.

    Integers, strings and booleans with at most 20 distinct values are classes. Class indices 0..19 keep
    their index as colour code (class 3 has the same colour in every picture and in the Projector, whichever
    classes are present) and are named by ``class_names`` when given; other labels are numbered in sorted
    order. Other numbers are drawn on a colour scale.
    """
    if y is None:
        return "none", None, []
    arr = np.asarray(y)
    if arr.ndim != 1:
        arr = arr.reshape(len(arr), -1)[:, 0]
    values = np.unique(arr)
    integral = arr.dtype.kind in "biu" or (arr.dtype.kind == "f" and np.all(values == np.round(values)))
    discrete = integral or arr.dtype.kind in "USO"
    if discrete and len(values) <= MAX_CLASSES:
        if integral and values.min() >= 0 and values.max() < MAX_CLASSES:
            codes = arr.astype(np.int64)
            names = [str(class_names[int(v)]) if class_names is not None and int(v) < len(class_names) else str(int(v))
                     for v in values]
            return "classes", codes, [(int(v), name) for v, name in zip(values, names, strict=True)]
        codes = np.searchsorted(values, arr)
        return "classes", codes, [(i, str(v.item() if hasattr(v, "item") else v)) for i, v in enumerate(values)]
    if arr.dtype.kind not in "biuf":
        raise InputError(f"y has {len(values)} distinct labels; at most {MAX_CLASSES} can have a colour each")
    return "scale", arr.astype(np.float64), []


def _scatter(ax, xy: np.ndarray, y: Any, class_names: Any, size: float | None, legend: bool = True,
             palette: Any = None) -> None:
    n = len(xy)
    s = size if size is not None else float(np.clip(3000 / max(n, 1), 0.5, 20))
    order = np.random.default_rng(0).permutation(n)  # no class hides another by being drawn last
    kind, codes, entries = colour_codes(y, class_names)
    colours_of = list(palette) if palette is not None else list(PALETTE)
    if kind == "classes" and len(colours_of) <= max(code for code, _ in entries):
        raise InputError(f"palette has {len(colours_of)} colours; the classes need {max(c for c, _ in entries) + 1}")
    if kind == "none":
        ax.scatter(xy[:, 0], xy[:, 1], s=s, c=colours_of[0], alpha=0.7, linewidths=0)
    elif kind == "scale":
        sc = ax.scatter(xy[order, 0], xy[order, 1], s=s, c=codes[order], cmap="viridis", alpha=0.8, linewidths=0)
        ax.figure.colorbar(sc, ax=ax, fraction=0.046, pad=0.03)
    else:
        colours = np.array(colours_of)[codes[order]]
        ax.scatter(xy[order, 0], xy[order, 1], s=s, c=colours, alpha=0.8, linewidths=0)
        if legend:
            handles = [ax.scatter([], [], s=20, c=colours_of[code], label=plain_text(name)) for code, name in entries]
            ax.legend(handles=handles, fontsize=7, markerscale=1, loc="center left", bbox_to_anchor=(1.0, 0.5),
                      frameon=False, handletextpad=0.2, borderaxespad=0.2)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal", adjustable="datalim")


def plot_projection(result, ax=None, *, y: Any = None, class_names: Any = None, size: float | None = None,
                    legend: bool = True, palette: Any = None):
    """A :class:`~nbexplain.Projection`: its first two coordinates as a scatter, coloured by ``y``."""
    ax = axes(ax, (4.6, 4.2))
    _scatter(ax, result.coordinates[:, :2], y, class_names, size, legend, palette)
    title = f"{METHOD_TITLES[result.method]} of {plain_text(result.layer)}"
    note = []
    if result.explained_variance_ratio is not None:
        note.append(f"{100 * float(np.sum(result.explained_variance_ratio[:2])):.0f} % variance")
    if result.kl_divergence is not None:
        note.append(f"KL {result.kl_divergence:.2f}")
    if result.trustworthiness is not None:
        note.append(f"trust. {result.trustworthiness:.3f}")
    ax.set_title(title + ("\n" + ", ".join(note) if note else ""), fontsize=9)
    if result.method == "pca" and result.explained_variance_ratio is not None:
        evr = result.explained_variance_ratio
        ax.set_xlabel(f"PC1 ({100 * evr[0]:.0f} %)", fontsize=8)
        ax.set_ylabel(f"PC2 ({100 * evr[1]:.0f} %)", fontsize=8)
    return ax


def plot_projections(result, axes=None, *, y: Any = None, class_names: Any = None, ncols: int | None = None,
                     size: float | None = None, palette: Any = None):
    """A :class:`~nbexplain.Projections`: one map per layer, the legend beside the last; the array of Axes."""
    n = len(result)
    if axes is None:
        import matplotlib.pyplot as plt

        cols = ncols or min(n, 4)
        rows = -(-n // cols)
        fig, grid = plt.subplots(rows, cols, figsize=(3.2 * cols + 0.8, 3.3 * rows), squeeze=False)
        for extra in grid.ravel()[n:]:
            extra.set_axis_off()
        axes = grid.ravel()[:n]
    elif not hasattr(axes, "__len__") or len(axes) != n:
        raise InputError(f"ax must be a sequence of {n} Axes, one per layer")
    for i, (ax, projection) in enumerate(zip(axes, result.projections.values(), strict=True)):
        plot_projection(projection, ax=ax, y=y, class_names=class_names, size=size, legend=i == n - 1,
                        palette=palette)
    return np.asarray(axes)


def plot_probes(result, ax=None):
    """A :class:`~nbexplain.LinearProbes`: accuracy per layer (mean ± sd over folds) and the chance level."""
    ax = axes(ax, (5.2, 3.6))
    positions = np.arange(len(result.layers))
    ax.bar(positions, result.accuracy, yerr=result.std, color=BAR, alpha=0.85, capsize=3)
    for x, acc in zip(positions, result.accuracy, strict=True):
        ax.text(x, min(acc + 0.03, 1.02), f"{acc:.2f}", ha="center", va="bottom", fontsize=7)
    ax.axhline(result.chance, color="k", ls="--", lw=0.8, label=f"chance ({result.chance:.2f})")
    ax.set_xticks(positions, [f"{plain_text(name)}\n({d})" for name, d in zip(result.layers, result.dimensions,
                                                                              strict=True)], fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel(f"{result.scores.shape[1]}-fold accuracy")
    ax.set_title("Linear probe accuracy by layer (dimensions)", fontsize=9)
    ax.legend(fontsize=7, loc="lower right", frameon=False)
    return ax


def plot_activations(result, ax=None, *, layer: str, y: Any = None, max_units: int = 64):
    """An :class:`~nbexplain.Activations` layer: mean activation of each unit per class (or per input)."""
    ax = axes(ax, (6.4, 3.8))
    values = result.values[layer]
    order = np.argsort(-values.var(axis=0), kind="stable")[:max_units]
    if y is not None:
        kind, codes, entries = colour_codes(y, result.class_names)
        if kind != "classes":
            raise InputError("y must hold classes (at most 20 distinct labels) to average the units per class")
        table = np.stack([values[codes == code][:, order].mean(axis=0) for code, _ in entries])
        rows, ylabel = [plain_text(name) for _, name in entries], "class"
    else:
        table = values[:100, order]
        rows, ylabel = None, "input"
    image = ax.imshow(table, aspect="auto", cmap="magma", interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03, label="mean activation" if y is not None else
                       "activation")
    if rows is not None:
        ax.set_yticks(np.arange(len(rows)), rows, fontsize=7)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(f"unit (the {len(order)} most variable of {values.shape[1]})")
    ax.set_title(f"{plain_text(layer)} {result.shapes[layer]}, {result.pool} pooled", fontsize=9)
    return ax


__all__ = ["PALETTE", "colour_codes", "plot_activations", "plot_probes", "plot_projection", "plot_projections"]
