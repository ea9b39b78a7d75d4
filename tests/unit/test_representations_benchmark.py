"""The representations benchmark runs (``--quick``: small sizes) and prints every part: extraction against the
floor, both t-SNE libraries side by side, and the Projector's page measured in Chromium."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "representations.py"
CHROMIUM = Path(os.environ.get("NBX_CHROMIUM", "/usr/bin/chromium"))


def test_representations_benchmark_quick_prints_every_part():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # tiny ops: spinning threads only slow a busy machine down
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=600,
                          check=False, env=env)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(r"activations / floor = \d+\.\d\dx", out), out
    assert re.search(r"openTSNE .* s\s+KL \d\.\d+\s+trustworthiness@10 0\.9\d+", out), out
    assert re.search(r"scikit-learn TSNE .* s\s+KL \d\.\d+\s+trustworthiness@10 0\.9\d+", out), out
    if CHROMIUM.exists():  # the browser is installed wherever the browser tests run (CI requires it)
        assert re.search(r"redraw after a colour change: median \d+\.\d ms", out), out
        assert re.search(r"60/60 hovers found their point", out), out
    else:
        assert "skipped, no Chromium" in out
