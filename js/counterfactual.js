// CounterfactualSliders view: one native range slider per feature over a histogram of the training data,
// a live prediction bar, a counterfactual search with a progress bar, stepping through diverse
// counterfactuals, and the local explanation (Shapley values or LIME) of the current point beside the sliders.
// Traits: features, feature_names, class_names, histograms (F,B f32), original/value (F f64), prediction
// (K f64), kind, target, counterfactuals (n,F f64), counterfactual_info, selected, explainer,
// explanation_values (F f64), explanation. Requests: predict {value, selected?}, explain {value, explainer?},
// find {n, sparse}. User text (feature names, categories, classes) is only ever set with textContent.
//
// The sliders move first (optimistically) and the kernel follows; when the kernel cannot predict a point
// (status "error") the view goes back to the kernel's point and shows the error.
//
// Answer tables (`answer_tables`, built with precompute=True or in an export): the prediction along every
// slider through the original row, the shown point and each counterfactual (1-D slices). A point that differs
// from one of those bases in at most one feature is answered from them (exactly: the model's own numbers);
// without a kernel (an exported page) a point further away is extrapolated from the slices and labelled
// approximate, and the search and the explanation say they need a running kernel.
//
// Where things are: buildDom (toolbar and panels), buildRows (one row per feature), drawHistogram and paintRow
// (a row), renderPrediction, renderCounterfactuals, renderExplanation (the side panel), decodeSlices /
// tableAnswer (answers from the tables), schedulePredict / sendPredict / showKernelPoint / scheduleExplain /
// sendExplain / find / step (asking and applying answers), listenToUser, followKernel and markKernelOnly
// (events and the exported page), render.

const NBX_CF_THROTTLE_MS = 60;
const NBX_CF_EXPLAIN_DELAY_MS = 200;

/** A small padlock drawn as SVG (emoji fonts are not everywhere). */
function nbxCfLock() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [k, v] of Object.entries({ class: "nbx-cf-lock", viewBox: "0 0 16 16", width: "11", height: "11", "aria-hidden": "true" })) svg.setAttribute(k, v);
  const title = document.createElementNS(ns, "title");
  title.textContent = "immutable: this feature cannot change";
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M4 7V5a4 4 0 0 1 8 0v2h1.5v8h-11V7H4zm2 0h4V5a2 2 0 0 0-4 0v2z");
  path.setAttribute("fill", "currentColor");
  svg.append(title, path);
  return svg;
}

/** The page: toolbar (find, how many, sparse, steps, reset, explainer), status bar, error banner, table, side panel. */
function buildDom(model, el) {
  const { root, toolbar } = nbxViewRoot(el, "nbx-cf");
  const findButton = toolbar.appendChild(nbxEl("button", { type: "button", class: "nbx-cf-find" }, "Find counterfactual"));
  const countSelect = nbxLabelled(toolbar, "how many ", "select", { class: "nbx-cf-count", "aria-label": "number of counterfactuals" });
  nbxSetOptions(countSelect, [1, 2, 3, 4, 5].map((k) => [k, String(k)]), 3);
  const sparseButton = toolbar.appendChild(nbxEl("button", { type: "button", class: "nbx-cf-sparse", "aria-pressed": "false",
    title: "prefer fewer changed features over a smaller distance" }, "sparse"));
  const stepGroup = toolbar.appendChild(nbxEl("span", { class: "nbx-cf-steps", role: "group", "aria-label": "counterfactuals found" }));
  const prevButton = stepGroup.appendChild(nbxEl("button", { type: "button", class: "nbx-cf-prev", "aria-label": "previous counterfactual" }, "◀"));
  const stepText = stepGroup.appendChild(nbxEl("span", { class: "nbx-cf-step-text" }, ""));
  const nextButton = stepGroup.appendChild(nbxEl("button", { type: "button", class: "nbx-cf-next", "aria-label": "next counterfactual" }, "▶"));
  const resetButton = toolbar.appendChild(nbxEl("button", { type: "button", class: "nbx-cf-reset" }, "Reset"));
  const explainerSelect = nbxLabelled(toolbar, "explanation ", "select", { class: "nbx-cf-explainer", "aria-label": "local explanation" });
  nbxSetOptions(explainerSelect, [["shapley", "Shapley values"], ["lime", "LIME"], ["anchor", "Anchor"], ["none", "off"]]);

  const status = nbxStatusAndError(model, root, { label: "search progress" });

  const body = root.appendChild(nbxEl("div", { class: "nbx-cf-body" }));
  const table = body.appendChild(nbxEl("div", { class: "nbx-cf-table", role: "group", "aria-label": "features" }));
  const side = body.appendChild(nbxEl("div", { class: "nbx-cf-side" }));
  side.appendChild(nbxEl("div", { class: "nbx-cf-heading" }, "prediction"));
  const predictionBox = side.appendChild(nbxEl("div", { class: "nbx-cf-prediction" }));
  const cfInfo = side.appendChild(nbxEl("div", { class: "nbx-cf-info" }));
  const explainHeading = side.appendChild(nbxEl("div", { class: "nbx-cf-heading nbx-cf-explain-heading" }));
  const explainInfo = side.appendChild(nbxEl("div", { class: "nbx-cf-explain-info" }));
  // keys a focused slider, menu or button uses stay with it; JupyterLab's shortcuts get the others
  nbxKeepKeys(root);
  return { root, status, findButton, countSelect, sparseButton, stepGroup, prevButton, stepText, nextButton, resetButton,
           explainerSelect, table, predictionBox, cfInfo, explainHeading, explainInfo };
}

