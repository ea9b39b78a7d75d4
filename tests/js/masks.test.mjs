// The mask explorers' shared helpers (js/_shared.js; SuperpixelExplorer and TextExplorer): the answer table
// read at the bitmask of the kept parts, the class bars and the status line, settled and pending bars, asking
// "predict" (newest answer only, the kernel told after a table answer, back to the kernel's state on error),
// kernel actions, and redraws from the kernel only while nothing of the view's is pending.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeElement, loadViews } from "./load_views.mjs";

const js = loadViews("_shared.js");

const enc = (typed, shape) => ({ dtype: typed instanceof Float32Array ? "float32" : "int32", shape, buffer: new DataView(typed.buffer) });
const div = (className = "") => Object.assign(new FakeElement("div"), { className });
const names = (el) => el.children.map((c) => c.className);

/** A view as the helpers see it: model traits, the dom they touch, state, and the view's own redraws (logged). */
function fakeView({ traits = {}, mask = [1, 0, 1], requester = null, explorer = {} } = {}) {
  const log = [];
  const handlers = {};
  const model = { get: (name) => traits[name], on: (events, fn) => { for (const e of events.split(" ")) (handlers[e] ||= []).push(fn); } };
  const status = { text: "", say(t) { this.text = t; }, busy(t) { log.push(["busy", t]); }, done(t) { log.push(["done", t]); if (t !== undefined) this.text = t; } };
  const dom = { root: div("nbx-root"), barsBox: div(), topLine: div(), status, overlayButton: new FakeElement("button"),
                infoBox: div(), infoTitle: div(), infoQuality: new FakeElement("ul") };
  const view = { model, dom, requester, state: { mask: Uint8Array.from(mask), predictions: 0, showOverlay: false },
    explorer: { drawBars: (v, bars, top) => log.push(["bars", Array.from(bars || []), top]),
                showKernelPrediction: () => log.push(["kernel"]), loadAll: () => log.push(["loadAll"]),
                drawControls: () => log.push(["controls"]), sync: "sync", noKernel: "that mask", ...explorer } };
  return { view, log, handlers };
}

/** A requester whose every request resolves to `answer`; notifications are logged. */
function fixedRequester(answer) {
  const notified = [];
  let id = 0;
  return { notified, request: async () => ({ stale: false, source: "kernel", data: {}, ...answer, id: ++id }),
           isLatest: (_action, asked) => asked === id, notify: (action, params) => notified.push([action, Array.from(params.active)]) };
}

test("a mask as text, and class names from a table with a fallback", () => {
  assert.equal(js.nbxMaskString(Uint8Array.from([1, 0, 0, 1])), "1001");
  assert.equal(js.nbxMaskString([true, false]), "10");
  assert.equal(js.nbxMaskString(new Uint8Array(0)), "");
  assert.equal(js.nbxClassName({ 3: "cat" }, 3), "cat");
  assert.equal(js.nbxClassName({ 3: "cat" }, 7), "class 7");
});

test("the answer table is read at the bitmask of the kept parts; no table, or one for other parts: undefined", () => {
  const table = { bars: enc(Float32Array.from([0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6]), [4, 2]),
                  tops: enc(Int32Array.from([1, 1, 1, 5]), [4]), topsP: enc(Float32Array.from([0.9, 0.8, 0.7, 0.6]), [4]),
                  names: { 1: "pos" } };
  const round = (a) => Array.from(a, (v) => Math.round(v * 10) / 10);
  const second = js.nbxMaskTableAnswer(Uint8Array.from([0, 1]), 2, table);  // row 2
  assert.deepEqual(round(second.bars), [0.3, 0.7]);
  assert.deepEqual({ ...second.top, probability: Math.round(second.top.probability * 10) / 10 }, { index: 1, name: "pos", probability: 0.7 });
  const both = js.nbxMaskTableAnswer(Uint8Array.from([1, 1]), 2, table);  // row 3: a class without a name
  assert.equal(both.top.name, "class 5");
  assert.deepEqual(round(js.nbxMaskTableAnswer(Uint8Array.from([1, 0, 1]), 2, table).bars), [0.2, 0.8]);  // the first m parts
  assert.equal(js.nbxMaskTableAnswer(Uint8Array.from([1, 1, 1]), 3, table), undefined);
  assert.equal(js.nbxMaskTableAnswer(Uint8Array.from([1]), 1, { ...table, bars: undefined }), undefined);
  assert.equal(js.nbxMaskTableAnswer(Uint8Array.from([0, 1]), 2, { ...table, names: undefined }).top.name, "class 1");
});

