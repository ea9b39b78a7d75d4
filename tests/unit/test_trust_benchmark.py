"""The trust benchmark runs (``--quick``: a tiny CNN, seconds) and prints both ratios against their floors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "trust.py"


def test_trust_benchmark_quick_prints_its_ratios():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # a busy machine: one thread per tiny op
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--repeats", "1"], capture_output=True,
                          text=True, timeout=300, check=False, env=env)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for ratio in ("sanity check / floor", "rank correlation only / floor", "curves / floor"):
        assert re.search(rf"{re.escape(ratio)} = \d+\.\d\dx wall .* \d+\.\d\dx CPU", out), out
    assert "16 maps" in out and "202 forward passes" in out
    assert re.search(r"\|map\| rank correlation at full randomisation: gradient -?\d\.\d\d", out), out