/** A float64 trait as a Float64Array (null when unset). */
function decodedTrait(model, name) {
  const a = nbxDecodeArray(model.get(name));
  return a ? Float64Array.from(a.data) : null;
}

/** Busy: a request in flight, or one about to be sent (throttled prediction, delayed explanation). */
function updateBusy({ state, dom, requester }) {
  dom.root.dataset.busy = String(requester.inFlight() > 0 || state.timer !== null || state.explainTimer !== null);
}

// ---- values and slider positions ----------------------------------------------------------------

function formatValue({ state }, j, v) {
  const f = state.feats[j];
  if (f.categorical) {
    const k = f.categories.findIndex((c) => c === v);
    return k >= 0 ? f.labels[k] : nbxFormat(v);
  }
  if (f.integer) return String(Math.round(v));
  return nbxFormat(v);
}

function sliderToValue({ state }, j, s) {
  const f = state.feats[j];
  return f.categorical ? f.categories[Math.round(Number(s))] : Number(s);
}

/** A categorical slider moves over category positions: the nearest category's index. */
function valueToSlider({ state }, j, v) {
  const f = state.feats[j];
  if (!f.categorical) return String(v);
  let best = 0;
  f.categories.forEach((c, k) => { if (Math.abs(c - v) < Math.abs(f.categories[best] - v)) best = k; });
  return String(best);
}

// ---- the feature rows -----------------------------------------------------------------------------

/** One row per feature: name (a lock when immutable), histogram with the slider over it, value, contribution. */
function buildRows(view) {
  const { model, state, dom } = view;
  state.feats = model.get("features") || [];
  dom.table.replaceChildren();
  const head = dom.table.appendChild(nbxEl("div", { class: "nbx-cf-row nbx-cf-head", "aria-hidden": "true" }));
  for (const t of ["feature", "value (training distribution behind)", "value · change", "contribution"]) head.appendChild(nbxEl("span", {}, t));
  state.rows = state.feats.map((f, j) => {
    const row = dom.table.appendChild(nbxEl("div", { class: "nbx-cf-row", "data-feature": String(j) }));
    const id = `${state.uid}-f${j}`;
    const label = row.appendChild(nbxEl("label", { class: "nbx-cf-name", for: id }));
    label.appendChild(nbxEl("span", { class: "nbx-cf-name-text" }, f.name));
    if (f.immutable) {
      label.appendChild(nbxCfLock());
      label.appendChild(nbxEl("span", { class: "nbx-visually-hidden" }, " (immutable)"));
      row.classList.add("nbx-cf-immutable");
    }
    const track = row.appendChild(nbxEl("div", { class: "nbx-cf-track" }));
    const hist = track.appendChild(nbxEl("canvas", { class: "nbx-cf-hist", width: "200", height: "26", "aria-hidden": "true" }));
    // a locked slider shows its exact value (step "any"); the others move on a grid of 1000 steps
    const attrs = f.categorical
      ? { min: "0", max: String(f.categories.length - 1), step: "1" }
      : { min: String(f.lower), max: String(f.upper), step: f.immutable ? "any" : String(f.step) };
    const coarse = view.requester && view.requester.kernelless && view.tables ? view.tables.steps[j] : 0;
    if (coarse > 0 && !f.categorical && !f.immutable) attrs.step = String(coarse);  // the grid the tables hold
    const slider = track.appendChild(nbxEl("input", { type: "range", id, class: "nbx-cf-slider", ...attrs, "aria-label": f.name }));
    if (f.immutable || f.upper === f.lower) slider.disabled = true;
    const readout = row.appendChild(nbxEl("span", { class: "nbx-cf-readout" }));
    const valueText = readout.appendChild(nbxEl("span", { class: "nbx-cf-value" }));
    const deltaText = readout.appendChild(nbxEl("span", { class: "nbx-cf-delta" }));
    const contrib = row.appendChild(nbxEl("span", { class: "nbx-cf-contrib" }));
    const bar = contrib.appendChild(nbxEl("span", { class: "nbx-cf-contrib-bar" }));
    const contribText = contrib.appendChild(nbxEl("span", { class: "nbx-cf-contrib-text" }));
    slider.addEventListener("pointerdown", () => { state.dragging = true; });
    slider.addEventListener("input", () => {
      if (f.immutable) { slider.value = valueToSlider(view, j, state.current[j]); return; }
      state.current[j] = sliderToValue(view, j, slider.value);
      paintRow(view, j);
      schedulePredict(view);
    });
    slider.addEventListener("change", () => { state.dragging = false; schedulePredict(view); });
    return { row, slider, hist, valueText, deltaText, bar, contribText };
  });
}

