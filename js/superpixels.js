// SuperpixelExplorer view: the image split into superpixels (canvas) beside the class probabilities (bars).
// The view owns the mask being edited. Every change asks "predict" through nbxRequester; the answer comes
// from the 2**M table when the kernel sent one (small segmentations: no kernel needed), else from the
// kernel. Only the newest answer is drawn; while one is pending the bars are marked busy (never a stale
// prediction presented as current). After a table answer the view notifies the kernel ("sync") which mask
// it shows. Explanations, re-segmentation and the target class are kernel requests whose results arrive as
// traits. Class names are user text: set with textContent only.
//
// Beyond 12 superpixels there is no 2**M table: the kernel sends the one-toggle neighbourhood of the shown
// mask after each toggle (a "neighbours" message, computed in the background), and an export or precompute=True
// holds it in `answer_tables` with Shapley values; a toggle from that mask is then answered here at once (the
// kernel confirms it after), and in an exported page any other mask is extrapolated with the Shapley values
// and labelled approximate.
//
// Where things are: buildDom (the page), tableAnswer (the local answerer), decodeNeighbourhood /
// neighbourAnswer / approximateAnswer (answers beyond the 2**M table), loadSegmentation and buildDots
// (superpixels and their keyboard dots), drawImage (the canvas), drawBars (probabilities), drawInfo,
// drawLegend and drawCurves (the explanation panel), drawControls (menus), setMask / toggle / keepTop
// (asking and applying answers: nbxPredictMask and nbxMaskKernelAction, shared with TextExplorer in
// js/_shared.js, redraw through the view's `explorer`), listenToUser and followKernel (events), render.

const NBX_SP_RDBU = nbxColormap("RdBu");
const NBX_SP_EXPLAINERS = [["lime", "LIME"], ["shapley", "Shapley values"], ["anchor", "Anchor"]];

