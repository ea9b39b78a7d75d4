// The arithmetic of the FairnessAudit view (js/fairness.js): the rates at any threshold from a group's ROC
// points must be nbexplain.methods.fairness.thresholds.rates_at's (score >= t selects), the disparities
// fairlearn's definitions, and the candidate thresholds must reach every achievable TPR.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadViews } from "./load_views.mjs";

const js = loadViews("_shared.js", "fairness.js");

// two groups; group 0 scores [0.9(y1), 0.7(y0), 0.7(y1), 0.2(y0)], group 1 scores [0.6(y1), 0.4(y1), 0.1(y0)]
const roc = {
  offsets: [0, 3, 6],
  scores: Float64Array.from([0.9, 0.7, 0.2, 0.6, 0.4, 0.1]),
  positives: Int32Array.from([1, 2, 2, 1, 2, 2]),
  negatives: Int32Array.from([0, 1, 2, 0, 0, 1]),
  nPos: Int32Array.from([2, 2]),
  nNeg: Int32Array.from([2, 1]),
};

function byHand(scores, labels, t) {
  const chosen = scores.map((s) => s >= t);
  const tp = chosen.filter((c, i) => c && labels[i]).length, fp = chosen.filter((c, i) => c && !labels[i]).length;
  const P = labels.filter(Boolean).length, N = labels.length - P;
  return { selection_rate: (tp + fp) / labels.length, tpr: tp / P, fpr: N ? fp / N : NaN,
           accuracy: (tp + N - fp) / labels.length, precision: tp + fp ? tp / (tp + fp) : NaN };
}

test("nbxFaRates equals thresholding the scores by hand (score >= t selects)", () => {
  const groups = [[[0.9, 0.7, 0.7, 0.2], [1, 0, 1, 0]], [[0.6, 0.4, 0.1], [1, 1, 0]]];
  for (const t of [0, 0.1, 0.15, 0.2, 0.4, 0.55, 0.7, 0.71, 0.9, 0.95, 1]) {
    groups.forEach(([scores, labels], g) => {
      const got = js.nbxFaRates(roc, g, t), want = byHand(scores, labels, t);
      for (const k of Object.keys(want)) {
        if (Number.isNaN(want[k])) assert.ok(Number.isNaN(got[k]), `${k} at ${t}`);
        else assert.ok(Math.abs(got[k] - want[k]) < 1e-15, `group ${g} ${k} at ${t}: ${got[k]} != ${want[k]}`);
      }
    });
  }
});

test("nbxFaDisparities: ratio, differences and the accuracy over all rows", () => {
  const rates = [js.nbxFaRates(roc, 0, 0.5), js.nbxFaRates(roc, 1, 0.5)];
  const d = js.nbxFaDisparities(rates);
  // group 0 at 0.5: selects 3 of 4 (tp 2, fp 1); group 1: 1 of 3 (tp 1)
  assert.ok(Math.abs(d.disparate_impact - (1 / 3) / (3 / 4)) < 1e-15);
  assert.ok(Math.abs(d.demographic_parity_difference - (3 / 4 - 1 / 3)) < 1e-15);
  assert.ok(Math.abs(d.equal_opportunity_difference - (1 - 0.5)) < 1e-15);
  assert.ok(Math.abs(d.equalized_odds_difference - 0.5) < 1e-15);  // max(TPR gap 0.5, FPR gap 0.5)
  assert.ok(Math.abs(d.accuracy - (3 + 2) / 7) < 1e-15);
});

test("nbxFaCandidates reach every achievable TPR with thresholds that select what they claim", () => {
  const { values, thresholds } = js.nbxFaCandidates(roc, 0, "tpr");
  assert.deepEqual(Array.from(values), [0, 0.5, 1, 1]);
  thresholds.forEach((t, i) => assert.equal(js.nbxFaRates(roc, 0, t).tpr, values[i]));
  const curves = js.nbxFaTradeoff(roc, [0, 1], 11);
  assert.equal(curves.global.length, 11);
  assert.ok(curves.equalised.every((p) => Number.isFinite(p.accuracy)));
});