test("the prediction and explanation boxes: classes by prefix, the hint as text, the box hidden", () => {
  const side = div();
  const { barsBox, topLine } = js.nbxPredictionBox(side, "tx");
  const { hint, infoBox, infoTitle, infoQuality } = js.nbxExplanationBox(side, "tx", "<i>LIME</i> colours the words");
  assert.deepEqual(names(side), ["nbx-tx-heading", "nbx-tx-bars", "nbx-tx-top", "nbx-tx-hint", "nbx-tx-info"]);
  assert.equal(side.children[0].textContent, "prediction");
  assert.equal(barsBox.getAttribute("aria-busy"), "false");
  assert.equal(topLine, side.children[2]);
  assert.equal(hint.textContent, "<i>LIME</i> colours the words");
  assert.equal(infoBox.hidden, true);
  assert.deepEqual(infoBox.children, [infoTitle, infoQuality]);
  assert.equal(infoTitle.className, "nbx-tx-info-title");
  assert.equal(infoQuality.tagName, "UL");
  assert.equal(infoQuality.className, "nbx-tx-quality");
});

test("the explanation box follows the explanation: title and quality lines as text, the toggle", () => {
  const { view } = fakeView();
  js.nbxDrawExplanationBox(view, "lime", { title: "LIME <b>", quality: ["R² 0.9", "<script>"] });
  const { dom } = view;
  assert.equal(dom.infoBox.hidden, false);
  assert.equal(dom.overlayButton.hidden, false);
  assert.equal(dom.overlayButton.getAttribute("aria-pressed"), "false");
  assert.equal(dom.infoTitle.textContent, "LIME <b>");
  assert.deepEqual(dom.infoQuality.children.map((li) => [li.tagName, li.textContent]), [["LI", "R² 0.9"], ["LI", "<script>"]]);
  view.state.showOverlay = true;
  js.nbxDrawExplanationBox(view, "", {});
  assert.equal(dom.infoBox.hidden, true);
  assert.equal(dom.overlayButton.hidden, true);
  assert.equal(dom.overlayButton.getAttribute("aria-pressed"), "true");
  assert.equal(dom.infoTitle.textContent, "");
  assert.equal(dom.infoQuality.children.length, 0);
});

test("one bar per class: the target highlighted, names as text, the tick at the whole input, the news", () => {
  const classes = [{ index: 4, name: "<b>cat</b>", full: 0.5 }, { index: 9, name: "dog", full: 0.25 }];
  const { view } = fakeView({ traits: { classes, target: 9 } });
  js.nbxDrawMaskBars(view, Float32Array.from([0.25, 0.75]), { index: 9, name: "dog", probability: 0.75 },
                     { prefix: "tx", whole: "whole text", parts: "words kept", labelTracks: true });
  const { barsBox, topLine, status } = view.dom;
  assert.deepEqual(names(barsBox), ["nbx-tx-bar", "nbx-tx-bar nbx-tx-target"]);
  const [cat, dog] = barsBox.children;
  assert.equal(cat.getAttribute("data-index"), "4");
  assert.equal(cat.getAttribute("data-probability"), "0.25");
  assert.deepEqual(names(cat), ["nbx-tx-name", "nbx-tx-track", "nbx-tx-value"]);
  assert.equal(cat.children[0].textContent, "<b>cat</b>");
  const [track, value] = dog.children.slice(1);
  assert.equal(track.getAttribute("role"), "img");
  assert.equal(track.getAttribute("aria-label"), "dog: 75.0 percent");
  const [fill, ghost] = track.children;
  assert.equal(fill.className, "nbx-tx-fillbar");
  assert.equal(fill.style.width, "75.0%");
  assert.equal(ghost.getAttribute("title"), "whole text");
  assert.equal(ghost.style.left, "25.0%");
  assert.equal(value.textContent, "0.750");
  assert.equal(topLine.textContent, "predicted: dog (0.750)");
  assert.equal(status.text, "dog: 0.750 with 2 of 3 words kept; predicted dog");

  js.nbxDrawMaskBars(view, null, null, { prefix: "sp", whole: "whole image", parts: "superpixels shown", total: 16 });
  const [, emptyDog] = barsBox.children;
  assert.equal(emptyDog.className, "nbx-sp-bar nbx-sp-target");
  assert.equal(emptyDog.getAttribute("data-probability"), "0");
  assert.equal(emptyDog.children[1].getAttribute("aria-hidden"), "true");
  assert.equal(emptyDog.children[1].getAttribute("aria-label"), null);
  assert.equal(topLine.textContent, "");
  assert.equal(status.text, "dog: 0.750 with 2 of 3 words kept; predicted dog");  // no bars: no news

  js.nbxDrawMaskBars(view, Float32Array.from([0.5, 0.5]), undefined, { prefix: "sp", whole: "whole image", parts: "superpixels shown", total: 16 });
  assert.equal(status.text, "dog: 0.500 with 2 of 16 superpixels shown; predicted ");
});

