"""How fast are nbexplain's trust checks? A cascading sanity check and deletion/insertion curves, against their floors.

Both are forward (and backward) passes of the model and little else, so each is measured against the
**floor**: those passes alone, at the machine's fastest batch size, timed in the same process and the same
run. The machine is shared and its load drifts within minutes, so every round times the floor just before
and just after each contender and divides by their mean; the median ratio over ``--repeats`` rounds is
reported (and the best), in wall-clock time and in this process's CPU time.

* **Cascading sanity check** of 4 methods (gradient, guided backpropagation, gradient x input, Grad-CAM; one
  forward and one backward pass per map) on the ResNet-18-shaped CNN of ``benchmarks/superpixels.py`` (random
  weights, 224 x 224 cat): the original maps and one map per method after each step, with all four
  similarity measures (Spearman of |map| and of the signed map, SSIM, HOG). Steps: the classifier, the 8
  residual blocks, the stem's batch norm and convolution (11, as Adebayo et al. randomise Inception by blocks);
  ``--per-layer`` makes every parameterised layer a step (41). Floor: ``(steps + 1) x 4`` forward+backward
  passes at batch 1 (one image: nothing to batch). The run is also timed with the rank correlation alone, to
  show what SSIM and HOG cost.
* **Deletion and insertion curves** with 100 steps of a gradient map: ``2 x 101`` forward passes of
  perturbed images, built lazily at nbexplain's batch size (a fresh ``as_model``: the size is found again
  every round). Floor: 202 forward passes at the fastest batch size of 1, 2, 4, ..., 64. Peer: Quantus's
  ``PixelFlipping`` (when installed), which runs one perturbed image per forward pass (its deletion curve
  only), per pass.

    python benchmarks/trust.py                  # ResNet-18 shape at 224²: a few minutes on 2 cores
    python benchmarks/trust.py --quick          # a tiny CNN at 32²: seconds
    python benchmarks/trust.py --per-layer --repeats 1
"""

from __future__ import annotations

import os

os.environ.setdefault("TQDM_DISABLE", "1")

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

import nbexplain as nbx
from nbexplain.adapters.allocator import steady_heap
from nbexplain.methods.trust.randomisation import layer_steps

sys.path.insert(0, str(Path(__file__).resolve().parent))
from superpixels import SIZES, benchmark_image, benchmark_model, per_image_seconds, tiny_model  # noqa: E402

METHODS = ["gradient", "rectified", "gradient_x_input", "gradcam"]


def block_steps(net: torch.nn.Module) -> list[str]:
    """Top-down steps of a Sequential ResNet: the classifier, each residual block, the stem's norm and conv."""
    names = [n for n, m in net.named_children() if next(m.parameters(), None) is not None]
    return names[::-1]


def forward_backward_seconds(net, x: torch.Tensor, target: int, repeats: int = 3) -> tuple[float, float]:
    """Fastest (wall, CPU) seconds of one forward and one backward pass of ``x`` (batch 1), input gradients only."""
    best = (np.inf, np.inf)
    for i in range(repeats + 1):
        inp = x.clone().requires_grad_(True)
        w0, c0 = time.perf_counter(), time.process_time()
        out = net(inp)
        torch.autograd.grad(out[0, target], inp)
        if i:  # the first is a warm-up
            best = min(best, (time.perf_counter() - w0, time.process_time() - c0))
    return best


