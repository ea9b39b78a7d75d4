"""Tabular input: a 2-D float array or a pandas DataFrame becomes one validated :class:`Table`.

Every tabular technique (feature effects, permutation importance, surrogates, counterfactuals) starts
with :func:`as_table`, so they all accept the same inputs and fail with the same messages:

* ``values`` is a float64 ``(N, F)`` array with no NaN or inf (booleans become 0/1);
* ``feature_names`` come from the DataFrame's columns, the ``feature_names`` argument, or ``x0, x1, …``;
* ``categorical`` marks columns to treat as categories: given explicitly (a mask, or indices/names), or
  detected as integer-valued columns with at most ``max_levels`` distinct values.

:func:`feature_index` turns a feature given by position or name into its column index (:func:`feature_indices`,
:func:`feature_set`: several), :func:`as_row` validates the one row a local explanation explains against the
table, and :func:`tabular_model` wraps a model so that it gets rows the way it was fitted (DataFrames for an
estimator fitted on one) and names its classes (``class_names=``, the model's own ``class_names``, or an
estimator's ``classes_`` when they are strings).

Examples
--------
>>> from nbexplain.inputs.tables import as_table, feature_index
>>> t = as_table(np.array([[0.5, 1], [0.7, 0], [0.1, 1]]), feature_names=["temp", "holiday"])
>>> t.values.dtype, t.feature_names, t.categorical.tolist()
(dtype('float64'), ['temp', 'holiday'], [False, True])
>>> feature_index(t, "holiday")
1
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._validation import check_int
from ..adapters.model import Model, as_model
from ..errors import InputError

#: integer-valued columns with at most this many distinct values are detected as categorical
MAX_LEVELS = 10


@dataclass(frozen=True)
class Table:
    """A validated tabular dataset.

    Attributes
    ----------
    values : (N, F) float64 — the data, finite.
    feature_names : list of str — one unique name per column.
    categorical : (F,) bool — True for columns treated as categories (bar-style effects, unique-value grids).
    frame_columns : list or None — the DataFrame's original column labels when ``X`` was a DataFrame
        (models fitted on a DataFrame are given one back, see :func:`tabular_model`).
    category_values : dict — for a DataFrame's ``category`` and string columns, the values that the codes
        ``0 .. k-1`` in ``values`` stand for; :meth:`label` names a code, the model gets the values back.
    """

    values: np.ndarray
    feature_names: list[str]
    categorical: np.ndarray
    frame_columns: list | None = field(default=None, repr=False)
    #: column -> the values its codes 0..k-1 stand for (a DataFrame's category or string columns)
    category_values: dict[int, list] = field(default_factory=dict, repr=False)
    #: columns that were a pandas ``category`` dtype (given back to the model as one)
    category_dtype: frozenset[int] = field(default_factory=frozenset, repr=False)

    @property
    def n_rows(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.values.shape[1])

    def column(self, feature: int | str) -> np.ndarray:
        """The values of one column (by index or name)."""
        return self.values[:, feature_index(self, feature)]

    def levels(self, feature: int | str) -> np.ndarray:
        """Sorted distinct values of a column (the categories of a categorical feature)."""
        return np.unique(self.column(feature))

    def take(self, rows: np.ndarray) -> Table:
        """A table of the given rows (same names and categorical mask)."""
        return replace(self, values=self.values[rows])

    def labels(self, feature: int | str) -> list[str] | None:
        """The category labels of a coded column (code k is ``labels[k]``), or None for other columns."""
        values = self.category_values.get(feature_index(self, feature))
        return None if values is None else [str(v) for v in values]

    def label(self, feature: int | str, value: float) -> str:
        """How a value of ``feature`` reads to a person: its category's label, or the number."""
        labels = self.labels(feature)
        if labels is not None and float(value).is_integer() and 0 <= int(value) < len(labels):
            return labels[int(value)]
        return f"{value:.4g}"


def _is_dataframe(X: Any) -> bool:
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "to_numpy")


