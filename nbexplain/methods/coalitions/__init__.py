"""One coalition engine over *players*: Shapley values, LIME, anchors and deletion/insertion curves.

Players are the parts of one input that an explanation switches on and off: the superpixels of an image
today, the tokens of a text and the features of a table row next. A coalition is a row of M booleans
(True = the player is present); every method here is written once, over players, and knows nothing of
pixels, words or columns.

Interfaces (arrays in, arrays out)
----------------------------------
* **Game** — anything with ``n_players`` and ``value(coalitions (N, M) bool, progress=None) -> (N,) or
  (N, K)``. :class:`~.game.CoalitionGame` is the model-backed one: it holds the model, ``target`` and
  ``output`` ("probability" | "score"), caches the model's outputs per coalition (packed bits + fill index),
  counts ``n_evaluations``, and ``view(target=, output=)`` shares the cache. A new player set subclasses it
  and writes only ``inputs(coalitions, fill_index) -> LazyBatch`` (an
  :class:`~nbexplain.adapters.lazy.LazyRows` subclass whose ``build(start, stop)`` makes those model
  inputs), plus ``n_fills`` if absent players can show several things. A plain value function with
  ``n_players`` works too (:func:`~.game.as_game` wraps it).
* **Estimators** take a game: :func:`~.shapley.shapley` (exact / sampled / kernel; the table-level
  :func:`~.shapley.exact_shapley`, :func:`~.shapley.sampled_shapley`, :func:`~.shapley.kernel_shap` take a
  value function), :func:`~.lime.lime` (random coalitions, cosine-distance kernel, weighted ridge, weighted
  R² fidelity), :func:`~.curves.perturbation_curves` (deletion / insertion of a ranking).
* **Anchors** search against a *sampler* (:class:`~.anchors.AnchorSampler`): ``sample(required (N, M) bool)
  -> (holds (N, M) bool, agrees (N,) bool)`` draws N perturbations in which the required players hold and
  says whether the model kept its prediction; ``coverage(anchor) -> float``. :func:`~.anchors.anchor_search`
  (KL-LUCB beam search) returns the anchor with its precision and coverage. :class:`~.anchors.CoalitionSampler`
  is the sampler of a game (other players present with probability ``p_present``, fills at random).

Adding a player set (e.g. text tokens)
--------------------------------------
``class TokenGame(CoalitionGame)`` keeps the tokens, and its ``inputs`` returns a ``LazyRows`` whose
``build`` joins the present tokens (absent ones dropped or replaced by the fill ``fill_index`` names); then
``lime(game)``, ``shapley(game)``, ``perturbation_curves(game, order)`` and
``anchor_search(CoalitionSampler(game))`` work unchanged. Tabular anchors are a sampler whose players are
predicates on x's feature values, ``sample`` drawing data rows that satisfy the required predicates.
A front door in :mod:`nbexplain.explain` then validates, builds the game, calls the engine and wraps the
result (see :mod:`nbexplain.explain.superpixels`).

Modules: :mod:`.masks` (coalitions as bitmasks), :mod:`.game`, :mod:`.shapley`, :mod:`.surrogate` (kernel and
weighted ridge), :mod:`.lime`, :mod:`.anchors`, :mod:`.curves`, and the player sets :mod:`.superpixels` and
:mod:`.tabular`.
"""