/** The page: toolbars, status bar, error banner, the image with its dots, the bars and the explanation panel. */
function buildDom(model, el) {
  const { root, toolbar } = nbxViewRoot(el, "nbx-superpixels");
  const segSelect = nbxLabelled(toolbar, "superpixels ", "select", { class: "nbx-seg-method", "aria-label": "segmentation method" });
  const paramLabel = toolbar.appendChild(nbxEl("label", { class: "nbx-seg-param-label" }));
  const paramName = paramLabel.appendChild(nbxEl("span"));
  const paramInput = paramLabel.appendChild(nbxEl("input", { type: "range", class: "nbx-seg-param" }));
  const paramValue = paramLabel.appendChild(nbxEl("output", { class: "nbx-seg-param-value" }));
  const fillSelect = nbxLabelled(toolbar, "hidden shows ", "select", { class: "nbx-fill", "aria-label": "fill of hidden superpixels" });
  const targetSelect = nbxLabelled(toolbar, "class ", "select", { class: "nbx-target", "aria-label": "explained class" });

  const actions = root.appendChild(nbxEl("div", { class: "nbx-toolbar nbx-actions" }));
  const resetButton = actions.appendChild(nbxEl("button", { type: "button", class: "nbx-reset" }, "Reset"));
  const invertButton = actions.appendChild(nbxEl("button", { type: "button", class: "nbx-invert" }, "Invert"));
  actions.appendChild(nbxEl("span", { class: "nbx-sep", "aria-hidden": "true" }, "|"));
  const explainButtons = {};
  for (const [name, label] of NBX_SP_EXPLAINERS) {
    explainButtons[name] = actions.appendChild(nbxEl("button", { type: "button", class: `nbx-explain nbx-explain-${name}`, "data-method": name }, label));
  }
  const overlayButton = actions.appendChild(nbxEl("button", { type: "button", class: "nbx-show-overlay", "aria-pressed": "true" }, "show explanation"));

  const status = nbxStatusAndError(model, root);

  const main = root.appendChild(nbxEl("div", { class: "nbx-sp-main" }));
  const figure = main.appendChild(nbxEl("div", { class: "nbx-sp-figure" }));
  const canvas = figure.appendChild(nbxEl("canvas", { class: "nbx-sp-canvas", role: "img", "aria-label": "image with superpixels; click one to hide or show it" }));
  const dots = figure.appendChild(nbxEl("div", { class: "nbx-sp-dots", role: "group", "aria-label": "superpixels (arrow keys move, space toggles)" }));
  const side = main.appendChild(nbxEl("div", { class: "nbx-sp-side" }));
  const { barsBox, topLine } = nbxPredictionBox(side, "sp");
  const approximate = side.appendChild(nbxEl("div", { class: "nbx-approximate nbx-sp-approximate", hidden: "" }));
  // until an explanation exists the panel below says what will appear there (no empty canvases)
  const { hint, infoBox, infoTitle, infoQuality } = nbxExplanationBox(side, "sp",
    "LIME, Shapley values or Anchor colour the superpixels by how much they matter; " +
    "the deletion and insertion curves then appear here.");
  const scale = infoBox.appendChild(nbxEl("div", { class: "nbx-sp-scale", hidden: "" }));
  const scaleText = scale.appendChild(nbxEl("span"));
  // canvases enter the page only once painted
  const scaleBar = nbxEl("canvas", { class: "nbx-colorbar", width: "128", height: "8", "aria-hidden": "true" });
  const curvesBox = side.appendChild(nbxEl("div", { class: "nbx-sp-curves", hidden: "" }));
  const curveCanvas = nbxEl("canvas", { class: "nbx-sp-curve", width: "240", height: "110", role: "img", "aria-label": "deletion and insertion curves" });
  const curveText = curvesBox.appendChild(nbxEl("div", { class: "nbx-sp-auc" }));
  const keepRow = curvesBox.appendChild(nbxEl("div", { class: "nbx-sp-keep" }));
  const modeSelect = keepRow.appendChild(nbxEl("select", { class: "nbx-keep-mode", "aria-label": "keep or remove the top superpixels" }));
  nbxSetOptions(modeSelect, [["keep", "keep top"], ["remove", "remove top"]]);
  const keepSlider = keepRow.appendChild(nbxEl("input", { type: "range", min: "0", max: "1", step: "1", value: "0", class: "nbx-keep", "aria-label": "number of top superpixels" }));
  const keepValue = keepRow.appendChild(nbxEl("output", { class: "nbx-keep-value" }, "0"));
  nbxKeepKeys(root);
  return { root, status, segSelect, paramLabel, paramName, paramInput, paramValue, fillSelect, targetSelect,
           resetButton, invertButton, explainButtons, overlayButton, figure, canvas, dots, barsBox, topLine, approximate, hint,
           infoBox, infoTitle, infoQuality, scale, scaleBar, scaleText, curvesBox, curveCanvas, curveText,
           modeSelect, keepSlider, keepValue };
}

/** The mask the kernel holds (its `active` trait). */
function kernelMask(model) {
  const a = nbxDecodeArray(model.get("active"));
  return a ? Uint8Array.from(a.data, (v) => (v ? 1 : 0)) : new Uint8Array(0);
}

/** The local answerer: "predict" from the 2**M table when the kernel sent one (row = bitmask of the shown
 *  superpixels); undefined sends the request to the kernel. */
function tableAnswer(view, action, params) {
  const { model, state } = view;
  if (action !== "predict") return undefined;
  return nbxMaskTableAnswer(params.active, state.seg.m, { bars: model.get("table"), tops: model.get("table_top"),
                                                          topsP: model.get("table_top_p"), names: model.get("table_names") })
    ?? neighbourAnswer(view, params.active) ?? (view.requester.kernelless ? approximateAnswer(view, params.active) : undefined);
}