/** The training histogram of feature j, the original value (dashed) and the current one. */
function drawHistogram(view, j) {
  const { model, state, dom } = view;
  const { hist } = state.rows[j];
  const f = state.feats[j];
  const h = nbxDecodeArray(model.get("histograms"));
  const ctx = hist.getContext("2d");
  const W = hist.width, H = hist.height, pad = 8;
  ctx.clearRect(0, 0, W, H);
  if (!h) return;
  const bins = h.shape[1];
  const counts = h.data.subarray(j * bins, (j + 1) * bins);
  ctx.fillStyle = nbxThemeColor(dom.root, "--jp-layout-color3", "#c8c8c8");
  const xOf = (t) => pad + t * (W - 2 * pad);
  const k = f.categorical ? f.categories.length : 0;
  if (f.categorical) {
    for (let i = 0; i < k; i++) {
      const x = xOf(k > 1 ? i / (k - 1) : 0.5);
      const bh = counts[i] * (H - 4);
      ctx.fillRect(x - 5, H - bh, 10, bh);
    }
  } else {
    const width = (W - 2 * pad) / bins;
    for (let i = 0; i < bins; i++) {
      const bh = counts[i] * (H - 4);
      ctx.fillRect(pad + i * width + 0.5, H - bh, Math.max(1, width - 1), bh);
    }
  }
  const pos = (v) => {
    if (f.categorical) { const i = Number(valueToSlider(view, j, v)); return xOf(k > 1 ? i / (k - 1) : 0.5); }
    return xOf(f.upper > f.lower ? (v - f.lower) / (f.upper - f.lower) : 0.5);
  };
  ctx.strokeStyle = nbxThemeColor(dom.root, "--jp-ui-font-color2", "#555");
  ctx.setLineDash([2, 2]);
  ctx.beginPath(); ctx.moveTo(pos(state.original[j]) + 0.5, 0); ctx.lineTo(pos(state.original[j]) + 0.5, H); ctx.stroke();
  ctx.setLineDash([]);
  ctx.strokeStyle = nbxThemeColor(dom.root, "--jp-brand-color1", "#1976d2");
  ctx.lineWidth = 2;
  ctx.beginPath(); ctx.moveTo(pos(state.current[j]), 0); ctx.lineTo(pos(state.current[j]), H); ctx.stroke();
  ctx.lineWidth = 1;
}

/** Row j's value text, its change from the original, and its histogram. */
function paintRow(view, j) {
  const { state } = view;
  const r = state.rows[j];
  const f = state.feats[j];
  const v = state.current[j], was = state.original[j];
  const text = formatValue(view, j, v);
  r.slider.setAttribute("aria-valuetext", text);
  r.valueText.textContent = text;
  const changed = Math.abs(v - was) > 1e-9 * Math.max(1, Math.abs(was));
  r.row.classList.toggle("nbx-changed", changed);
  r.row.dataset.value = String(v);
  if (!changed) r.deltaText.textContent = "";
  else if (f.categorical) r.deltaText.textContent = ` (was ${formatValue(view, j, was)})`;
  else {
    const d = v - was;
    r.deltaText.textContent = ` ${d > 0 ? "+" : "−"}${f.integer ? Math.abs(Math.round(d)) : nbxFormat(Math.abs(d))} (was ${formatValue(view, j, was)})`;
  }
  drawHistogram(view, j);
}