def timed(fn, *args, **kwargs):
    """((wall, CPU seconds of this process), result) of ``fn(*args, **kwargs)``."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return (time.perf_counter() - w0, time.process_time() - c0), out


def quantus_pixel_flipping(net, chw: np.ndarray, attribution: np.ndarray, target: int, steps: int) -> tuple[float, int]:
    """Seconds and forward passes of Quantus's PixelFlipping (deletion only), or (nan, 0) without Quantus."""
    try:
        import quantus
    except ImportError:
        return float("nan"), 0
    n_pixels = chw.shape[1] * chw.shape[2]
    divisors = [d for d in range(1, n_pixels + 1) if n_pixels % d == 0]
    per_step = min(divisors, key=lambda d: abs(d - n_pixels / steps))  # Quantus needs a divisor of the pixels
    calls = []

    class Counting(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = net

        def forward(self, x):
            calls.append(len(x))
            return self.inner(x)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metric = quantus.PixelFlipping(features_in_step=per_step, perturb_baseline="black", disable_warnings=True,
                                       return_auc_per_sample=False)  # its AUC uses np.trapz, gone in numpy 2.4
        t0 = time.perf_counter()
        metric(model=Counting().eval(), x_batch=chw[None], y_batch=np.array([target]),
               a_batch=attribution[None, None].copy(), channel_first=True, device="cpu")
    return time.perf_counter() - t0, len(calls)


def main() -> None:
    steady_heap()  # floors and peers under the allocator settings nbexplain gives every model it adapts
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny CNN at 32 x 32 (seconds)")
    parser.add_argument("--per-layer", action="store_true", help="every parameterised layer a step")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=100, help="steps of the deletion/insertion curves")
    args = parser.parse_args()
    nbx.progress_bars(False)
    if args.quick:
        net, size = tiny_model(), 32
    else:
        net, size = benchmark_model(), 224
    chw = np.ascontiguousarray(benchmark_image(size).transpose(2, 0, 1))
    layers = None if (args.per_layer or args.quick) else block_steps(net)
    x = torch.from_numpy(chw[None])
    target = int(net(x).argmax())
    n_steps = len(layer_steps(net, layers))
    print(f"== {'tiny CNN' if args.quick else 'ResNet-18-shaped CNN'} at {size}²; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; {args.repeats} rounds, each contender between two floor timings ==")

    # -- the sanity check ---------------------------------------------------------------------------------------
    n_maps = (n_steps + 1) * len(METHODS)
    ratios: dict[str, list[tuple[float, float]]] = {"full": [], "rank": []}
    seconds: dict[str, list[float]] = {"full": [], "rank": [], "floor": []}
    check = None
    for _ in range(args.repeats):
        for key, metrics in (("full", tuple(nbx.explain.trust.METRICS)), ("rank", ("spearman_abs",))):
            before = forward_backward_seconds(net, x, target)
            (w, c), check = timed(nbx.sanity_check, net, chw, METHODS, "cascading", target, layers=layers,
                                  metrics=metrics, progress=False)
            after = forward_backward_seconds(net, x, target)
            floor_wall = np.mean([before[0], after[0]]) * n_maps
            floor_cpu = np.mean([before[1], after[1]]) * n_maps
            ratios[key].append((w / floor_wall, c / floor_cpu))
            seconds[key].append(w)
            seconds["floor"].append(floor_wall)
    print(f"\ncascading sanity check: {len(METHODS)} methods x ({n_steps} steps + the original) = {n_maps} maps; "
          f"{args.repeats} round(s)")
    print(f"  floor ({n_maps} forward+backward passes at batch 1), median   {np.median(seconds['floor']):8.2f} s")
    print(f"  nbexplain, 4 similarity measures, median                  {np.median(seconds['full']):8.2f} s")
    print(f"  nbexplain, rank correlation of |map| only, median         {np.median(seconds['rank']):8.2f} s")
    for key, words in (("full", "sanity check / floor"), ("rank", "rank correlation only / floor")):
        wall = [r[0] for r in ratios[key]]
        cpu = [r[1] for r in ratios[key]]
        print(f"  {words} = {np.median(wall):.2f}x wall (best round {min(wall):.2f}x), {np.median(cpu):.2f}x CPU "
              f"(best {min(cpu):.2f}x); target <= 1.2x")
    print("  |map| rank correlation at full randomisation: "
          + ", ".join(f"{m} {v:.2f}" for m, v in zip(check.methods, check.final, strict=True)))

    # -- deletion and insertion curves ----------------------------------------------------------------------------
    steps = args.steps
    result = nbx.attribute(net, chw, "gradient", target)
    passes = 2 * (steps + 1)
    pool = torch.from_numpy(np.repeat(chw[None], 64, axis=0))
    curve_ratios, curve_seconds, floors, sizes_found = [], [], [], []
    per_image: dict[int, float] = {}
    peer = []
    f = None

    def floor_per_image(sweep: bool) -> tuple[int, float, float]:
        """Per-image (wall, CPU) seconds at the fastest batch size (after a sweep of every size, if asked)."""
        if sweep:
            for s in SIZES:
                per_image[s] = min(per_image.get(s, np.inf), per_image_seconds(net, pool, s, min(passes, 2 * s))[0])
        best = min(per_image, key=per_image.get)
        wall, cpu = per_image_seconds(net, pool, best, min(passes, 4 * best))
        return best, wall, cpu

    for _ in range(args.repeats):
        best, w0, c0 = floor_per_image(sweep=True)
        model = nbx.as_model(net)  # fresh: its batch size is found again
        (w, c), f = timed(nbx.faithfulness, model, chw, result, steps=steps, n_perturbations=0, n_subsets=0,
                          progress=False)
        best2, w1, c1 = floor_per_image(sweep=False)
        floor_wall, floor_cpu = np.mean([w0, w1]) * passes, np.mean([c0, c1]) * passes
        curve_ratios.append((w / floor_wall, c / floor_cpu))
        curve_seconds.append(w)
        floors.append(floor_wall)
        sizes_found.append(next(iter(model._sizers.values())).best)
        peer.append(quantus_pixel_flipping(net, chw, result.map, target, steps))
    best = min(per_image, key=per_image.get)
    print(f"\ndeletion and insertion curves, {steps} steps: {passes} forward passes; {args.repeats} round(s)")
    print("  per-image seconds by batch size (best of the rounds): "
          + ", ".join(f"{s}: {per_image[s] * 1e3:.1f} ms" for s in SIZES))
    print(f"  floor ({passes} passes at batch {best}), median                {np.median(floors):8.2f} s")
    print(f"  nbexplain (batch sizes found: {sizes_found}), median      {np.median(curve_seconds):8.2f} s")
    wall = [r[0] for r in curve_ratios]
    cpu = [r[1] for r in curve_ratios]
    print(f"  curves / floor = {np.median(wall):.2f}x wall (best round {min(wall):.2f}x), {np.median(cpu):.2f}x CPU "
          f"(best {min(cpu):.2f}x); target <= 1.2x")
    print(f"  AUCs: deletion {f.auc_deletion:.3f}, insertion {f.auc_insertion:.3f}")
    peer_time, peer_calls = min(peer)
    if peer_calls:
        per_pass_peer = peer_time / peer_calls
        per_pass_ours = np.median(curve_seconds) / passes
        print(f"  Quantus PixelFlipping (deletion only, {peer_calls} passes, one image each): {peer_time:.2f} s; "
              f"per pass nbexplain / Quantus = {per_pass_ours / per_pass_peer:.2f}x")
    else:
        print("  Quantus PixelFlipping: not installed (pip install quantus) — no peer measured")


if __name__ == "__main__":
    main()
