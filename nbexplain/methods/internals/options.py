"""What a maximisation is asked to do, checked: its options as :class:`~.maximization.Settings` and its target as an
:class:`~.maximization.Objective`.

The defaults that depend on the model and the image size are settled here once (three colour channels are
decorrelated, the jitter is a sixteenth of the image, a seed of None is drawn and remembered), so the same
options reproduce a result: :func:`options_of` gives back the keyword arguments that redo it.

Examples
--------
>>> settings = settings_for(module, size=64, steps=96, lr=0.05, optimizer="adam", fourier=True, decorrelate=None,
...                         jitter=None, scale=0.1, rotate=10.0, l2=0.0, tv=0.0, blur_every=0, blur_sigma=0.5,
...                         value_range=(0.0, 1.0), seed=0, preview_every=0)
>>> objective, label = objective_for(model, module, "espresso", "score", settings)
>>> label
"class 'espresso'"
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..._validation import (
    check_bool,
    check_choice,
    check_int,
    check_int_pair,
    check_number,
    check_positive_int,
    check_range,
    check_seed,
    is_int,
)
from ...adapters.model import Model
from ...adapters.outputs import resolve_target
from ...errors import InputError
from ...inputs.images import model_channels
from .activations import layer_name, layer_named
from .maximization import OPTIMIZERS, Objective, Settings

#: what a maximisation's ``target`` may be
TARGET_EXPECTED = "a class (index or name), a (layer, channel) pair or a (layer, channel, y, x) tuple"


def settings_for(module, *, size, steps, lr, optimizer, fourier, decorrelate, jitter, scale, rotate, l2, tv,
                 blur_every, blur_sigma, value_range, seed, preview_every) -> Settings:
    """Every maximisation option checked, with the defaults that depend on the model and the size."""
    h, w = check_int_pair(size, "size", 8, "an (height, width) pair")
    channels = model_channels(module) or 3
    fourier = check_bool(fourier, "fourier")
    decorrelate = (channels == 3) if decorrelate is None else check_bool(decorrelate, "decorrelate")
    if decorrelate and channels != 3:
        raise InputError(f"decorrelate=True mixes 3 colour channels, but the model takes {channels}; "
                         "pass decorrelate=False")
    jitter = max(1, round(min(h, w) / 16)) if jitter is None else check_number(jitter, "jitter", 0)
    seed = check_seed(seed)
    if seed is None:  # fresh randomness, but remembered so that the result can be reproduced
        seed = int(np.random.default_rng().integers(2**31))
    return Settings(
        size=(h, w), channels=channels, steps=check_positive_int(steps, "steps"), lr=check_number(lr, "lr", above=0),
        optimizer=check_choice(optimizer, "optimizer", OPTIMIZERS), fourier=fourier, decorrelate=decorrelate,
        jitter=jitter, scale=check_number(scale, "scale", 0, below=1), rotate=check_number(rotate, "rotate", 0, 180),
        l2=check_number(l2, "l2", 0), tv=check_number(tv, "tv", 0), blur_every=check_int(blur_every, "blur_every", 0),
        blur_sigma=check_number(blur_sigma, "blur_sigma", above=0), value_range=check_range(value_range, "value_range"),
        seed=seed, preview_every=check_int(preview_every, "preview_every", 0))


def options_of(settings: Settings) -> dict[str, Any]:
    """The settings as the keyword arguments that reproduce them."""
    return {"size": settings.size, "steps": settings.steps, "lr": settings.lr, "optimizer": settings.optimizer,
            "fourier": settings.fourier, "decorrelate": settings.decorrelate, "jitter": settings.jitter,
            "scale": settings.scale, "rotate": settings.rotate, "l2": settings.l2, "tv": settings.tv,
            "blur_every": settings.blur_every, "blur_sigma": settings.blur_sigma,
            "value_range": settings.value_range, "seed": settings.seed}


def objective_for(model: Model, module, target: Any, output: str, settings: Settings) -> tuple[Objective, str]:
    """``target`` (see :data:`TARGET_EXPECTED`) as an :class:`Objective` and its description in words."""
    if isinstance(target, (tuple, list)):
        if len(target) not in (2, 4):
            raise InputError(f"target must be {TARGET_EXPECTED}; got a sequence of {len(target)}")
        layer = layer_named(module, target[0], "target's layer")
        channel = check_int(target[1], "target's channel", 0)
        name = layer_name(module, layer)
        if output != "score":
            raise InputError(f"output={output!r} is for class targets; a {('(layer, channel)', '(layer, channel, y, x)')[len(target) == 4]} "
                             "target maximises the activation itself (leave output='score')")
        if len(target) == 2:
            return Objective("channel", channel, layer), f"channel {channel} of {name!r}"
        y, x = check_int(target[2], "target's y", 0), check_int(target[3], "target's x", 0)
        return Objective("unit", channel, layer, y, x), f"unit ({y}, {x}) of channel {channel} of {name!r}"
    if target is None:
        raise InputError(f"target must be {TARGET_EXPECTED}; got None")
    low, high = settings.value_range
    grey = np.full((1, settings.channels, *settings.size), (low + high) / 2, dtype=np.float32)
    n = model.n_classes(grey)
    index = resolve_target(target, np.zeros(n), model.class_names)
    label = f"class {model.class_names[index]!r}" if model.class_names else f"class {index}"
    return Objective("class", index, log_probability=output == "probability"), label


def channel_list(channels: Any, name: str = "channels") -> list[int] | int:
    """``channels`` as a count (an int) or a list of distinct channel numbers."""
    if is_int(channels):
        return check_positive_int(channels, name)
    if isinstance(channels, (str, bytes)) or not isinstance(channels, Iterable):
        raise InputError(f"{name} must be a number of channels or a list of channel numbers; got {channels!r}")
    out = [check_int(c, name, 0) for c in channels]
    if not out:
        raise InputError(f"{name} must name at least one channel")
    if len(set(out)) != len(out):
        raise InputError(f"{name} lists a channel twice: {out}")
    return out


__all__ = ["TARGET_EXPECTED", "channel_list", "objective_for", "options_of", "settings_for"]