/** A neighbourhood (from `answer_tables` or a "neighbours" message) decoded: the base mask, its bars, and each
 *  one-toggle neighbour's bars and top class; null unless it is for the classes shown now. */
function decodeNeighbourhood(model, tables) {
  if (!tables || !tables.base) return null;
  const classes = (model.get("classes") || []).map((c) => c.index);
  if (String(tables.classes) !== String(classes)) return null;
  const d = (v) => (v ? nbxDecodeArray(v).data : null);
  const base = Uint8Array.from(d(tables.base));
  return { base, key: nbxMaskString(base), T: classes.length, bars: d(tables.bars), top: tables.top_index, topP: tables.top_p,
           neighbours: d(tables.neighbours), neighbourTop: d(tables.neighbour_top), neighbourTopP: d(tables.neighbour_top_p),
           names: tables.names || {}, shapley: d(tables.shapley), shapleyLabel: tables.shapley_label || "" };
}

/** Keep the newest neighbourhood; the page says for which mask (tests and latency measurements read it). */
function setNeighbourhood({ model, state, dom }, tables) {
  const n = decodeNeighbourhood(model, tables);
  if (!n) return;
  state.neighbourhood = n;
  dom.root.dataset.neighbourhoodFor = n.key;
}

/** Which superpixels differ between `active` and the neighbourhood's base mask. */
function toggledFrom(n, active) {
  const out = [];
  for (let i = 0; i < n.base.length; i++) if ((active[i] ? 1 : 0) !== n.base[i]) out.push(i);
  return out;
}

/** The exact answer for the base mask or one of its one-toggle neighbours; undefined otherwise. */
function neighbourAnswer({ state }, active) {
  const n = state.neighbourhood;
  if (!n || active.length !== n.base.length) return undefined;
  const moved = toggledFrom(n, active);
  const name = (index) => nbxClassName(n.names, index);
  if (moved.length === 0) return { bars: n.bars, top: { index: n.top, name: name(n.top), probability: n.topP } };
  if (moved.length !== 1) return undefined;
  const i = moved[0], index = n.neighbourTop[i];
  return { bars: n.neighbours.slice(i * n.T, (i + 1) * n.T), top: { index, name: name(index), probability: n.neighbourTopP[i] } };
}

/** Without a kernel, any other mask: the nearest exact mask (the base or a neighbour) plus the Shapley values
 *  of the superpixels toggled from it (shown minus hidden), labelled approximate. */
function approximateAnswer({ model, state }, active) {
  const n = state.neighbourhood;
  if (!n || !n.shapley || active.length !== n.base.length) return undefined;
  const moved = toggledFrom(n, active);
  const first = moved[0];
  const bars = Float32Array.from(n.neighbours.subarray(first * n.T, (first + 1) * n.T));
  for (const i of moved.slice(1)) {
    for (let k = 0; k < n.T; k++) bars[k] += (active[i] ? 1 : -1) * n.shapley[k * n.base.length + i];
  }
  for (let k = 0; k < n.T; k++) bars[k] = Math.min(1, Math.max(0, bars[k]));
  let best = 0;
  for (let k = 1; k < n.T; k++) if (bars[k] > bars[best]) best = k;
  const c = (model.get("classes") || [])[best] || {};
  return { bars, top: { index: c.index, name: `${c.name} (of the shown classes)`, probability: bars[best] },
           approximate: `${NBX_APPROXIMATE}: ${moved.length} superpixels from the nearest mask the page knows; ${n.shapleyLabel}` };
}

// ---- the segmentation and its keyboard dots -------------------------------------------------------------

