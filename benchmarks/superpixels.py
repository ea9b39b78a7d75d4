"""How fast are nbexplain's superpixel explanations? Against the floor, the ``lime`` package and Captum.

Every superpixel method is a number of forward passes of perturbed images; nothing can beat running
exactly those passes at the machine's fastest batch size. That **floor** is measured here by probing
batch sizes 1, 2, 4, ..., 64 on the same model and input (the fastest time per image, times the passes).
The contenders run in this process, on the same model, image and superpixels, interleaved (the order
rotates between rounds), and the minimum of ``--repeats`` rounds is kept (the machine is shared):

* LIME, 1000 samples, ~50 slic superpixels, each superpixel's mean colour as the fill:
  ``nbx.lime_image`` on a fresh ``nbx.as_model`` (its batch size is found again every run), the ``lime``
  package's ``LimeImageExplainer.explain_instance`` with its defaults (batch of 10, 5 top labels), and
  Captum's ``Lime`` with its defaults (``perturbations_per_eval=1``, Lasso surrogate). Floor: 1001 passes.
* exact Shapley values with M = 12 (a 3 x 4 grid): ``nbx.shapley_image(method="exact")``, 4096 passes.
* sampled Shapley values (permutations) at equal evaluations, ~50 superpixels: ``nbx.shapley_image(
  method="sampled")`` beside Captum's ``ShapleyValueSampling`` (default ``perturbations_per_eval=1``).
* the explorer's toggle latency in a real page (click -> bars redrawn, ``performance.now()`` in the page):
  the browser test ``tests/e2e/test_superpixels_browser.py::test_table_answers_without_the_kernel_and_
  toggle_latency`` run on this model (``NBX_LATENCY_MODEL=resnet18``) and on a tiny model (kernel and
  table answers), median and p95.

The model is a ResNet-18-shaped CNN written here in plain torch (no torchvision; random weights: only its
speed matters), on skimage's chelsea cat at 224 x 224.

    python benchmarks/superpixels.py                 # ResNet-18 at 224²: long (tens of minutes on 2 cores)
    python benchmarks/superpixels.py --quick         # a tiny CNN at 32²: seconds (no browser)
    python benchmarks/superpixels.py --skip-browser --skip-exact --repeats 1
"""

from __future__ import annotations

import os

os.environ.setdefault("TQDM_DISABLE", "1")  # the lime package's progress bar (read when tqdm is imported)

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import nbexplain as nbx

SIZES = (1, 2, 4, 8, 16, 32, 64)
REPO = Path(__file__).resolve().parents[1]


# -- the model and image ---------------------------------------------------------------------------------------
class BasicBlock(torch.nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        nn = torch.nn
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                     if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.down(x))


def benchmark_model(n_classes: int = 1000, seed: int = 0) -> torch.nn.Module:
    """ResNet-18's architecture (He et al. 2016) in plain torch, randomly initialised, in eval mode."""
    torch.manual_seed(seed)
    nn = torch.nn
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
        layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
        cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, n_classes)).eval()


def benchmark_image(size: int = 224) -> np.ndarray:
    """skimage's chelsea, centre-cropped and resized to ``size``², (H, W, 3) float32 in [0, 1]."""
    from skimage.data import chelsea
    from skimage.transform import resize

    img = chelsea()
    h, w = img.shape[:2]
    s = min(h, w)
    crop = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    return resize(crop, (size, size), anti_aliasing=True).astype(np.float32)


def tiny_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(), torch.nn.Linear(32, 10)).eval()


class Softmax(torch.nn.Module):
    """The model's probabilities: what every contender explains."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return torch.softmax(self.inner(x), dim=1)


# -- the floor ---------------------------------------------------------------------------------------------------
def per_image_seconds(model, pool: torch.Tensor, size: int, images: int) -> tuple[float, float]:
    """(wall, CPU) seconds per image running ``images`` images from ``pool`` in batches of ``size``."""
    batch = pool[np.arange(size) % len(pool)].contiguous()
    n_batches = max(1, -(-images // size))
    with torch.inference_mode():
        model(batch)  # warm-up
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n_batches):
            model(batch)
        return (time.perf_counter() - w0) / (n_batches * size), (time.process_time() - c0) / (n_batches * size)


def timed(fn, *args, **kwargs):
    """(wall seconds, CPU seconds of this process, result) of ``fn(*args, **kwargs)``."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return time.perf_counter() - w0, time.process_time() - c0, out


# -- contenders ----------------------------------------------------------------------------------------------------
def nbx_lime(net, chw, labels, n_samples, batch_size=None):
    m = nbx.as_model(net, batch_size=batch_size)  # fresh: unless fixed, the batch size is found again
    return nbx.lime_image(m, chw, segmentation=labels, n_samples=n_samples, seed=0), m


