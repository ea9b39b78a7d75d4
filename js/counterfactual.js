// CounterfactualSliders view: one native range slider per feature over a histogram of the training data,
// a live prediction bar, a counterfactual search with a progress bar, stepping through diverse
// counterfactuals, and the local explanation (Shapley values or LIME) of the current point beside the sliders.
// Traits: features, feature_names, class_names, histograms (F,B f32), original/value (F f64), prediction
// (K f64), kind, target, counterfactuals (n,F f64), counterfactual_info, selected, explainer,
// explanation_values (F f64), explanation. Requests: predict {value, selected?}, explain {value, explainer?},
// find {n, sparse}. User text (feature names, categories, classes) is only ever set with textContent.

const NBX_CF_THROTTLE_MS = 60;
const NBX_CF_EXPLAIN_DELAY_MS = 200;
const NBX_CF_SLIDER_KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown"]);

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

function render({ model, el }) {
  const uid = `nbxcf${Math.random().toString(36).slice(2, 9)}`;
  // data-lm-suppress-shortcuts: keys pressed on our controls (arrows on a slider) are not JupyterLab shortcuts
  const root = el.appendChild(nbxEl("div", { class: "nbx-root nbx-cf", "data-lm-suppress-shortcuts": "true" }));

  // ---- toolbar ----------------------------------------------------------------------------------
  const toolbar = root.appendChild(nbxEl("div", { class: "nbx-toolbar" }));
  const findButton = toolbar.appendChild(nbxEl("button", { type: "button", class: "nbx-cf-find" }, "Find counterfactual"));
  const countLabel = toolbar.appendChild(nbxEl("label", {}, "how many "));
  const countSelect = countLabel.appendChild(nbxEl("select", { class: "nbx-cf-count", "aria-label": "number of counterfactuals" }));
  for (const k of [1, 2, 3, 4, 5]) countSelect.appendChild(nbxEl("option", { value: String(k) }, String(k)));
  countSelect.value = "3";
  const sparseButton = toolbar.appendChild(nbxEl("button", { type: "button", class: "nbx-cf-sparse", "aria-pressed": "false",
    title: "prefer fewer changed features over a smaller distance" }, "sparse"));
  const stepGroup = toolbar.appendChild(nbxEl("span", { class: "nbx-cf-steps", role: "group", "aria-label": "counterfactuals found" }));
  const prevButton = stepGroup.appendChild(nbxEl("button", { type: "button", class: "nbx-cf-prev", "aria-label": "previous counterfactual" }, "◀"));
  const stepText = stepGroup.appendChild(nbxEl("span", { class: "nbx-cf-step-text" }, ""));
  const nextButton = stepGroup.appendChild(nbxEl("button", { type: "button", class: "nbx-cf-next", "aria-label": "next counterfactual" }, "▶"));
  const resetButton = toolbar.appendChild(nbxEl("button", { type: "button", class: "nbx-cf-reset" }, "Reset"));
  const explainerLabel = toolbar.appendChild(nbxEl("label", {}, "explanation "));
  const explainerSelect = explainerLabel.appendChild(nbxEl("select", { class: "nbx-cf-explainer", "aria-label": "local explanation" }));
  for (const [v, t] of [["shapley", "Shapley values"], ["lime", "LIME"], ["none", "off"]]) explainerSelect.appendChild(nbxEl("option", { value: v }, t));

  const status = root.appendChild(nbxEl("div", { class: "nbx-status" }));
  const progress = status.appendChild(nbxEl("progress", { max: "1", hidden: "", class: "nbx-cf-progress", "aria-label": "search progress" }));
  const live = status.appendChild(nbxEl("span", { class: "nbx-live", "aria-live": "polite" }));
  nbxErrorBanner(model, root);

  const body = root.appendChild(nbxEl("div", { class: "nbx-cf-body" }));
  const table = body.appendChild(nbxEl("div", { class: "nbx-cf-table", role: "group", "aria-label": "features" }));
  const side = body.appendChild(nbxEl("div", { class: "nbx-cf-side" }));
  side.appendChild(nbxEl("div", { class: "nbx-cf-heading" }, "prediction"));
  const predictionBox = side.appendChild(nbxEl("div", { class: "nbx-cf-prediction" }));
  const cfInfo = side.appendChild(nbxEl("div", { class: "nbx-cf-info" }));
  const explainHeading = side.appendChild(nbxEl("div", { class: "nbx-cf-heading nbx-cf-explain-heading" }));
  const explainInfo = side.appendChild(nbxEl("div", { class: "nbx-cf-explain-info" }));

  // ---- state ------------------------------------------------------------------------------------
  let feats = [];
  let rows = [];
  let current = new Float64Array(0);
  let original = new Float64Array(0);
  let dragging = false;
  let timer = null;
  let lastSent = 0;
  let explainTimer = null;
  let lastPredicted = null;

  const requester = nbxRequester(model, {
    onProgress: (fraction, action) => { if (action === "find") { progress.hidden = false; progress.value = fraction; } },
    onBusy: () => updateBusy(),
  });
  // busy: a request in flight, or one about to be sent (throttled prediction, delayed explanation)
  function updateBusy() {
    root.dataset.busy = String(requester.inFlight() > 0 || timer !== null || explainTimer !== null);
  }
  root.dataset.busy = "false";

  const decoded = (name) => { const a = nbxDecodeArray(model.get(name)); return a ? Float64Array.from(a.data) : null; };

  function themeColor(name, fallback) {
    const v = getComputedStyle(root).getPropertyValue(name).trim();
    return v || fallback;
  }

  function formatValue(j, v) {
    const f = feats[j];
    if (f.categorical) {
      const k = f.categories.findIndex((c) => c === v);
      return k >= 0 ? f.labels[k] : nbxFormat(v);
    }
    if (f.integer) return String(Math.round(v));
    return nbxFormat(v);
  }

  function sliderToValue(j, s) {
    const f = feats[j];
    return f.categorical ? f.categories[Math.round(Number(s))] : Number(s);
  }

  function valueToSlider(j, v) {
    const f = feats[j];
    if (!f.categorical) return String(v);
    let best = 0;
    f.categories.forEach((c, k) => { if (Math.abs(c - v) < Math.abs(f.categories[best] - v)) best = k; });
    return String(best);
  }

  // ---- rows -------------------------------------------------------------------------------------
  function build() {
    feats = model.get("features") || [];
    table.replaceChildren();
    const head = table.appendChild(nbxEl("div", { class: "nbx-cf-row nbx-cf-head", "aria-hidden": "true" }));
    for (const t of ["feature", "value (training distribution behind)", "value · change", "contribution"]) head.appendChild(nbxEl("span", {}, t));
    rows = feats.map((f, j) => {
      const row = table.appendChild(nbxEl("div", { class: "nbx-cf-row", "data-feature": String(j) }));
      const id = `${uid}-f${j}`;
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
      const slider = track.appendChild(nbxEl("input", { type: "range", id, class: "nbx-cf-slider", ...attrs, "aria-label": f.name }));
      if (f.immutable || f.upper === f.lower) slider.disabled = true;
      const readout = row.appendChild(nbxEl("span", { class: "nbx-cf-readout" }));
      const valueText = readout.appendChild(nbxEl("span", { class: "nbx-cf-value" }));
      const deltaText = readout.appendChild(nbxEl("span", { class: "nbx-cf-delta" }));
      const contrib = row.appendChild(nbxEl("span", { class: "nbx-cf-contrib" }));
      const bar = contrib.appendChild(nbxEl("span", { class: "nbx-cf-contrib-bar" }));
      const contribText = contrib.appendChild(nbxEl("span", { class: "nbx-cf-contrib-text" }));

      // JupyterLab's command-mode shortcuts match any focused non-text control (":focus:not(:read-write)"):
      // keep the slider's own keys (arrows, Home, End, Page Up/Down) for the slider
      slider.addEventListener("keydown", (e) => { if (NBX_CF_SLIDER_KEYS.has(e.key)) e.stopPropagation(); });
      slider.addEventListener("pointerdown", () => { dragging = true; });
      slider.addEventListener("input", () => {
        if (f.immutable) { slider.value = valueToSlider(j, current[j]); return; }
        current[j] = sliderToValue(j, slider.value);
        paintRow(j);
        schedulePredict();
      });
      slider.addEventListener("change", () => { dragging = false; schedulePredict(); });
      return { row, slider, hist, valueText, deltaText, bar, contribText };
    });
  }

  function onPointerUp() { if (dragging) { dragging = false; schedulePredict(); } }

  function drawHistogram(j) {
    const { hist } = rows[j];
    const f = feats[j];
    const h = nbxDecodeArray(model.get("histograms"));
    const ctx = hist.getContext("2d");
    const W = hist.width, H = hist.height, pad = 8;
    ctx.clearRect(0, 0, W, H);
    if (!h) return;
    const bins = h.shape[1];
    const counts = h.data.subarray(j * bins, (j + 1) * bins);
    ctx.fillStyle = themeColor("--jp-layout-color3", "#c8c8c8");
    const xOf = (t) => pad + t * (W - 2 * pad);
    if (f.categorical) {
      const k = f.categories.length;
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
      if (f.categorical) { const k = f.categories.length; const i = Number(valueToSlider(j, v)); return xOf(k > 1 ? i / (k - 1) : 0.5); }
      return xOf(f.upper > f.lower ? (v - f.lower) / (f.upper - f.lower) : 0.5);
    };
    ctx.strokeStyle = themeColor("--jp-ui-font-color2", "#555");
    ctx.setLineDash([2, 2]);
    ctx.beginPath(); ctx.moveTo(pos(original[j]) + 0.5, 0); ctx.lineTo(pos(original[j]) + 0.5, H); ctx.stroke();
    ctx.setLineDash([]);
    ctx.strokeStyle = themeColor("--jp-brand-color1", "#1976d2");
    ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(pos(current[j]), 0); ctx.lineTo(pos(current[j]), H); ctx.stroke();
    ctx.lineWidth = 1;
  }

  function paintRow(j) {
    const r = rows[j];
    const f = feats[j];
    const v = current[j];
    const text = formatValue(j, v);
    r.slider.setAttribute("aria-valuetext", text);
    r.valueText.textContent = text;
    const changed = Math.abs(v - original[j]) > 1e-9 * Math.max(1, Math.abs(original[j]));
    r.row.classList.toggle("nbx-changed", changed);
    r.row.dataset.value = String(v);
    if (!changed) r.deltaText.textContent = "";
    else if (f.categorical) r.deltaText.textContent = ` (was ${formatValue(j, original[j])})`;
    else {
      const d = v - original[j];
      r.deltaText.textContent = ` ${d > 0 ? "+" : "−"}${f.integer ? Math.abs(Math.round(d)) : nbxFormat(Math.abs(d))} (was ${formatValue(j, original[j])})`;
    }
    drawHistogram(j);
  }

  function setSliders() {
    rows.forEach((r, j) => { r.slider.value = valueToSlider(j, current[j]); paintRow(j); });
  }

  // ---- prediction -------------------------------------------------------------------------------
  function renderPrediction(pred) {
    predictionBox.replaceChildren();
    if (!pred) return;
    const names = model.get("class_names") || [];
    const target = model.get("target");
    if (model.get("kind") !== "probability") {
      const v = pred[0];
      predictionBox.appendChild(nbxEl("div", { class: "nbx-cf-regression" }, `prediction ${nbxFormat(v)}`));
      const desired = model.get("desired"), eps = model.get("epsilon");
      const ok = Math.abs(v - desired) <= eps + 1e-12;
      predictionBox.dataset.predicted = nbxFormat(v);
      maybeAnnounce(`prediction ${nbxFormat(v)}${ok ? " (target reached)" : ""}`, ok);
      return;
    }
    let top = 0;
    for (let k = 1; k < pred.length; k++) if (pred[k] > pred[top]) top = k;
    for (let k = 0; k < pred.length; k++) {
      const line = predictionBox.appendChild(nbxEl("div", { class: "nbx-cf-class" + (k === top ? " nbx-cf-top" : "") + (k === target ? " nbx-cf-target" : ""), "data-class": String(k) }));
      line.appendChild(nbxEl("span", { class: "nbx-cf-class-name" }, names[k] !== undefined ? names[k] : `class ${k}`));
      const meter = line.appendChild(nbxEl("span", { class: "nbx-cf-meter", role: "img", "aria-label": `${names[k] ?? k}: ${(pred[k] * 100).toFixed(1)} percent` }));
      meter.appendChild(nbxEl("span", { class: "nbx-cf-meter-fill", style: { width: `${(pred[k] * 100).toFixed(2)}%` } }));
      line.appendChild(nbxEl("span", { class: "nbx-cf-prob" }, `${(pred[k] * 100).toFixed(1)}%`));
    }
    predictionBox.dataset.predicted = names[top] !== undefined ? names[top] : `class ${top}`;
    predictionBox.dataset.probability = String(pred[target]);
    const reached = Math.abs(pred[target] - model.get("desired")) <= model.get("epsilon") + 1e-12;
    maybeAnnounce(`prediction: ${predictionBox.dataset.predicted} (${(pred[top] * 100).toFixed(1)}%)`, reached);
  }

  function maybeAnnounce(text, reached) {
    const key = `${text.split(" (")[0]}|${reached}`;
    if (key !== lastPredicted) {
      lastPredicted = key;
      live.textContent = text + (reached ? " — target reached" : "");
    }
  }

  // ---- counterfactual list ----------------------------------------------------------------------
  function renderCounterfactuals() {
    const info = model.get("counterfactual_info") || [];
    const sel = model.get("selected");
    const n = info.length;
    stepGroup.hidden = n === 0;
    prevButton.disabled = n < 2;
    nextButton.disabled = n < 2;
    stepText.textContent = n === 0 ? "" : (sel >= 0 ? ` ${sel + 1} of ${n} ` : ` – of ${n} `);
    cfInfo.replaceChildren();
    rows.forEach((r) => r.row.classList.remove("nbx-cf-in-counterfactual"));
    if (n === 0 || sel < 0 || sel >= n) return;
    const c = info[sel];
    cfInfo.appendChild(nbxEl("div", { class: c.valid ? "nbx-cf-valid" : "nbx-cf-invalid" },
      `counterfactual ${sel + 1}: ${c.valid ? "valid" : "not valid"} · distance ${nbxFormat(c.distance)} MAD · ${c.n_changed} feature${c.n_changed === 1 ? "" : "s"} changed`));
    for (const j of c.changed || []) if (rows[j]) rows[j].row.classList.add("nbx-cf-in-counterfactual");
  }

  // ---- explanation ------------------------------------------------------------------------------
  function renderExplanation() {
    const info = model.get("explanation") || {};
    const values = decoded("explanation_values");
    explainerSelect.value = model.get("explainer");
    if (!values || !info.label) {
      explainHeading.textContent = model.get("explainer") === "none" ? "" : "explanation";
      explainInfo.textContent = "";
      rows.forEach((r) => { r.bar.style.width = "0"; r.contribText.textContent = ""; });
      return;
    }
    const what = info.output === "probability" ? `P(${info.target_name})` : "prediction";
    explainHeading.textContent = `${info.label} of ${what}`;
    explainInfo.textContent = `base ${nbxFormat(info.base)} → ${nbxFormat(info.prediction)}` +
      (info.fidelity !== null && info.fidelity !== undefined ? ` · fidelity R² ${info.fidelity.toFixed(2)}` : "");
    let top = 0;
    for (const v of values) top = Math.max(top, Math.abs(v));
    rows.forEach((r, j) => {
      const v = values[j] || 0;
      const w = top > 0 ? (Math.abs(v) / top) * 50 : 0;
      r.bar.style.width = `${w}%`;
      r.bar.style.left = v >= 0 ? "50%" : `${50 - w}%`;
      r.bar.classList.toggle("nbx-negative", v < 0);
      r.contribText.textContent = Math.abs(v) <= 1e-9 * top ? "0" : (v >= 0 ? "+" : "−") + nbxFormat(Math.abs(v));
      r.row.dataset.contribution = String(v);
    });
  }

  // ---- requests ---------------------------------------------------------------------------------
  function schedulePredict() {
    if (timer !== null) return;
    const wait = Math.max(0, NBX_CF_THROTTLE_MS - (performance.now() - lastSent));
    timer = setTimeout(() => { timer = null; lastSent = performance.now(); sendPredict(); updateBusy(); }, wait);
    updateBusy();
  }

  async function sendPredict(selected) {
    const params = { value: nbxEncodeArray(Float64Array.from(current), [current.length]) };
    if (selected !== undefined) params.selected = selected;
    const answer = await requester.request("predict", params);
    if (answer.stale || answer.status !== "ok") return;
    const v = nbxDecodeArray(answer.data.value);
    if (!dragging && timer === null && v) { current = Float64Array.from(v.data); setSliders(); }
    const p = nbxDecodeArray(answer.data.prediction);
    renderPrediction(p ? p.data : null);
    renderCounterfactuals();
    root.dataset.state = "predicted";
    scheduleExplain();
  }

  function scheduleExplain(explainer) {
    if (explainer === undefined && model.get("explainer") === "none") return;
    clearTimeout(explainTimer);
    explainTimer = setTimeout(() => { explainTimer = null; sendExplain(explainer); updateBusy(); },
                              explainer === undefined ? NBX_CF_EXPLAIN_DELAY_MS : 0);
    updateBusy();
  }

  async function sendExplain(explainer) {
    if (dragging || timer !== null) { scheduleExplain(explainer); return; }
    const params = { value: nbxEncodeArray(Float64Array.from(current), [current.length]) };
    if (explainer !== undefined) params.explainer = explainer;
    explainHeading.classList.add("nbx-updating");
    const answer = await requester.request("explain", params);
    if (answer.stale) return;
    explainHeading.classList.remove("nbx-updating");
    if (answer.status === "ok") renderExplanation();
  }

  async function find() {
    findButton.disabled = true;
    progress.hidden = false;
    progress.removeAttribute("value");
    live.textContent = "searching for counterfactuals…";
    lastPredicted = null;
    const answer = await requester.request("find", { n: Number(countSelect.value), sparse: sparseButton.getAttribute("aria-pressed") === "true" });
    if (answer.stale) return;
    findButton.disabled = false;
    progress.hidden = true;
    if (answer.status !== "ok") { live.textContent = "the search failed: see the error above"; return; }
    current = decoded("value");
    setSliders();
    renderPrediction(decoded("prediction"));
    renderCounterfactuals();
    renderExplanation();
    const info = model.get("counterfactual_info") || [];
    if (info.length) {
      const c = info[0];
      live.textContent = `${info.length} counterfactual${info.length === 1 ? "" : "s"} found; showing 1 (${c.valid ? "valid" : "not valid"}, ${c.n_changed} feature${c.n_changed === 1 ? "" : "s"} changed). ${live.textContent}`;
    }
    root.dataset.state = "found";
  }

  function step(delta) {
    const cfs = nbxDecodeArray(model.get("counterfactuals"));
    const info = model.get("counterfactual_info") || [];
    if (!cfs || info.length === 0) return;
    const n = info.length, F = current.length;
    const sel = ((model.get("selected") < 0 ? (delta > 0 ? -1 : 0) : model.get("selected")) + delta + n) % n;
    current = Float64Array.from(cfs.data.subarray(sel * F, (sel + 1) * F));
    setSliders();
    if (timer !== null) { clearTimeout(timer); timer = null; }
    sendPredict(sel);
  }

  findButton.addEventListener("click", find);
  sparseButton.addEventListener("click", () => sparseButton.setAttribute("aria-pressed", String(sparseButton.getAttribute("aria-pressed") !== "true")));
  prevButton.addEventListener("click", () => step(-1));
  nextButton.addEventListener("click", () => step(1));
  resetButton.addEventListener("click", () => {
    current = Float64Array.from(original);
    setSliders();
    if (timer !== null) { clearTimeout(timer); timer = null; }
    lastPredicted = null;
    sendPredict(-1);
  });
  explainerSelect.addEventListener("change", () => scheduleExplain(explainerSelect.value));

  // ---- changes made from Python (or another view): applied when no request of ours is pending ----
  const idle = () => requester.inFlight() === 0 && !dragging && timer === null;
  model.on("change:value", () => { if (idle()) { current = decoded("value"); setSliders(); } });
  model.on("change:prediction", () => { if (idle()) renderPrediction(decoded("prediction")); });
  model.on("change:counterfactual_info change:selected", () => { if (idle()) renderCounterfactuals(); });
  model.on("change:explanation change:explanation_values change:explainer", () => { if (idle()) renderExplanation(); });
  model.on("change:features change:histograms change:original", () => {
    original = decoded("original") || original;
    build(); setSliders();
  });

  window.addEventListener("pointerup", onPointerUp);
  original = decoded("original") || new Float64Array(0);
  current = decoded("value") || Float64Array.from(original);
  build();
  setSliders();
  renderPrediction(decoded("prediction"));
  renderCounterfactuals();
  renderExplanation();
  root.dataset.state = "ready";
  return () => { window.removeEventListener("pointerup", onPointerUp); clearTimeout(timer); clearTimeout(explainTimer); root.remove(); };
}

export default { render };