test("settled bars describe the mask on screen; the kernel's own bars are drawn and settled", () => {
  const { view, log } = fakeView({ traits: { bars: enc(Float32Array.from([0.5, 0.25]), [2]), top: { index: 0 } } });
  view.dom.barsBox.setAttribute("aria-busy", "true");
  view.dom.barsBox.classList.add("nbx-pending");
  view.state.predictions = 4;
  js.nbxMarkSettled(view);
  assert.equal(view.dom.barsBox.getAttribute("aria-busy"), "false");
  assert.equal(view.dom.barsBox.classList.contains("nbx-pending"), false);
  assert.equal(view.dom.root.dataset.barsFor, "101");
  assert.equal(view.dom.root.dataset.predictions, "4");
  js.nbxShowKernelBars(view);
  assert.deepEqual(log, [["bars", [0.5, 0.25], { index: 0 }]]);
  const empty = fakeView({ traits: {} });
  js.nbxShowKernelBars(empty.view);
  assert.deepEqual(empty.log, [["bars", [], undefined]]);
  assert.equal(empty.view.dom.root.dataset.barsFor, "101");
});

test("predict: a table answer is drawn and settled, the kernel told which mask; the view's extra runs after", async () => {
  const requester = fixedRequester({ status: "ok", source: "table", data: { bars: Float32Array.from([0.1, 0.9]), top: { name: "b" } } });
  const drawn = [];
  const { view, log } = fakeView({ requester, explorer: { drawn: (v, data, asked, source) => drawn.push([js.nbxMaskString(asked), source, v.dom.barsBox.getAttribute("aria-busy")]) } });
  const pending = js.nbxPredictMask(view);
  assert.equal(view.dom.barsBox.getAttribute("aria-busy"), "true");
  assert.equal(view.dom.barsBox.classList.contains("nbx-pending"), true);
  view.state.mask[1] = 1;  // the user goes on: what was asked for is the mask at the time of asking
  await pending;
  assert.deepEqual(requester.notified, [["sync", [1, 0, 1]]]);
  assert.equal(log[0][0], "bars");
  assert.deepEqual(log[0][1].map((v) => Math.round(v * 10) / 10), [0.1, 0.9]);
  assert.equal(view.state.predictions, 1);
  assert.equal(view.dom.root.dataset.predictions, "1");
  assert.equal(view.dom.barsBox.classList.contains("nbx-pending"), false);
  assert.deepEqual(drawn, [["101", "table", "false"]]);
});

test("predict: a kernel answer (encoded bars) is drawn without telling the kernel; stale answers are never drawn", async () => {
  const kernel = fixedRequester({ status: "ok", source: "kernel", data: { bars: enc(Float32Array.from([0.5, 0.5]), [2]), top: null } });
  const { view, log } = fakeView({ requester: kernel });
  await js.nbxPredictMask(view);
  assert.deepEqual(kernel.notified, []);
  assert.deepEqual(log, [["bars", [0.5, 0.5], null]]);
  const stale = fakeView({ requester: fixedRequester({ status: "ok", stale: true, data: { bars: Float32Array.from([1]) } }) });
  await js.nbxPredictMask(stale.view);
  assert.deepEqual(stale.log, []);
  assert.equal(stale.view.state.predictions, 0);
  assert.equal(stale.view.dom.barsBox.getAttribute("aria-busy"), "true");  // the newer request's answer settles it
});