/** Every slider and row at the current point. */
function setSliders(view) {
  view.state.rows.forEach((r, j) => { r.slider.value = valueToSlider(view, j, view.state.current[j]); paintRow(view, j); });
}

// ---- the side panel -------------------------------------------------------------------------------

/** The prediction: one meter per class (probabilities) or the predicted value (regression). */
function renderPrediction(view, pred, approximate = null) {
  const { model, dom } = view;
  const box = dom.predictionBox;
  box.replaceChildren();
  box.dataset.approximate = String(Boolean(approximate));
  if (!pred) return;
  if (approximate) box.appendChild(nbxEl("div", { class: "nbx-approximate nbx-cf-approximate" }, approximate));
  const names = model.get("class_names") || [];
  const target = model.get("target");
  if (model.get("kind") !== "probability") {
    const v = pred[0];
    box.appendChild(nbxEl("div", { class: "nbx-cf-regression" }, `prediction ${nbxFormat(v)}`));
    const ok = Math.abs(v - model.get("desired")) <= model.get("epsilon") + 1e-12;
    box.dataset.predicted = nbxFormat(v);
    announce(view, `prediction ${nbxFormat(v)}${ok ? " (target reached)" : ""}`, ok);
    return;
  }
  let top = 0;
  for (let k = 1; k < pred.length; k++) if (pred[k] > pred[top]) top = k;
  for (let k = 0; k < pred.length; k++) {
    const line = box.appendChild(nbxEl("div", { class: "nbx-cf-class" + (k === top ? " nbx-cf-top" : "") + (k === target ? " nbx-cf-target" : ""), "data-class": String(k) }));
    line.appendChild(nbxEl("span", { class: "nbx-cf-class-name" }, names[k] !== undefined ? names[k] : `class ${k}`));
    const meter = line.appendChild(nbxEl("span", { class: "nbx-cf-meter", role: "img", "aria-label": `${names[k] ?? k}: ${(pred[k] * 100).toFixed(1)} percent` }));
    meter.appendChild(nbxEl("span", { class: "nbx-cf-meter-fill", style: { width: `${(pred[k] * 100).toFixed(2)}%` } }));
    line.appendChild(nbxEl("span", { class: "nbx-cf-prob" }, `${(pred[k] * 100).toFixed(1)}%`));
  }
  box.dataset.predicted = names[top] !== undefined ? names[top] : `class ${top}`;
  box.dataset.probability = String(pred[target]);
  const reached = Math.abs(pred[target] - model.get("desired")) <= model.get("epsilon") + 1e-12;
  announce(view, `prediction: ${box.dataset.predicted} (${(pred[top] * 100).toFixed(1)}%)`, reached);
}

/** Say the prediction in the live region when the predicted class (or reaching the target) changed. */
function announce({ state, dom }, text, reached) {
  const key = `${text.split(" (")[0]}|${reached}`;
  if (key === state.lastAnnounced) return;
  state.lastAnnounced = key;
  dom.status.say(text + (reached ? " — target reached" : ""));
}

/** The step buttons and the selected counterfactual's summary; its changed features marked in the table. */
function renderCounterfactuals(view) {
  const { model, state, dom } = view;
  const info = model.get("counterfactual_info") || [];
  const sel = selectedOf(view);
  const n = info.length;
  dom.stepGroup.hidden = n === 0;
  dom.prevButton.disabled = n < 2;
  dom.nextButton.disabled = n < 2;
  dom.stepText.textContent = n === 0 ? "" : (sel >= 0 ? ` ${sel + 1} of ${n} ` : ` – of ${n} `);
  dom.cfInfo.replaceChildren();
  state.rows.forEach((r) => r.row.classList.remove("nbx-cf-in-counterfactual"));
  if (n === 0 || sel < 0 || sel >= n) return;
  const c = info[sel];
  dom.cfInfo.appendChild(nbxEl("div", { class: c.valid ? "nbx-cf-valid" : "nbx-cf-invalid" },
    `counterfactual ${sel + 1}: ${c.valid ? "valid" : "not valid"} · distance ${nbxFormat(c.distance)} MAD · ${c.n_changed} feature${c.n_changed === 1 ? "" : "s"} changed`));
  for (const j of c.changed || []) if (state.rows[j]) state.rows[j].row.classList.add("nbx-cf-in-counterfactual");
}