/** Decode image, fill and labels; find each superpixel's boundary and a pixel near its centre; size the canvas. */
function loadSegmentation(view) {
  const { model, state, dom } = view;
  const image = nbxDecodeArray(model.get("image"));
  const labels = nbxDecodeArray(model.get("labels"));
  const fill = nbxDecodeArray(model.get("fill_image"));
  if (!image || !labels) { state.seg = { ...state.seg, image: null, labels: null, m: 0 }; return; }
  const [h, w] = labels.shape;
  const lab = labels.data;
  const m = model.get("n_superpixels");
  const boundary = new Uint8Array(h * w);
  const sums = new Float64Array(m * 3);  // row, col, count
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x, l = lab[p];
      if ((x + 1 < w && lab[p + 1] !== l) || (y + 1 < h && lab[p + w] !== l)) boundary[p] = 1;
      sums[l * 3] += y; sums[l * 3 + 1] += x; sums[l * 3 + 2] += 1;
    }
  }
  const centroids = [];
  for (let i = 0; i < m; i++) {
    const n = Math.max(1, sums[i * 3 + 2]);
    centroids.push([sums[i * 3] / n, sums[i * 3 + 1] / n]);
  }
  // the superpixel's pixel nearest its centroid (a centroid can fall outside a curved superpixel)
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const l = lab[y * w + x], c = centroids[l];
    const d = (y - c[0]) ** 2 + (x - c[1]) ** 2;
    if (c[2] === undefined || d < c[2]) { c[2] = d; c[3] = y; c[4] = x; }
  }
  state.seg = { image: image.data, fill: fill ? fill.data : image.data, labels: lab, boundary, w, h, m,
                centroids: centroids.map((c) => [c[3], c[4]]) };
  const k = nbxFitCanvas(dom.canvas, w, h, model.get("display_size"));
  dom.figure.style.width = dom.canvas.style.width; dom.figure.style.height = dom.canvas.style.height;
  buildDots(view, k);
}

/** One button per superpixel at its centre: click or Space toggles, arrows move between neighbours. */
function buildDots(view, k) {
  const { model, state, dom } = view;
  dom.dots.replaceChildren();
  const interactive = model.get("interactive");
  state.seg.centroids.forEach(([y, x], i) => {
    const b = nbxEl("button", { type: "button", class: "nbx-sp-dot", "data-index": String(i), tabindex: i === 0 ? "0" : "-1",
                                 "aria-label": `superpixel ${i}`, "aria-pressed": "true" });
    b.style.left = `${(x + 0.5) * k}px`; b.style.top = `${(y + 0.5) * k}px`;
    b.disabled = !interactive;
    b.addEventListener("click", (event) => { event.stopPropagation(); toggle(view, i); });
    b.addEventListener("focus", () => { state.focused = i; setRoving(dom, i); drawImage(view); });
    b.addEventListener("blur", () => { if (state.focused === i) { state.focused = -1; drawImage(view); } });
    b.addEventListener("keydown", (event) => moveFocus(view, event, i));
    dom.dots.appendChild(b);
  });
}

function setRoving(dom, i) { dom.dots.querySelectorAll(".nbx-sp-dot").forEach((b, j) => b.setAttribute("tabindex", j === i ? "0" : "-1")); }

/** Arrow keys move to the nearest superpixel in that direction, Home and End to the first and last. */
function moveFocus({ state, dom }, event, i) {
  const dirs = { ArrowRight: [0, 1], ArrowLeft: [0, -1], ArrowDown: [1, 0], ArrowUp: [-1, 0] };
  const { centroids, m } = state.seg;
  let next = -1;
  if (event.key === "Home") next = 0;
  else if (event.key === "End") next = m - 1;
  else if (dirs[event.key]) {
    const [dy, dx] = dirs[event.key];
    const [y0, x0] = centroids[i];
    let best = Infinity;
    centroids.forEach(([y, x], j) => {
      const along = (y - y0) * dy + (x - x0) * dx;
      if (j === i || along <= 0) return;
      const across = Math.abs((y - y0) * dx) + Math.abs((x - x0) * dy);
      const cost = along + 2 * across;
      if (cost < best) { best = cost; next = j; }
    });
  } else return;  // Space and Enter toggle the button (nbxKeepKeys keeps them from the notebook)
  event.preventDefault();
  event.stopPropagation();  // only the keys the superpixels use; other shortcuts still reach JupyterLab
  if (next >= 0) dom.dots.children[next].focus();
}

