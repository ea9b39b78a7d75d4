"""Incremental inference for CNNs (Nakandala, Kumar & Papakonstantinou 2019, Krypton): recompute each layer
only where a patched input can change it, exactly.

* :mod:`.engine` — :class:`IncrementalModel`: the traced graph, the reference's cached activations, plans
  (the boxes of every layer, the estimated cost) and runs;
* :mod:`.rules` — how each layer is recomputed on patches (or why it cannot be);
* :mod:`.patches` — the driver the perturbation methods use: engines per model, whether a plan pays off,
  batches at a measured size, the check against the model's own forward pass, :func:`~.patches.disabled`;
* :mod:`.stem` — superposition through a linear stem, for masks that change much of the image.

Examples
--------
>>> engine = IncrementalModel(cnn, image)   # (C, H, W)
>>> plan = engine.plan(rows, cols, 16, 16)
>>> engine.run(plan, 0, len(rows), patches)  # == cnn on the patched images, up to float rounding
"""

__all__ = ["Box", "IncrementalModel", "Plan", "trace"]


def __getattr__(name: str):
    """The engine's names, imported on first use: importing nbexplain must not import torch."""
    if name in __all__:
        from . import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
