// What every view's page starts with (js/_shared.js): the root and its first toolbar, labelled controls, the
// status bar followed by the error banner, and a requester that reports to the status bar.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeElement, loadViews } from "./load_views.mjs";

const js = loadViews("_shared.js");

/** The part of an anywidget model these helpers use: get, on, send; emit() plays the kernel. */
class FakeModel {
  constructor(traits = {}) { this.traits = traits; this.handlers = {}; this.sent = []; }
  get(name) { return this.traits[name]; }
  on(event, fn) { (this.handlers[event] ||= []).push(fn); }
  send(msg) { this.sent.push(JSON.parse(JSON.stringify(msg))); }
  emit(msg) { for (const fn of this.handlers["msg:custom"] || []) fn(msg, []); }
}

test("the root carries nbx-root, the view's class and its attributes, and holds the first toolbar", () => {
  const el = new FakeElement("div");
  const { root, toolbar } = js.nbxViewRoot(el, "nbx-projector", { "data-requests": "0" });
  assert.equal(el.children[0], root);
  assert.equal(root.tagName, "DIV");
  assert.equal(root.className, "nbx-root nbx-projector");
  assert.equal(root.getAttribute("data-requests"), "0");
  assert.deepEqual(root.children, [toolbar]);
  assert.equal(toolbar.className, "nbx-toolbar");
});

test("a labelled control: the label's text (never parsed), then the control inside the label", () => {
  const toolbar = new FakeElement("div");
  const select = js.nbxLabelled(toolbar, "<b>class</b> ", "select", { class: "nbx-target", "aria-label": "explained class" });
  const [label] = toolbar.children;
  assert.equal(label.tagName, "LABEL");
  assert.equal(label.textContent, "<b>class</b> ");
  assert.deepEqual(label.children, [select]);
  assert.equal(select.tagName, "SELECT");
  assert.equal(select.className, "nbx-target");
  assert.equal(select.getAttribute("aria-label"), "explained class");
  const slider = js.nbxLabelled(toolbar, "opacity ", "input", { type: "range", min: "0", max: "1" });
  assert.equal(slider.getAttribute("type"), "range");
  assert.equal(toolbar.children.length, 2);
});

test("the status bar comes first, then the error banner bound to the model's error", () => {
  const root = new FakeElement("div");
  const model = new FakeModel({ error: { type: "ValueError", message: "<img src=x>" } });
  const status = js.nbxStatusAndError(model, root, { label: "search progress" });
  const [bar, banner] = root.children;
  assert.equal(bar, status.node);
  assert.equal(bar.className, "nbx-status");
  assert.equal(bar.children[0].getAttribute("aria-label"), "search progress");
  assert.equal(banner.className, "nbx-error");
  assert.equal(banner.hidden, false);
  assert.equal(banner.children[1].textContent, "<img src=x>");  // text, never HTML
  model.traits.error = {};
  for (const fn of model.handlers["change:error"]) fn();
  assert.equal(banner.hidden, true);
  assert.equal(js.nbxStatusAndError(new FakeModel(), new FakeElement("div")).node.children[0].getAttribute("aria-label"), "progress");
});

test("a status requester shows the newest request's progress and ends the bar with the last answer", async () => {
  const model = new FakeModel();
  const calls = [];
  const status = { progress: (f, elapsed) => calls.push(["progress", f, typeof elapsed]), done: (text) => calls.push(["done", text]) };
  const requester = js.nbxStatusRequester(model, status, (action) => (action === "local" ? { from: "table" } : undefined));
  const local = await requester.request("local");
  assert.equal(local.source, "table");
  assert.equal(model.sent.length, 0);
  const pending = requester.request("explain");
  const { id } = model.sent[0];
  model.emit({ type: "progress", id, fraction: 0.5 });
  assert.deepEqual(calls, [["progress", 0.5, "number"]]);
  model.emit({ type: "response", id, status: "ok" });
  assert.equal((await pending).status, "ok");
  assert.deepEqual(calls, [["progress", 0.5, "number"], ["done", undefined]]);
  assert.equal(js.nbxStatusRequester(model, status).kernelless, false);
});