function refreshDots({ state, dom }) {
  Array.from(dom.dots.children).forEach((b, i) => {
    b.setAttribute("aria-pressed", String(Boolean(state.mask[i])));
    b.setAttribute("aria-label", `superpixel ${i} ${state.mask[i] ? "shown" : "hidden"}`);
  });
}

// ---- drawing ----------------------------------------------------------------------------------------------

/** The image with hidden superpixels filled, the explanation's colours, boundaries and the focused outline. */
function drawImage(view) {
  const { model, state, dom } = view;
  const { w, h, labels, boundary, image, fill } = state.seg;
  if (!image) { dom.canvas.width = 1; return; }
  const { mask, focused } = state;
  const ctx = dom.canvas.getContext("2d");
  const out = ctx.createImageData(w, h);
  const d = out.data;
  const kind = model.get("overlay");
  const values = state.showOverlay && kind && kind !== "anchor" ? nbxDecodeArray(model.get("overlay_values")) : null;
  const limit = (model.get("overlay_info") || {}).limit || 1;
  const anchor = state.showOverlay && kind === "anchor" ? new Set(model.get("anchor") || []) : null;
  const alpha = 0.55;
  for (let p = 0; p < w * h; p++) {
    const l = labels[p];
    const src = mask[l] ? image : fill;
    let r = src[p * 3], g = src[p * 3 + 1], b = src[p * 3 + 2];
    if (values) {
      const t = Math.max(0, Math.min(255, Math.round(((values.data[l] / limit) + 1) * 127.5)));
      r = r * (1 - alpha) + NBX_SP_RDBU[t * 3] * alpha; g = g * (1 - alpha) + NBX_SP_RDBU[t * 3 + 1] * alpha; b = b * (1 - alpha) + NBX_SP_RDBU[t * 3 + 2] * alpha;
    }
    if (anchor && !anchor.has(l)) { r = r * 0.35 + 82; g = g * 0.35 + 82; b = b * 0.35 + 82; }
    if (boundary[p]) {
      const x = p % w;
      const right = x + 1 < w ? labels[p + 1] : l, down = p + w < w * h ? labels[p + w] : l;
      if (anchor && (anchor.has(l) || anchor.has(right) || anchor.has(down))) { r = 30; g = 230; b = 90; }
      else { r = r * 0.3 + 255 * 0.7; g = g * 0.3 + 215 * 0.7; b = b * 0.3 + 30 * 0.7; }
    }
    if (l === focused && boundary[p]) { r = 0; g = 120; b = 255; }
    d[p * 4] = r; d[p * 4 + 1] = g; d[p * 4 + 2] = b; d[p * 4 + 3] = 255;
  }
  if (focused >= 0) {  // outline the focused superpixel on its inner border too
    for (let p = 0; p < w * h; p++) {
      if (labels[p] !== focused) continue;
      const x = p % w, y = (p - x) / w;
      const edge = x === 0 || y === 0 || x === w - 1 || y === h - 1 || labels[p - 1] !== focused || labels[p + 1] !== focused || labels[p - w] !== focused || labels[p + w] !== focused;
      if (edge) { d[p * 4] = 0; d[p * 4 + 1] = 120; d[p * 4 + 2] = 255; }
    }
  }
  ctx.putImageData(out, 0, 0);
  refreshDots(view);
}

/** One bar per shown class (the target highlighted, a tick at its whole-image probability) and the news. */
function drawBars(view, bars, top) {
  nbxDrawMaskBars(view, bars, top, { prefix: "sp", whole: "whole image", parts: "superpixels shown", total: view.state.seg.m });
}