def detect_categorical(values: np.ndarray, max_levels: int = MAX_LEVELS) -> np.ndarray:
    """Mask of integer-valued columns with at most ``max_levels`` distinct values."""
    mask = np.all(values == np.round(values), axis=0)
    if mask.any():  # count the distinct values of the integer-valued columns, all in one sort
        ordered = np.sort(values[:, mask], axis=0)
        distinct = 1 + np.count_nonzero(np.diff(ordered, axis=0), axis=0)
        mask[mask] = distinct <= max_levels
    return mask


def as_table(
    X: Any,
    feature_names: Sequence[str] | None = None,
    name: str = "X",
    *,
    categorical: Any = None,
    max_levels: int = MAX_LEVELS,
) -> Table:
    """Validate tabular input and return a :class:`Table`.

    Parameters
    ----------
    X : array-like of shape (N, F), pandas DataFrame, or Table
        Numeric data (bool columns become 0/1). A Table is returned as is (unless names or
        ``categorical`` are given, which override its own).
    feature_names : sequence of str, optional
        One unique name per column. Defaults to the DataFrame's columns, else ``x0 … x{F-1}``.
    name : str
        The argument's name in error messages.
    categorical : None, bool mask of length F, or sequence of indices/names
        Columns to treat as categories; None detects integer-valued columns with at most
        ``max_levels`` distinct values.
    max_levels : int
        The detection threshold.

    Raises
    ------
    InputError
        ``X`` is not 2-D, is empty, is not numeric, has NaN or inf; names have the wrong length, are
        not unique; ``categorical`` names an unknown feature.

    Examples
    --------
    >>> t = nbx.as_table(df)              # names from the columns
    >>> t = nbx.as_table(X, ["a", "b"], categorical=["b"])
    """
    max_levels = check_int(max_levels, "max_levels", minimum=1)
    frame_columns = None
    category_values: dict[int, list] = {}
    category_dtype: frozenset[int] = frozenset()
    if isinstance(X, Table):
        base = X
        values, names, frame_columns = base.values, list(base.feature_names), base.frame_columns
        category_values, category_dtype = base.category_values, base.category_dtype
        if feature_names is None and categorical is None:
            return base
    else:
        names = None
        if _is_dataframe(X):
            frame_columns = list(X.columns)
            names = [str(c) for c in frame_columns]
            X, category_values, category_dtype = _encode_categories(X, name)
        elif hasattr(X, "detach"):
            X = X.detach().cpu().numpy()
        try:
            arr = np.asarray(X)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{name} must be a 2-D array of numbers or a DataFrame; got {type(X).__name__}") from exc
        if arr.dtype == object:
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise InputError(f"{name} must contain numbers only; got an object array ({exc})") from exc
        if arr.dtype == bool:
            arr = arr.astype(np.float64)
        if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
            raise InputError(f"{name} must be an array of real numbers; got dtype {arr.dtype}")
        if arr.ndim != 2:
            raise InputError(f"{name} must be 2-D (rows, features); got shape {arr.shape}")
        if arr.shape[0] == 0 or arr.shape[1] == 0:
            raise InputError(f"{name} must have at least one row and one column; got shape {arr.shape}")
        values = np.array(arr, dtype=np.float64, order="C")  # a copy: the table is read-only
        finite = np.isfinite(values)
        if not finite.all():
            rows, cols = np.nonzero(~finite)
            raise InputError(
                f"{name} has {len(rows)} NaN or infinite values (first at row {rows[0]}, column {cols[0]}); "
                "impute or drop them first"
            )
    if feature_names is not None:
        if isinstance(feature_names, str) or not isinstance(feature_names, Sequence | np.ndarray):
            raise InputError(f"feature_names must be a sequence of str; got {type(feature_names).__name__}")
        names = [str(n) for n in feature_names]
        if len(names) != values.shape[1]:
            raise InputError(
                f"feature_names has {len(names)} names but {name} has {values.shape[1]} columns"
            )
    if names is None:
        names = [f"x{j}" for j in range(values.shape[1])]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"feature_names must be unique; repeated: {dup[:10]}")
    mask = _categorical_mask(categorical, values, names, max_levels)
    mask[list(category_values)] = True  # coded category columns are categorical whatever else is said
    values.setflags(write=False)
    return Table(values, names, mask, frame_columns, dict(category_values), frozenset(category_dtype))


