"""The shipped bike-sharing data loads offline, in physical units, and ships in the wheel."""

from __future__ import annotations

import numpy as np
import pytest

from nbexplain.datasets import bikes


def test_bikes_loads_the_2011_hours_in_physical_units():
    data = bikes()
    X, names, y = data
    assert X.shape == (8645, 12) and y.shape == (8645,)
    assert names == ["season", "mnth", "day", "hr", "holiday", "weekday", "workingday", "weathersit",
                     "temp", "atemp", "hum", "windspeed"]
    assert data.categorical_features == ["season", "holiday", "weekday", "workingday", "weathersit"]
    # first row of the UCI file: 1 Jan 2011, 0h, 0.24 * 41 °C, humidity 0.81, no wind, 16 rentals
    np.testing.assert_allclose(X[0], [1, 1, 1, 0, 0, 6, 0, 1, 0.24 * 41, 0.2879 * 50, 81, 0])
    assert y[0] == 16 and y.sum() == 1_243_103
    raw = bikes(physical_units=False).X
    np.testing.assert_allclose(X[:, 8], raw[:, 8] * 41, atol=1e-4)
    assert raw[:, 10].max() <= 1 and X[:, 10].max() == 100
    assert sorted(np.unique(X[:, 3])) == list(range(24)) and np.unique(X[:, 1]).tolist() == list(range(1, 13))
    assert np.all(np.isfinite(X))


def test_bikes_as_a_dataframe():
    pytest.importorskip("pandas")
    df = bikes(as_frame=True).X
    assert list(df.columns)[-4:] == ["temp", "atemp", "hum", "windspeed"] and len(df) == 8645