/** The explanation panel: title, quality lines, colour legend, curves; or the hint while there is none. */
function drawInfo(view) {
  const { model, dom } = view;
  const kind = model.get("overlay");
  const info = model.get("overlay_info") || {};
  nbxDrawExplanationBox(view, kind, info);
  dom.hint.hidden = Boolean(kind) || !model.get("interactive");
  drawLegend(view, kind && kind !== "anchor" ? info.limit : null);
  for (const [name, b] of Object.entries(dom.explainButtons)) b.setAttribute("aria-pressed", String(kind === name));
  drawCurves(view);
}

/** The red-blue legend of signed values in [−limit, limit]; hidden (and out of the page) without one. */
function drawLegend({ dom }, limit) {
  dom.scale.hidden = limit === null || limit === undefined;
  if (dom.scale.hidden) return;
  nbxPaintColorbar(dom.scaleBar, NBX_SP_RDBU);
  if (!dom.scaleBar.isConnected) dom.scale.prepend(dom.scaleBar);
  dom.scaleText.textContent = ` ${nbxFormat(-limit)} … ${nbxFormat(limit)}`;
}

/** Deletion (red) and insertion (blue) curves with the keep-top-k position; hidden until the kernel sent them. */
function drawCurves({ model, dom }) {
  const del = nbxDecodeArray(model.get("curve_deletion"));
  const ins = nbxDecodeArray(model.get("curve_insertion"));
  dom.curvesBox.hidden = !del || !ins;
  if (dom.curvesBox.hidden) return;
  const info = model.get("curve_info") || {};
  const m = del.data.length - 1;
  dom.keepSlider.max = String(m);
  const canvas = dom.curveCanvas;
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, pad = 6;
  ctx.clearRect(0, 0, W, H);
  ctx.strokeStyle = nbxThemeColor(dom.root, "--jp-border-color1", "#bbb"); ctx.strokeRect(0.5, 0.5, W - 1, H - 1);
  let hi = 0;
  for (const v of [...del.data, ...ins.data]) hi = Math.max(hi, v);
  const lo = Math.min(0, ...del.data, ...ins.data);
  if (hi <= lo) hi = lo + 1;
  const X = (k) => pad + ((W - 2 * pad) * k) / m, Y = (v) => H - pad - ((H - 2 * pad) * (v - lo)) / (hi - lo);
  ctx.lineWidth = 1.5;
  for (const [curve, colour] of [[del.data, "#b2182b"], [ins.data, "#2166ac"]]) {
    ctx.strokeStyle = colour;
    nbxStrokeLine(ctx, curve.length, X, (k) => Y(curve[k]));
  }
  const k = Number(dom.keepSlider.value);
  ctx.strokeStyle = "#888"; ctx.setLineDash([3, 3]); ctx.beginPath(); ctx.moveTo(X(k), pad); ctx.lineTo(X(k), H - pad); ctx.stroke(); ctx.setLineDash([]);
  if (!canvas.isConnected) dom.curvesBox.prepend(canvas);
  dom.curveText.textContent = `deletion AUC ${nbxFormat(info.auc_deletion)} (lower is better), insertion AUC ${nbxFormat(info.auc_insertion)} (higher is better); ${info.label || ""}`;
  dom.keepValue.textContent = String(k);
}

function paramText(v) { return Number.isInteger(v) ? String(v) : nbxFormat(v); }

