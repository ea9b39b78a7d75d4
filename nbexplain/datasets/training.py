"""Training the small torch classifiers of the data sets: seeded, reproducible, the caller's random state untouched.

The networks of :func:`~nbexplain.datasets.tank_classifier` and :func:`~nbexplain.datasets.digits_classifier`
train in seconds the same way: Adam on the cross-entropy over mini-batches of shuffled rows, the weights drawn
from ``seed`` inside ``torch.random.fork_rng`` and the order of the rows from ``numpy.random.default_rng(seed)``.
The trained model is frozen for explaining: eval mode, no parameter gradients (attribution needs input
gradients only), ``class_names`` set.

Examples
--------
>>> model = train_classifier(make_network, x, y, epochs=6, seed=0, lr=3e-3, batch_size=32)
>>> frozen(model, ["no tank", "tank"])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def train_classifier(network: Callable[[], Any], x: Any, y: Any, *, epochs: int, seed: int, lr: float,
                     batch_size: int) -> Any:
    """A new ``network()`` (its initial weights drawn with ``seed``) trained on the tensors ``x`` and ``y``
    (class indices) for ``epochs`` passes; returned in train mode."""
    import torch

    order_rng = np.random.default_rng(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = network()
        optimiser = torch.optim.Adam(model.parameters(), lr=lr)
        model.train()
        for _ in range(epochs):
            order = torch.from_numpy(order_rng.permutation(len(y)))
            for start in range(0, len(y), batch_size):
                idx = order[start:start + batch_size]
                optimiser.zero_grad()
                torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
                optimiser.step()
    return model


def frozen(model: Any, class_names: Sequence[str]) -> Any:
    """``model`` ready to be explained: in eval mode, its parameters frozen, with ``class_names``."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    model.class_names = list(class_names)
    return model


__all__ = ["frozen", "train_classifier"]
