"""The ISLR ``Credit`` data: 400 credit-card holders, for counterfactuals with immutable and categorical features.

The file ships inside nbexplain (``datasets/data/credit.csv.gz``, copied from the ISLP package with its
licence; see ``datasets/data/README.md``), so it loads offline and without ISLP's heavy dependencies.

The data set records each holder's average credit-card ``Balance``; :func:`credit` turns it into a
credit-style decision, *high balance* (``Balance >= threshold``, 17 % of holders at the default $1,000),
which a card issuer might flag. Age, Gender and Ethnicity are natural immutable features, Cards,
Age and Education are integers, and Gender, Student, Married and Ethnicity are categorical (stored as
integer codes into :attr:`CreditData.categories`).

Examples
--------
>>> from nbexplain.datasets import credit
>>> data = credit()
>>> data.X.shape, data.feature_names[:3], data.class_names
((400, 10), ['Income', 'Limit', 'Rating'], ['low balance', 'high balance'])
>>> data.categories["Student"]
['No', 'Yes']
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from ..errors import InputError
from .coded import CodedTable

FEATURES = ("Income", "Limit", "Rating", "Cards", "Age", "Education", "Gender", "Student", "Married", "Ethnicity")
CATEGORIES = {
    "Gender": ["Female", "Male"],
    "Student": ["No", "Yes"],
    "Married": ["No", "Yes"],
    "Ethnicity": ["African American", "Asian", "Caucasian"],
}
INTEGER = ("Limit", "Rating", "Cards", "Age", "Education")
CLASS_NAMES = ("low balance", "high balance")


@dataclass
class CreditData(CodedTable):
    """The Credit data as arrays.

    Attributes
    ----------
    X : (400, 10) float64
        Income (thousands of dollars), Limit, Rating, Cards, Age, Education (years), then the categorical
        features as integer codes: Gender, Student, Married, Ethnicity.
    y : (400,) int64
        1 when ``balance >= threshold`` ("high balance"), else 0.
    balance : (400,) float64
        The average credit-card balance in dollars (the regression target of the book).
    feature_names : list of str
    categories : dict
        Feature name -> category labels; code ``i`` in ``X`` means ``categories[name][i]``.
    integer : list of str
        Features whose values are whole numbers.
    class_names : list of str
        ``["low balance", "high balance"]``.
    threshold : float
        The balance from which a holder counts as "high balance".
    """

    X: np.ndarray
    y: np.ndarray
    balance: np.ndarray
    feature_names: list[str] = field(default_factory=lambda: list(FEATURES))
    categories: dict[str, list[str]] = field(default_factory=lambda: {k: list(v) for k, v in CATEGORIES.items()})
    integer: list[str] = field(default_factory=lambda: list(INTEGER))
    class_names: list[str] = field(default_factory=lambda: list(CLASS_NAMES))
    threshold: float = 1000.0

    def frame(self) -> Any:
        """The features as a pandas DataFrame with category labels (needs pandas)."""
        df = self.coded_frame()
        for name in self.integer:
            df[name] = df[name].astype(int)
        return df


def _read_rows() -> list[dict[str, str]]:
    raw = resources.files("nbexplain.datasets").joinpath("data", "credit.csv.gz").read_bytes()
    return list(csv.DictReader(io.StringIO(gzip.decompress(raw).decode("utf-8"))))


def credit(threshold: float = 1000.0) -> CreditData:
    """Load the Credit data (ISLR) with a "high balance" label: ``Balance >= threshold``.

    Parameters
    ----------
    threshold : float
        Balance in dollars from which a holder is labelled "high balance"; between 1 and 1999 so that
        both classes occur (the balances range from 0 to 1999).

    Returns
    -------
    CreditData

    Examples
    --------
    >>> data = nbx.datasets.credit()
    >>> int(data.y.sum())
    69
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)):
        raise InputError(f"threshold must be a number of dollars; got {type(threshold).__name__}")
    if not 1 <= float(threshold) <= 1999:
        raise InputError(f"threshold={threshold!r} is out of range: expected 1..1999 so that both classes occur")
    rows = _read_rows()
    X = np.empty((len(rows), len(FEATURES)), dtype=np.float64)
    for i, row in enumerate(rows):
        for j, name in enumerate(FEATURES):
            X[i, j] = CATEGORIES[name].index(row[name]) if name in CATEGORIES else float(row[name])
    balance = np.array([float(r["Balance"]) for r in rows])
    y = (balance >= float(threshold)).astype(np.int64)
    return CreditData(X=X, y=y, balance=balance, threshold=float(threshold))