/** Segmentation, fill and class menus as the traits say; every control off when not interactive. */
function drawControls({ model, dom, requester }) {
  const options = model.get("seg_options") || [];
  nbxSetOptions(dom.segSelect, options.map((o) => [o.name, o.label]), model.get("seg_method"));
  const spec = options.find((o) => o.name === model.get("seg_method"));
  dom.paramLabel.hidden = !spec || !spec.param;
  if (spec && spec.param) {
    dom.paramName.textContent = `${spec.param} `;
    dom.paramInput.min = String(spec.low); dom.paramInput.max = String(spec.high); dom.paramInput.step = String(spec.step);
    dom.paramInput.value = String(model.get("seg_param"));
    dom.paramInput.setAttribute("aria-label", spec.param);
    dom.paramValue.textContent = paramText(model.get("seg_param"));
  }
  nbxSetOptions(dom.fillSelect, (model.get("fill_options") || []).map((f) => [f, f === "mean" ? "its mean colour" : f]), model.get("fill"));
  nbxSetOptions(dom.targetSelect, (model.get("classes") || []).map((c) => [c.index, `${c.name} (${c.full.toFixed(3)})`]), model.get("target"));
  const disabled = !model.get("interactive");
  for (const control of [dom.segSelect, dom.paramInput, dom.fillSelect, dom.targetSelect, dom.resetButton, dom.invertButton,
    ...Object.values(dom.explainButtons), dom.keepSlider, dom.modeSelect]) control.disabled = disabled;
  if (requester && requester.kernelless) {  // an exported page: what only the kernel computes says so
    nbxNeedsKernel(dom.segSelect, dom.paramInput, dom.fillSelect, dom.targetSelect, ...Object.values(dom.explainButtons));
  }
}

/** Show the kernel's mask and its probabilities (its `active`, `bars` and `top`). */
function showKernelPrediction(view) {
  const { model, state } = view;
  state.mask = kernelMask(model);
  drawImage(view);
  view.dom.approximate.hidden = true;
  nbxShowKernelBars(view);
}

/** Everything from the traits: segmentation, menus, image, bars, explanation. */
function loadAll(view) {
  loadSegmentation(view);
  drawControls(view);
  showKernelPrediction(view);
  drawInfo(view);
}

// ---- asking and applying answers ----------------------------------------------------------------------------

/** After a predict answer is drawn: an extrapolated one says so, and the page announces which mask it drew. */
function predictionDrawn({ dom }, data, asked, source) {
  dom.approximate.textContent = data.approximate || "";
  dom.approximate.hidden = !data.approximate;
  dom.root.dispatchEvent(new CustomEvent("nbx-bars-drawn", { detail: { mask: nbxMaskString(asked), source } }));
}

function setMask(view, next) { view.state.mask = next; drawImage(view); nbxPredictMask(view); }

function toggle(view, i) {
  const { model, state } = view;
  if (!model.get("interactive") || i < 0 || i >= state.seg.m) return;
  const next = state.mask.slice();
  next[i] = next[i] ? 0 : 1;
  setMask(view, next);
}

/** Keep (or remove) the k most important superpixels, k from the slider over the curves. */
function keepTop(view) {
  const { model, state, dom } = view;
  const order = nbxDecodeArray(model.get("curve_order"));
  if (!order) return;
  const k = Number(dom.keepSlider.value);
  const keep = dom.modeSelect.value === "keep";
  const next = new Uint8Array(state.seg.m).fill(keep ? 0 : 1);
  for (let j = 0; j < k; j++) next[order.data[j]] = keep ? 1 : 0;
  drawCurves(view);
  setMask(view, next);
}

