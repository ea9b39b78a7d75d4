// nbxRequester (js/_shared.js) against a fake widget model: request ids, stale answers, progress for the
// newest request only, busy transitions, the local answer table, and notify (tell the kernel, wait for nothing).
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadViews } from "./load_views.mjs";

const js = loadViews("_shared.js");

/** The part of an anywidget model the requester uses: on("msg:custom"), send(); emit() plays the kernel. */
class FakeModel {
  constructor() { this.handlers = []; this.sent = []; }
  on(event, fn) { if (event === "msg:custom") this.handlers.push(fn); }
  send(msg, callbacks, buffers) { this.sent.push({ msg: JSON.parse(JSON.stringify(msg)), buffers }); }
  emit(msg, buffers = []) { for (const fn of this.handlers) fn(msg, buffers); }
  last() { return this.sent[this.sent.length - 1]; }
}

function setup(options = {}) {
  const model = new FakeModel();
  const events = { progress: [], busy: [] };
  const requester = js.nbxRequester(model, {
    onProgress: (fraction, action, elapsed) => events.progress.push([fraction, action, elapsed]),
    onBusy: (busy) => events.busy.push(busy),
    ...options,
  });
  return { model, requester, events };
}

/** Send a request; returns its promise and the id the kernel sees. */
function ask({ model, requester }, action, params = {}) {
  const answer = requester.request(action, params);
  return { answer, id: model.last().msg.id };
}

test("a request is one message with an id; binary params travel as buffers at paths from the root", async () => {
  const { model, requester } = setup();
  const pending = requester.request("predict", { active: new Uint8Array([1, 0]), k: 3 });
  const { msg, buffers } = model.last();
  assert.deepEqual(Object.keys(msg).sort(), ["action", "buffer_paths", "id", "params", "type", "view"]);
  assert.equal(msg.type, "request");
  assert.equal(msg.action, "predict");
  assert.deepEqual(msg.params, { active: null, k: 3 });
  assert.deepEqual(msg.buffer_paths, [["params", "active"]]);
  assert.equal(buffers.length, 1);
  assert.deepEqual(Array.from(new Uint8Array(buffers[0].buffer, buffers[0].byteOffset, 2)), [1, 0]);
  assert.equal(requester.inFlight(), 1);

  const bars = new Float32Array([0.25, 0.75]);
  model.emit({ type: "response", id: msg.id, status: "ok", data: { bars: null, top: 1 }, buffer_paths: [["data", "bars"]] },
             [new DataView(bars.buffer)]);
  const answer = await pending;
  assert.equal(answer.status, "ok");
  assert.equal(answer.stale, false);
  assert.equal(answer.source, "kernel");
  assert.equal(answer.id, msg.id);
  assert.equal(answer.data.top, 1);
  assert.deepEqual(Array.from(new Float32Array(answer.data.bars.buffer)), [0.25, 0.75]);
  assert.equal(requester.inFlight(), 0);
});

test("an answer to an older request of the same action is stale; other actions are not", async () => {
  const view = setup();
  const { model, requester } = view;
  const first = ask(view, "attribute", { method: "a" });
  const other = ask(view, "explain");
  const second = ask(view, "attribute", { method: "b" });
  assert.ok(first.id < other.id && other.id < second.id);
  assert.ok(requester.isLatest("attribute", second.id) && !requester.isLatest("attribute", first.id));
  model.emit({ type: "response", id: second.id, status: "ok", data: {} });
  model.emit({ type: "response", id: first.id, status: "ok", data: {} });  // arrives late
  model.emit({ type: "response", id: other.id, status: "error", error: { message: "boom" } });
  assert.equal((await second.answer).stale, false);
  assert.equal((await first.answer).stale, true);
  const failed = await other.answer;
  assert.equal(failed.stale, false);
  assert.equal(failed.status, "error");
  assert.equal(failed.error.message, "boom");
});

test("progress reaches the view only for the newest request of its action, with the time since it was sent", async () => {
  const view = setup();
  const { model, events } = view;
  const old = ask(view, "find");
  const newest = ask(view, "find");
  model.emit({ type: "progress", id: old.id, fraction: 0.9 });
  assert.deepEqual(events.progress, []);
  model.emit({ type: "progress", id: newest.id, fraction: 0.4 });
  assert.equal(events.progress.length, 1);
  const [fraction, action, elapsed] = events.progress[0];
  assert.equal(fraction, 0.4);
  assert.equal(action, "find");
  assert.ok(elapsed >= 0 && elapsed < 5000);
  model.emit({ type: "progress", id: 12345, fraction: 0.5 });  // nobody's
  assert.equal(events.progress.length, 1);
});