def _encode_categories(frame: Any, name: str) -> tuple[np.ndarray, dict[int, list], frozenset[int]]:
    """A DataFrame as a float array: numbers and bools as they are, ``category`` and string columns as codes
    0..k-1 of their categories (a category dtype's own order; strings sorted)."""
    columns, category_values, category_dtype = [], {}, set()
    for j, (column, dtype) in enumerate(zip(frame.columns, frame.dtypes, strict=True)):
        series = frame[column]
        if getattr(dtype, "kind", "O") in "biuf" and str(dtype) != "category":
            columns.append(series.to_numpy(dtype=np.float64, na_value=np.nan))
            continue
        import pandas as pd

        if isinstance(dtype, pd.CategoricalDtype):
            codes, values = series.cat.codes.to_numpy(), list(series.cat.categories)
            category_dtype.add(j)
        else:
            try:
                cat = pd.Categorical(series)
            except TypeError as exc:
                raise InputError(f"{name} column {str(column)!r} mixes kinds of values that cannot be sorted into "
                                 f"categories ({exc})") from exc
            codes, values = cat.codes, list(cat.categories)
        if (codes < 0).any():
            raise InputError(f"{name} column {str(column)!r} has {int((codes < 0).sum())} missing values; "
                             "impute or drop them first")
        columns.append(codes.astype(np.float64))
        category_values[j] = values
    return np.column_stack(columns), category_values, frozenset(category_dtype)


def _categorical_mask(categorical: Any, values: np.ndarray, names: list[str], max_levels: int) -> np.ndarray:
    f = values.shape[1]
    if categorical is None:
        return detect_categorical(values, max_levels)
    arr = np.asarray(categorical)
    if arr.dtype == bool:
        if arr.shape != (f,):
            raise InputError(f"categorical as a mask must have one bool per feature ({f}); got shape {arr.shape}")
        return arr.copy()
    if arr.ndim != 1:
        raise InputError("categorical must be None, a bool mask, or a list of feature indices or names")
    mask = np.zeros(f, dtype=bool)
    for item in arr.tolist():
        mask[_index(item, names, "categorical")] = True
    return mask


def _index(feature: Any, names: Sequence[str], name: str) -> int:
    f = len(names)
    if isinstance(feature, str):
        if feature not in names:
            raise InputError(f"{name}={feature!r} is not a feature name; feature names: {list(names)[:30]}")
        return list(names).index(feature)
    if isinstance(feature, (bool, np.bool_)) or not isinstance(feature, (int, np.integer)):
        raise InputError(f"{name} must be a feature index (int) or name (str); got {type(feature).__name__}")
    if not -f <= int(feature) < f:
        raise InputError(f"{name}={int(feature)} is out of range: there are {f} features (0..{f - 1})")
    return int(feature) % f


def feature_index(table: Table, feature: int | str, name: str = "feature") -> int:
    """The column index of ``feature`` (an index, negative allowed, or a name) in ``table``.

    Raises
    ------
    InputError
        Unknown name, out-of-range index, or another type; the message names ``name``.
    """
    return _index(feature, table.feature_names, name)


def feature_set(table: Table, features: Any, name: str) -> list[int]:
    """Sorted distinct column indices of a list of features (names or indices; one alone, or None: none).

    For arguments that mark features (``immutable``, ``integer``, ``categorical``): repeats are harmless.
    """
    if features is None:
        return []
    if isinstance(features, (str, int, np.integer)) and not isinstance(features, (bool, np.bool_)):
        features = [features]
    if isinstance(features, Mapping) or not isinstance(features, Sequence | np.ndarray):
        raise InputError(f"{name} must be a list of feature names or indices; got {type(features).__name__}")
    return sorted({feature_index(table, f, name) for f in list(features)})


