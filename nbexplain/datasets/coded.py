"""Tabular data sets whose categorical features are integer codes (``X`` stays numeric for every model).

Code ``i`` of a categorical feature means ``categories[name][i]``; :class:`CodedTable` names those features and
turns the codes back into labelled pandas categories for reading the data.

Examples
--------
>>> data = nbx.datasets.credit()
>>> data.categorical
['Gender', 'Student', 'Married', 'Ethnicity']
>>> list(data.frame()["Gender"].cat.categories)
['Female', 'Male']
"""

from __future__ import annotations

from typing import Any


class CodedTable:
    """What a data set with ``X``, ``feature_names`` and ``categories`` (feature -> labels of its codes) shares."""

    X: Any
    feature_names: list[str]
    categories: dict[str, list[str]]

    @property
    def categorical(self) -> list[str]:
        """Names of the categorical features."""
        return list(self.categories)

    def coded_frame(self) -> Any:
        """The features as a pandas DataFrame, each categorical one with its labels (needs pandas)."""
        import pandas as pd

        df = pd.DataFrame(self.X, columns=self.feature_names)
        for name, labels in self.categories.items():
            df[name] = pd.Categorical.from_codes(self.X[:, self.feature_names.index(name)].astype(int), labels)
        return df


__all__ = ["CodedTable"]