test("busy is reported when the first request goes out and when the last is answered", async () => {
  const view = setup();
  const { model, events } = view;
  const a = ask(view, "a").id;
  const b = ask(view, "b").id;
  assert.deepEqual(events.busy, [true]);
  model.emit({ type: "response", id: a, status: "ok" });
  assert.deepEqual(events.busy, [true]);
  model.emit({ type: "response", id: b, status: "superseded" });
  assert.deepEqual(events.busy, [true, false]);
  model.emit({ type: "response", id: b, status: "ok" });  // a duplicate is ignored
  model.emit({ type: "something else", id: a });
  assert.deepEqual(events.busy, [true, false]);
});

test("notify sends a normal request but nothing waits for it and the view is not busy", () => {
  const { model, requester, events } = setup();
  const mask = new Uint8Array([1, 1, 0]);
  const id = requester.notify("sync", { active: mask });
  const { msg, buffers } = model.last();
  assert.deepEqual(msg, { type: "request", id, view: msg.view, action: "sync", params: { active: null }, buffer_paths: [["params", "active"]] });
  assert.equal(typeof msg.view, "string");
  assert.deepEqual(Array.from(new Uint8Array(buffers[0].buffer, buffers[0].byteOffset, 3)), [1, 1, 0]);
  assert.equal(requester.inFlight(), 0);
  assert.deepEqual(events.busy, []);
  assert.equal(requester.notifying(), 1);
  model.emit({ type: "progress", id, fraction: 0.5 });
  assert.deepEqual(events.progress, []);
  model.emit({ type: "response", id, status: "ok", data: {} });
  assert.equal(requester.notifying(), 0);
  assert.deepEqual(events.busy, []);
  assert.notEqual(requester.notify("sync", { active: mask }), id);  // every message has its own id
});

test("a notification does not make a request of the same action stale", async () => {
  const view = setup();
  const asked = ask(view, "sync");
  view.requester.notify("sync", {});
  view.model.emit({ type: "response", id: asked.id, status: "ok" });
  assert.equal((await asked.answer).stale, false);
});

test("the local answer table answers without the kernel; what it does not know goes to the kernel", async () => {
  const { model, requester, events } = setup({
    answer: (action, params) => (action === "predict" && params.row < 4 ? { bars: [params.row] } : undefined),
  });
  const kernelFirst = requester.request("predict", { row: 9 });
  assert.equal(model.sent.length, 1);
  const local = await requester.request("predict", { row: 2 });
  assert.equal(model.sent.length, 1);  // nothing sent
  assert.equal(local.source, "table");
  assert.equal(local.status, "ok");
  assert.equal(local.stale, false);
  assert.deepEqual(local.data, { bars: [2] });
  model.emit({ type: "response", id: model.last().msg.id, status: "ok", data: {} });
  assert.equal((await kernelFirst).stale, true);  // the table's newer answer wins
  assert.deepEqual(events.busy, [true, false]);
});

test("every message names its view, and ids grow across requests and notifications: a kernel can tell a late one", () => {
  const first = setup();
  const second = setup();
  first.requester.request("predict", { k: 1 });
  first.requester.notify("sync", { k: 2 });
  first.requester.request("predict", { k: 3 });
  second.requester.request("predict", { k: 1 });
  const ids = first.model.sent.map((s) => s.msg.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  assert.equal(new Set(ids).size, 3);
  const views = new Set(first.model.sent.map((s) => s.msg.view));
  assert.equal(views.size, 1);
  const [view] = views;
  assert.equal(typeof view, "string");
  assert.ok(view.length >= 8);
  assert.notEqual(second.model.last().msg.view, view);  // another view, another token
});

test("nbxSave stamps each save of a model with its token and a growing count", () => {
  const saved = [];
  const model = { state: {}, set(k, v) { this.state[k] = v; }, save_changes() { saved.push({ ...this.state }); } };
  const other = { state: {}, set(k, v) { this.state[k] = v; }, save_changes() { saved.push({ ...this.state }); } };
  model.set("opacity", 0.3); js.nbxSave(model);
  model.set("opacity", 0.4); js.nbxSave(model);
  other.set("metric", "tpr"); js.nbxSave(other);
  const [a, b, c] = saved.map((s) => s._nbx_write);
  assert.equal(a[0], b[0]);
  assert.deepEqual([a[1], b[1]], [1, 2]);
  assert.equal(saved[1].opacity, 0.4);
  assert.notEqual(c[0], a[0]);
  assert.equal(c[1], 1);
});