/** The local explanation: heading, base → prediction, one signed bar per feature row. */
function renderExplanation({ model, state, dom }) {
  const info = model.get("explanation") || {};
  const values = decodedTrait(model, "explanation_values");
  dom.explainerSelect.value = model.get("explainer");
  if (!values || !info.label) {
    dom.explainHeading.textContent = model.get("explainer") === "none" ? "" : "explanation";
    dom.explainInfo.textContent = "";
    state.rows.forEach((r) => { r.bar.style.width = "0"; r.contribText.textContent = ""; });
    return;
  }
  if (info.method === "anchor") { renderAnchor({ state, dom }, info); return; }
  const what = info.output === "probability" ? `P(${info.target_name})` : "prediction";
  dom.explainHeading.textContent = `${info.label} of ${what}`;
  dom.explainInfo.textContent = `base ${nbxFormat(info.base)} → ${nbxFormat(info.prediction)}` +
    (info.fidelity !== null && info.fidelity !== undefined ? ` · fidelity R² ${info.fidelity.toFixed(2)}` : "");
  let top = 0;
  for (const v of values) top = Math.max(top, Math.abs(v));
  state.rows.forEach((r, j) => {
    const v = values[j] || 0;
    const w = top > 0 ? (Math.abs(v) / top) * 50 : 0;
    r.bar.style.width = `${w}%`;
    r.bar.style.left = v >= 0 ? "50%" : `${50 - w}%`;
    r.bar.classList.toggle("nbx-negative", v < 0);
    r.contribText.textContent = Math.abs(v) <= 1e-9 * top ? "0" : (v >= 0 ? "+" : "−") + nbxFormat(Math.abs(v));
    r.row.dataset.contribution = String(v);
    r.row.classList.remove("nbx-cf-in-anchor");
  });
}

/** An anchor (issue 15): the rule that keeps the prediction, its precision and coverage; each anchored
 *  feature's row shows its term (text), the others none. */
function renderAnchor({ state, dom }, info) {
  const terms = info.terms || {};
  dom.explainHeading.textContent = `anchor: keeps ${info.target_name}`;
  dom.explainInfo.textContent = `IF ${info.rule || "(anything)"} · precision ${nbxFormat(info.precision)} · coverage ${nbxFormat(info.coverage)}`;
  state.rows.forEach((r, j) => {
    const term = terms[String(j)];
    r.bar.style.width = "0";
    r.bar.classList.remove("nbx-negative");
    r.contribText.textContent = term || "";
    r.row.classList.toggle("nbx-cf-in-anchor", Boolean(term));
    r.row.dataset.contribution = term ? "anchor" : "0";
  });
}

// ---- asking and applying answers --------------------------------------------------------------------

/** Send the current point at most every NBX_CF_THROTTLE_MS while a slider moves. */
function schedulePredict(view) {
  const { state } = view;
  if (state.timer !== null) return;
  const wait = Math.max(0, NBX_CF_THROTTLE_MS - (performance.now() - state.lastSent));
  state.timer = setTimeout(() => { state.timer = null; state.lastSent = performance.now(); sendPredict(view); updateBusy(view); }, wait);
  updateBusy(view);
}

function cancelScheduledPredict({ state }) {
  if (state.timer !== null) { clearTimeout(state.timer); state.timer = null; }
}

/** Ask the kernel to predict the current point (and select counterfactual `selected`); apply the answer. */
async function sendPredict(view, selected) {
  const { state, dom } = view;
  const params = { value: nbxEncodeArray(Float64Array.from(state.current), [state.current.length]) };
  if (selected !== undefined) params.selected = selected;
  const answer = await view.requester.request("predict", params);
  if (answer.stale) return;
  if (answer.source === "table" && !view.requester.kernelless) view.requester.notify("predict", params);  // the kernel follows
  if (answer.status === "error") {
    if (state.timer === null) showKernelPoint(view);  // else a newer point is about to be asked for
    state.lastAnnounced = null;
    dom.status.say("the model failed at that point (see the error above); back to the last point it predicted");
    dom.root.dataset.state = "error";
    return;
  }
  if (answer.status !== "ok") return;
  const v = nbxDecodeArray(answer.data.value);  // the kernel's projection (integers rounded, ranges clipped)
  if (!state.dragging && state.timer === null && v) { state.current = Float64Array.from(v.data); setSliders(view); }
  if (answer.source === "table" && answer.data.selected !== undefined) state.selected = answer.data.selected;
  const p = nbxDecodeArray(answer.data.prediction);
  renderPrediction(view, p ? p.data : null, answer.data.approximate || null);
  renderCounterfactuals(view);
  dom.root.dataset.state = "predicted";
  scheduleExplain(view);
}

