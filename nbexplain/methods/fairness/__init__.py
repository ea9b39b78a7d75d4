"""Fairness kernels, arrays in -> arrays out: groups and intersections (:mod:`.groups`), per-group metrics
counted in one pass (:mod:`.metrics`), bootstrap resamples and percentile intervals (:mod:`.bootstrap`),
per-group ROC points, thresholds and trade-offs (:mod:`.thresholds`), proxy features (:mod:`.proxies`), and
the Markdown/HTML document a model card or datasheet is written into (:mod:`.document`).
"""
