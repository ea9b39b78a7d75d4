"""Text kernels that are not coalition games: gradient attributions on a torch model's embedding layer
(:mod:`.gradients`). Tokens as players of LIME, Shapley values and anchors live in
:mod:`nbexplain.methods.coalitions.tokens`."""
