"""Kernels of learned representations (arrays in, arrays out; the front door is
:mod:`nbexplain.explain.representations`).

* :mod:`.extraction` — a model's inputs as lazy batches, the layers to read, forward hooks that pool each
  layer's output into one row per input while the model runs at its best batch size;
* :mod:`.projection` — PCA (scikit-learn), t-SNE (openTSNE) and UMAP (umap-learn) to 2-D or 3-D;
* :mod:`.quality` — trustworthiness of a map (exact as scikit-learn's, or estimated over sampled queries);
* :mod:`.layout` — maps of several layers centred, scaled and rotated onto each other (Procrustes), so a
  view can move the points from one layer's map to the next;
* :mod:`.probes` — cross-validated accuracy of a linear classifier on each layer's activations.
"""
