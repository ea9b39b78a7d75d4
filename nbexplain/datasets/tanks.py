"""The tank story: a classifier that is right for the wrong reasons.

The survey's cautionary tale: a network was trained to spot camouflaged tanks, but the photos with tanks
had been taken on cloudy days and the photos without on sunny days, so the network learned to tell the
weather. :func:`tanks` generates such scenes (sky on top, textured ground, a small tank or not), with the
sky brightness tied to the label (``biased=True``), reversed (``swap_sky=True``) or independent of it
(``biased=False``). :func:`tank_classifier` trains a small CNN on them in seconds, and
:func:`attribution_share` measures how much of an attribution map falls on the sky or on the tank.

Data generation needs numpy only; torch is imported when a classifier is trained.

Examples
--------
>>> from nbexplain.datasets import tanks, tank_classifier, accuracy
>>> test = tanks(200, seed=1)
>>> model = tank_classifier(biased=True)
>>> accuracy(model, test), accuracy(model, tanks(200, seed=1, swap_sky=True))  # doctest: +SKIP
(1.0, 0.0)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from .training import frozen, train_classifier

CLASS_NAMES = ("no tank", "tank")

# colours (RGB, 0-255)
_SKY_DARK = np.array([72.0, 78.0, 90.0])  # overcast
_SKY_BRIGHT = np.array([165.0, 200.0, 245.0])  # sunny blue
_GROUND = np.array([100.0, 118.0, 62.0])
_TANK = np.array([74.0, 80.0, 50.0])  # olive drab
_TRACKS = np.array([36.0, 36.0, 32.0])
_WHEELS = np.array([96.0, 96.0, 90.0])
_BUSH = np.array([44.0, 84.0, 34.0])
_ROCK = np.array([150.0, 126.0, 96.0])


@dataclass
class TankData:
    """Generated tank scenes with their labels and ground-truth regions.

    Attributes
    ----------
    images : (N, size, size, 3) uint8
        The scenes.
    labels : (N,) int64
        0 = "no tank", 1 = "tank" (balanced: ``N // 2`` tanks).
    class_names : list of str
        ``["no tank", "tank"]``.
    sky_mask : (N, size, size) bool
        Pixels of sky (above the horizon).
    object_mask : (N, size, size) bool
        Pixels of the tank (hull, tracks, turret, barrel); all False where there is none.
    dark_sky : (N,) bool
        Whether the scene has an overcast (dark) sky rather than a sunny one.
    sky : str
        How the sky relates to the label: "biased", "swapped", "independent" (or "mixed" after
        :meth:`concatenate` of different kinds).
    seed : int or None
        The seed that generated the scenes (None after :meth:`concatenate`).
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    sky_mask: np.ndarray
    object_mask: np.ndarray
    dark_sky: np.ndarray
    sky: str = "biased"
    seed: int | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        n, size = len(self), self.images.shape[1]
        return f"TankData(n={n}, size={size}, sky={self.sky!r}, tanks={int(self.labels.sum())})"

    def subset(self, index: Any) -> TankData:
        """The scenes selected by ``index`` (an int array, a boolean mask or a slice)."""
        idx = np.arange(len(self))[index]
        idx = np.atleast_1d(idx)
        return TankData(
            self.images[idx],
            self.labels[idx],
            list(self.class_names),
            self.sky_mask[idx],
            self.object_mask[idx],
            self.dark_sky[idx],
            self.sky,
            self.seed,
        )

    @staticmethod
    def concatenate(*parts: TankData) -> TankData:
        """The scenes of all ``parts`` in order (e.g. biased and independent scenes mixed for training)."""
        if not parts or not all(isinstance(p, TankData) for p in parts):
            raise InputError("concatenate needs one or more TankData")
        sizes = {p.images.shape[1] for p in parts}
        if len(sizes) > 1:
            raise InputError(f"cannot concatenate scenes of different sizes {sorted(sizes)}")
        modes = {p.sky for p in parts}
        return TankData(
            np.concatenate([p.images for p in parts]),
            np.concatenate([p.labels for p in parts]),
            list(parts[0].class_names),
            np.concatenate([p.sky_mask for p in parts]),
            np.concatenate([p.object_mask for p in parts]),
            np.concatenate([p.dark_sky for p in parts]),
            modes.pop() if len(modes) == 1 else "mixed",
            None,
        )

    def plot(
        self, n: int = 12, *, axes=None, ncols: int = 6, predictions: np.ndarray | None = None
    ):
        """A grid of the first ``n`` scenes titled with their label (and ``predictions``, if given).

        Returns the array of Axes used.
        """
        import matplotlib.pyplot as plt

        n = int(min(n, len(self)))
        if axes is None:
            nrows = -(-n // ncols)
            _, axes = plt.subplots(nrows, ncols, figsize=(1.6 * ncols, 1.75 * nrows), squeeze=False)
        flat = np.asarray(axes).ravel()
        for i, ax in enumerate(flat):
            ax.set_axis_off()
            if i >= n:
                continue
            ax.imshow(self.images[i], interpolation="nearest")
            title = self.class_names[self.labels[i]]
            color = "black"
            if predictions is not None:
                pred = int(predictions[i])
                title = f"{title}\npred: {self.class_names[pred]}"
                color = "black" if pred == self.labels[i] else "crimson"
            ax.set_title(title, fontsize=8, color=color)
        return axes


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InputError(
            f"{name} must be an int >= {minimum}; got {type(value).__name__} {value!r}"
        )
    if value < minimum:
        raise InputError(f"{name}={value} is too small: it must be at least {minimum}")
    return int(value)


def _interpolation_matrix(size: int, cells: int) -> np.ndarray:
    """(size, cells) weights that linearly interpolate ``cells`` grid values onto ``size`` pixels."""
    pos = np.linspace(0.0, cells - 1.0, size)
    left = np.minimum(np.floor(pos).astype(int), cells - 2)
    frac = pos - left
    m = np.zeros((size, cells))
    m[np.arange(size), left] = 1.0 - frac
    m[np.arange(size), left + 1] = frac
    return m


def _smooth_noise(rng: np.random.Generator, n: int, size: int, cells: int = 6) -> np.ndarray:
    """(n, size, size) low-frequency noise (clouds, patches of grass): a random grid, interpolated."""
    m = _interpolation_matrix(size, cells)
    grid = rng.standard_normal((n, cells, cells))
    return np.einsum("yi,nij,xj->nyx", m, grid, m)


def _ellipse(yy, xx, cy, cx, ry, rx) -> np.ndarray:
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0


def _paint(images: np.ndarray, mask: np.ndarray, colour: np.ndarray) -> None:
    """Set the pixels of ``mask`` (N, H, W) to ``colour`` ((N, 3), (3,) or (N, H, W, 3))."""
    colour = np.asarray(colour, dtype=np.float64)
    if colour.ndim == 2:  # one colour per image
        colour = colour[:, None, None, :]
    images[:] = np.where(mask[..., None], colour, images)


def tanks(
    n: int = 600,
    biased: bool = True,
    size: int = 48,
    seed: int = 0,
    *,
    swap_sky: bool = False,
) -> TankData:
    """Generate scenes with and without a tank, where the sky may give the answer away.

    Every scene has a sky band on top and textured ground below; half of them (label 1) have a small tank
    (hull, tracks, turret and barrel) at a random place and size on the ground, and any scene may have a
    bush or a rock, so that "there is a blob" does not tell the classes apart. The sky is overcast (dark
    grey) or sunny (bright blue), with clouds and some brightness noise:

    - ``biased=True``: tanks under overcast skies, empty fields under sunny skies (the survey's story);
    - ``biased=True, swap_sky=True``: the reverse, a counterfactual test set;
    - ``biased=False``: the weather is a coin toss, independent of the label.

    The same ``seed`` gives the same ground, tanks and distractors in all three modes; only the skies
    change, so a model's accuracy on them isolates what it learned from the sky.

    Parameters
    ----------
    n : int
        Number of scenes, at least 2 (``n // 2`` have a tank).
    biased : bool
        Tie the sky brightness to the label (see above).
    size : int
        Image height and width in pixels, at least 16.
    seed : int
        Seed of the numpy random generator: the same arguments give the same data.
    swap_sky : bool
        Reverse the bias (needs ``biased=True``).

    Returns
    -------
    TankData
        ``images`` (n, size, size, 3) uint8, ``labels`` (n,) int64, ``sky_mask`` and ``object_mask``
        (n, size, size) bool, ``dark_sky`` (n,) bool and ``class_names``.

    Examples
    --------
    >>> data = tanks(8, seed=0)
    >>> data.images.shape, data.labels.dtype
    ((8, 48, 48, 3), dtype('int64'))
    >>> bool((data.dark_sky == (data.labels == 1)).all())
    True
    """
    n = _check_int(n, "n", 2)
    size = _check_int(size, "size", 16)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise InputError(f"seed must be an int; got {type(seed).__name__} {seed!r}")
    if not isinstance(biased, (bool, np.bool_)) or not isinstance(swap_sky, (bool, np.bool_)):
        raise InputError(
            f"biased and swap_sky must be True or False; got biased={biased!r}, swap_sky={swap_sky!r}"
        )
    if swap_sky and not biased:
        raise InputError("swap_sky=True reverses the sky bias, so it needs biased=True")

    rng = np.random.default_rng(seed)
    s = size / 48.0  # lengths below are in pixels of a 48 x 48 scene

    # --- every random number is drawn here, in a fixed order, whatever the sky mode ---------------
    labels = rng.permutation(np.arange(n) % 2).astype(np.int64)
    coin = rng.uniform(size=n) < 0.5  # the weather when it is independent of the label
    brightness_jitter = rng.uniform(size=n)
    horizon = np.round(size * rng.uniform(0.34, 0.46, n)).astype(int)
    clouds = _smooth_noise(rng, n, size, 7)
    sky_grain = rng.normal(0.0, 3.0, (n, size, size, 1))
    ground_tint = rng.normal(0.0, 8.0, (n, 3))
    ground_patches = _smooth_noise(rng, n, size, 8)
    ground_grain = rng.normal(0.0, 7.0, (n, size, size, 3))
    # the tank (drawn for every scene, painted only where label == 1)
    tank_w = size * rng.uniform(0.25, 0.37, n)
    tank_x0 = 1.0 + rng.uniform(0.0, 1.0, n) * (size - 2.0 - tank_w)
    tank_bottom_frac = rng.uniform(0.0, 1.0, n)
    turret_pos = rng.uniform(0.32, 0.58, n)
    facing = np.where(rng.uniform(size=n) < 0.5, -1.0, 1.0)
    tank_tint = rng.normal(0.0, 6.0, (n, 3))
    # the distractor: a bush or a rock, in any scene, on the other side from where a tank would be
    has_distractor = rng.uniform(size=n) < 0.6
    is_bush = rng.uniform(size=n) < 0.5
    dist_rx = s * rng.uniform(3.5, 6.5, n)
    dist_ry = dist_rx * rng.uniform(0.6, 0.9, n)
    dist_xfrac = rng.uniform(0.0, 1.0, n)
    dist_yfrac = rng.uniform(0.0, 1.0, n)
    dist_tint = rng.normal(0.0, 8.0, (n, 3))

    # --- the sky ----------------------------------------------------------------------------------
    if not biased:
        dark = coin
        sky_mode = "independent"
    else:
        dark = (labels == 0) if swap_sky else (labels == 1)
        sky_mode = "swapped" if swap_sky else "biased"
    brightness = np.where(dark, 0.0 + 0.3 * brightness_jitter, 0.7 + 0.3 * brightness_jitter)

    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    yy, xx = yy[None], xx[None]
    sky_mask = yy < horizon[:, None, None]
    base = _SKY_DARK + brightness[:, None] * (_SKY_BRIGHT - _SKY_DARK)  # (n, 3)
    towards_horizon = (yy / np.maximum(horizon, 1)[:, None, None])[
        ..., None
    ]  # lighter near the horizon
    sky = base[:, None, None, :] + 14.0 * towards_horizon + 9.0 * clouds[..., None] + sky_grain

    # --- the ground -------------------------------------------------------------------------------
    depth = ((yy - horizon[:, None, None]) / size)[..., None]  # darker towards the viewer
    ground = (
        (_GROUND + ground_tint)[:, None, None, :] - 20.0 * depth + 10.0 * ground_patches[..., None]
    )
    ground = ground + ground_grain
    images = np.where(sky_mask[..., None], sky, ground)

    # --- distractors ------------------------------------------------------------------------------
    tank_cx = tank_x0 + tank_w / 2
    other_side = np.where(tank_cx < size / 2, 0.58, 0.08) + 0.34 * dist_xfrac
    dist_cx = size * other_side
    top = horizon + dist_ry + 1
    dist_cy = top + dist_yfrac * np.maximum(size - 1 - dist_ry - top, 0)
    blob = (
        _ellipse(
            yy,
            xx,
            dist_cy[:, None, None],
            dist_cx[:, None, None],
            dist_ry[:, None, None],
            dist_rx[:, None, None],
        )
        & has_distractor[:, None, None]
        & ~sky_mask
    )
    dist_colour = np.where(is_bush[:, None], _BUSH, _ROCK) + dist_tint
    shade = np.where(is_bush, 10.0, 18.0)[:, None, None, None]  # lit from above
    lit = (
        dist_colour[:, None, None, :]
        + shade * (dist_cy[:, None, None, None] - yy[..., None]) / (dist_ry[:, None, None, None])
    )
    _paint(images, blob, lit + 0.5 * ground_grain)

    # --- the tank -----------------------------------------------------------------------------------
    hull_h = np.maximum(np.round(0.3 * tank_w), 3)
    turret_ry = np.maximum(0.24 * tank_w, 2.0)
    min_bottom = horizon + hull_h + turret_ry + 2
    bottom = np.round(min_bottom + tank_bottom_frac * np.maximum(size - 1 - min_bottom, 0))
    x0, x1 = np.round(tank_x0), np.round(tank_x0 + tank_w)
    hull_top = bottom - hull_h
    b = lambda v: v[:, None, None]  # noqa: E731 - broadcast a per-image value over pixels
    hull = (yy >= b(hull_top)) & (yy < b(bottom)) & (xx >= b(x0)) & (xx < b(x1))
    # sloped front and back: the hull narrows by a pixel towards the bottom
    hull &= ~(((xx == b(x0)) | (xx == b(x1) - 1)) & (yy >= b(bottom) - 1))
    tracks = hull & (yy >= b(bottom - np.maximum(np.round(0.45 * hull_h), 1)))
    wheel_row = b(bottom - np.maximum(np.round(0.25 * hull_h), 1))
    wheels = tracks & (yy == wheel_row) & (((xx - b(x0)) % 3) == 1)
    turret_cx = tank_x0 + turret_pos * tank_w
    turret_rx = 0.24 * tank_w
    turret = _ellipse(yy, xx, b(hull_top), b(turret_cx), b(turret_ry), b(turret_rx)) & (
        yy < b(hull_top)
    )
    barrel_y = np.round(hull_top - 0.55 * turret_ry)
    barrel_t = np.maximum(np.round(0.06 * tank_w), 1)
    barrel_len = 0.42 * tank_w
    reach = turret_cx + facing * (turret_rx + barrel_len)
    lo, hi = np.minimum(turret_cx, reach), np.maximum(turret_cx, reach)
    barrel = (yy >= b(barrel_y)) & (yy < b(barrel_y + barrel_t)) & (xx >= b(lo)) & (xx <= b(hi))
    has_tank = b(labels == 1)
    object_mask = (hull | turret | barrel) & has_tank
    tank_colour = _TANK + tank_tint
    grain = 0.4 * ground_grain
    _paint(images, object_mask, tank_colour[:, None, None, :] + grain)
    _paint(images, turret & has_tank, (tank_colour + 10.0)[:, None, None, :] + grain)
    _paint(images, tracks & has_tank, _TRACKS + grain)
    _paint(images, wheels & has_tank, _WHEELS + grain)

    images = np.clip(np.round(images), 0, 255).astype(np.uint8)
    return TankData(
        images, labels, list(CLASS_NAMES), sky_mask, object_mask, dark, sky_mode, int(seed)
    )


# ---------------------------------------------------------------------------------------------------
# The classifier
# ---------------------------------------------------------------------------------------------------


def _network():
    """A small CNN: three 3x3 conv + batch norm + ReLU stages, global average pooling, 2 logits.

    The last ``Conv2d`` works at a quarter of the image resolution (12 x 12 for 48-pixel scenes), so
    Grad-CAM on it is a meaningful spatial map. Average (not max) pooling makes evidence add up over
    the image, as in class activation maps (Zhou et al. 2016): a sky that says "overcast" everywhere
    counts everywhere, so occluding part of it lowers the score in proportion.
    """
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 2),
    )