test("predict: of table answers asked for in one burst (before any is drawn), only the newest is drawn", async () => {
  const { view, log } = fakeView();
  const table = (action, params) => ({ bars: Float32Array.from([params.active[0], params.active[1]]), top: null });
  view.requester = js.nbxRequester({ on: () => {}, send: () => {} }, { answer: table });
  const first = js.nbxPredictMask(view);
  view.state.mask = Uint8Array.from([0, 1, 1]);  // a second click in the same task
  const second = js.nbxPredictMask(view);
  await Promise.all([first, second]);
  assert.deepEqual(log, [["bars", [0, 1], null]]);
  assert.equal(view.state.predictions, 1);
  assert.equal(view.dom.root.dataset.barsFor, "011");
});

test("predict: on error, or without a kernel, back to the kernel's state and say why", async () => {
  const failed = fakeView({ requester: fixedRequester({ status: "error" }) });
  await js.nbxPredictMask(failed.view);
  assert.deepEqual(failed.log, [["kernel"]]);
  assert.equal(failed.view.dom.status.text, "the model failed: see the error above");
  const offline = fakeView({ requester: fixedRequester({ status: "no-kernel" }), explorer: { noKernel: "this text's predictions" } });
  await js.nbxPredictMask(offline.view);
  assert.deepEqual(offline.log, [["kernel"]]);
  assert.equal(offline.view.dom.status.text, "this text's predictions needs a running kernel");
  const superseded = fakeView({ requester: fixedRequester({ status: "superseded" }) });
  await js.nbxPredictMask(superseded.view);
  assert.deepEqual(superseded.log, []);
});

test("a kernel action: busy, then the explanation shown and everything redrawn; on failure the menus go back", async () => {
  const ok = fakeView({ requester: fixedRequester({ status: "ok" }) });
  await js.nbxMaskKernelAction(ok.view, "explain", { method: "lime" }, "computing LIME…", "LIME done");
  assert.deepEqual(ok.log, [["busy", "computing LIME…"], ["loadAll"], ["done", "LIME done"]]);
  assert.equal(ok.view.state.showOverlay, true);
  const segmented = fakeView({ requester: fixedRequester({ status: "ok" }) });
  await js.nbxMaskKernelAction(segmented.view, "segment", {}, "segmenting…", () => "24 superpixels");
  assert.deepEqual(segmented.log.at(-1), ["done", "24 superpixels"]);

  const failed = fakeView({ requester: fixedRequester({ status: "error" }) });
  await js.nbxMaskKernelAction(failed.view, "target", { target: 1 }, "changing class…", "class changed");
  assert.deepEqual(failed.log, [["busy", "changing class…"], ["controls"], ["done", "failed: see the error above"]]);
  assert.equal(failed.view.state.showOverlay, false);
  const offline = fakeView({ requester: fixedRequester({ status: "no-kernel" }) });
  await js.nbxMaskKernelAction(offline.view, "target", {}, "changing class…", "class changed");
  assert.deepEqual(offline.log.at(-1), ["done", "needs a running kernel"]);
  const superseded = fakeView({ requester: fixedRequester({ status: "superseded" }) });
  await js.nbxMaskKernelAction(superseded.view, "explain", {}, "computing…", "done");
  assert.deepEqual(superseded.log.at(-1), ["done", undefined]);  // the status text stays as it was
  const stale = fakeView({ requester: fixedRequester({ status: "ok", stale: true }) });
  await js.nbxMaskKernelAction(stale.view, "explain", {}, "computing…", "done");
  assert.deepEqual(stale.log, [["busy", "computing…"]]);
});

test("changes from the kernel are redrawn only while none of the view's requests or notifications is pending", () => {
  const { view, handlers } = fakeView();
  const counts = { inFlight: 0, notifying: 0 };
  const requester = { inFlight: () => counts.inFlight, notifying: () => counts.notifying };
  const redrawn = [];
  js.nbxFollowWhenIdle(view.model, requester, [["change:a change:b", () => redrawn.push("ab")], ["change:c", () => redrawn.push("c")]]);
  const fire = (event) => handlers[event].forEach((fn) => fn());
  fire("change:a"); fire("change:c");
  counts.inFlight = 1; fire("change:b");
  counts.inFlight = 0; counts.notifying = 2; fire("change:c");
  counts.notifying = 0; fire("change:b");
  assert.deepEqual(redrawn, ["ab", "c", "ab"]);
});