/** Undo the optimistic moves: sliders, rows, prediction and selection as the kernel holds them. */
function showKernelPoint(view) {
  const { model, state } = view;
  state.current = decodedTrait(model, "value") || Float64Array.from(state.original);
  setSliders(view);
  renderPrediction(view, decodedTrait(model, "prediction"));
  renderCounterfactuals(view);
}

/** Explain the current point once the sliders rest (now, when the explainer was just chosen). */
function scheduleExplain(view, explainer) {
  const { model, state } = view;
  if (explainer === undefined && model.get("explainer") === "none") return;
  clearTimeout(state.explainTimer);
  state.explainTimer = setTimeout(() => { state.explainTimer = null; sendExplain(view, explainer); updateBusy(view); },
                                  explainer === undefined ? NBX_CF_EXPLAIN_DELAY_MS : 0);
  updateBusy(view);
}

async function sendExplain(view, explainer) {
  const { state, dom } = view;
  if (state.dragging || state.timer !== null) { scheduleExplain(view, explainer); return; }
  const params = { value: nbxEncodeArray(Float64Array.from(state.current), [state.current.length]) };
  if (explainer !== undefined) params.explainer = explainer;
  dom.explainHeading.classList.add("nbx-updating");
  const answer = await view.requester.request("explain", params);
  if (answer.stale) return;
  dom.explainHeading.classList.remove("nbx-updating");
  if (answer.status === "no-kernel") { explainedElsewhere(view); return; }
  if (answer.status === "ok" || answer.status === "error") renderExplanation(view);  // on error: the kernel's explainer again
}

/** Search for counterfactuals (progress with an estimate); show the first one found. */
async function find(view) {
  const { model, state, dom } = view;
  dom.findButton.disabled = true;
  dom.status.busy("searching for counterfactuals…");
  state.lastAnnounced = null;
  const answer = await view.requester.request("find", { n: Number(dom.countSelect.value), sparse: dom.sparseButton.getAttribute("aria-pressed") === "true" });
  if (answer.stale) return;
  dom.findButton.disabled = false;
  if (answer.status === "no-kernel") { dom.status.done(`finding counterfactuals ${NBX_NEEDS_KERNEL}`); return; }
  if (answer.status !== "ok") { dom.status.done("the search failed: see the error above"); return; }
  dom.status.done();
  state.current = decodedTrait(model, "value");
  setSliders(view);
  renderPrediction(view, decodedTrait(model, "prediction"));
  renderCounterfactuals(view);
  renderExplanation(view);
  const info = model.get("counterfactual_info") || [];
  if (info.length) {
    const c = info[0];
    dom.status.say(`${info.length} counterfactual${info.length === 1 ? "" : "s"} found; showing 1 (${c.valid ? "valid" : "not valid"}, ${c.n_changed} feature${c.n_changed === 1 ? "" : "s"} changed). ${dom.status.text()}`);
  }
  dom.root.dataset.state = "found";
}

/** Move to the previous or next counterfactual found. */
function step(view, delta) {
  const { model, state } = view;
  const cfs = nbxDecodeArray(model.get("counterfactuals"));
  const info = model.get("counterfactual_info") || [];
  if (!cfs || info.length === 0) return;
  const n = info.length, F = state.current.length;
  const now = selectedOf(view);
  const sel = ((now < 0 ? (delta > 0 ? -1 : 0) : now) + delta + n) % n;
  state.current = Float64Array.from(cfs.data.subarray(sel * F, (sel + 1) * F));
  setSliders(view);
  cancelScheduledPredict(view);
  sendPredict(view, sel);
}

/** What the user does: buttons find, step and reset; the explainer menu re-explains. (Sliders: buildRows.) */
function listenToUser(view) {
  const { state, dom } = view;
  dom.findButton.addEventListener("click", () => find(view));
  dom.sparseButton.addEventListener("click", () => dom.sparseButton.setAttribute("aria-pressed", String(dom.sparseButton.getAttribute("aria-pressed") !== "true")));
  dom.prevButton.addEventListener("click", () => step(view, -1));
  dom.nextButton.addEventListener("click", () => step(view, 1));
  dom.resetButton.addEventListener("click", () => {
    state.current = Float64Array.from(state.original);
    setSliders(view);
    cancelScheduledPredict(view);
    state.lastAnnounced = null;
    sendPredict(view, -1);
  });
  dom.explainerSelect.addEventListener("change", () => scheduleExplain(view, dom.explainerSelect.value));
  // a drag that ends outside the slider still ends
  state.onPointerUp = () => { if (state.dragging) { state.dragging = false; schedulePredict(view); } };
  window.addEventListener("pointerup", state.onPointerUp);
}

