"""Handwritten digits (scikit-learn's bundled ``load_digits``) and a small CNN trained on them in seconds.

The 1,797 digits are 8 x 8 grey images (UCI Optical Recognition of Handwritten Digits; they ship inside
scikit-learn, so they load offline). :func:`digits` splits them once, with a fixed permutation, into 1,000
training and 797 held-out images; :func:`digits_classifier` trains a four-stage CNN on the training images
(about two seconds on two CPU cores). Its stages are named ``block1`` ... ``logits``, so
``nbx.activations(model, data.images, layers=["block1", "block2", "block3", "hidden", "logits"])`` looks
at every depth: the early stages respond to strokes wherever they are (averaged over the image they barely
tell the digits apart), the late ones to the digit.

The model takes what nbexplain makes of the uint8 images: (N, 1, 8, 8) float32 in [0, 1].

Examples
--------
>>> from nbexplain.datasets import digits, digits_classifier
>>> test = digits("test")
>>> test.images.shape, test.labels[:5]
((797, 8, 8), array([...]))
>>> model = digits_classifier()          # doctest: +SKIP
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .._validation import check_int
from ..errors import InputError
from .training import frozen, train_classifier

CLASS_NAMES = tuple(str(d) for d in range(10))
SPLITS = ("all", "train", "test")
N_TRAIN = 1000
LAYERS = ("block1", "block2", "block3", "hidden", "logits")


@dataclass
class DigitsData:
    """Digits as images with their labels.

    Attributes
    ----------
    images : (N, 8, 8) uint8
        The digits, scaled from scikit-learn's 0..16 to 0..255 (``round(v * 255 / 16)``).
    labels : (N,) int64
        The digit shown, 0..9.
    class_names : list of str
        ``["0", ..., "9"]``.
    rows : (N,) int64
        Each image's row in ``sklearn.datasets.load_digits()``.
    split : str
        "all", "train" or "test".
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    rows: np.ndarray
    split: str = "all"

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        return f"DigitsData(n={len(self)}, split={self.split!r})"

    @property
    def X(self) -> np.ndarray:
        """The model's input: (N, 1, 8, 8) float32 in [0, 1] (what nbexplain makes of ``images``)."""
        return (self.images[:, None].astype(np.float32) / np.float32(255.0)).copy()


@functools.lru_cache(maxsize=1)
def _all() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    return images, bunch.target.astype(np.int64)


def _order() -> np.ndarray:
    """The fixed permutation that splits the 1,797 digits into training and held-out images."""
    images, _ = _all()
    return np.random.default_rng(0).permutation(len(images))


def digits(split: str = "all") -> DigitsData:
    """The 8 x 8 handwritten digits bundled with scikit-learn (offline).

    Parameters
    ----------
    split : {"all", "train", "test"}
        All 1,797 digits, the 1,000 that :func:`digits_classifier` trains on, or the 797 it never saw.

    Returns
    -------
    DigitsData

    Examples
    --------
    >>> len(digits("train")), len(digits("test"))
    (1000, 797)
    """
    if split not in SPLITS:
        raise InputError(f"split={split!r} is not valid: expected one of {list(SPLITS)}")
    images, labels = _all()
    rows = np.arange(len(labels)) if split == "all" else _order()
    if split == "train":
        rows = np.sort(rows[:N_TRAIN])
    elif split == "test":
        rows = np.sort(rows[N_TRAIN:])
    return DigitsData(images[rows].copy(), labels[rows].copy(), list(CLASS_NAMES), rows.astype(np.int64), split)


def _network():
    """conv 8 -> conv 16 + pool -> conv 32 + pool -> dense 32 -> 10 logits, as named stages."""
    from torch import nn

    return nn.Sequential(OrderedDict([
        ("block1", nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU())),                      # 8 x 8 x 8
        ("block2", nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))),   # 16 x 4 x 4
        ("block3", nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))),  # 32 x 2 x 2
        ("hidden", nn.Sequential(nn.Flatten(), nn.Linear(128, 32), nn.ReLU())),
        ("logits", nn.Linear(32, 10)),
    ]))


def train_digits_classifier(data: DigitsData, *, epochs: int = 10, seed: int = 0, lr: float = 5e-3,
                            batch_size: int = 32):
    """Train the small digits CNN on ``data`` (deterministic for a given ``seed``; the caller's RNG untouched).

    Training runs on one thread (restored afterwards): for a network this small that is the fastest on a
    few cores, and the weights do not depend on the machine's thread count.

    Returns
    -------
    torch.nn.Sequential
        In eval mode, parameters frozen, ``class_names == ["0", ..., "9"]``.
    """
    import torch

    if not isinstance(data, DigitsData):
        raise InputError(f"data must be a DigitsData (from nbexplain.datasets.digits); got {type(data).__name__}")
    epochs, batch_size = check_int(epochs, "epochs", 1), check_int(batch_size, "batch_size", 1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = train_classifier(_network, torch.from_numpy(data.X), torch.from_numpy(data.labels), epochs=epochs,
                                 seed=seed, lr=lr, batch_size=batch_size)
    finally:
        torch.set_num_threads(threads)
    return frozen(model, data.class_names)


def digits_classifier(seed: int = 0, epochs: int = 10):
    """The small digits CNN trained on ``digits("train")`` (cached: trained once per arguments).

    About 97 % accurate on ``digits("test")``. The same object is returned on every call with the same
    arguments: do not train it further in place.

    Examples
    --------
    >>> model = digits_classifier()                                   # doctest: +SKIP
    >>> nbx.activations(model, digits("test").images, layers=["block1", "hidden"])  # doctest: +SKIP
    """
    return _trained(int(seed), int(epochs))


@functools.lru_cache(maxsize=4)
def _trained(seed: int, epochs: int):
    return train_digits_classifier(digits("train"), epochs=epochs, seed=seed)


__all__ = ["CLASS_NAMES", "LAYERS", "DigitsData", "digits", "digits_classifier", "train_digits_classifier"]