/** What the user does: clicks and keys toggle, buttons reset, invert and explain, menus re-segment. */
function listenToUser(view) {
  const { model, state, dom } = view;
  dom.canvas.addEventListener("click", (event) => {
    const { image, w, h, labels } = state.seg;
    if (!image) return;
    const [x, y] = nbxPixelAt(event, dom.canvas, w, h);
    toggle(view, labels[y * w + x]);
  });
  dom.resetButton.addEventListener("click", () => setMask(view, new Uint8Array(state.seg.m).fill(1)));
  dom.invertButton.addEventListener("click", () => setMask(view, state.mask.map((v) => 1 - v)));
  dom.overlayButton.addEventListener("click", () => { state.showOverlay = !state.showOverlay; drawInfo(view); drawImage(view); });
  for (const [name, b] of Object.entries(dom.explainButtons)) {
    b.addEventListener("click", () => nbxMaskKernelAction(view, "explain", { method: name }, `computing ${b.textContent}…`, `${b.textContent} done`));
  }
  const segmented = () => `${model.get("n_superpixels")} superpixels`;
  const segment = (param) => nbxMaskKernelAction(view, "segment", { method: dom.segSelect.value, param, fill: dom.fillSelect.value }, "segmenting…", segmented);
  const resegment = () => segment(dom.paramLabel.hidden ? null : Number(dom.paramInput.value));
  dom.segSelect.addEventListener("change", () => segment(null));
  dom.paramInput.addEventListener("input", () => { dom.paramValue.textContent = paramText(Number(dom.paramInput.value)); });
  dom.paramInput.addEventListener("change", resegment);
  dom.fillSelect.addEventListener("change", resegment);
  dom.targetSelect.addEventListener("change", () => nbxMaskKernelAction(view, "target", { target: Number(dom.targetSelect.value) }, "changing class…", "class changed"));
  dom.keepSlider.addEventListener("input", () => keepTop(view));
  dom.modeSelect.addEventListener("change", () => keepTop(view));
}

/** Changes made from Python (or another view): redrawn when none of our requests or notifications is pending
 *  (our own request's answer will be drawn; a notification's echo would be stale). */
function followKernel(view) {
  nbxFollowWhenIdle(view.model, view.requester, [
    ["change:labels change:image change:fill_image change:display_size change:interactive", () => loadAll(view)],
    ["change:active change:bars change:top", () => showKernelPrediction(view)],
    ["change:overlay change:overlay_values change:overlay_info change:anchor change:curve_deletion", () => { drawInfo(view); drawImage(view); }],
    ["change:classes change:target change:seg_method change:seg_param change:fill", () => drawControls(view)],
  ]);
}

function render({ model, el }) {
  const dom = buildDom(model, el);
  const explorer = { drawBars, showKernelPrediction, loadAll, drawControls, sync: "sync", noKernel: "that mask", drawn: predictionDrawn };
  const view = { model, dom, requester: null, explorer, state: {
    seg: { image: null, fill: null, labels: null, boundary: null, w: 0, h: 0, m: 0, centroids: [] },
    mask: new Uint8Array(0),  // what is drawn and asked for
    focused: -1,              // the superpixel whose dot has the focus
    showOverlay: true,
    predictions: 0,           // predict answers drawn (tests and latency measurements read it)
    neighbourhood: null,      // beyond the 2**M table: a mask and its one-toggle neighbours (decodeNeighbourhood)
  } };
  view.requester = nbxStatusRequester(model, dom.status, (action, params) => tableAnswer(view, action, params));
  listenToUser(view);
  followKernel(view);
  // beyond the 2**M table: the neighbourhood the kernel sends after each toggle, or the one an export holds
  model.on("msg:custom", (msg, buffers) => {
    if (msg && msg.type === "neighbours") setNeighbourhood(view, nbxRestoreBuffers(msg, buffers || []).tables);
  });
  model.on("change:answer_tables change:classes", () => setNeighbourhood(view, model.get("answer_tables")));
  setNeighbourhood(view, model.get("answer_tables"));
  loadAll(view);
  view.quality = nbxQualityPanel(model, dom.root, view.requester, { status: dom.status });  // issue 17
  if (view.requester.kernelless) {
    const exact = model.get("table") ? "every toggle shows the model's own probabilities (the 2**M table)"
      : view.state.neighbourhood ? "a toggle from the exported mask shows the model's own probabilities; further toggles are approximate"
        : `toggles ${NBX_NEEDS_KERNEL}`;
    dom.root.insertBefore(nbxOfflineNote(dom.root, `Exported page: ${exact}. Explanations, segmentation, fill and class: each ${NBX_NEEDS_KERNEL}.`),
                          dom.status.node);
  }
  return () => dom.root.remove();
}

export default { render };