/** Changes made from Python (or another view): applied when no request of ours is pending. */
function followKernel(view) {
  const { model, state, requester } = view;
  const idle = () => requester.inFlight() === 0 && !state.dragging && state.timer === null;
  model.on("change:value", () => { if (idle()) { state.current = decodedTrait(model, "value"); setSliders(view); } });
  model.on("change:prediction", () => { if (idle()) renderPrediction(view, decodedTrait(model, "prediction")); });
  model.on("change:counterfactual_info change:selected", () => { if (idle()) { state.selected = null; renderCounterfactuals(view); } });
  model.on("change:answer_tables", () => { view.tables = decodeSlices(model); });
  model.on("change:explanation change:explanation_values change:explainer", () => { if (idle()) renderExplanation(view); });
  model.on("change:features change:histograms change:original", () => {
    state.original = decodedTrait(model, "original") || state.original;
    buildRows(view); setSliders(view);
  });
}

// ---- answers from the tables ------------------------------------------------------------------------

/** The counterfactual shown: the one a table answer moved to, else the kernel's `selected`. */
function selectedOf({ model, state }) {
  return state.selected !== null && state.selected !== undefined ? state.selected : model.get("selected");
}

/** The answer tables decoded once: bases (B×F), their predictions (B×K), each feature's grid slice. */
function decodeSlices(model) {
  const t = model.get("answer_tables");
  if (!t || !t.bases) return null;
  const bases = nbxDecodeArray(t.bases), basePred = nbxDecodeArray(t.base_predictions);
  const [B, F] = bases.shape, K = basePred.shape[1];
  return { B, F, K, bases: bases.data, basePred: basePred.data, grid: nbxDecodeArray(t.grid).data,
           offsets: nbxDecodeArray(t.offsets).data, steps: nbxDecodeArray(t.steps).data,
           predictions: nbxDecodeArray(t.predictions).data, P: nbxDecodeArray(t.offsets).data[F] };
}

const nbxCfSame = (a, b) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/** Where value v of feature j sits in its slice (an index into the predictions), or -1 when off the grid. */
function sliceIndex(t, j, v) {
  const start = t.offsets[j], end = t.offsets[j + 1];
  if (end <= start) return -1;
  const g0 = t.grid[start], step = end - start > 1 ? t.grid[start + 1] - g0 : 1;
  let k = Math.round((v - g0) / step);  // a categorical grid is not evenly spaced: search near the guess
  k = Math.max(0, Math.min(end - start - 1, k));
  for (const c of [k, ...Array.from({ length: end - start }, (_, i) => i)]) if (nbxCfSame(t.grid[start + c], v)) return start + c;
  return -1;
}

/** Prediction of base b with its feature j moved to slice entry `index` (index −1: the base itself). */
function slicePrediction(t, b, index) {
  return index < 0 ? t.basePred.subarray(b * t.K, (b + 1) * t.K)
    : t.predictions.subarray((b * t.P + index) * t.K, (b * t.P + index + 1) * t.K);
}

/** The kernel-free answer to "predict" at point v: exact when v is a base with at most one feature moved
 *  along its slider; without a kernel, an extrapolation from the nearest base otherwise (the one-feature
 *  changes added on the log scale, labelled approximate); undefined when the kernel should answer. */
