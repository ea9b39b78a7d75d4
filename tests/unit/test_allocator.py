"""The steady heap: batch memory is reused across forward passes instead of faulted in again."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc thresholds")

# a fresh process: batch 16, then batch 32 twice (glibc's own thresholds grow to the batch-16 blocks only,
# so without the steady heap every batch-32 pass hands its activations back and faults them in again)
SCRIPT = textwrap.dedent("""
    import resource, sys
    import numpy as np
    import nbexplain as nbx
    from nbexplain.adapters.allocator import steady_heap

    net = nbx.datasets.tank_network(0).eval()
    # the inputs are written in small pieces: glibc also grows its thresholds when a larger temporary is freed
    rng = np.random.default_rng(0)
    x = np.empty((2000, 3, 48, 48), np.float32)
    for start in range(0, len(x), 50):
        x[start:start + 50] = rng.random((50, 3, 48, 48), dtype=np.float32)
    for size in (16, 32, 32):
        model = nbx.as_model(net, batch_size=size)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        model.predict(x)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before, steady_heap())
""")


def faults_of_last_pass(**env: str) -> tuple[int, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")} | env
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=environ, check=True)
    faults, steady = out.stdout.split()
    return int(faults), steady


def test_repeated_forward_passes_fault_no_pages_in_once_the_heap_is_steady():
    faults, steady = faults_of_last_pass()
    assert steady == "True"
    # the activations of 2,000 images at batch 32 span ~200,000 pages: a steady heap faults almost none
    assert faults < 5_000


def test_without_it_the_same_passes_fault_their_activations_in_again():
    faults, steady = faults_of_last_pass(NBEXPLAIN_STEADY_HEAP="0")
    assert steady == "False"
    assert faults > 50_000


def test_a_process_started_with_its_own_malloc_thresholds_keeps_them():
    faults, steady = faults_of_last_pass(MALLOC_TRIM_THRESHOLD_="131072")
    assert steady == "False"


def test_a_model_unpickled_in_another_process_makes_that_heap_steady_too():
    """A Dask worker gets the model by unpickling it (cloudpickle, as Dask sends it): ``__init__`` does not run."""
    import cloudpickle
    import torch

    import nbexplain as nbx

    blob = cloudpickle.dumps(nbx.as_model(torch.nn.Linear(2, 2)))
    script = textwrap.dedent("""
        import pickle, sys
        from nbexplain.adapters import allocator
        before = "set" in allocator._state
        model = pickle.loads(sys.stdin.buffer.read())
        print(before, allocator._state.get("set"), model.predict([[1.0, 2.0]]).shape)
    """)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "NBEXPLAIN_STEADY_HEAP"}
    out = subprocess.run([sys.executable, "-c", script], input=blob, capture_output=True, env=environ, check=True)
    assert out.stdout.decode().split() == ["False", "True", "(1,", "2)"]
