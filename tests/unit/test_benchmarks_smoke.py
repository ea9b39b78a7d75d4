"""The occlusion benchmark runs (``--quick``: a tiny CNN, seconds) and prints its table, ratios and the
agreement with Captum."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "occlusion.py"


def test_occlusion_benchmark_quick_prints_its_ratios():
    # one thread: on a busy machine two spinning OpenMP threads per tiny op make this 10x slower
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for row in ("floor (50 passes at batch", "nbexplain ", "captum ppe=1 ", "captum ppe=64 "):
        assert row in out, out
    for ratio in ("nbexplain / floor", "nbexplain / captum ppe=1", "nbexplain / captum ppe=64"):
        assert re.search(rf"{re.escape(ratio)} = \d+\.\d\dx", out), out
    diff = float(re.search(r"max \|nbexplain - captum\| = (\S+)", out).group(1))
    assert diff < 1e-5  # the benchmark compares equal results
