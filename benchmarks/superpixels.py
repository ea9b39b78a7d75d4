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

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import nbexplain as nbx

os.environ.setdefault("TQDM_DISABLE", "1")  # the lime package's progress bar

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
def per_image_seconds(model, pool: torch.Tensor, size: int, images: int) -> float:
    """Seconds per image running ``images`` images from ``pool`` in batches of ``size`` (after a warm-up)."""
    batch = pool[np.arange(size) % len(pool)].contiguous()
    n_batches = max(1, -(-images // size))
    with torch.inference_mode():
        model(batch)
        t0 = time.perf_counter()
        for _ in range(n_batches):
            model(batch)
        return (time.perf_counter() - t0) / (n_batches * size)


# -- contenders ----------------------------------------------------------------------------------------------------
def run_nbx_lime(net, chw, labels, n_samples):
    m = nbx.as_model(net)  # fresh: the batch size is found again in every run
    t0 = time.perf_counter()
    result = nbx.lime_image(m, chw, segmentation=labels, n_samples=n_samples, seed=0)
    seconds = time.perf_counter() - t0
    return seconds, result, next(iter(m._sizers.values())).best


def run_lime_package(net, hwc, labels, n_samples):
    from lime import lime_image

    def classifier(batch):
        x = torch.from_numpy(np.ascontiguousarray(np.asarray(batch, dtype=np.float32).transpose(0, 3, 1, 2)))
        with torch.inference_mode():
            return torch.softmax(net(x), 1).numpy()

    explainer = lime_image.LimeImageExplainer(random_state=0)
    t0 = time.perf_counter()
    explanation = explainer.explain_instance(hwc.astype(np.float64), classifier, hide_color=None,
                                             num_samples=n_samples, segmentation_fn=lambda img: labels,
                                             random_seed=0)
    return time.perf_counter() - t0, explanation


def run_captum_lime(net, chw, labels, fill, target, n_samples):
    from captum.attr import Lime

    x = torch.from_numpy(chw[None])
    mask = torch.from_numpy(labels.astype(np.int64))[None, None]
    t0 = time.perf_counter()
    attr = Lime(Softmax(net)).attribute(x, baselines=torch.from_numpy(fill[None]), target=target,
                                        feature_mask=mask, n_samples=n_samples)
    return time.perf_counter() - t0, attr


def run_nbx_shapley(net, chw, labels, **options):
    m = nbx.as_model(net)
    t0 = time.perf_counter()
    result = nbx.shapley_image(m, chw, segmentation=labels, seed=0, **options)
    return time.perf_counter() - t0, result, next(iter(m._sizers.values())).best


def run_captum_svs(net, chw, labels, fill, target, n_permutations):
    from captum.attr import ShapleyValueSampling

    x = torch.from_numpy(chw[None])
    mask = torch.from_numpy(labels.astype(np.int64))[None, None]
    calls = []

    class Counting(torch.nn.Module):
        def forward(self, inp):
            calls.append(len(inp))
            return torch.softmax(net(inp), 1)

    torch.manual_seed(0)
    t0 = time.perf_counter()
    attr = ShapleyValueSampling(Counting()).attribute(x, baselines=torch.from_numpy(fill[None]), target=target,
                                                      feature_mask=mask, n_samples=n_permutations)
    return time.perf_counter() - t0, attr, sum(calls)


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
    args = parser.parse_args(argv)

    if args.quick:
        net, hwc, name = tiny_model(), np.random.default_rng(0).random((32, 32, 3)).astype(np.float32), "tiny CNN at 32x32"
    else:
        net, hwc, name = benchmark_model(), benchmark_image(), "ResNet-18-shaped CNN (random weights) at 224x224"
    chw = np.ascontiguousarray(hwc.transpose(2, 0, 1))
    n_samples = args.samples or (200 if args.quick else 1000)
    repeats = args.repeats or 2
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
          f"min of {repeats} interleaved rounds")

    best: dict[str, float] = {}
    per_image = {s: np.inf for s in SIZES}
    chosen: list[int] = []  # batch sizes nbexplain's BatchSizer settled on
    results: dict[str, object] = {}

    def keep(key, seconds):
        best[key] = min(best.get(key, np.inf), seconds)

    for rep in range(repeats):
        jobs = ["floor", "nbx lime", "lime package", "captum lime", "nbx sampled", "captum svs"]
        if not args.skip_exact and rep == 0:
            jobs.append("nbx exact")  # 4096 passes: once (its floor is per image times 4096)
        shift = rep % len(jobs)
        jobs = jobs[shift:] + jobs[:shift]
        for job in jobs:
            if job == "floor":
                for s in SIZES:
                    per_image[s] = min(per_image[s], per_image_seconds(net, pool, s, probe_images))
            elif job == "nbx lime":
                seconds, results["nbx lime"], size = run_nbx_lime(net, chw, labels, n_samples)
                chosen.append(size)
                keep(job, seconds)
            elif job == "lime package":
                seconds, results[job] = run_lime_package(net, hwc, labels, n_samples)
                keep(job, seconds)
            elif job == "captum lime":
                seconds, results[job] = run_captum_lime(net, chw, labels, fill, target, n_samples)
                keep(job, seconds)
            elif job == "nbx sampled":
                seconds, results[job], _ = run_nbx_shapley(net, chw, labels, method="sampled",
                                                           n_permutations=n_perm_nbx)
                keep(job, seconds)
            elif job == "captum svs":
                seconds, results[job], calls = run_captum_svs(net, chw, labels, fill, target, n_perm_captum)
                results["captum svs evaluations"] = calls
                keep(job, seconds)
            elif job == "nbx exact":
                seconds, results[job], _ = run_nbx_shapley(net, chw, grid, method="exact")
                keep(job, seconds)

    best_size = min(per_image, key=per_image.get)
    floor_img = per_image[best_size]
    print("floor probe, per image by batch size: " + ", ".join(f"{s}: {per_image[s] * 1e3:.1f} ms" for s in SIZES))
    print(f"fastest: batch {best_size}; nbexplain's BatchSizer chose {chosen} in its LIME runs")
    print()
    lime_passes = n_samples + 1
    sampled = results["nbx sampled"]
    svs_evals = results["captum svs evaluations"]
    rows = [
        ("LIME", f"floor ({lime_passes} passes at batch {best_size})", lime_passes * floor_img, lime_passes),
        ("LIME", "nbexplain lime_image", best["nbx lime"], lime_passes),
        ("LIME", "lime package (defaults)", best["lime package"], lime_passes),
        ("LIME", "captum Lime (defaults)", best["captum lime"], n_samples),
        ("sampled Shapley", f"floor ({sampled.n_evaluations} passes)", sampled.n_evaluations * floor_img, sampled.n_evaluations),
        ("sampled Shapley", f"nbexplain, {n_perm_nbx} antithetic permutations", best["nbx sampled"], sampled.n_evaluations),
        ("sampled Shapley", f"captum ShapleyValueSampling, {n_perm_captum} permutations", best["captum svs"], svs_evals),
    ]
    if "nbx exact" in best:
        ex = results["nbx exact"]
        rows += [("exact Shapley M=12", f"floor ({ex.n_evaluations} passes)", ex.n_evaluations * floor_img, ex.n_evaluations),
                 ("exact Shapley M=12", "nbexplain shapley_image(method='exact')", best["nbx exact"], ex.n_evaluations)]
    print(f"{'task':<20}{'contender':<52}{'passes':>7}{'seconds':>10}{'x floor':>9}")
    floors = {}
    for task, who, seconds, passes in rows:
        if who.startswith("floor"):
            floors[task] = seconds
        print(f"{task:<20}{who:<52}{passes:>7}{seconds:>10.2f}{seconds / floors[task]:>9.2f}")
    print()
    print(f"nbexplain LIME / floor = {best['nbx lime'] / floors['LIME']:.2f}x (target <= 1.10x)")
    print(f"lime package / floor = {best['lime package'] / floors['LIME']:.2f}x; "
          f"captum Lime / floor = {best['captum lime'] / floors['LIME']:.2f}x")
    print(f"nbexplain LIME is {best['lime package'] / best['nbx lime']:.2f}x faster than lime, "
          f"{best['captum lime'] / best['nbx lime']:.2f}x faster than captum Lime")
    if "nbx exact" in best:
        print(f"nbexplain exact Shapley (M=12) / floor = {best['nbx exact'] / floors['exact Shapley M=12']:.2f}x "
              "(target <= 1.10x)")
    print(f"sampled Shapley: nbexplain / floor = {best['nbx sampled'] / floors['sampled Shapley']:.2f}x, "
          f"captum / floor = {best['captum svs'] * sampled.n_evaluations / svs_evals / floors['sampled Shapley']:.2f}x "
          f"(per evaluation); captum / nbexplain = {best['captum svs'] / best['nbx sampled']:.2f}x "
          f"({svs_evals} vs {sampled.n_evaluations} evaluations)")

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