def tank_network(seed: int = 0):
    """The untrained tank CNN (the architecture of :func:`tank_classifier`), its weights drawn with ``seed``.

    For training loops of your own, e.g. to watch the weights learn with :class:`nbexplain.WeightRecorder`.
    Takes (N, 3, H, W) float images in [0, 1] and returns 2 logits; the caller's torch RNG is left untouched.
    """
    import torch

    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise InputError(f"seed must be an int; got {type(seed).__name__} {seed!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return _network()


def _recalibrate_batchnorm(model, x, batch_size: int = 200) -> None:
    """Set every BatchNorm's running statistics to their exact average over ``x`` ("precise BN").

    The running averages that training keeps lag behind the weights; with this little data they can be
    far enough off to flip eval-mode predictions. One pass over the data in train mode fixes that.
    """
    import torch

    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    model.train()
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            model(x[start : start + batch_size])
    for m in norms:
        m.momentum = 0.1


def _as_tensor(images: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))).float().div_(255.0)


def train_tank_classifier(
    data: TankData,
    *,
    epochs: int = 6,
    seed: int = 0,
    lr: float = 3e-3,
    batch_size: int = 32,
):
    """Train the small tank CNN on ``data`` (deterministic for a given ``seed``).

    The model takes a float batch (N, 3, H, W) in [0, 1] (what nbexplain makes of uint8 images) and
    returns 2 logits ("no tank", "tank"). Training uses Adam and the global torch RNG inside
    ``torch.random.fork_rng``, so the caller's random state is left untouched.

    Parameters
    ----------
    data : TankData
        Training scenes, e.g. ``tanks(600, biased=True)``.
    epochs, seed, lr, batch_size
        Passes over the data, seed of the weights and of the shuffling, Adam learning rate, batch size.

    Returns
    -------
    torch.nn.Sequential
        In eval mode, with ``class_names`` set to ``data.class_names``.
    """
    import torch

    if not isinstance(data, TankData):
        raise InputError(
            f"data must be a TankData (from nbexplain.datasets.tanks); got {type(data).__name__}"
        )
    epochs = _check_int(epochs, "epochs", 1)
    batch_size = _check_int(batch_size, "batch_size", 1)
    if not (isinstance(lr, (int, float)) and lr > 0):
        raise InputError(f"lr must be a positive number; got {lr!r}")
    x = _as_tensor(data.images)
    model = train_classifier(_network, x, torch.from_numpy(data.labels), epochs=epochs, seed=seed, lr=lr,
                             batch_size=batch_size)
    _recalibrate_batchnorm(model, x)
    return frozen(model, data.class_names)


