"""How fast is nbexplain's feature visualisation? Steps per second against the floor and against Lucent.

One step of activation maximisation needs, for each image of the batch, a forward and a backward pass of the
model on the parameterised image; nothing can beat running exactly those at the machine's fastest batch size.
That **floor** is measured by timing ``model(x)`` and ``autograd.grad`` with respect to ``x`` on batches of
1, 2, 4, 8 and 16 images of the same size, keeping the fastest time per image. A channel objective needs the
model only up to its layer: the script also measures that cheaper floor ("floor to the layer"), which
nbexplain can reach because its forward pass stops at the layer.

Contenders, in one process, interleaved, the minimum of ``--repeats`` runs kept:

* nbexplain: ``nbx.maximize_channels(model, layer, channels=B, size=S, steps=T)`` with its defaults, the
  decorrelated Fourier/colour parameterisation and jitter, scale and rotation robustness;
* Lucent (``torch-lucent`` 0.1.8): ``render_vis`` with ``param.image(S, batch=B, fft=True, decorrelate=True)``,
  its standard transforms and the same channel objectives. Lucent imports torchvision (and kornia), which this
  project does not install beside its torch; when Lucent cannot be imported the script says why and times a
  plain hand-written loop instead: Lucent's recipe (Fourier parameterisation, colour decorrelation, sigmoid,
  pad/jitter/scale/rotate/jitter transforms applied one after another, a hook on the layer, the full forward
  pass, Adam at lr 0.05), as one writes it by hand.

The result is per image-step: seconds per (step x image), and the ratios.

    python benchmarks/maximization.py            # EfficientNet-Lite0, layer net._blocks.6, 8 channels of 96x96
    python benchmarks/maximization.py --quick    # the tank CNN, 8 channels of 48x48 (seconds; the smoke test)
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

import nbexplain as nbx
from nbexplain.adapters.allocator import steady_heap
from nbexplain.methods.internals.activations import forward_to, layer_named
from nbexplain.methods.internals.parameterization import (
    COLOR_MATRIX,
    FOURIER_DIVISOR,
    rfft2_frequencies,
)

SIZES = (1, 2, 4, 8, 16)


def load(quick: bool):
    if quick:
        return nbx.datasets.tank_classifier(), "8", 48, "tank CNN (nbx.datasets.tank_classifier)"
    return nbx.datasets.imagenet_classifier(), "net._blocks.6", 96, "EfficientNet-Lite0 (nbx.datasets)"


# -- the floor --------------------------------------------------------------------------------------------------
def floor_per_image(model, layer, size: int, batch: int, reps: int, to_layer: bool) -> float:
    """Seconds per image of forward + backward w.r.t. the input (the whole model, or up to ``layer``)."""
    x = torch.rand(batch, 3, size, size, requires_grad=True)

    def once():
        if to_layer:
            _, store = forward_to(model, x, [layer])
            out = store[id(layer)][:, 0].mean()
        else:
            out = model(x)[:, 0].sum()
        torch.autograd.grad(out, x)

    once()
    t0 = time.perf_counter()
    for _ in range(reps):
        once()
    return (time.perf_counter() - t0) / (reps * batch)


# -- Lucent, or Lucent's recipe by hand ------------------------------------------------------------------------
def lucent_or_why():
    """Lucent's modules, or why they cannot run here (the packages it imports that are missing)."""
    import importlib.util

    if importlib.util.find_spec("lucent") is None:
        return None, "torch-lucent is not installed (pip install torch-lucent==0.1.8 --no-deps)"
    missing = [m for m in ("torchvision", "kornia", "decorator") if importlib.util.find_spec(m) is None]
    if missing:
        return None, f"it imports {', '.join(missing)}, not installed here"
    try:
        from lucent.optvis import objectives, param, render, transform
    except Exception as exc:  # anything else it trips on
        return None, f"importing it fails: {type(exc).__name__}: {exc}"
    return (objectives, param, render, transform), ""


def run_lucent(lucent, model, layer_name: str, channels, size: int, steps: int):
    objectives, param, render, transform = lucent
    objective = sum(objectives.channel(layer_name.replace(".", "_"), c, batch=i) for i, c in enumerate(channels))
    t0 = time.perf_counter()
    images = render.render_vis(model, objective, lambda: param.image(size, batch=len(channels), fft=True,
                                                                      decorrelate=True),
                               transforms=transform.standard_transforms, thresholds=(steps,), show_image=False,
                               progress=False, preprocess=False, fixed_image_size=size)
    return time.perf_counter() - t0, images


