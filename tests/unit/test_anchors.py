"""Anchors (Ribeiro et al. 2018) on models whose decision is a known rule over the kept superpixels:
the anchor found is the rule's, its precision holds on fresh samples (at least the threshold minus the
bandit's tolerance), coverage is p**|A|, and the KL confidence bounds equal a root finder's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from nbexplain.errors import InputError
from nbexplain.explain.superpixels import SuperpixelGame, anchor_image
from nbexplain.methods.coalitions.anchors import kl_bernoulli, kl_lower, kl_upper

ROWS, COLS = 3, 4  # 12 grid superpixels
H, W = 12, 16


def picture() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.integers(140, 256, (H, W, 3))).astype(np.uint8)  # never the grey fill (~0.5)


class RuleModel:
    """Reads which grid cells are intact (pixel equals the original) and scores classes by ``rule(kept)``."""

    def __init__(self, rule, original: np.ndarray):
        self.rule = rule
        self.original = original.astype(np.float32).transpose(2, 0, 1) / 255
        self.calls = 0

    def kept(self, x: np.ndarray) -> np.ndarray:
        cells = []
        for r in range(ROWS):
            for c in range(COLS):
                y, xx = r * H // ROWS + 1, c * W // COLS + 1
                cells.append(np.all(np.isclose(x[:, :, y, xx], self.original[None, :, y, xx]), axis=1))
        return np.stack(cells, axis=1)

    def __call__(self, x):
        self.calls += len(x)
        label = np.asarray(self.rule(self.kept(np.asarray(x))), dtype=bool)
        return np.stack([~label, label], axis=1).astype(np.float64) * 4.0  # logits


def game_of(rule, **kwargs) -> tuple[SuperpixelGame, RuleModel]:
    img = picture()
    model = RuleModel(rule, img)
    return SuperpixelGame(model, img, "grid", rows=ROWS, cols=COLS, fill="grey", **kwargs), model


def fresh_precision(game: SuperpixelGame, anchor, n: int, p: float, seed: int) -> float:
    z = np.random.default_rng(seed).random((n, game.n_players)) < p
    z[:, list(anchor)] = True
    return float(np.mean(game.scores(z).argmax(1) == game.target))


def test_the_rule_model_reads_coalitions_back():
    game, model = game_of(lambda k: k[:, 0])
    z = np.random.default_rng(1).random((20, 12)) < 0.5
    np.testing.assert_array_equal(model.kept(game.render(z)), z)


def test_deterministic_rule_gives_its_exact_anchor():
    game, _ = game_of(lambda k: k[:, 2] & k[:, 5])
    assert game.target == 1  # the whole image satisfies the rule
    a = anchor_image(game, seed=0)
    assert sorted(a.anchor) == [2, 5] and a.meets_threshold
    assert a.precision == 1.0 and a.coverage == 0.25
    assert a.precision_lower > a.threshold - a.tolerance


def test_anchor_needs_a_second_superpixel_when_one_is_not_precise_enough():
    # P(label | 2 kept) = 1 - 1/8 = 0.875 < 0.95; adding 5, 7 or 9 makes it certain
    game, _ = game_of(lambda k: k[:, 2] & (k[:, 5] | k[:, 7] | k[:, 9]))
    a = anchor_image(game, seed=1)
    assert len(a.anchor) == 2 and 2 in a.anchor and set(a.anchor) - {2} <= {5, 7, 9}
    assert a.anchor[0] == 2  # the search added the most precise single superpixel first
    assert a.precision == 1.0 and a.coverage == 0.25
    stats = {t: (n, pos) for t, n, pos in a.candidates}
    n, pos = stats[(2,)]
    assert abs(pos / n - 0.875) < 4 * np.sqrt(0.875 * 0.125 / n)  # the bandit's estimate of {2}


@pytest.mark.parametrize("seed", range(4))
def test_precision_on_fresh_samples_is_at_least_threshold_minus_tolerance(seed):
    # a soft rule: the label holds when enough weight is kept, so precisions are fractional
    weights = np.random.default_rng(seed).random(12) + 0.2
    cut = 0.55 * weights.sum()
    game, _ = game_of(lambda k: k.astype(float) @ weights > cut)
    a = anchor_image(game, seed=seed, threshold=0.9, max_samples=20000)
    assert a.meets_threshold and 0 < len(a.anchor) < 12
    fresh = fresh_precision(game, a.anchor, 20000, a.p_present, seed=100 + seed)
    assert fresh >= a.threshold - a.tolerance - 3 * np.sqrt(0.25 / 20000), (a.anchor, fresh)
    assert a.coverage == pytest.approx(0.5 ** len(a.anchor))


def test_backgrounds_are_what_removed_superpixels_show():
    rng = np.random.default_rng(3)
    backgrounds = [rng.integers(0, 120, (H, W, 3), dtype=np.uint8) for _ in range(3)]
    game, model = game_of(lambda k: k[:, 4] & k[:, 6])
    a = anchor_image(game, backgrounds=backgrounds, seed=0)
    assert sorted(a.anchor) == [4, 6]
    assert len(game.fills) == 4  # the fill and three backgrounds
    z = np.zeros((3, 12), bool)
    shown = game.render(z, [1, 2, 3])
    for i, bg in enumerate(backgrounds):
        np.testing.assert_allclose(shown[i], bg.transpose(2, 0, 1) / 255, rtol=1e-6)


def test_constant_model_has_the_empty_anchor_and_budget_is_respected():
    game, _ = game_of(lambda k: np.ones(len(k), bool))
    a = anchor_image(game, seed=0)
    assert a.anchor == () and a.coverage == 1.0 and a.precision == 1.0
    game, model = game_of(lambda k: k.astype(float) @ np.linspace(0.1, 1, 12) > 3.0)
    a = anchor_image(game, seed=0, max_samples=300, batch_size=50, min_samples_start=50)
    assert a.n_samples <= 300 and model.calls <= 301


def test_kl_bounds_equal_a_root_finder():
    for p in (0.0, 0.3, 0.9, 1.0):
        for level in (0.01, 0.2, 1.5):
            up, low = float(kl_upper(p, level)), float(kl_lower(p, level))
            if p < 1 and kl_bernoulli(p, 1 - 1e-16) > level:
                ref = brentq(lambda q, p=p, level=level: kl_bernoulli(p, q) - level, max(p, 1e-7), 1 - 1e-12)
                assert up == pytest.approx(ref, abs=3e-5)
            if p > 0 and kl_bernoulli(p, 1e-7) > level:
                ref = brentq(lambda q, p=p, level=level: kl_bernoulli(p, q) - level, 1e-7, min(p, 1 - 1e-12))
                assert low == pytest.approx(ref, abs=3e-5)
            assert low <= p <= up


def test_anchor_validation():
    game, _ = game_of(lambda k: k[:, 0])
    with pytest.raises(InputError, match="threshold must be a number strictly between 0 and 1; got 1.5"):
        anchor_image(game, threshold=1.5)
    with pytest.raises(InputError, match="batch_size must be an int >= 1"):
        anchor_image(game, batch_size=0)
    with pytest.raises(InputError, match="backgrounds must hold at least one image"):
        anchor_image(game, backgrounds=[])
    with pytest.raises(InputError, match=r"backgrounds\[0\] must be an image of the same size"):
        anchor_image(game, backgrounds=[np.zeros((4, 4, 3), np.uint8)])


def test_anchor_result_states_its_quality_and_draws_its_outline():
    import matplotlib

    matplotlib.use("Agg")
    game, _ = game_of(lambda k: k[:, 2] & k[:, 5])
    a = anchor_image(game)  # seed 0 by default: reproducible
    assert a.anchor == anchor_image(game).anchor and a.outline == tuple(a.anchor) and a.kind == "anchor"
    assert a.quality() == [f"precision {a.precision:.3f} (≥ threshold 0.95; lower bound {a.precision_lower:.3f})",
                           "coverage 0.25", f"{a.n_samples} perturbed images evaluated"]
    assert a.summary().startswith(f"anchor for {game.target_name}: superpixels {list(a.anchor)}: precision 1.000")
    np.testing.assert_array_equal(a.scores, a.mask)
    assert a.mask.sum() == 2
    assert a.plot().figure is not None and a._repr_png_().startswith(b"\x89PNG")
