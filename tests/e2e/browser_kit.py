"""What every browser test needs, in a module of its own name (a test imports it; ``conftest`` is not importable
reliably once several test folders have one): Debian's Chromium and its flags, and canvas pixels read back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path(os.environ.get("NBX_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

JS_CANVAS_PIXELS = """(canvas) => {
  const ctx = canvas.getContext('2d');
  const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  const colours = new Set();
  let opaque = 0, hash = 2166136261;
  for (let i = 0; i < d.length; i += 4) {
    colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    if (d[i + 3] > 0) opaque++;
  }
  for (let i = 0; i < d.length; i++) { hash ^= d[i]; hash = Math.imul(hash, 16777619) >>> 0; }
  return {width: canvas.width, height: canvas.height, colours: colours.size, opaque, hash,
          pixels: Array.from(d)};
}"""


@dataclass
class Pixels:
    width: int
    height: int
    colours: int
    opaque: int
    hash: int
    pixels: list[int]

    @property
    def drawn(self) -> bool:
        """Not blank, not one flat colour."""
        return self.opaque == self.width * self.height and self.colours > 8

    def differs(self, other: Pixels) -> float:
        """Fraction of pixels whose RGB differs from ``other``'s."""
        if (self.width, self.height) != (other.width, other.height):
            return 1.0
        n = self.width * self.height
        a, b = self.pixels, other.pixels
        return sum(a[i * 4:i * 4 + 3] != b[i * 4:i * 4 + 3] for i in range(n)) / n


def canvas_pixels(locator) -> Pixels:
    """RGBA pixels of a canvas (its backing store, not the CSS size) read with getImageData."""
    return Pixels(**locator.evaluate(JS_CANVAS_PIXELS))