def lime_package(net, hwc, labels, n_samples):
    from lime import lime_image

    def classifier(batch):
        x = torch.from_numpy(np.ascontiguousarray(np.asarray(batch, dtype=np.float32).transpose(0, 3, 1, 2)))
        with torch.inference_mode():
            return torch.softmax(net(x), 1).numpy()

    explainer = lime_image.LimeImageExplainer(random_state=0)
    return explainer.explain_instance(hwc.astype(np.float64), classifier, hide_color=None, num_samples=n_samples,
                                      segmentation_fn=lambda img: labels, random_seed=0)


def captum_lime(net, chw, labels, fill, target, n_samples):
    from captum.attr import Lime

    x = torch.from_numpy(chw[None])
    mask = torch.from_numpy(labels.astype(np.int64))[None, None]
    return Lime(Softmax(net)).attribute(x, baselines=torch.from_numpy(fill[None]), target=target,
                                        feature_mask=mask, n_samples=n_samples)


def nbx_shapley(net, chw, labels, batch_size=None, **options):
    m = nbx.as_model(net, batch_size=batch_size)
    return nbx.shapley_image(m, chw, segmentation=labels, seed=0, **options), m


def captum_svs(net, chw, labels, fill, target, n_permutations):
    from captum.attr import ShapleyValueSampling

    x = torch.from_numpy(chw[None])
    mask = torch.from_numpy(labels.astype(np.int64))[None, None]
    calls = []

    class Counting(torch.nn.Module):
        def forward(self, inp):
            calls.append(len(inp))
            return torch.softmax(net(inp), 1)

    torch.manual_seed(0)
    attr = ShapleyValueSampling(Counting()).attribute(x, baselines=torch.from_numpy(fill[None]), target=target,
                                                      feature_mask=mask, n_samples=n_permutations)
    return attr, sum(calls)


def batch_of(model) -> int:
    return next(iter(model._sizers.values())).best


def browser_latency(heavy: bool) -> dict | None:
    """Run the browser latency test in a subprocess; its in-page timings come back as JSON."""
    out = Path(tempfile.mkdtemp()) / "latency.json"
    env = dict(os.environ, NBX_LATENCY_OUT=str(out))
    if heavy:
        env["NBX_LATENCY_MODEL"] = "resnet18"
    test = "tests/e2e/test_superpixels_browser.py::test_table_answers_without_the_kernel_and_toggle_latency"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0 or not out.exists():
        print(f"  (browser latency test did not run: {done.stdout[-600:]}{done.stderr[-400:]})")
        return None
    return json.loads(out.read_text())


def corr(a, b) -> str:
    if np.std(a) == 0 or np.std(b) == 0:
        return "n/a (a constant vector)"
    return f"{np.corrcoef(a, b)[0, 1]:.3f}"


