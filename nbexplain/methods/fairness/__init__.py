"""Fairness kernels, arrays in -> arrays out: groups and intersections of the sensitive attributes
(:mod:`.groups`), per-group metrics counted in one pass (:mod:`.metrics`), bootstrap resamples and percentile
intervals (:mod:`.bootstrap`), disparities between groups (:mod:`.disparities`), the whole disaggregated
evaluation of an audit (:mod:`.evaluation`), per-group ROC points, thresholds and trade-offs
(:mod:`.thresholds`), proxy features (:mod:`.proxies`), what a model card or datasheet says (:mod:`.card`) and
the Markdown/HTML document it is written into (:mod:`.document`).
"""
