// The binary codec of js/_shared.js: arrays travel as {dtype, shape, buffer}; buffers are lifted out of a
// message (paths from the message root) and put back.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadViews } from "./load_views.mjs";

const js = loadViews("_shared.js");

const SAMPLES = {
  uint8: [0, 1, 127, 255], int8: [-128, -1, 0, 127], uint16: [0, 1, 65535, 300], int16: [-32768, -1, 0, 32767],
  uint32: [0, 1, 4294967295, 123456789], int32: [-2147483648, -1, 0, 2147483647],
  float32: [0, -1.5, 3.25, 1e-7], float64: [0, -1.5, Math.PI, 1e-300],
};
const TYPES = {
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array, uint32: Uint32Array, int32: Int32Array,
  float32: Float32Array, float64: Float64Array,
};

test("decode honours a DataView's byteOffset into a larger buffer", () => {
  const buffer = new ArrayBuffer(64);
  new Float32Array(buffer, 16, 3).set([1.5, -2, 4]);
  new Float32Array(buffer, 0, 4).fill(99);  // what lies before the window must not be read
  const out = js.nbxDecodeArray({ dtype: "float32", shape: [3], buffer: new DataView(buffer, 16, 12) });
  assert.ok(out.data instanceof Float32Array);
  assert.deepEqual(Array.from(out.data), [1.5, -2, 4]);
  assert.deepEqual(Array.from(out.shape), [3]);
  assert.equal(out.dtype, "float32");
});

test("decode copies a window at an unaligned offset", () => {
  const bytes = new Uint8Array(1 + 3 * 8);
  const values = [Math.E, -0.125, 1e100];
  new DataView(bytes.buffer).setFloat64(1, values[0], true);
  new DataView(bytes.buffer).setFloat64(9, values[1], true);
  new DataView(bytes.buffer).setFloat64(17, values[2], true);
  const out = js.nbxDecodeArray({ dtype: "float64", shape: [3], buffer: new DataView(bytes.buffer, 1, 24) });
  assert.deepEqual(Array.from(out.data), values);
  const odd = js.nbxDecodeArray({ dtype: "int16", shape: [2], buffer: new Uint8Array([9, 1, 0, 255, 255]).subarray(1) });
  assert.deepEqual(Array.from(odd.data), [1, -1]);
});

test("decode takes an ArrayBuffer or a typed array; nothing without a buffer; unknown dtypes are errors", () => {
  assert.deepEqual(Array.from(js.nbxDecodeArray({ dtype: "uint8", shape: [2], buffer: new Uint8Array([3, 4]).buffer }).data), [3, 4]);
  assert.deepEqual(Array.from(js.nbxDecodeArray({ dtype: "int32", shape: [1], buffer: new Int32Array([-7]) }).data), [-7]);
  assert.equal(js.nbxDecodeArray(null), null);
  assert.equal(js.nbxDecodeArray({ dtype: "uint8", shape: [0] }), null);
  assert.throws(() => js.nbxDecodeArray({ dtype: "complex64", shape: [1], buffer: new ArrayBuffer(8) }), /unknown dtype complex64/);
});

test("every dtype round-trips through encode and decode, windows included", () => {
  for (const [dtype, values] of Object.entries(SAMPLES)) {
    const Typed = TYPES[dtype];
    const whole = Typed.from([7, ...values, 7]);
    const window = whole.subarray(1, 1 + values.length);  // a view with a byteOffset
    const encoded = js.nbxEncodeArray(window, [2, values.length / 2]);
    assert.equal(encoded.dtype, dtype);
    assert.ok(encoded.buffer instanceof DataView);
    assert.equal(encoded.buffer.byteOffset, Typed.BYTES_PER_ELEMENT);
    assert.equal(encoded.buffer.byteLength, values.length * Typed.BYTES_PER_ELEMENT);
    const decoded = js.nbxDecodeArray(encoded);
    assert.ok(decoded.data instanceof Typed, dtype);
    assert.deepEqual(Array.from(decoded.data), Array.from(Typed.from(values)), dtype);
    assert.deepEqual(Array.from(decoded.shape), [2, values.length / 2]);
  }
});

test("lifted buffers get paths from the message root and are restored there", () => {
  const mask = new Uint8Array([1, 0, 1]);
  const point = js.nbxEncodeArray(new Float64Array([0.5, -2]), [2]);
  const params = { active: mask, value: point, nested: [{ w: new Float32Array([1, 2]) }, 3], name: "x", n: 2, off: null };
  const [lifted, paths, buffers] = js.nbxLiftBuffers(params, ["params"]);
  assert.deepEqual(JSON.parse(JSON.stringify(paths)),
    [["params", "active"], ["params", "value", "buffer"], ["params", "nested", 0, "w"]]);
  assert.equal(buffers.length, 3);
  for (const b of buffers) assert.ok(b instanceof DataView);
  assert.equal(buffers[0].buffer, mask.buffer);  // the same memory, not a copy
  assert.equal(lifted.active, null);
  assert.equal(lifted.name, "x");
  assert.equal(lifted.n, 2);
  assert.equal(lifted.off, null);
  assert.equal(lifted.nested[1], 3);

  // what the kernel sees and sends back: the same layout
  const message = JSON.parse(JSON.stringify({ type: "request", id: 1, params: lifted, buffer_paths: paths }));
  const restored = js.nbxRestoreBuffers(message, buffers);
  assert.equal(restored.buffer_paths, undefined);
  assert.deepEqual(Array.from(new Uint8Array(restored.params.active.buffer, restored.params.active.byteOffset, 3)), [1, 0, 1]);
  assert.deepEqual(Array.from(js.nbxDecodeArray(restored.params.value).data), [0.5, -2]);
  const w = restored.params.nested[0].w;
  assert.deepEqual(Array.from(new Float32Array(w.buffer, w.byteOffset, 2)), [1, 2]);
});

test("restoring a message without buffer_paths leaves it as it was", () => {
  const msg = { type: "response", id: 3, data: { a: 1 } };
  assert.deepEqual(js.nbxRestoreBuffers(msg, []), { type: "response", id: 3, data: { a: 1 } });
});
