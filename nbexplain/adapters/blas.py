"""numpy's BLAS on one thread beside a torch model's passes, so that its idle workers do not take torch's cores.

OpenBLAS (numpy's BLAS) runs a product of a few hundred rows on every core, and its worker threads then
spin for about 0.1 s waiting for more work before they sleep. On a small machine they take a core from
torch's threads for that long. Measured on 2 cores: after one (224 x 28) @ (28 x 28) @ (28 x 224) product
(an occlusion map's aggregation), the next 100 ms of a ResNet-18-shaped CNN's (width 8) single-image
batches alternated between 1.3 and 5.3 ms; a batch sizer climbing in that spell stopped at size 2 instead
of 16, and the full-forward occlusion benchmark ran at 1.25x its floor instead of ~1.0x.

:func:`one_blas_thread` runs the small linear algebra nbexplain does between a model's passes (surrogate
fits, an occlusion map's aggregation) and a torch model's runs of batches on one BLAS thread, through
threadpoolctl (scikit-learn's way of doing the same): sizes where more threads gain nothing, and nothing is
left spinning. The user's own numpy keeps its threads; so does a scikit-learn model's prediction, whose work
is the BLAS.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator

_controller: list = []  # [threadpoolctl.ThreadpoolController or None, the number of modules imported when made]
_lock = threading.Lock()


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """numpy's BLAS (OpenBLAS, MKL, BLIS) on one thread inside, as it was after; nothing without threadpoolctl."""
    controller = _blas_controller()
    if controller is None:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield


def _blas_controller():
    """threadpoolctl's view of the BLAS libraries loaded, made again when modules were imported since (a new
    extension may bring its own BLAS; finding the libraries costs ~2 ms, limiting them ~7 µs)."""
    with _lock:
        if not _controller or _controller[1] != len(sys.modules):
            try:
                from threadpoolctl import ThreadpoolController

                controller = ThreadpoolController().select(user_api="blas")
                found = controller if controller.lib_controllers else None
            except Exception:  # not installed, or a library it cannot read: leave the threads as they are
                found = None
            _controller[:] = [found, len(sys.modules)]
        return _controller[0]


__all__ = ["one_blas_thread"]
