"""Kernels that look inside a network: its layers and activations, parameters from modules or checkpoints, weight
histograms and their diagnosis, maximisation (and its checked options), dataset examples."""
