"""The fairness benchmark runs (``--quick``: seconds) and prints its times, its ratios and the agreement of its
intervals with fairlearn's on the shared resamples."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "fairness.py"


def test_fairness_benchmark_quick_prints_its_ratios():
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=300,
                          check=False, env=env)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for row in ("floor: predict_proba of the audited rows", "nbexplain audit", "fairlearn MetricFrame x6"):
        assert row in out, out
    assert re.search(r"nbexplain / fairlearn = \d+\.\d+x \(nbexplain \d+x faster\)", out), out
    diff = float(re.search(r"max \|interval difference\| on the \d+ shared resamples = (\S+)", out).group(1))
    assert diff < 1e-12  # the same resamples give the same intervals
