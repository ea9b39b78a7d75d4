"""Superpixel explanations: one perturbation engine (:class:`SuperpixelGame`) under LIME, Shapley values,
anchors and deletion/insertion curves; one technique per module."""

from ...methods.coalitions.superpixels import SuperpixelGame
from .anchors import Anchor, anchor_image
from .curves import PerturbationCurves, deletion_insertion
from .lime import LimeImage, lime_image
from .shapley import ShapleyImage, shapley_image

__all__ = ["Anchor", "LimeImage", "PerturbationCurves", "ShapleyImage", "SuperpixelGame", "anchor_image",
           "deletion_insertion", "lime_image", "shapley_image"]
