"""LIME for images (Ribeiro, Singh & Guestrin 2016, "Why should I trust you?"), on superpixels.

Random binary coalitions (the first is the whole image), the model's output for each perturbed image, a
proximity weight from the cosine distance of the coalition to the all-ones coalition through the
exponential kernel, and a weighted ridge surrogate whose coefficients are the superpixels' weights and
whose weighted R² is the explanation's fidelity. With the ``lime`` package's defaults (kernel width 0.25,
ridge alpha 1, all features) the numbers equal ``lime_image.LimeImageExplainer`` given the same samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError
from ...inputs.segmentation import Segmentation
from ...methods.coalitions.superpixels import check_count, check_seed, game_for
from ...methods.coalitions.surrogate import Surrogate, exponential_kernel, fit_weighted_ridge
from ...plotting.superpixels import SuperpixelResultMixin


@dataclass
class LimeImage(SuperpixelResultMixin):
    """A LIME explanation of one image and class.

    Attributes
    ----------
    weights : (M,) - the surrogate's coefficient of each superpixel (its local effect on the output).
    intercept : float - the surrogate's output with every superpixel removed.
    local_prediction : float - the surrogate's output for the whole image.
    prediction : float - the model's output for the whole image.
    score : float - fidelity: the surrogate's weighted R² on the samples.
    coalitions : (N, M) bool, values : (N,), sample_weight : (N,) - the samples the surrogate was fitted on.
    """

    weights: np.ndarray
    intercept: float
    local_prediction: float
    prediction: float
    score: float
    target: int
    target_name: str
    segmentation: Segmentation
    coalitions: np.ndarray
    values: np.ndarray
    sample_weight: np.ndarray
    kernel_width: float
    alpha: float
    output: str = "probability"
    n_evaluations: int = 0

    @property
    def scores(self) -> np.ndarray:
        return self.weights

    @property
    def fidelity(self) -> float:
        return self.score

    @property
    def surrogate(self) -> Surrogate:
        return Surrogate(self.weights, self.intercept, self.score, self.alpha)

    def _title(self) -> str:
        return f"LIME for {self.target_name}\nfidelity (weighted R²) {self.score:.3f}"


def cosine_distance_to_all(coalitions: np.ndarray) -> np.ndarray:
    """Cosine distance of each 0/1 row to the all-ones row: ``1 - sqrt(k / M)`` (1 for the empty row, as sklearn)."""
    z = np.asarray(coalitions, dtype=bool)
    return 1.0 - np.sqrt(z.sum(1) / z.shape[1])


def lime_image(
    model: Any,
    image: Any = None,
    *,
    segmentation: Any = None,
    fill: Any = None,
    target: Any = None,
    n_samples: int = 1000,
    kernel_width: float = 0.25,
    alpha: float = 1.0,
    output: str | None = None,
    coalitions: np.ndarray | None = None,
    seed: int | None = None,
    progress: Callable[[float], None] | None = None,
    **segment_params: Any,
) -> LimeImage:
    """Explain an image classification with LIME on superpixels.

    Parameters
    ----------
    model : torch.nn.Module, estimator, callable, Model or SuperpixelGame
        The classifier; a :class:`SuperpixelGame` brings its image, segmentation, fill and cache.
    image : array or PIL image
        The image (omit when ``model`` is a game).
    segmentation : str, Segmentation, array or callable
        As :func:`nbexplain.segment` (its parameters as ``**segment_params``, e.g. ``n_segments=50``);
        default "slic". Not with a game.
    fill : str, number or image
        What removed superpixels show; default "mean", their own mean colour (LIME's). Not with a game.
    target : int, str or None
        Class to explain; None is the predicted class.
    n_samples : int
        Coalitions sampled (uniformly, each superpixel kept with probability 1/2; the first is the image).
    kernel_width : float
        Width of the exponential kernel on the cosine distance (LIME's image default 0.25).
    alpha : float
        Ridge penalty of the surrogate (LIME's default 1).
    output : {"probability", "score"}
        Explain the class probability (default) or the model's own output (logit or score).
    coalitions : (N, M) bool, optional
        Use these coalitions instead of sampling (e.g. to compare with another implementation).
    seed : int, optional
        For reproducible samples.
    progress : callable, optional
        Called with the fraction of model evaluations done (may raise to cancel).

    Returns
    -------
    LimeImage
        Weights, intercept, local prediction and fidelity; ``.plot()`` colours the superpixels.

    Examples
    --------
    >>> lime = nbx.lime_image(model, image, n_segments=50, n_samples=1000, seed=0)
    >>> lime.weights.shape, round(lime.score, 2)
    ((48,), 0.71)
    """
    game = game_for(model, image, segmentation, fill, target, output, segment_params)
    m = game.n_players
    if coalitions is None:
        n = check_count(n_samples, "n_samples", minimum=2)
        rng = np.random.default_rng(check_seed(seed))
        z = rng.integers(0, 2, size=(n, m)).astype(bool)
        z[0] = True
    else:
        z = game.check(coalitions, "coalitions")
        if len(z) < 2:
            raise InputError(f"coalitions must have at least 2 rows; got {len(z)}")
    if isinstance(kernel_width, (bool, np.bool_)) or not isinstance(kernel_width, (int, float, np.integer, np.floating)) \
            or not kernel_width > 0:
        raise InputError(f"kernel_width must be a positive number; got {kernel_width!r}")
    before = game.n_evaluations
    values = game.value(z, progress=progress)
    weight = exponential_kernel(cosine_distance_to_all(z), kernel_width)
    fit = fit_weighted_ridge(z.astype(np.float64), values, weight, alpha=alpha)
    full = float(game.value(np.ones((1, m), bool))[0])
    return LimeImage(
        weights=fit.coef, intercept=float(fit.intercept), local_prediction=float(fit.intercept + fit.coef.sum()),
        prediction=full, score=float(fit.score), target=game.target, target_name=game.target_name,
        segmentation=game.segmentation, coalitions=z, values=values, sample_weight=weight,
        kernel_width=float(kernel_width), alpha=float(alpha), output=game.output,
        n_evaluations=game.n_evaluations - before,
    )


__all__ = ["LimeImage", "cosine_distance_to_all", "lime_image"]