# -- main ------------------------------------------------------------------------------------------------------------
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny CNN, 32x32 image, few samples (seconds)")
    parser.add_argument("--repeats", type=int, default=None, help="rounds; the minimum per contender is kept")
    parser.add_argument("--samples", type=int, default=None, help="LIME samples (1000)")
    parser.add_argument("--skip-exact", action="store_true", help="skip exact Shapley (4096 passes)")
    parser.add_argument("--skip-browser", action="store_true", help="skip the in-page toggle latency")
    parser.add_argument("--only-exact", action="store_true",
                        help="only exact Shapley (M=12) against its floor, every round")
    args = parser.parse_args(argv)

    if args.quick:
        net, hwc, name = tiny_model(), np.random.default_rng(0).random((32, 32, 3)).astype(np.float32), "tiny CNN at 32x32"
    else:
        net, hwc, name = benchmark_model(), benchmark_image(), "ResNet-18-shaped CNN (random weights) at 224x224"
    chw = np.ascontiguousarray(hwc.transpose(2, 0, 1))
    n_samples = args.samples or (200 if args.quick else 1000)
    repeats = args.repeats or (1 if args.quick else 3)
    seg = nbx.segment(hwc, "slic", n_segments=50 if not args.quick else 20)
    labels, m = seg.labels, seg.n_segments
    grid = nbx.segment(hwc, "grid", rows=3, cols=4).labels
    game = nbx.SuperpixelGame(net, chw, labels)
    fill, target = game.fills[0], game.target
    n_perm_captum = 4 if args.quick else 10
    n_perm_nbx = max(2, int(round((1 + n_perm_captum * m - 2) / (m - 1))))  # equal evaluations
    pool = torch.from_numpy(game.render(np.random.default_rng(0).random((64, m)) < 0.5))
    probe_images = 16 if args.quick else 64
    print(f"{name}; {m} slic superpixels; torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"minimum of {repeats} interleaved rounds, wall-clock and this process's CPU time")

    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    per_image = {s: (np.inf, np.inf) for s in SIZES}
    chosen: dict[str, list[int]] = {}
    results: dict[str, object] = {}

    def floor_size() -> int:
        return min(SIZES, key=lambda s: per_image[s][0])

    def record(key, w, c, batch=None):
        wall[key] = min(wall.get(key, np.inf), w)
        cpu[key] = min(cpu.get(key, np.inf), c)
        if batch is not None:
            chosen.setdefault(key, []).append(batch)

    for rep in range(repeats):
        for s in SIZES:  # the floor first in every round: the fixed-batch contenders use its fastest size
            w, c = per_image_seconds(net, pool, s, probe_images)
            per_image[s] = (min(per_image[s][0], w), min(per_image[s][1], c))
        jobs = ["nbx lime", "nbx lime fixed", "lime package", "captum lime", "nbx sampled", "captum svs"]
        if args.only_exact:
            jobs = ["nbx exact", "nbx exact fixed"]
        elif not args.skip_exact and rep < 2:
            jobs.append("nbx exact" if rep == 0 else "nbx exact fixed")  # 4096 passes each
        shift = rep % len(jobs)
        for job in jobs[shift:] + jobs[:shift]:
            fixed = floor_size() if job.endswith("fixed") else None
            if job.startswith("nbx lime"):
                w, c, (results["nbx lime"], model) = timed(nbx_lime, net, chw, labels, n_samples, fixed)
                record(job, w, c, batch_of(model))
            elif job == "lime package":
                w, c, results[job] = timed(lime_package, net, hwc, labels, n_samples)
                record(job, w, c)
            elif job == "captum lime":
                w, c, results[job] = timed(captum_lime, net, chw, labels, fill, target, n_samples)
                record(job, w, c)
            elif job == "nbx sampled":
                w, c, (results[job], model) = timed(nbx_shapley, net, chw, labels, method="sampled",
                                                    n_permutations=n_perm_nbx)
                record(job, w, c, batch_of(model))
            elif job == "captum svs":
                w, c, (results[job], results["captum svs evaluations"]) = timed(
                    captum_svs, net, chw, labels, fill, target, n_perm_captum)
                record(job, w, c)
            elif job.startswith("nbx exact"):
                w, c, (results["nbx exact"], model) = timed(nbx_shapley, net, chw, grid, fixed, method="exact")
                record(job, w, c, batch_of(model))

    best_size = floor_size()
    floor_wall = per_image[best_size][0]
    floor_cpu = min(c for _, c in per_image.values())
    print("floor probe, wall ms per image by batch size: "
          + ", ".join(f"{s}: {per_image[s][0] * 1e3:.1f}" for s in SIZES))
    print("floor probe, CPU ms per image by batch size:  "
          + ", ".join(f"{s}: {per_image[s][1] * 1e3:.1f}" for s in SIZES))
    print(f"fastest: batch {best_size}; nbexplain's BatchSizer settled on: "
          + "; ".join(f"{k} {v}" for k, v in chosen.items() if not k.endswith("fixed")))
    print()
    if args.only_exact:
        ex = results["nbx exact"]
        floor = (ex.n_evaluations * floor_wall, ex.n_evaluations * floor_cpu)
        print(f"exact Shapley M=12: floor ({ex.n_evaluations} passes at batch {best_size}) {floor[0]:.2f} s wall, "
              f"{floor[1]:.2f} s CPU")
        for key in ("nbx exact", "nbx exact fixed"):
            print(f"{key.replace('nbx', 'nbexplain')} Shapley (M=12) / floor = {wall[key] / floor[0]:.2f}x wall "
                  f"({wall[key]:.2f} s), {cpu[key] / floor[1]:.2f}x CPU (target <= 1.10x)")
        return
    lime_passes = n_samples + 1
    sampled = results["nbx sampled"]
    svs_evals = results["captum svs evaluations"]
    rows = [
        ("LIME", f"floor ({lime_passes} passes at batch {best_size})", None, lime_passes),
        ("LIME", "nbexplain lime_image (batch found automatically)", "nbx lime", lime_passes),
        ("LIME", f"nbexplain lime_image (batch fixed at {best_size})", "nbx lime fixed", lime_passes),
        ("LIME", "lime package (defaults: batch 10)", "lime package", lime_passes),
        ("LIME", "captum Lime (defaults: batch 1)", "captum lime", n_samples),
        ("sampled Shapley", f"floor ({sampled.n_evaluations} passes)", None, sampled.n_evaluations),
        ("sampled Shapley", f"nbexplain, {n_perm_nbx} antithetic permutations", "nbx sampled", sampled.n_evaluations),
        ("sampled Shapley", f"captum ShapleyValueSampling, {n_perm_captum} perms", "captum svs", svs_evals),
    ]
    if "nbx exact" in results:
        ex = results["nbx exact"]
        rows.append(("exact Shapley M=12", f"floor ({ex.n_evaluations} passes)", None, ex.n_evaluations))
        for key, label in (("nbx exact", "nbexplain exact (batch found automatically)"),
                           ("nbx exact fixed", f"nbexplain exact (batch fixed at {best_size})")):
            if key in wall:
                rows.append(("exact Shapley M=12", label, key, ex.n_evaluations))
    print(f"{'task':<19}{'contender':<50}{'passes':>7}{'wall s':>9}{'x floor':>8}{'CPU s':>9}{'x floor':>8}")
    floors: dict[str, tuple[float, float]] = {}
    for task, who, key, passes in rows:
        if key is None:
            floors[task] = (passes * floor_wall, passes * floor_cpu)
            w, c = floors[task]
        else:
            w, c = wall[key], cpu[key]
        print(f"{task:<19}{who:<50}{passes:>7}{w:>9.2f}{w / floors[task][0]:>8.2f}{c:>9.2f}{c / floors[task][1]:>8.2f}")
    print()

    def ratio(key, task):
        return f"{wall[key] / floors[task][0]:.2f}x wall, {cpu[key] / floors[task][1]:.2f}x CPU"

    print(f"nbexplain LIME / floor = {wall['nbx lime'] / floors['LIME'][0]:.2f}x (target <= 1.10x); "
          f"{ratio('nbx lime', 'LIME')}; with the batch fixed: {ratio('nbx lime fixed', 'LIME')}")
    print(f"lime package / floor = {wall['lime package'] / floors['LIME'][0]:.2f}x; "
          f"captum Lime / floor = {wall['captum lime'] / floors['LIME'][0]:.2f}x "
          f"(CPU: {cpu['lime package'] / floors['LIME'][1]:.2f}x, {cpu['captum lime'] / floors['LIME'][1]:.2f}x)")
    print(f"nbexplain LIME is {wall['lime package'] / wall['nbx lime']:.2f}x as fast as lime, "
          f"{wall['captum lime'] / wall['nbx lime']:.2f}x as fast as captum Lime (wall-clock)")
    for key in ("nbx exact", "nbx exact fixed"):
        if key in wall:
            print(f"{key.replace('nbx', 'nbexplain')} Shapley (M=12) / floor = "
                  f"{wall[key] / floors['exact Shapley M=12'][0]:.2f}x (target <= 1.10x); "
                  f"{ratio(key, 'exact Shapley M=12')}")
    per_eval = sampled.n_evaluations / svs_evals
    print(f"sampled Shapley: nbexplain / floor = {ratio('nbx sampled', 'sampled Shapley')}; captum / floor = "
          f"{wall['captum svs'] * per_eval / floors['sampled Shapley'][0]:.2f}x wall per evaluation; "
          f"captum / nbexplain = {wall['captum svs'] / wall['nbx sampled']:.2f}x ({svs_evals} vs "
          f"{sampled.n_evaluations} evaluations)")

    # agreement (different random samples, so correlation rather than equality)
    lime_pkg = results["lime package"]
    pkg = np.zeros(m)
    for f, wgt in lime_pkg.local_exp[target]:
        pkg[f] = wgt
    ours = results["nbx lime"]
    captum_w = results["captum lime"][0, 0].numpy()
    captum_sp = np.array([captum_w[labels == j].mean() for j in range(m)])
    svs = results["captum svs"][0, 0].numpy()
    svs_sp = np.array([svs[labels == j].mean() for j in range(m)])
    print(f"LIME fidelity (weighted R²): nbexplain {ours.score:.3f}, lime package {lime_pkg.score:.3f}")
    print(f"correlation of LIME weights: nbexplain vs lime {corr(ours.weights, pkg)}, "
          f"vs captum (Lasso) {corr(ours.weights, captum_sp)}")
    print(f"correlation of sampled Shapley values, nbexplain vs captum: {corr(sampled.values, svs_sp)}; "
          f"nbexplain efficiency gap {sampled.efficiency_gap:.2g}")

    if not args.skip_browser and not args.quick:
        print()
        for heavy in (True, False):
            report = browser_latency(heavy)
            if report:
                for key in ("kernel", "table"):
                    if key in report:
                        r = report[key]
                        print(f"toggle latency in the page ({key} answers, {report['model']}): "
                              f"median {r['median_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms (n={r['n']})")


if __name__ == "__main__":
    main()
