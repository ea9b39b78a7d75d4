"""Kernels of the feature effects (arrays in, arrays out; the front door is :mod:`nbexplain.explain.effects`).

* :mod:`.problem` — the inputs every effect starts from (table, model, output as one number per row, rows);
* :mod:`.batches` — :class:`~.batches.StackedRows`, the lazy stack of changed copies of a table;
* :mod:`.pdp` — grids, the ICE table, the kinds of ICE curves (plain, centred, derivative);
* :mod:`.ale` — accumulated local effects, first and second order, categorical;
* :mod:`.importance` and :mod:`.scores` — permutation importance and the scores it drops;
* :mod:`.surrogate` — global surrogates (a shallow tree, a sparse linear model) and their fidelity.
"""
