// The status bar and its time estimate (js/_shared.js): "computing… 40 % · about 3 s left".
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeElement, loadViews } from "./load_views.mjs";

const js = loadViews("_shared.js");

test("the estimate is the time left at the pace so far", () => {
  assert.equal(js.nbxEstimate(0.4, 2000), "40 % · about 3 s left");
  assert.equal(js.nbxEstimate(0.25, 4000), "25 % · about 12 s left");
  assert.equal(js.nbxEstimate(0.9, 1800), "90 % · less than a second left");
  assert.equal(js.nbxEstimate(0.5, 100_000), "50 % · about 2 min left");
  assert.equal(js.nbxEstimate(0.1, 3_600_000), "10 % · about 9 h left");
});

test("no guess too early; whole percents, clipped to 0..100", () => {
  assert.equal(js.nbxEstimate(0.5, 400), "50 %");        // under a second of evidence
  assert.equal(js.nbxEstimate(0.01, 60_000), "1 %");     // under 2 % done
  assert.equal(js.nbxEstimate(1, 9000), "100 %");
  assert.equal(js.nbxEstimate(1.7, 9000), "100 %");
  assert.equal(js.nbxEstimate(-0.2, 9000), "0 %");
  assert.equal(js.nbxEstimate(NaN, 9000), "0 %");
  assert.equal(js.nbxEstimate(0.999, 5000), "99 % · less than a second left");
});

test("the status bar: busy, progress with the estimate, done", () => {
  const parent = new FakeElement("div");
  const status = js.nbxStatusBar(parent, { label: "search progress" });
  const [bar, live, eta] = status.node.children;
  assert.equal(parent.children[0], status.node);
  assert.equal(status.node.className, "nbx-status");
  assert.equal(bar.tagName, "PROGRESS");
  assert.equal(bar.getAttribute("aria-label"), "search progress");
  assert.equal(live.getAttribute("aria-live"), "polite");
  assert.ok(bar.hidden);

  status.busy();
  assert.ok(!bar.hidden);
  assert.equal(bar.value, undefined);  // indeterminate until the kernel reports
  assert.equal(live.textContent, "computing…");
  status.progress(0.4, 2000);
  assert.equal(bar.value, 0.4);
  assert.equal(`${live.textContent} ${eta.textContent}`, "computing… 40 % · about 3 s left");
  status.done("done: 3 found");
  assert.ok(bar.hidden);
  assert.equal(eta.textContent, "");
  assert.equal(status.text(), "done: 3 found");

  status.busy("searching…");
  status.done();  // no text: the last news stays
  assert.equal(live.textContent, "searching…");
  status.say("prediction: approved");
  assert.equal(live.textContent, "prediction: approved");
  assert.ok(bar.hidden);
});
