// The pure helpers of the Projector view (js/projector.js): which points a box or a lasso selects (the kernel's
// `selected` is exactly these), the even-odd polygon test, and the pixel packing of colours.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadViews } from "./load_views.mjs";

const js = loadViews("_shared.js", "projector.js");

test("nbxPjInBox selects the points inside the box, bounds included", () => {
  const xy = Float32Array.from([0, 0, 1, 1, 2, 2, 1, 3, -1, 0.5, 1, 1.0000001]);
  assert.deepEqual(Array.from(js.nbxPjInBox(xy, 6, 0, 2, 0, 2)), [0, 1, 2, 5]);
  assert.deepEqual(Array.from(js.nbxPjInBox(xy, 6, 0, 2, 0, 1)), [0, 1]);  // float32 1.0000001 is above 1
  assert.deepEqual(Array.from(js.nbxPjInBox(xy, 6, -2, 0, 0, 1)), [0, 4]);
  assert.deepEqual(Array.from(js.nbxPjInBox(xy, 6, 5, 6, 5, 6)), []);
});

test("nbxPjInPolygon: even-odd rule, concave polygons", () => {
  const square = [[0, 4, 4, 0], [0, 0, 4, 4]];
  assert.equal(js.nbxPjInPolygon(2, 2, ...square), true);
  assert.equal(js.nbxPjInPolygon(5, 2, ...square), false);
  // a U shape: the notch (2, 3) is outside, the arms inside
  const u = [[0, 4, 4, 3, 3, 1, 1, 0], [0, 0, 4, 4, 1, 1, 4, 4]];
  assert.equal(js.nbxPjInPolygon(2, 3, ...u), false);
  assert.equal(js.nbxPjInPolygon(0.5, 3, ...u), true);
  assert.equal(js.nbxPjInPolygon(3.5, 3, ...u), true);
  assert.equal(js.nbxPjInPolygon(2, 0.5, ...u), true);
});

test("nbxPjInLasso is the polygon test over the points (a bounding box first)", () => {
  const n = 400;
  const xy = new Float32Array(2 * n);
  let seed = 7;
  const random = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32; };
  for (let i = 0; i < 2 * n; i++) xy[i] = random() * 10 - 5;
  const xs = [-4, 3, 4, -1, 0], ys = [-4, -3, 4, 1, -1];
  const brute = [];
  for (let i = 0; i < n; i++) if (js.nbxPjInPolygon(xy[2 * i], xy[2 * i + 1], xs, ys)) brute.push(i);
  assert.deepEqual(Array.from(js.nbxPjInLasso(xy, n, xs, ys)), brute);
  assert.ok(brute.length > 20 && brute.length < n);
});

test("nbxPjPixel packs RGB as one little-endian opaque RGBA pixel", () => {
  const pixel = js.nbxPjPixel([0x12, 0x34, 0x56]);
  const bytes = new Uint8Array(Uint32Array.from([pixel]).buffer);
  assert.deepEqual(Array.from(bytes), [0x12, 0x34, 0x56, 255]);
  assert.deepEqual(Array.from(js.nbxPjRgb("#1f77b4")), [31, 119, 180]);
});
