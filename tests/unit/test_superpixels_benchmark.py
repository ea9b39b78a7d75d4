"""The superpixel benchmark runs (``--quick``: a tiny CNN, seconds) and prints its table and ratios against
the floor, the ``lime`` package and Captum."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "superpixels.py"


def test_superpixel_benchmark_quick_prints_its_ratios():
    pytest.importorskip("lime")
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--repeats", "1", "--skip-exact"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for row in ("floor (201 passes at batch", "nbexplain lime_image", "lime package (defaults",
                "captum Lime (defaults", "captum ShapleyValueSampling"):
        assert row in out, out
    for ratio in ("nbexplain LIME / floor", "lime package / floor", "captum Lime / floor"):
        assert re.search(rf"{re.escape(ratio)} = \d+\.\d\dx", out), out
    fidelity = re.search(r"LIME fidelity \(weighted R²\): nbexplain (\S+), lime package (\S+)", out)
    assert fidelity and abs(float(fidelity.group(1)) - float(fidelity.group(2))) < 0.2
    assert float(re.search(r"nbexplain vs lime (\S+),", out).group(1)) > 0.8  # the same method
