"""How an optimised image is parameterised: plain pixels, or the decorrelated Fourier and colour space of
Olah, Mordvintsev & Schubert 2017 ("Feature Visualization", Distill), as in Lucid.

* ``fourier``: the image is the inverse real FFT of a spectrum whose coefficients are scaled by
  ``1 / frequency`` (Lucid's ``fft_image``), so gradient steps move low frequencies as much as high ones
  and the result is not drowned in high-frequency noise.
* ``decorrelate``: the three channels are mixed by the square root of ImageNet's colour covariance
  (Lucid's ``color_correlation_svd_sqrt``), so a step changes colours the way natural images vary.
* Either one on: the image is ``low + (high - low) * sigmoid(...)``, always inside the valid range.
  Both off: the parameters are the pixels themselves, and each step is projected back into the valid
  range (clamped): projected gradient ascent, whose fixed points are known in closed form for simple
  objectives.

``blur(sigma)`` smooths the image in place (Yosinski et al. 2015, "Understanding Neural Networks Through
Deep Visualization": a Gaussian blur every few steps): in the spectrum it is a product with the
Gaussian's transfer function; for pixels a separable convolution.

Examples
--------
>>> params = ImageParameters(4, 3, 64, 64, fourier=True, decorrelate=True, value_range=(0, 1),
...                          generator=torch.Generator().manual_seed(0))
>>> params.image().shape
torch.Size([4, 3, 64, 64])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: Lucid's square root of the ImageNet colour covariance (columns: the decorrelated directions)
COLOR_CORRELATION_SVD_SQRT = np.array([[0.26, 0.09, 0.02],
                                       [0.27, 0.00, -0.05],
                                       [0.27, -0.09, 0.03]], dtype=np.float32)
#: the same, normalised so that its largest column has norm 1 (as Lucid uses it)
COLOR_MATRIX = COLOR_CORRELATION_SVD_SQRT / np.max(np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0))
#: Lucid divides the Fourier image by this ("increasing this seems to reduce saturation")
FOURIER_DIVISOR = 4.0


def rfft2_frequencies(h: int, w: int) -> np.ndarray:
    """(h, w // 2 + 1) radial frequencies (cycles per pixel) of a real 2-D FFT."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    return np.sqrt(fx * fx + fy * fy)


def gaussian_kernel(sigma: float) -> np.ndarray:
    """A normalised 1-D Gaussian of standard deviation ``sigma`` pixels, radius ``ceil(3 sigma)``."""
    radius = max(1, math.ceil(3 * sigma))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


class ImageParameters:
    """A batch of ``n`` images of ``channels`` x ``h`` x ``w`` as optimisable parameters.

    Parameters
    ----------
    fourier, decorrelate : bool
        The parameterisation (see the module docstring); ``decorrelate`` needs 3 channels.
    value_range : (low, high)
        The valid input range the images stay in.
    generator : torch.Generator
        Draws the initial parameters (``sd`` times a standard normal, as Lucid).
    decay_power : float
        The spectrum's coefficients are scaled by ``1 / max(f, 1 / max(h, w)) ** decay_power``.
    """

    def __init__(self, n: int, channels: int, h: int, w: int, *, fourier: bool, decorrelate: bool,
                 value_range: tuple[float, float], generator: Any, sd: float = 0.01, decay_power: float = 1.0,
                 device: Any = None, dtype: Any = None):
        import torch

        if decorrelate and channels != 3:
            raise ValueError(f"colour decorrelation needs 3 channels; the images have {channels}")
        self.n, self.channels, self.h, self.w = n, channels, h, w
        self.fourier, self.decorrelate = bool(fourier), bool(decorrelate)
        self.low, self.high = (float(v) for v in value_range)
        self.squashed = self.fourier or self.decorrelate
        self.device, self.dtype = device or torch.device("cpu"), dtype or torch.float32
        as_param = {"device": self.device, "dtype": self.dtype}
        if self.fourier:
            freqs = rfft2_frequencies(h, w)
            shape = (n, channels, *freqs.shape, 2)
            init = torch.randn(shape, generator=generator, dtype=torch.float64) * sd
            scale = 1.0 / np.maximum(freqs, 1.0 / max(h, w)) ** decay_power
            self._scale = torch.from_numpy(scale).to(**as_param)[None, None, :, :, None]
            self._freqs = freqs
        else:
            init = torch.randn((n, channels, h, w), generator=generator, dtype=torch.float64) * sd
            if not self.squashed:  # pixels: around the middle of the range, noise of sd of its width
                init = (self.low + self.high) / 2 + init * (self.high - self.low)
        self.tensor = init.to(**as_param).requires_grad_(True)
        if self.decorrelate:
            self._color = torch.from_numpy(COLOR_MATRIX.T.copy()).to(**as_param)

    @property
    def leaves(self) -> list:
        """The tensors an optimiser updates."""
        return [self.tensor]

    def _pre_squash(self):
        import torch

        t = self.tensor
        if self.fourier:
            spectrum = torch.view_as_complex((self._scale * t).contiguous())
            t = torch.fft.irfftn(spectrum, s=(self.h, self.w), norm="ortho") / FOURIER_DIVISOR
        if self.decorrelate:
            t = (t.permute(0, 2, 3, 1) @ self._color).permute(0, 3, 1, 2)
        return t

    def image(self):
        """The images (n, channels, h, w) in the valid range, differentiable in the parameters."""
        import torch

        if not self.squashed:
            return self.tensor
        return self.low + (self.high - self.low) * torch.sigmoid(self._pre_squash())

    def project(self) -> None:
        """After a step: pixels back into the valid range (the other parameterisations stay inside)."""
        import torch

        if not self.squashed:
            with torch.no_grad():
                self.tensor.clamp_(self.low, self.high)

    def blur(self, sigma: float) -> None:
        """Smooth the images in place with a Gaussian of ``sigma`` pixels (before the sigmoid, if any)."""
        import torch

        if sigma <= 0:
            return
        with torch.no_grad():
            if self.fourier:  # the Gaussian's transfer function exp(-2 pi^2 sigma^2 f^2) on the spectrum
                gain = np.exp(-2.0 * (math.pi * sigma * self._freqs) ** 2)
                self.tensor.mul_(torch.from_numpy(gain).to(self.tensor)[None, None, :, :, None])
                return
            k = torch.from_numpy(gaussian_kernel(sigma)).to(self.tensor)
            r = (len(k) - 1) // 2
            x = self.tensor.reshape(-1, 1, self.h, self.w)
            x = torch.nn.functional.pad(x, (r, r, 0, 0), mode="replicate")
            x = torch.nn.functional.conv2d(x, k.view(1, 1, 1, -1))
            x = torch.nn.functional.pad(x, (0, 0, r, r), mode="replicate")
            x = torch.nn.functional.conv2d(x, k.view(1, 1, -1, 1))
            self.tensor.copy_(x.reshape(self.tensor.shape))
        self.project()


__all__ = ["COLOR_CORRELATION_SVD_SQRT", "COLOR_MATRIX", "FOURIER_DIVISOR", "ImageParameters", "gaussian_kernel",
           "rfft2_frequencies"]