def tank_classifier(biased: bool = True, seed: int = 0, epochs: int = 6, n: int = 600):
    """The small tank CNN trained on ``tanks(n, biased=biased, seed=seed)`` (cached: trained once).

    ``biased=True`` gives the model of the story, which learns the weather; ``biased=False`` trains on
    scenes whose sky is independent of the label, so only the tank can tell the classes apart.
    Training takes a few seconds on two CPU cores (see :func:`train_tank_classifier`).

    Returns
    -------
    torch.nn.Sequential
        Takes (N, 3, H, W) float images in [0, 1] and returns 2 logits; in eval mode, parameters
        frozen, with ``class_names == ["no tank", "tank"]``. The same object is returned on every call
        with the same arguments: do not train it further in place.

    Examples
    --------
    >>> model = tank_classifier(biased=True)
    >>> nbx.attribute(model, tanks(2, seed=1).images[1], "gradcam").map.shape  # doctest: +SKIP
    (48, 48)
    """
    if not isinstance(biased, (bool, np.bool_)):
        raise InputError(f"biased must be True or False; got {biased!r}")
    return _trained(bool(biased), seed, epochs, n)  # one cache key however the arguments are passed


@functools.lru_cache(maxsize=8)
def _trained(biased: bool, seed: int, epochs: int, n: int):
    return train_tank_classifier(tanks(n, biased=biased, seed=seed), epochs=epochs, seed=seed)


