"""What does recording weight histograms cost a training loop? ``nbx.WeightRecorder`` on the tank CNN.

The floor is the training step itself: forward, loss, backward and Adam's update of the tank story's CNN
(``nbx.datasets.tank_network``) on a batch of 32 scenes of 48x48. The contenders run the same steps with a
recorder hooked into the optimiser (``WeightRecorder(model, optimizer=opt, every=k)``: per-parameter
histograms, statistics, count sketches, and the dead-ReLU watch armed before each snapshot), for
``every`` = 1 (a snapshot after every step: the worst case) and 10 (the default). Interleaved, the minimum
of ``--repeats`` runs kept. It prints the cost of one snapshot and the overhead as a share of a training
step (target <= 5 %) and checks that the histograms equal ``numpy.histogram`` of the final weights.

    python benchmarks/weight_histograms.py            # 200 steps per run, 5 runs
    python benchmarks/weight_histograms.py --quick    # seconds (the smoke test)
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import nbexplain as nbx
from nbexplain.adapters.allocator import steady_heap
from nbexplain.datasets import tank_network, tanks


def batches(n_steps: int, batch: int = 32, seed: int = 0):
    data = tanks(batch * 8, seed=seed)
    x = torch.from_numpy(np.ascontiguousarray(data.images.transpose(0, 3, 1, 2))).float().div_(255.0)
    y = torch.from_numpy(data.labels)
    order = np.random.default_rng(seed).integers(0, 8, n_steps)
    return [(x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]) for i in order]


def train(steps, every: int | None):
    """Seconds per training step (after two warm-up steps), with a recorder snapshotting every ``every``."""
    model = tank_network(0)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = torch.nn.functional.cross_entropy

    def step(x, y):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    for x, y in steps[:2]:
        step(x, y)
    recorder = nbx.WeightRecorder(model, optimizer=opt, every=every) if every else None
    t0 = time.perf_counter()
    for x, y in steps[2:]:
        step(x, y)
    seconds = (time.perf_counter() - t0) / (len(steps) - 2)
    if recorder is not None:
        recorder.close()
    return seconds, recorder, model


def main(argv=None) -> None:
    steady_heap()  # floors and peers under the allocator settings nbexplain gives every model it adapts
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few steps (seconds)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    n = args.steps or (42 if args.quick else 202)
    repeats = args.repeats or (2 if args.quick else 5)
    steps = batches(n)
    print(f"tank CNN, batch 32 of 48x48, Adam; {n - 2} timed steps per run; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; min of {repeats} interleaved runs")
    contenders = {"training step (floor)": None, "recorder every=10": 10, "recorder every=1": 1}
    best = {k: np.inf for k in contenders}
    last = {}
    for rep in range(repeats):
        names = list(contenders)
        names = names[rep % len(names):] + names[:rep % len(names)]
        for name in names:
            seconds, recorder, model = train(steps, contenders[name])
            best[name] = min(best[name], seconds)
            last[name] = (recorder, model)
    floor = best["training step (floor)"]
    print()
    print(f"{'contender':<26}{'ms/step':>9}{'x floor':>9}")
    for name, seconds in best.items():
        print(f"{name:<26}{seconds * 1e3:>9.3f}{seconds / floor:>9.3f}")
    per_snapshot = best["recorder every=1"] - floor
    print()
    print(f"one snapshot costs {per_snapshot * 1e3:.3f} ms = {per_snapshot / floor:.1%} of a training step")
    print(f"recorder every=10 overhead = {best['recorder every=10'] / floor - 1:.1%} of a training step (target <= 5%)")
    print(f"recorder every=1 overhead = {best['recorder every=1'] / floor - 1:.1%} of a training step")
    recorder, model = last["recorder every=1"]
    params = dict(model.named_parameters())
    exact = all(np.array_equal(recorder.histogram(p)[0], np.histogram(params[p].detach().numpy(),
                                                                      bins=recorder.edges(p))[0])
                for p in recorder.parameters)
    print(f"histograms equal numpy.histogram of the final weights: {exact} ({len(recorder.parameters)} parameters, "
          f"{len(recorder.steps)} snapshots)")


if __name__ == "__main__":
    main()
