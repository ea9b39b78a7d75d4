"""What a global view of a tabular model is computed on: the table, the model, its output and the rows.

Every feature effect starts here, so all accept the same inputs and fail with the same messages: ``X``
becomes a validated :class:`~nbexplain.inputs.tables.Table`, the model one batched predictor (given
DataFrames back when it was fitted on one), its outputs one number per row (the regression output, or the
probability of ``target``: :func:`~nbexplain.adapters.outputs.tabular_output`), and ``max_rows`` a random
sample of rows drawn with ``seed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._validation import check_int, check_seed
from ...adapters.model import Model
from ...adapters.outputs import Output, tabular_output
from ...inputs.tables import Table, as_table, sample_rows, tabular_model


@dataclass(frozen=True)
class Problem:
    """The table, the model, what its output means (``output``) and the rows a view uses (sorted indices)."""

    table: Table
    model: Model
    output: Output
    rows: np.ndarray

    @property
    def sample(self) -> Table:
        """The rows used, as a table (the whole table when they are all of it)."""
        return self.table if len(self.rows) == self.table.n_rows else self.table.take(self.rows)

    @property
    def target(self) -> int | None:
        """The explained class index, or None for a regression."""
        return None if self.output.kind == "regression" else self.output.target


def problem(model: Any, X: Any, *, feature_names: Sequence[str] | None = None, categorical: Any = None,
            target: Any = None, max_rows: int | None = None, seed: int | None = 0) -> Problem:
    """Validate the inputs of a global view; ``max_rows`` rows are drawn with ``seed`` (all rows when None)."""
    table = as_table(X, feature_names, categorical=categorical)
    fitted = tabular_model(model, table)
    output = tabular_output(fitted, table, target)
    if max_rows is not None:
        check_int(max_rows, "max_rows", 1)
    return Problem(table, fitted, output, sample_rows(table.n_rows, max_rows, check_seed(seed)))


__all__ = ["Problem", "problem"]
