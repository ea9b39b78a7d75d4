"""Kernels that say how far an explanation can be trusted: arrays in, numbers out.

* :mod:`.randomisation` — copies of a torch model with layers re-initialised top-down (cascading) or one at
  a time (independent), for the model randomisation test (Adebayo et al. 2018, "Sanity checks for saliency
  maps").
* :mod:`.similarity` — how alike two maps are: Spearman rank correlation, SSIM, HOG similarity, top-k
  intersection; and the agreement of many maps.
* :mod:`.pixels` — faithfulness of a pixel map: deletion and insertion curves (Petsiuk et al. 2018),
  faithfulness correlation (Bhatt et al. 2020) and infidelity (Yeh et al. 2019), every perturbed image
  built lazily (:class:`~nbexplain.adapters.lazy.LazyRows`) and run at the model's best batch size.
* :mod:`.robustness` — noisy copies of an image that keep the prediction (Ghorbani et al. 2019) and the
  max-sensitivity of a map (Yeh et al. 2019).
* :mod:`.plausibility` — how far a point lies from the data: distances to its nearest rows and a local
  outlier factor (Breunig et al. 2000).
"""
