"""Per-row randomness: each row's seed is derived from the run's seed and the row's index, never from the order
in which rows happen to be explained.

Row ``i`` of a run with seed ``s`` gets the first 32-bit word of numpy's ``SeedSequence(s, spawn_key=(i,))``,
which is ``SeedSequence(s).spawn(N)[i]`` (O'Neill's seed sequences: children are statistically independent
streams). Any executor, any chunking, any worker and any retry after a lost worker explain row ``i`` with the
same seed, so a run is reproducible row by row, and one row can be re-explained alone:
``nbx.lime_tabular(model, X[i], data, seed=many.seeds[i])`` gives ``many.values[i]`` again.

Examples
--------
>>> entropy = seed_entropy(0)
>>> row_seeds(entropy, np.arange(3)).tolist() == row_seeds(entropy, np.array([2, 1, 0]))[::-1].tolist()
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validation import check_seed


def seed_entropy(seed: Any) -> int:
    """The run's root entropy: ``seed`` itself (a non-negative int), or fresh entropy drawn once when None
    (kept in the result, so even a run with ``seed=None`` can be repeated)."""
    seed = check_seed(seed)
    return int(np.random.SeedSequence().entropy) if seed is None else seed


def row_seed(entropy: int, row: int) -> int:
    """The seed of row ``row``: a 32-bit int (every front door and numpy's ``RandomState`` take it)."""
    return int(np.random.SeedSequence(entropy, spawn_key=(int(row),)).generate_state(1, np.uint32)[0])


def row_seeds(entropy: int, rows: np.ndarray) -> np.ndarray:
    """(len(rows),) uint32: :func:`row_seed` of each row index."""
    return np.array([row_seed(entropy, r) for r in np.asarray(rows).ravel()], dtype=np.uint32)


__all__ = ["row_seed", "row_seeds", "seed_entropy"]
