"""Groups of rows: one code per row for each sensitive attribute and for their intersection.

A *grouping* numbers the distinct values of an attribute ``0..G-1`` in sorted order (fairlearn's
``MetricFrame`` orders its groups the same way) and keeps their names; the intersection of several
attributes is a grouping of the combinations that occur (Buolamwini & Gebru 2018, *Gender Shades*: a
disparity can hide inside the marginals). :func:`sensitive_columns` reads the sensitive attributes as a user
names them (features of the data, or values kept apart), :func:`make_groupings` groups the rows by each.

Examples
--------
>>> g = grouping("Gender", np.array(["F", "M", "F"]))
>>> g.codes.tolist(), g.names
([0, 1, 0], ['F', 'M'])
>>> intersection([g, grouping("Age", np.array([0, 0, 1]), {0: "young", 1: "old"})]).names
['F × young', 'F × old', 'M × young']
>>> columns, features = sensitive_columns(["Gender"], len(table.values), table=table)   # the user's argument
>>> make_groupings(columns, {"Gender": ["female", "male"]}, intersections=True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError
from ...inputs.tables import Table, feature_index

#: joins the names of an intersection's parts ("Female × Asian") and of the attributes ("Gender × Ethnicity")
JOIN = " × "


@dataclass(frozen=True)
class Grouping:
    """Rows split into groups: ``codes`` (N,) int64 in ``0..G-1``, one ``names`` entry per group.

    ``parts`` lists, for an intersection, each group's labels in the attributes it crosses (else each
    group's own label, as a 1-tuple); ``labels`` are the raw values behind the names.
    """

    attribute: str
    codes: np.ndarray
    names: list[str]
    labels: list[tuple]

    @property
    def n_groups(self) -> int:
        return len(self.names)

    @property
    def sizes(self) -> np.ndarray:
        return np.bincount(self.codes, minlength=self.n_groups)

    def rows(self, group: int) -> np.ndarray:
        """Indices of the rows of group number ``group``."""
        return np.flatnonzero(self.codes == group)


def label_name(label: Any, names: Mapping | Sequence | None) -> str:
    """The display name of a raw label: ``names[label]`` when given (a mapping, or a list indexed by an
    integer code), else ``str(label)`` (integer-valued floats without their ".0")."""
    if names is not None:
        if isinstance(names, Mapping):
            for key in (label, _as_int(label)):
                if key is not None and key in names:
                    return str(names[key])
        else:
            code = _as_int(label)
            if code is not None and 0 <= code < len(names):
                return str(names[code])
    code = _as_int(label)
    return str(code) if code is not None and isinstance(label, (float, np.floating)) else str(label)


def _as_int(label: Any) -> int | None:
    if isinstance(label, (bool, np.bool_)):
        return None
    if isinstance(label, (int, np.integer)):
        return int(label)
    if isinstance(label, (float, np.floating)) and float(label).is_integer():
        return int(label)
    return None


def grouping(attribute: str, values: np.ndarray, names: Mapping | Sequence | None = None) -> Grouping:
    """Number the distinct ``values`` of one attribute in sorted order; ``names`` maps them to display names.

    When ``names`` is a list of strings and the values are those strings, the groups follow the list's order
    (e.g. ``["under 40", "40 and over"]``), with the values it does not list after them, sorted.
    """
    values = np.asarray(values)
    if isinstance(names, Sequence) and not isinstance(names, str) and values.dtype.kind in "US":
        order = [str(n) for n in names]
        present = set(np.unique(values).tolist())
        levels = np.array([n for n in order if n in present] + sorted(present - set(order)))
        codes = np.searchsorted(np.sort(levels), values)
        codes = np.argsort(levels)[codes] if len(levels) else codes
        return Grouping(attribute, codes.astype(np.int64).ravel(), levels.tolist(), [(v,) for v in levels.tolist()])
    levels, codes = np.unique(values, return_inverse=True)
    return Grouping(attribute, codes.astype(np.int64).ravel(), [label_name(v, names) for v in levels.tolist()],
                    [(v,) for v in levels.tolist()])


def intersection(parts: Sequence[Grouping]) -> Grouping:
    """The groups of rows that share a value of every attribute in ``parts`` (only combinations that occur),
    ordered as the attributes' groups are (lexicographically by code)."""
    key = np.zeros(len(parts[0].codes), dtype=np.int64)
    for g in parts:
        key = key * g.n_groups + g.codes
    present, codes = np.unique(key, return_inverse=True)
    names, labels = [], []
    for k in present.tolist():
        idx = []
        for g in reversed(parts):
            idx.append(k % g.n_groups)
            k //= g.n_groups
        idx.reverse()
        names.append(JOIN.join(g.names[i] for g, i in zip(parts, idx, strict=True)))
        labels.append(tuple(g.labels[i][0] for g, i in zip(parts, idx, strict=True)))
    return Grouping(JOIN.join(g.attribute for g in parts), codes.astype(np.int64).ravel(), names, labels)


