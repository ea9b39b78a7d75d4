// The pure helpers of the FeatureEffects view (js/effects.js): the d-ICE derivative must be numpy.gradient
// (what nbexplain.ice(kind="derivative") computes), the curves of each kind, axis ticks and ranges.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadViews } from "./load_views.mjs";

const js = loadViews("_shared.js", "effects.js");

function close(actual, expected, tol = 1e-12) {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= tol * (1 + Math.abs(expected[i])), `[${i}] ${v} != ${expected[i]}`));
}

test("nbxFxGradient equals numpy.gradient on an uneven grid", () => {
  const grid = [-1.0, -0.2, 0.5, 2.0, 2.1, 3.5];
  const table = [0.0, 1.0, -2.0, 3.5, 3.0, 10.0, 2, 2, 2, 2, 2, 2, 1.0, 0.5, 0.25, 4.0, -1.0, 0.0];
  // numpy.gradient(table.reshape(3, 6), grid, axis=1), numpy 2.x
  const numpy = [
    1.25, -1.702380952380953, -1.7554112554112562, -4.458333333333329, -4.333333333333334, 5.0,
    0.0, 2.220446049250313e-16, 3.3306690738754696e-16, 0.0, -3.1086244689504383e-15, 0.0,
    -0.625, -0.48214285714285715, 0.551948051948052, -46.71874999999996, -46.61904761904758, 0.7142857142857143,
  ];
  const out = js.nbxFxGradient(table, 3, 6, grid);
  assert.ok(out instanceof Float64Array);
  close(Array.from(out), numpy, 1e-12);
});

test("nbxFxGradient: central differences inside and one-sided at the ends", () => {
  // x**2 on 0..3: numpy.gradient gives [3, 4, 6, 7] (one-sided ends, exact 2x inside)
  close(Array.from(js.nbxFxGradient([1, 4, 9, 16], 1, 4, [0, 1, 2, 3])), [3, 4, 6, 7]);
  close(Array.from(js.nbxFxGradient([3, 7], 1, 2, [1, 3])), [2, 2]);  // two points: one slope
  close(Array.from(js.nbxFxGradient([5], 1, 1, [0])), [0]);           // one point: no slope
  // a quadratic on an uneven grid: second-order central differences are exact inside
  const grid = [0, 0.5, 2, 2.25, 4];
  const f = grid.map((x) => 3 * x * x - x + 1);
  const d = Array.from(js.nbxFxGradient(f, 1, 5, grid));
  close(d.slice(1, 4), grid.slice(1, 4).map((x) => 6 * x - 1), 1e-12);
});

test("nbxFxCurves: PDP is the mean, c-ICE is 0 at the anchor, d-ICE is the gradient", () => {
  const grid = [0, 1, 3];
  const table = [1, 2, 4, 3, 3, 0];  // two rows
  const ice = js.nbxFxCurves(table, 2, 3, grid, "ice", 0);
  close(Array.from(ice.mean), [2, 2.5, 2]);
  close(Array.from(ice.sd), [1, 0.5, 2]);
  const centred = js.nbxFxCurves(table, 2, 3, grid, "centred", 1);
  close(Array.from(centred.curves), [-1, 0, 2, 0, 0, -3]);
  const anchorPastEnd = js.nbxFxCurves(table, 2, 3, grid, "centred", 99);
  close(Array.from(anchorPastEnd.curves), [-3, -2, 0, 3, 3, 0]);
  const derivative = js.nbxFxCurves(table, 2, 3, grid, "derivative", 0);
  close(Array.from(derivative.curves), Array.from(js.nbxFxGradient(table, 2, 3, grid)));
});

test("ticks are round numbers covering the range, about `count` of them, and print without noise", () => {
  const steps = (t) => t.slice(1).map((v, i) => +(v - t[i]).toPrecision(12));
  const t = js.nbxFxTicks(0.13, 0.97, 5);
  assert.deepEqual(Array.from(t).map((v) => +v.toPrecision(12)), [0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(Array.from(js.nbxFxTicks(-10, 10, 4)), [-10, -5, 0, 5, 10]);
  assert.deepEqual(Array.from(js.nbxFxTicks(0, 11, 5)), [0, 2.5, 5, 7.5, 10]);  // steps of 1, 2, 2.5 or 5 x 10^k
  const wide = Array.from(js.nbxFxTicks(-3.7, 1234, 6));
  assert.ok(wide.length >= 3 && wide.length <= 8);
  assert.ok(new Set(steps(wide)).size === 1 && [1, 2, 2.5, 5].some((m) => [1, 10, 100, 1000].some((p) => m * p === steps(wide)[0])));
  assert.ok(wide[0] >= -3.7 && wide[wide.length - 1] <= 1234);
  assert.ok(Array.from(js.nbxFxTicks(-0.3, 0.3, 6)).includes(0));  // exactly 0, not -5.55e-17
  assert.deepEqual(Array.from(js.nbxFxTicks(2, 2)), [2]);
  assert.equal(js.nbxFxTick(0), "0");
  assert.equal(js.nbxFxTick(0.1 + 0.2), "0.3");
  assert.equal(js.nbxFxTick(2.5), "2.5");
  assert.equal(js.nbxFxTick(-10), "-10");
  assert.equal(js.nbxFxTick(1e5), "1.0e+5");
  assert.equal(js.nbxFxTick(0.0001), "1.0e-4");
});

test("nbxFxRange pads the finite values' range; a single value or none still gives a span", () => {
  assert.deepEqual(Array.from(js.nbxFxRange([0, 10, NaN, Infinity])), [-0.5, 10.5]);
  assert.deepEqual(Array.from(js.nbxFxRange([2, 2], 0)), [1.5, 2.5]);
  assert.deepEqual(Array.from(js.nbxFxRange([NaN])), [0, 1]);
});

test("nbxFxFrame maps data to CSS pixels inside the margins and back", () => {
  const f = js.nbxFxFrame(400, 300, 0, 10, -1, 1);
  assert.equal(f.X(0), f.left);
  assert.equal(f.X(10), f.left + f.pw);
  assert.equal(f.Y(-1), f.top + f.ph);
  assert.equal(f.Y(1), f.top);
  assert.ok(Math.abs(f.invX(f.X(3.3)) - 3.3) < 1e-12);
});
