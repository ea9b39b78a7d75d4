"""The inside-the-network benchmarks run (``--quick``: the tank CNN, seconds) and print their tables and ratios;
the recorder's histograms equal numpy's in the run. Speed itself is judged by the benchmarks, not here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}  # one thread: two spinning threads per tiny op on a busy machine


def run(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(BENCHMARKS / script), "--quick", *args], capture_output=True,
                          text=True, timeout=600, check=False, env=ENV)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_weight_histogram_benchmark_prints_the_overhead_and_checks_numpy():
    out = run("weight_histograms.py")
    for row in ("training step (floor)", "recorder every=10", "recorder every=1"):
        assert row in out, out
    assert re.search(r"recorder every=10 overhead = -?\d+\.\d% of a training step \(target <= 5%\)", out), out
    assert "histograms equal numpy.histogram of the final weights: True" in out


def test_maximization_benchmark_prints_its_ratios():
    out = run("maximization.py", "--steps", "6", "--repeats", "1")
    for ratio in ("nbexplain / floor", "nbexplain / floor to the layer"):
        assert re.search(rf"{re.escape(ratio)} = \d+\.\d\dx", out), out
    assert re.search(r"nbexplain / (lucent|hand-written loop) = \d+\.\d\dx", out), out
    assert "cannot run beside this torch" in out or "lucent (batch" in out
