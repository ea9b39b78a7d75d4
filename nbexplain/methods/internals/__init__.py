"""Kernels that look inside a network: weight histograms, activations, maximisation, dataset examples."""
