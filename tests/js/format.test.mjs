// Numbers and colours for people: nbxFormat, the colour maps and their use (js/_shared.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadViews } from "./load_views.mjs";

const js = loadViews("_shared.js");

test("nbxFormat: three significant digits, exponents for very small and very large magnitudes", () => {
  assert.equal(js.nbxFormat(0), "0.00");
  assert.equal(js.nbxFormat(0.5), "0.500");
  assert.equal(js.nbxFormat(-2.3456), "-2.35");
  assert.equal(js.nbxFormat(123.456), "123");
  assert.equal(js.nbxFormat(9999), "1.00e+4");  // rounds to four digits: toPrecision switches to an exponent
  assert.equal(js.nbxFormat(0.001), "0.00100");
  assert.equal(js.nbxFormat(0.0001234), "1.23e-4");
  assert.equal(js.nbxFormat(-123456), "-1.23e+5");
  assert.equal(js.nbxFormat(NaN), "NaN");
  assert.equal(js.nbxFormat(-Infinity), "-Infinity");
});

const hex = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
const entry = (lut, i) => [lut[i * 3], lut[i * 3 + 1], lut[i * 3 + 2]];
const luminance = ([r, g, b]) => 0.2126 * r + 0.7152 * g + 0.0722 * b;

test("every colour map runs from its first stop to its last", () => {
  const stops = js.NBX_STOPS;
  for (const name of Object.keys(stops)) {
    const lut = js.nbxColormap(name);
    assert.equal(lut.length, 256 * 3, name);
    assert.deepEqual(entry(lut, 0), hex(stops[name][0]), name);
    assert.deepEqual(entry(lut, 255), hex(stops[name][stops[name].length - 1]), name);
  }
  assert.deepEqual(Array.from(js.nbxColormap("no such map")), Array.from(js.nbxColormap("magma")));
});

test("gray, magma and viridis get lighter all the way; RdBu goes blue, white, red", () => {
  const gray = js.nbxColormap("gray");
  for (let i = 0; i < 256; i++) assert.deepEqual(entry(gray, i), [i, i, i]);
  for (const name of ["magma", "viridis"]) {
    const lut = js.nbxColormap(name);
    for (let i = 1; i < 256; i++) {
      assert.ok(luminance(entry(lut, i)) >= luminance(entry(lut, i - 1)) - 0.5, `${name} darker at ${i}`);
    }
    assert.ok(luminance(entry(lut, 255)) - luminance(entry(lut, 0)) > 200, name);
  }
  const rdbu = js.nbxColormap("RdBu");
  const [r0, , b0] = entry(rdbu, 0), [r1, , b1] = entry(rdbu, 255);
  assert.ok(b0 > r0 && r1 > b1);
  for (const c of entry(rdbu, 128)) assert.ok(Math.abs(c - 0xf7) <= 2);  // the middle stop is near white
  for (let i = 1; i < 128; i++) assert.ok(rdbu[i * 3] >= rdbu[(i - 1) * 3], `red grows towards the middle at ${i}`);
  for (let i = 129; i < 256; i++) assert.ok(rdbu[i * 3 + 2] <= rdbu[(i - 1) * 3 + 2], `blue fades after the middle at ${i}`);
});

test("nbxScalarImage clips to [lo, hi] through the table; nbxRgbImage copies pixels; both opaque", () => {
  const lut = js.nbxColormap("viridis");
  const img = js.nbxScalarImage(new Float32Array([-5, 0, 0.5, 1, 7, NaN]), 3, 2, lut, 0, 1);
  const px = (i) => Array.from(img.data.subarray(i * 4, i * 4 + 4));
  assert.deepEqual(px(0), [...entry(lut, 0), 255]);
  assert.deepEqual(px(1), [...entry(lut, 0), 255]);
  assert.deepEqual(px(2), [...entry(lut, 128), 255]);
  assert.deepEqual(px(3), [...entry(lut, 255), 255]);
  assert.deepEqual(px(4), [...entry(lut, 255), 255]);
  const flat = js.nbxScalarImage(new Float32Array([3, 3]), 2, 1, lut, 3, 3);  // lo == hi: no division by zero
  assert.deepEqual(Array.from(flat.data.subarray(0, 3)), entry(lut, 0));
  const rgb = js.nbxRgbImage(new Uint8Array([1, 2, 3, 4, 5, 6]), 2, 1);
  assert.deepEqual(Array.from(rgb.data), [1, 2, 3, 255, 4, 5, 6, 255]);
});

test("nbxPaintColorbar paints the table's first entry at the left and its last at the right", () => {
  const fills = [];
  const ctx = { set fillStyle(v) { this.current = v; }, fillRect(x, y, w, h) { fills.push([x, this.current, h]); } };
  const canvas = { width: 128, height: 8, getContext: () => ctx };
  const lut = js.nbxColormap("RdBu");
  js.nbxPaintColorbar(canvas, lut);
  assert.equal(fills.length, 128);
  assert.deepEqual(fills[0], [0, `rgb(${entry(lut, 0).join(",")})`, 8]);
  assert.deepEqual(fills[127], [127, `rgb(${entry(lut, 255).join(",")})`, 8]);
});