def as_row(x: Any, table: Table, name: str = "x") -> np.ndarray:
    """The one row ``x`` with the table's features, as a float64 ``(F,)`` array.

    ``x`` may be 1-D, ``(1, F)``, a pandas Series or a one-row DataFrame (whose columns must be the
    table's). NaN, inf, a wrong number of features or several rows raise :class:`InputError` naming ``name``.
    """
    if hasattr(x, "to_numpy") and not hasattr(x, "columns"):  # a pandas Series
        x = _encode_row(list(x.to_numpy()), table, name) if table.category_values else x.to_numpy()
    if hasattr(x, "columns") and table.category_values:
        if len(x) != 1:
            raise InputError(f"{name} must be a single row; got {len(x)} rows")
        if [str(c) for c in x.columns] != table.feature_names:
            raise InputError(f"{name}'s columns {[str(c) for c in x.columns][:10]} differ from the training data's "
                             f"{table.feature_names[:10]}")
        x = _encode_row(list(x.iloc[0]), table, name)
    if hasattr(x, "columns"):
        row = as_table(x, name=name, categorical=np.zeros(len(x.columns), bool))
        if row.feature_names != table.feature_names:
            raise InputError(f"{name}'s columns {row.feature_names[:10]} differ from the training data's "
                             f"{table.feature_names[:10]}")
        values = row.values
    else:
        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{name} must be one row of {table.n_features} numbers; got {type(x).__name__}") from exc
        if arr.ndim == 1:
            arr = arr[None]
        if arr.ndim != 2:
            raise InputError(f"{name} must be one row of {table.n_features} numbers; got shape {arr.shape}")
        if arr.shape[1] != table.n_features:
            raise InputError(f"{name} has {arr.shape[1]} features but the training data has {table.n_features}")
        values = as_table(arr, table.feature_names, name, categorical=np.zeros(arr.shape[1], bool)).values
    if values.shape[0] != 1:
        raise InputError(f"{name} must be a single row; got {values.shape[0]} rows")
    return np.array(values[0], dtype=np.float64)


def _encode_row(values: list, table: Table, name: str) -> np.ndarray:
    """One row's values with each category (a value or its label) replaced by its code."""
    row = np.empty(len(values))
    for j, v in enumerate(values):
        known = table.category_values.get(j)
        if known is None:
            row[j] = v
        elif v in known or str(v) in [str(k) for k in known]:
            row[j] = [str(k) for k in known].index(str(v))
        elif isinstance(v, (int, float, np.integer, np.floating)) and float(v).is_integer() and 0 <= v < len(known):
            row[j] = float(v)  # already a code
        else:
            raise InputError(f"{name}[{table.feature_names[j]!r}]={v!r} is not one of its categories "
                             f"{[str(k) for k in known][:20]}")
    return row


def feature_indices(table: Table, features: Any, name: str = "features", *, max_count: int | None = None) -> list[int]:
    """Indices of one feature or a sequence of distinct features (each by index or name)."""
    if isinstance(features, (str, int, np.integer)) and not isinstance(features, bool):
        features = [features]
    if not isinstance(features, Sequence | np.ndarray) or len(features) == 0:
        raise InputError(f"{name} must be a feature (index or name) or a sequence of them; got {features!r}")
    idx = [_index(f, table.feature_names, name) for f in list(features)]
    if len(set(idx)) != len(idx):
        raise InputError(f"{name} must name distinct features; got {list(features)}")
    if max_count is not None and len(idx) > max_count:
        raise InputError(f"{name} must name at most {max_count} features; got {len(idx)}")
    return idx