def by_hand(model, layer, channels, size: int, steps: int, seed: int = 0):
    """Lucent's recipe in plain torch (what one writes without a library). Returns seconds."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    b = len(channels)
    freqs = rfft2_frequencies(size, size)
    spectrum = (torch.randn(b, 3, *freqs.shape, 2) * 0.01).requires_grad_(True)
    scale = torch.from_numpy(1.0 / np.maximum(freqs, 1.0 / size)).float()[None, None, :, :, None]
    colour = torch.from_numpy(COLOR_MATRIX.T.copy())

    def image():
        spatial = torch.fft.irfftn(torch.view_as_complex(scale * spectrum), s=(size, size), norm="ortho")
        spatial = spatial / FOURIER_DIVISOR
        return torch.sigmoid((spatial.permute(0, 2, 3, 1) @ colour).permute(0, 3, 1, 2))

    def jitter(t, d):
        dx, dy = rng.integers(d, size=2)
        return t[:, :, dx:dx + t.shape[2] - d, dy:dy + t.shape[3] - d]

    def random_scale(t):
        s = rng.choice([1 + (i - 5) / 50 for i in range(11)])
        h = int(np.ceil(s * t.shape[2]))
        return F.interpolate(t, size=(h, h), mode="bilinear", align_corners=True)

    def random_rotate(t):
        angle = np.deg2rad(rng.choice(list(range(-10, 11)) + 5 * [0]))
        theta = torch.tensor([[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0]],
                             dtype=t.dtype).expand(len(t), 2, 3)
        return F.grid_sample(t, F.affine_grid(theta, list(t.shape), align_corners=False), align_corners=False)

    store = {}
    handle = layer.register_forward_hook(lambda _m, _i, out: store.__setitem__("act", out))
    index = torch.arange(b)
    chans = torch.tensor(channels)
    optimiser = torch.optim.Adam([spectrum], lr=0.05)
    t0 = time.perf_counter()
    try:
        for _ in range(steps):
            optimiser.zero_grad()
            x = F.pad(image(), (12, 12, 12, 12), value=0.5)
            x = jitter(random_rotate(random_scale(jitter(x, 8))), 4)
            model(x)
            loss = -store["act"][index, chans].mean((1, 2)).sum()
            loss.backward()
            optimiser.step()
    finally:
        handle.remove()
    return time.perf_counter() - t0


def main(argv=None) -> None:
    steady_heap()  # floors and peers under the allocator settings nbexplain gives every model it adapts
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the tank CNN at 48x48 (seconds)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--channels", type=int, default=8)
    args = parser.parse_args(argv)
    model, layer_name, size, name = load(args.quick)
    model.eval()
    layer = layer_named(model, layer_name)
    steps = args.steps or (24 if args.quick else 16)
    repeats = args.repeats or (2 if args.quick else 3)
    channels = list(range(args.channels))
    b = len(channels)
    lucent, why = lucent_or_why()
    rival = "lucent" if lucent is not None else "hand-written loop"
    print(f"activation maximisation of {b} channels of {layer_name!r} in {name}, {size}x{size}, {steps} steps; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads; min of {repeats} interleaved runs")
    if lucent is None:
        print(f"Lucent (torch-lucent 0.1.8) cannot run beside this torch: {why} (torchvision must match the torch "
              "build, and nbexplain installs none next to its own); timing a plain hand-written loop of Lucent's "
              "recipe instead.")
    per_image = {("model", s): np.inf for s in SIZES} | {("layer", s): np.inf for s in SIZES}
    best = {"nbexplain": np.inf, rival: np.inf}
    values = None
    reps = 2 if args.quick else 1
    for rep in range(repeats):
        jobs = ["floor", "nbexplain", rival]
        jobs = jobs[rep % 3:] + jobs[:rep % 3]
        for job in jobs:
            if job == "floor":
                for s in SIZES:
                    for where in ("model", "layer"):
                        t = floor_per_image(model, layer, size, s, reps, where == "layer")
                        per_image[(where, s)] = min(per_image[(where, s)], t)
            elif job == "nbexplain":
                t0 = time.perf_counter()
                gallery = nbx.maximize_channels(model, layer_name, channels, size=size, steps=steps, progress=False)
                best[job] = min(best[job], (time.perf_counter() - t0) / (steps * b))
                values = gallery.values
            elif lucent is not None:
                seconds, _ = run_lucent(lucent, model, layer_name, channels, size, steps)
                best[job] = min(best[job], seconds / (steps * b))
            else:
                best[job] = min(best[job], by_hand(model, layer, channels, size, steps) / (steps * b))
    floor_size = min(SIZES, key=lambda s: per_image[("model", s)])
    layer_size = min(SIZES, key=lambda s: per_image[("layer", s)])
    floor, floor_layer = per_image[("model", floor_size)], per_image[("layer", layer_size)]
    print("floor probe, ms per image (whole model / to the layer) by batch size: " + ", ".join(
        f"{s}: {per_image[('model', s)] * 1e3:.2f} / {per_image[('layer', s)] * 1e3:.2f}" for s in SIZES))
    print()
    print(f"{'contender':<40}{'ms/image-step':>14}{'steps/s':>9}{'x floor':>9}")
    rows = [(f"floor (whole model, batch {floor_size})", floor), (f"floor to the layer (batch {layer_size})", floor_layer),
            (f"nbexplain (batch {b})", best["nbexplain"]), (f"{rival} (batch {b})", best[rival])]
    for label, seconds in rows:
        print(f"{label:<40}{seconds * 1e3:>14.2f}{1 / (seconds * b):>9.2f}{seconds / floor:>9.2f}")
    print()
    print(f"nbexplain / floor = {best['nbexplain'] / floor:.2f}x (target <= 1.15x)")
    print(f"nbexplain / floor to the layer = {best['nbexplain'] / floor_layer:.2f}x")
    print(f"nbexplain / {rival} = {best['nbexplain'] / best[rival]:.2f}x (target < 1)")
    print(f"final mean activations (nbexplain): {np.round(values, 3).tolist()}")


if __name__ == "__main__":
    main()
