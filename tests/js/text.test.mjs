// TextExplorer's pure helpers (js/text.js): a click toggles one token, a drag removes a range (or puts it back
// when all of it was removed), colours sit on the diverging scale, and the answer table is read by bitmask.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadViews } from "./load_views.mjs";

const js = loadViews("_shared.js", "text.js");

test("one token toggles; a range is removed, or restored when all of it was removed", () => {
  const mask = Uint8Array.from([1, 1, 0, 1, 1]);
  assert.deepEqual([...js.nextMask(mask, 2, 2)], [1, 1, 1, 1, 1]);
  assert.deepEqual([...js.nextMask(mask, 1, 3)], [1, 0, 0, 0, 1]);
  assert.deepEqual([...js.nextMask(Uint8Array.from([1, 0, 0, 0, 1]), 1, 3)], [1, 1, 1, 1, 1]);
  assert.deepEqual([...js.tokenRange(4, 2)], [2, 4]);
  assert.deepEqual([...mask], [1, 1, 0, 1, 1]);  // the mask itself is left alone
});

test("token colours: blue for negative, white at zero, red for positive, clipped at the limit", () => {
  const rgb = (s) => s.match(/\d+/g).map(Number);
  const [r0, g0, b0] = rgb(js.tokenColour(0, 1));
  assert.ok(r0 > 200 && g0 > 200 && b0 > 200);
  const [rn, , bn] = rgb(js.tokenColour(-1, 1));
  const [rp, , bp] = rgb(js.tokenColour(1, 1));
  assert.ok(bn > rn && rp > bp);
  assert.equal(js.tokenColour(5, 1), js.tokenColour(1, 1));
});

test("the answer table is read at the bitmask of the kept tokens", () => {
  const enc = (typed, shape) => ({ dtype: typed instanceof Float32Array ? "float32" : "int32", shape, buffer: new DataView(typed.buffer) });
  const tables = { bars: enc(Float32Array.from([0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6]), [4, 2]),
                   top: enc(Int32Array.from([1, 1, 1, 0]), [4]), top_p: enc(Float32Array.from([0.9, 0.8, 0.7, 0.6]), [4]),
                   names: { 0: "neg", 1: "pos" } };
  const model = { get: (name) => (name === "answer_tables" ? tables : null) };
  const answer = js.tableAnswer(model, "predict", { active: Uint8Array.from([0, 1]) });
  assert.deepEqual([...answer.bars].map((v) => Math.round(v * 10) / 10), [0.3, 0.7]);
  assert.equal(answer.top.name, "pos");
  assert.equal(js.tableAnswer(model, "explain", {}), undefined);
  assert.equal(js.tableAnswer(model, "predict", { active: Uint8Array.from([1, 1, 1]) }), undefined);
});
