"""Compute kernels, one technique per module; they return numpy arrays and never import widgets."""