function tableAnswer(view, action, params) {
  const t = view.tables;
  if (action !== "predict" || !t || !params.value) return undefined;
  const v = nbxDecodeArray(params.value).data;
  if (v.length !== t.F) return undefined;
  let nearest = null;
  for (let b = 0; b < t.B; b++) {
    const moved = [];
    for (let j = 0; j < t.F; j++) if (!nbxCfSame(v[j], t.bases[b * t.F + j])) moved.push(j);
    if (moved.length <= 1) {
      const index = moved.length ? sliceIndex(t, moved[0], v[moved[0]]) : -1;
      if (moved.length && index < 0) continue;
      return tableResult(view, v, slicePrediction(t, b, index), params, null);
    }
    if (!nearest || moved.length < nearest.moved.length) nearest = { b, moved };
  }
  if (!view.requester.kernelless || !nearest) return undefined;  // a kernel is there: the model answers exactly
  const { b, moved } = nearest;
  const base = slicePrediction(t, b, -1);
  const indices = moved.map((j) => sliceIndex(t, j, v[j]));
  if (indices.some((i) => i < 0)) return undefined;
  const regression = view.model.get("kind") !== "probability";
  const out = new Float64Array(t.K);
  if (regression) {
    for (let k = 0; k < t.K; k++) out[k] = base[k] + indices.reduce((s, i) => s + slicePrediction(t, b, i)[k] - base[k], 0);
  } else {
    const log = (p) => Math.log(Math.max(p, 1e-12));
    let total = 0;
    for (let k = 0; k < t.K; k++) {
      out[k] = Math.exp(log(base[k]) + indices.reduce((s, i) => s + log(slicePrediction(t, b, i)[k]) - log(base[k]), 0));
      total += out[k];
    }
    for (let k = 0; k < t.K; k++) out[k] /= total;
  }
  const names = (view.model.get("features") || []).map((f) => f.name);
  const from = b === 0 ? "the original row" : "a point the tables hold";
  return tableResult(view, v, out, params,
    `${NBX_APPROXIMATE}: ${moved.length} features moved from ${from} (${moved.map((j) => names[j]).join(", ")}); ` +
    "their one-feature effects are added up — the model was not asked");
}

function tableResult(view, v, prediction, params, approximate) {
  const data = { value: nbxEncodeArray(Float64Array.from(v), [v.length]),
                 prediction: nbxEncodeArray(Float64Array.from(prediction), [prediction.length]), approximate };
  if (params.selected !== undefined) data.selected = params.selected;
  return data;
}

/** In an exported page the explanation stays the one of the exported point; say so when the point moved. */
function explainedElsewhere({ dom }) {
  dom.explainInfo.dataset.needsKernel = "true";
  if (!dom.explainInfo.textContent.includes(NBX_NEEDS_KERNEL)) {
    dom.explainInfo.textContent += ` · explanation of the exported point: updating it ${NBX_NEEDS_KERNEL}`;
  }
}

/** An exported page: what the tables answer stays live; the search and the explanation say they need a kernel. */
function markKernelOnly(view) {
  const { dom } = view;
  nbxNeedsKernel(dom.findButton, dom.countSelect, dom.sparseButton, dom.explainerSelect);
  const note = nbxOfflineNote(dom.root,
    view.tables
      ? "Exported page: moving one slider from the original row, the shown point or a counterfactual shows the " +
        "model's own prediction (from tables); moving more is approximate. Finding counterfactuals and the " +
        `explanation: each ${NBX_NEEDS_KERNEL}.`
      : `Exported page without answer tables: the sliders ${NBX_NEEDS_KERNEL}.`);
  dom.root.insertBefore(note, dom.status.node);
  if (!view.tables) for (const r of view.state.rows) nbxNeedsKernel(r.slider);
}

function render({ model, el }) {
  const dom = buildDom(model, el);
  const original = decodedTrait(model, "original") || new Float64Array(0);
  const state = {
    uid: `nbxcf${Math.random().toString(36).slice(2, 9)}`,  // ids linking labels to sliders
    feats: [], rows: [],
    original, current: decodedTrait(model, "value") || Float64Array.from(original),
    dragging: false,       // a slider is held: the kernel's echoes must not move it
    timer: null, lastSent: 0, explainTimer: null,
    lastAnnounced: null, onPointerUp: null,
    selected: null,        // the counterfactual a table answer moved to (the kernel's `selected` otherwise)
  };
  const view = { model, dom, state, requester: null, tables: decodeSlices(model) };
  view.requester = nbxRequester(model, {
    answer: (action, params) => tableAnswer(view, action, params),
    onProgress: (fraction, action, elapsed) => { if (action === "find" || action === "quality") dom.status.progress(fraction, elapsed); },
    onBusy: () => updateBusy(view),
  });
  dom.root.dataset.busy = "false";
  listenToUser(view);
  followKernel(view);
  buildRows(view);
  setSliders(view);
  renderPrediction(view, decodedTrait(model, "prediction"));
  renderCounterfactuals(view);
  renderExplanation(view);
  view.quality = nbxQualityPanel(model, dom.explainInfo.parentNode, view.requester, { status: dom.status });  // issue 17
  if (view.requester.kernelless) markKernelOnly(view);
  dom.root.dataset.state = "ready";
  return () => {
    window.removeEventListener("pointerup", state.onPointerUp);
    clearTimeout(state.timer); clearTimeout(state.explainTimer);
    dom.root.remove();
  };
}

export default { render };
