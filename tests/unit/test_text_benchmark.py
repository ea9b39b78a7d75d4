"""The text benchmark runs (``--quick``: 500 samples, an 8-token text, seconds) and prints its ratios and the
LIME fidelity of nbexplain beside the ``lime`` package's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "text.py"


def test_text_benchmark_quick_prints_its_ratios():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=300,
                          check=False, env=env)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for ratio in ("nbexplain LIME / floor", "lime package / floor", "nbexplain exact Shapley (8 tokens) / floor"):
        assert re.search(rf"{re.escape(ratio)} = \d+\.\d\dx", out), out
    fidelity = re.search(r"nbexplain (\d\.\d+) ± \S+, lime package (\d\.\d+)", out)
    assert fidelity and abs(float(fidelity.group(1)) - float(fidelity.group(2))) < 0.05, out
    assert float(re.search(r"nbexplain vs lime package: (\S+)", out).group(1)) > 0.9