def _labels(values: Any, n: int, name: str) -> np.ndarray:
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim != 1 or len(arr) != n:
        raise InputError(f"sensitive attribute {name!r} must have one value per row ({n}); got shape {arr.shape}")
    if arr.dtype == object:
        arr = np.asarray([str(v) for v in arr])
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise InputError(f"sensitive attribute {name!r} has missing values: give them a group of their own")
    return arr


def sensitive_columns(sensitive: Any, n: int, table: Table | None = None,
                      columns: Mapping[str, np.ndarray] | None = None) -> tuple[dict[str, np.ndarray], list[str]]:
    """The sensitive attributes as ``{name: (n,) labels}`` and which of them are features of ``table``.

    ``sensitive`` is a feature name or index (or a list of them), a mapping ``{name: values}``, or a pandas
    DataFrame or Series; features are looked up in ``table`` (or ``columns``)."""
    if sensitive is None:
        raise InputError("sensitive must name the sensitive attributes: feature names, or {name: values}")
    if hasattr(sensitive, "columns") and hasattr(sensitive, "to_numpy"):  # a DataFrame
        sensitive = {str(c): sensitive[c] for c in sensitive.columns}
    elif hasattr(sensitive, "to_numpy") and hasattr(sensitive, "name"):  # a Series
        sensitive = {str(sensitive.name): sensitive}
    if isinstance(sensitive, (str, int, np.integer)):
        sensitive = [sensitive]
    out: dict[str, np.ndarray] = {}
    features: list[str] = []
    if isinstance(sensitive, Mapping):
        for name, values in sensitive.items():
            out[str(name)] = _labels(values, n, str(name))
    elif isinstance(sensitive, Sequence) and not isinstance(sensitive, (str, bytes)):
        if len(sensitive) == 0:
            raise InputError("sensitive must name at least one attribute")
        for item in sensitive:
            if table is not None:
                j = feature_index(table, item, "sensitive")
                name = table.feature_names[j]
                out[name] = table.values[:, j]
                features.append(name)
            elif columns is not None and str(item) in columns:
                out[str(item)] = _labels(columns[str(item)], n, str(item))
                features.append(str(item))
            else:
                raise InputError(f"sensitive={item!r} is not a column of the data; columns: {list(columns or [])[:30]}")
    else:
        raise InputError(f"sensitive must be feature names, a dict {{name: values}} or a DataFrame; got "
                         f"{type(sensitive).__name__}")
    if not out:
        raise InputError("sensitive must name at least one attribute")
    return out, features


def make_groupings(columns: Mapping[str, np.ndarray], categories: Mapping | None, intersections: bool) -> list[Grouping]:
    """One grouping per attribute (names from ``categories[attribute]`` when given), then their intersection."""
    categories = categories or {}
    if not isinstance(categories, Mapping):
        raise InputError(f"categories must be a dict {{attribute: labels}}; got {type(categories).__name__}")
    groupings = [grouping(name, values, categories.get(name)) for name, values in columns.items()]
    if intersections and len(groupings) > 1:
        groupings.append(intersection(groupings))
    return groupings


__all__ = ["JOIN", "Grouping", "grouping", "intersection", "label_name", "make_groupings", "sensitive_columns"]
