"""The many-explanations benchmark runs (``--quick``: small sizes on a LocalCluster) and prints what it promises:
the measured per-task overhead, both runs bit-identical with their per-explanation ratios, SHAP's loop, the
driver's memory against its bound, and the million-row arithmetic."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")  # nbexplain[dask]; CI (NBX_REQUIRE_ALL=1) fails instead

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "many.py"


@pytest.mark.slow
def test_many_benchmark_quick_prints_its_ratios():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=600,
                          check=False, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert re.search(r"per-task scheduler overhead .*: \d+\.\d\d ms per task", out), out
    assert out.count("bit-identical in-process and on Dask: True") == 2, out
    assert len(re.findall(r"dask / in-process per explanation: \d+\.\d\dx worker time, \d+\.\d\dx CPU", out)) == 2
    assert re.search(r"SHAP Exact, its own loop .* ms per explanation", out), out
    diff = float(re.search(r"max \|nbexplain - SHAP\| = (\S+)", out).group(1))
    assert diff < 1e-9  # the same exact Shapley values
    assert re.search(r"growth -?\d+\.\d MB \(bound \d+ MB: met\)", out), out
    assert "a million rows on 256 worker threads" in out