# -------------------------------------------------------------------------------------------------
# the model seen as one number per row
# -------------------------------------------------------------------------------------------------
def tabular_model(model: Any, table: Table | None = None, class_names: Sequence[str] | None = None) -> Model:
    """:func:`nbexplain.as_model`, but a scikit-learn estimator fitted on a DataFrame gets DataFrames back,
    and the classes have names where the model knows them.

    Estimators fitted with column names warn (or fail, for column transformers) when given plain
    arrays; when ``table`` came from a DataFrame and pandas is importable, each batch is rebuilt as a
    DataFrame with the original columns before the estimator sees it. Class names: ``class_names``
    when given (a :class:`Model` passed in is copied, not renamed), else the model's own (a
    ``class_names`` attribute, or an estimator's ``classes_`` when they are strings, e.g. ``"approved"``).
    """
    m = _tabular_model(model, table)
    names = None
    if class_names is not None:
        if isinstance(class_names, str) or not isinstance(class_names, Sequence | np.ndarray):
            raise InputError(f"class_names must be a sequence of str; got {type(class_names).__name__}")
        names = [str(c) for c in class_names]
        if m.n_outputs is not None and len(names) != (2 if m.n_outputs == 1 else m.n_outputs):
            raise InputError(f"class_names has {len(names)} names but the model has "
                             f"{2 if m.n_outputs == 1 else m.n_outputs} classes")
    elif m.class_names is None:
        names = estimator_class_names(m.raw)
    if names is not None and names != m.class_names:
        if m is model:  # the caller's Model keeps its own names
            m = copy.copy(m)
        m.class_names = names
    return m


def estimator_class_names(estimator: Any) -> list[str] | None:
    """An estimator's ``classes_`` as names when they are strings (``["approved", "denied"]``), else None."""
    classes = getattr(estimator, "classes_", None)
    if classes is None or np.ndim(classes) != 1 or len(classes) < 2:
        return None
    return [str(c) for c in classes] if all(isinstance(c, str) for c in classes) else None


def _tabular_model(model: Any, table: Table | None) -> Model:
    if isinstance(model, Model):
        return model
    names = getattr(model, "feature_names_in_", None)
    if table is not None and names is not None and table.frame_columns is not None:
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - a DataFrame implies pandas
            return as_model(model)
        columns = table.frame_columns
        if hasattr(model, "predict_proba"):
            method, output = model.predict_proba, "probability"
        elif hasattr(model, "decision_function"):
            def method(frame):
                d = np.asarray(model.decision_function(frame), dtype=np.float64)
                return np.stack([-d, d], axis=1) / 2 if d.ndim == 1 else d
            output = "logits"
        else:
            method, output = model.predict, "logits"
        decode = _category_decoder(table)
        wrapped = as_model(lambda batch: method(decode(pd.DataFrame(batch, columns=columns))), output=output)
        wrapped.raw = model
        return wrapped
    return as_model(model)


def _category_decoder(table: Table) -> Callable[[Any], Any]:
    """A function giving a batch DataFrame of codes its category columns back as the model saw them."""
    if not table.category_values:
        return lambda frame: frame
    import pandas as pd

    columns = table.frame_columns

    def decode(frame):
        for j, values in table.category_values.items():
            codes = np.clip(np.rint(frame.iloc[:, j].to_numpy(dtype=np.float64)), 0, len(values) - 1).astype(np.int64)
            if j in table.category_dtype:
                frame[columns[j]] = pd.Categorical.from_codes(codes, categories=values)
            else:
                frame[columns[j]] = np.asarray(values, dtype=object)[codes]
        return frame

    return decode


def sample_rows(n: int, max_rows: int | None, random_state: Any = 0) -> np.ndarray:
    """Sorted indices of at most ``max_rows`` of ``n`` rows, drawn without replacement (all when None)."""
    if max_rows is None or max_rows >= n:
        return np.arange(n)
    check_int(max_rows, "max_rows", minimum=1)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n, size=max_rows, replace=False))


ProgressFn = Callable[[float], None] | None

__all__ = [
    "MAX_LEVELS", "Table", "as_row", "as_table", "detect_categorical", "estimator_class_names", "feature_index",
    "feature_indices", "feature_set", "sample_rows", "tabular_model",
]
