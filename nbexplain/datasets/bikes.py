"""Hourly bike rentals with the weather: the survey's PDP / ICE / ALE example (temperature, humidity, wind).

The file ships inside nbexplain (``datasets/data/bikeshare.csv.gz``: the 8645 hours of 2011 of the UCI
Bike Sharing data, copied from the ISLP package; attribution in ``datasets/data/README.md``), so it loads
offline and without ISLP's heavy dependencies. :func:`bikes` returns the features in physical units
(°C, %, km/h), the hourly rental count as the target, and which features are categorical.

Examples
--------
>>> from nbexplain.datasets import bikes
>>> X, names, y = bikes()
>>> X.shape, names[-4:], int(y.max())
((8645, 12), ['temp', 'atemp', 'hum', 'windspeed'], 651)
>>> data = bikes()
>>> data.categorical_features
['season', 'holiday', 'weekday', 'workingday', 'weathersit']
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

FEATURES = ("season", "mnth", "day", "hr", "holiday", "weekday", "workingday", "weathersit",
            "temp", "atemp", "hum", "windspeed")
CATEGORICAL = ("season", "holiday", "weekday", "workingday", "weathersit")
#: the UCI file divides these by the given maxima; bikes() multiplies back
SCALES = {"temp": 41.0, "atemp": 50.0, "hum": 100.0, "windspeed": 67.0}
UNITS = {"temp": "°C", "atemp": "°C (felt)", "hum": "%", "windspeed": "km/h", "hr": "hour of day",
         "day": "day of 2011 (1-365)", "mnth": "month (1-12)"}
CODES = {
    "season": ["winter", "spring", "summer", "fall"],
    "holiday": ["no", "yes"],
    "weekday": ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
    "workingday": ["no", "yes"],
    "weathersit": ["clear", "cloudy/misty", "light rain/snow", "heavy rain/snow"],
}
TARGET = "bikers"


@dataclass
class BikeData:
    """The bike-sharing hours as arrays; unpacks as ``X, feature_names, y``.

    Attributes
    ----------
    X : (8645, 12) float64 (or a pandas DataFrame with ``as_frame=True``)
        season (1-4), mnth (1-12), day (1-365), hr (0-23), holiday (0/1), weekday (0 = Sunday),
        workingday (0/1), weathersit (1 clear … 4 heavy rain/snow), temp (°C), atemp (felt °C),
        hum (%), windspeed (km/h).
    feature_names : list of str
    y : (8645,) float64 — rentals in the hour (``bikers``).
    categorical : (12,) bool — which columns are categories (see ``codes`` for their labels).
    codes : dict — for categorical features, the label of each code (``season`` 1 is ``codes["season"][0]``,
        ``weekday`` 0 is ``codes["weekday"][0]``).
    """

    X: Any
    feature_names: list[str]
    y: np.ndarray
    categorical: np.ndarray
    codes: dict[str, list[str]] = field(default_factory=lambda: {k: list(v) for k, v in CODES.items()})
    units: dict[str, str] = field(default_factory=lambda: dict(UNITS))

    def __iter__(self) -> Iterator[Any]:
        return iter((self.X, self.feature_names, self.y))

    @property
    def categorical_features(self) -> list[str]:
        return [n for n, c in zip(self.feature_names, self.categorical, strict=True) if c]


def _read() -> tuple[list[str], np.ndarray]:
    raw = resources.files("nbexplain.datasets").joinpath("data", "bikeshare.csv.gz").read_bytes()
    reader = csv.reader(io.StringIO(gzip.decompress(raw).decode("utf-8")))
    header = next(reader)
    return header, np.array([[float(v) for v in row] for row in reader], dtype=np.float64)


def bikes(as_frame: bool = False, physical_units: bool = True) -> BikeData:
    """Load the hourly bike-rental data (UCI Bike Sharing, 2011; Fanaee-T & Gama, CC BY 4.0).

    Parameters
    ----------
    as_frame : bool
        Return ``X`` as a pandas DataFrame (needs pandas).
    physical_units : bool
        Temperatures in °C, humidity in %, wind speed in km/h (default), else the UCI file's
        normalised values in [0, 1].

    Returns
    -------
    BikeData
        Unpacks as ``X, feature_names, y``.

    Examples
    --------
    >>> X, names, y = nbx.datasets.bikes()
    >>> model = sklearn.ensemble.HistGradientBoostingRegressor().fit(X, y)
    """
    header, table = _read()
    columns = [header.index(f) for f in FEATURES]
    X = table[:, columns].copy()
    if physical_units:
        for name, scale in SCALES.items():
            j = FEATURES.index(name)
            X[:, j] = np.round(X[:, j] * scale, 4)
    y = table[:, header.index(TARGET)].copy()
    categorical = np.array([f in CATEGORICAL for f in FEATURES])
    if as_frame:
        import pandas as pd

        X = pd.DataFrame(X, columns=list(FEATURES))
    return BikeData(X=X, feature_names=list(FEATURES), y=y, categorical=categorical)


__all__ = ["BikeData", "CATEGORICAL", "CODES", "FEATURES", "bikes"]