def predict(model: Any, data: TankData | np.ndarray) -> np.ndarray:
    """Predicted labels (N,) int64 for ``data`` (TankData or (N, H, W, 3) uint8 images).

    ``model`` is anything :func:`nbexplain.as_model` accepts that takes (N, 3, H, W) images in [0, 1],
    such as :func:`tank_classifier` or an ``nbx.as_model(...)`` of it.
    """
    from ..adapters.model import as_model

    images = data.images if isinstance(data, TankData) else np.asarray(data)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise InputError(
            f"images must be a (N, H, W, 3) uint8 array; got shape {images.shape}, dtype {images.dtype}"
        )
    x = images.transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    return as_model(model).predict(x).argmax(axis=1).astype(np.int64)


def accuracy(model: Any, data: TankData) -> float:
    """Fraction of ``data`` that ``model`` (as for :func:`predict`) classifies correctly."""
    if not isinstance(data, TankData):
        raise InputError(f"data must be a TankData; got {type(data).__name__}")
    return float((predict(model, data) == data.labels).mean())


def attribution_share(result_map: Any, mask: np.ndarray, *, per_pixel: bool = False) -> float:
    """The share of an attribution map's positive mass that falls inside ``mask``.

    The mass is the positive part of the map, ``max(map, 0)``: for unsigned maps (gradient saliency,
    SmoothGrad, Grad-CAM) that is the whole map; for signed maps (occlusion, gradient x input,
    integrated gradients) it is the evidence *for* the explained class, while negative values (evidence
    against it) are not counted. Pass ``np.abs(result.map)`` to count both signs.

    The *share* is ``sum(mass[mask]) / sum(mass)``: 0 when nothing inside the mask matters, 1 when
    only the mask does. With ``per_pixel=True`` it is divided by the mask's share of the pixels, which
    is the same as ``mean(mass[mask]) / mean(mass)``: 1 means the region gets what its area would get
    under a uniform map, 3 means each of its pixels gets three times the average. Use it to compare
    regions of very different size, such as a sky band and a small tank.

    Parameters
    ----------
    result_map : AttributionMap or (H, W) array
        A result of :func:`nbexplain.attribute` (its ``.map`` is used) or a map.
    mask : (H, W) bool array
        The region, e.g. ``data.sky_mask[i]`` or ``data.object_mask[i]``.
    per_pixel : bool
        Return the per-pixel concentration instead of the share (see above).

    Returns
    -------
    float
        NaN when the map has no positive mass at all.

    Examples
    --------
    >>> m = np.array([[1.0, 3.0], [0.0, -2.0]])
    >>> inside = np.array([[False, True], [False, False]])
    >>> attribution_share(m, inside), attribution_share(m, inside, per_pixel=True)
    (0.75, 3.0)
    """
    values = np.asarray(getattr(result_map, "map", result_map), dtype=np.float64)
    mask = np.asarray(mask)
    if values.ndim != 2:
        raise InputError(
            f"result_map must be an AttributionMap or an (H, W) map; got shape {values.shape}"
        )
    if mask.dtype != bool or mask.shape != values.shape:
        raise InputError(
            f"mask must be a bool array of the map's shape {values.shape}; got dtype {mask.dtype}, "
            f"shape {mask.shape}"
        )
    if not mask.any():
        raise InputError("mask selects no pixel (an empty region has no share)")
    if not np.all(np.isfinite(values)):
        raise InputError("result_map contains NaN or infinite values")
    mass = np.maximum(values, 0.0)
    total = mass.sum()
    if total == 0:
        return float("nan")
    share = mass[mask].sum() / total
    return float(share / mask.mean()) if per_pixel else float(share)


__all__ = [
    "CLASS_NAMES",
    "TankData",
    "accuracy",
    "attribution_share",
    "predict",
    "tank_classifier",
    "tank_network",
    "tanks",
    "train_tank_classifier",
]
