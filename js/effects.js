// FeatureEffects view: a feature picker ranked by permutation importance, one effect plot (PDP, ICE,
// c-ICE, d-ICE, ALE) with a rug of the data, a 2-D heatmap for a pair, and a global-surrogate panel.
//
// Who answers what: switching between PDP / ICE / c-ICE / d-ICE (and moving the c-ICE anchor) is
// answered from the ICE table the kernel sent (trait `ice_table`, rows x grid), so it needs no kernel;
// choosing a feature, a pair, a class or a surrogate asks the kernel through nbxRequester (request ids,
// stale responses ignored, progress shown). User text (feature and class names) only goes through
// textContent.
//
// Answer tables (`answer_tables`, built with precompute=True or in an export): every feature's ICE table and
// ALE for the shown class. A feature chosen in the picker is then drawn from them (`view.local` overrides the
// traits until the kernel, told with a notification, has caught up); in an exported page without a kernel,
// pairs, another class and the surrogate say they need a running kernel.
//
// Where things are: pure helpers first (nbxFxGradient, ticks, nbxFxRange, nbxFxCurves, nbxFxFrame), then
// buildDom (the page), refreshControls / refreshPicker / refreshSurrogate (controls from the traits),
// drawPlot with drawIce, drawAle and drawSurface (the canvas), highlight / hoverPlot / plotKey (hover and
// keys), ask and scheduleDraw (requests and redraws), listenToUser, render.

const NBX_FX_KINDS = [
  ["pdp", "PDP", "partial dependence: the mean over rows"],
  ["ice", "ICE", "one line per row (individual conditional expectation)"],
  ["centred", "c-ICE", "ICE lines shifted to 0 at the anchor"],
  ["derivative", "d-ICE", "slope of each ICE line"],
  ["ale", "ALE", "accumulated local effects"],
];
const NBX_FX_LINE = "31,119,180";
const NBX_FX_MEAN = "#d62728";
const NBX_FX_HIGHLIGHT = "#ff7f0e";

/** numpy.gradient along each row of a (n, g) table over a non-uniform grid (second order inside, first
 *  order at the ends), as nbexplain.ice(kind="derivative"). */
function nbxFxGradient(table, n, g, grid) {
  const out = new Float64Array(n * g);
  if (g < 2) return out;
  for (let r = 0; r < n; r++) {
    const o = r * g;
    out[o] = (table[o + 1] - table[o]) / (grid[1] - grid[0]);
    out[o + g - 1] = (table[o + g - 1] - table[o + g - 2]) / (grid[g - 1] - grid[g - 2]);
    for (let j = 1; j < g - 1; j++) {
      const h0 = grid[j] - grid[j - 1], h1 = grid[j + 1] - grid[j];
      out[o + j] = (h0 * h0 * table[o + j + 1] - h1 * h1 * table[o + j - 1] + (h1 * h1 - h0 * h0) * table[o + j])
        / (h0 * h1 * (h0 + h1));
    }
  }
  return out;
}

/** A tick label: round numbers without trailing zeros ("0", "2.5", "-10", "1e+5"). */
function nbxFxTick(v) {
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(6)));
}

/** About `count` round tick values covering [lo, hi]. */
function nbxFxTicks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

/** [lo, hi] of the finite values, widened by `pad` of the span ([0, 1] when there are none). */
function nbxFxRange(values, pad = 0.05) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; } }
  if (!Number.isFinite(lo)) return [0, 1];
  if (hi === lo) { lo -= 0.5; hi += 0.5; }
  const p = (hi - lo) * pad;
  return [lo - p, hi + p];
}

/** The curves of one kind from the (n, g) ICE table: ICE/PDP as is, c-ICE shifted to 0 at grid index
 *  `anchor`, d-ICE the slope (numpy.gradient); with their mean and standard deviation over rows. */
function nbxFxCurves(table, n, g, grid, kind, anchor) {
  let curves;
  if (kind === "derivative") curves = nbxFxGradient(table, n, g, grid);
  else if (kind === "centred") {
    const a = Math.min(anchor, g - 1);
    curves = new Float64Array(n * g);
    for (let r = 0; r < n; r++) for (let j = 0; j < g; j++) curves[r * g + j] = table[r * g + j] - table[r * g + a];
  } else curves = Float64Array.from(table);
  const mean = new Float64Array(g), sd = new Float64Array(g);
  for (let r = 0; r < n; r++) for (let j = 0; j < g; j++) mean[j] += curves[r * g + j] / n;
  for (let r = 0; r < n; r++) for (let j = 0; j < g; j++) sd[j] += (curves[r * g + j] - mean[j]) ** 2 / n;
  for (let j = 0; j < g; j++) sd[j] = Math.sqrt(sd[j]);
  return { curves, mean, sd, n, g };
}

/** Plot geometry: margins, plot size and the data -> CSS pixel maps X, Y (and back, invX). */
function nbxFxFrame(w, h, xlo, xhi, ylo, yhi) {
  const left = 58, right = 12, top = 10, bottom = 42;
  const pw = w - left - right, ph = h - top - bottom;
  const X = (v) => left + ((v - xlo) / (xhi - xlo || 1)) * pw;
  const Y = (v) => top + ph - ((v - ylo) / (yhi - ylo || 1)) * ph;
  const invX = (px) => xlo + ((px - left) / pw) * (xhi - xlo);
  return { left, right, top, bottom, pw, ph, X, Y, invX, xlo, xhi, ylo, yhi, w, h };
}

// ---- the page and the traits ------------------------------------------------------------------------

/** The page: toolbar (class, kind, anchor, pair), status bar, error banner, feature picker, plot, surrogate. */
function buildDom(model, el) {
  const root = el.appendChild(nbxEl("div", { class: "nbx-root nbx-effects" }));
  const toolbar = root.appendChild(nbxEl("div", { class: "nbx-toolbar" }));
  const targetLabel = toolbar.appendChild(nbxEl("label", {}, "class "));
  const targetSelect = targetLabel.appendChild(nbxEl("select", { class: "nbx-target", "aria-label": "target class" }));
  const kindGroup = toolbar.appendChild(nbxEl("span", { role: "group", "aria-label": "kind of effect", class: "nbx-kinds" }));
  const kindButtons = {};
  for (const [kind, label, title] of NBX_FX_KINDS) {
    kindButtons[kind] = kindGroup.appendChild(nbxEl("button", { type: "button", class: "nbx-kind", "data-kind": kind, title }, label));
  }
  const anchorLabel = toolbar.appendChild(nbxEl("label", {}, "anchor "));
  const anchor = anchorLabel.appendChild(nbxEl("input", { type: "range", min: "0", max: "0", step: "1", class: "nbx-anchor", "aria-label": "c-ICE anchor" }));
  const anchorText = anchorLabel.appendChild(nbxEl("span", { class: "nbx-anchor-value" }));
  const pairLabel = toolbar.appendChild(nbxEl("label", {}, "pair with "));
  const pairSelect = pairLabel.appendChild(nbxEl("select", { class: "nbx-pair", "aria-label": "second feature" }));
  const pairGroup = toolbar.appendChild(nbxEl("span", { role: "group", "aria-label": "2-D effect", class: "nbx-pair-kinds" }));
  const pairButtons = {
    pdp: pairGroup.appendChild(nbxEl("button", { type: "button", class: "nbx-pair-kind", "data-kind": "pdp" }, "2-D PDP")),
    ale: pairGroup.appendChild(nbxEl("button", { type: "button", class: "nbx-pair-kind", "data-kind": "ale" }, "2-D ALE")),
  };

  const status = nbxStatusBar(root);
  nbxErrorBanner(model, root);

  const body = root.appendChild(nbxEl("div", { class: "nbx-effects-body" }));
  const picker = body.appendChild(nbxEl("div", { class: "nbx-picker" }));
  const pickerTitle = picker.appendChild(nbxEl("div", { class: "nbx-picker-title" }, "features by importance"));
  const pickerList = picker.appendChild(nbxEl("div", { class: "nbx-picker-list", role: "group", "aria-label": "features by permutation importance" }));
  const pickerNote = picker.appendChild(nbxEl("div", { class: "nbx-picker-note" }));
  const figure = body.appendChild(nbxEl("figure", { class: "nbx-effects-figure" }));
  const caption = figure.appendChild(nbxEl("figcaption", {}));
  const plot = figure.appendChild(nbxEl("canvas", { class: "nbx-plot", role: "img", tabindex: "0" }));
  const readout = figure.appendChild(nbxEl("div", { class: "nbx-readout", "aria-live": "polite" }, " "));

  const sur = root.appendChild(nbxEl("details", { class: "nbx-surrogate" }));
  const surSummary = sur.appendChild(nbxEl("summary", {}, "Global surrogate"));
  const surControls = sur.appendChild(nbxEl("div", { class: "nbx-toolbar" }));
  const surKindLabel = surControls.appendChild(nbxEl("label", {}, "model "));
  const surKind = surKindLabel.appendChild(nbxEl("select", { class: "nbx-surrogate-kind", "aria-label": "surrogate model" }));
  nbxSetOptions(surKind, [["tree", "decision tree"], ["linear", "sparse linear"]]);
  const surSizeLabel = surControls.appendChild(nbxEl("label", {}, "depth "));
  const surSize = surSizeLabel.appendChild(nbxEl("input", { type: "number", min: "1", max: "12", step: "1", class: "nbx-surrogate-size", "aria-label": "tree depth or number of terms" }));
  const surFit = surControls.appendChild(nbxEl("button", { type: "button", class: "nbx-surrogate-fit" }, "fit"));
  const surFidelity = sur.appendChild(nbxEl("div", { class: "nbx-fidelity" }));
  const surRules = sur.appendChild(nbxEl("pre", { class: "nbx-rules" }));
  nbxKeepKeys(root);
  return { root, status, targetLabel, targetSelect, kindGroup, kindButtons, anchorLabel, anchor, anchorText, pairLabel,
           pairSelect, pairGroup, pairButtons, picker, pickerTitle, pickerList, pickerNote, figure, caption, plot, readout,
           sur, surSummary, surKind, surSizeLabel, surSize, surFit, surFidelity, surRules };
}

/** Every trait the plot needs, arrays decoded once per draw. */
function decodeTraits(model, local = null) {
  const d = (name) => nbxDecodeArray(model.get(name));
  const traits = {
    names: model.get("feature_names") || [],
    categorical: model.get("categorical") || [],
    feature: model.get("feature"),
    kind: model.get("kind"),
    grid: d("grid"), table: d("ice_table"), rowIds: d("row_ids"), rowValues: d("row_values"), rowX: d("row_x"),
    rug: d("rug"), aleX: d("ale_x"), aleY: d("ale_y"), importance: d("importance"), importanceStd: d("importance_std"),
    surface: d("surface"), surfaceX: d("surface_x"), surfaceY: d("surface_y"),
    pair: model.get("pair"), pairKind: model.get("pair_kind"), surfaceFeatures: model.get("surface_features") || [],
    outputLabel: model.get("output_label") || "prediction",
  };
  return local ? { ...traits, ...local.data } : traits;
}

// ---- answers from the tables ------------------------------------------------------------------------------

/** The table entry of feature j for the class shown, or null. */
function tableEntry(model, j) {
  const t = model.get("answer_tables");
  if (!t || !t.features || t.target !== model.get("target") || !t.features[j]) return null;
  return t.features[j];
}

/** The kernel-free answer to "feature": that feature's curves from the tables (undefined: ask the kernel). */
function tableAnswer(view, action, params) {
  if (action !== "feature") return undefined;
  const j = Number(params.feature);
  const entry = tableEntry(view.model, j);
  if (!entry) return undefined;
  const t = view.model.get("answer_tables");
  const d = (v) => nbxDecodeArray(v);
  return { feature: j, anchorIndex: entry.anchor_index, data: {
    feature: j, grid: d(entry.grid), table: d(entry.ice_table), rowX: d(entry.row_x), rug: d(entry.rug),
    aleX: d(entry.ale_x), aleY: d(entry.ale_y), rowIds: d(t.row_ids), rowValues: d(t.row_values),
    outputLabel: entry.output_label || "prediction", pair: -1 } };
}

/** Show a table answer: its curves override the traits until the kernel shows the same feature. */
function showTableAnswer(view, answer, action, params) {
  const { model } = view;
  view.local = answer;
  if (!view.requester.kernelless) { view.requester.notify(action, params); return; }  // the kernel follows
  const categorical = (model.get("categorical") || [])[answer.feature];  // what the kernel would do, here
  if (model.get("kind") === "derivative" && categorical) model.set("kind", "ice");
  model.set("anchor_index", answer.anchorIndex);
  if (model.get("pair") >= 0) model.set("pair", -1);
  nbxSave(model);
}

/** The feature on screen: a table answer's, else the kernel's. */
const shownFeature = (view) => (view.local ? view.local.data.feature : view.model.get("feature"));

/** An exported page: the controls only a kernel can answer say so (again after each redraw). */
function markKernelOnly(view) {
  const { dom } = view;
  nbxNeedsKernel(dom.targetSelect, dom.pairSelect, dom.pairButtons.pdp, dom.pairButtons.ale, dom.surKind, dom.surSize, dom.surFit);
  if (!view.model.get("answer_tables")) {
    for (const b of dom.pickerList.querySelectorAll("button.nbx-feature[aria-pressed='false']")) nbxNeedsKernel(b);
  }
}

const featureName = ({ data }, j) => data.names[j] !== undefined ? data.names[j] : `x${j}`;
const isCategorical = ({ data }) => Boolean(data.categorical[data.feature]);
/** The 2-D surface is shown when a pair is chosen and the kernel's surface is of that pair. */
const showsSurface = ({ data }) => data.pair >= 0 && data.surface && data.surfaceFeatures.length === 3
  && data.surfaceFeatures[0] === data.feature && data.surfaceFeatures[1] === data.pair;

// ---- controls ---------------------------------------------------------------------------------------------

/** Class menu, kind buttons, anchor slider and pair menu as the traits say; then picker and surrogate. */
function refreshControls(view) {
  const { model, data, dom } = view;
  const interactive = model.get("interactive");
  const classes = model.get("classes") || [];
  dom.targetLabel.hidden = classes.length === 0;
  nbxSetOptions(dom.targetSelect, classes.map((c) => [c.index, c.name]), model.get("target"));
  dom.targetSelect.disabled = !interactive;

  const surface = showsSurface(view);
  const haveTable = Boolean(data.table), haveAle = Boolean(data.aleX);
  for (const [kind] of NBX_FX_KINDS) {
    const b = dom.kindButtons[kind];
    b.setAttribute("aria-pressed", String(data.kind === kind && !surface));
    b.disabled = kind === "ale" ? !haveAle : !haveTable || (kind === "derivative" && isCategorical(view));
  }
  dom.kindGroup.hidden = !haveTable && !haveAle;
  const g = data.grid ? data.grid.data.length : 0;
  dom.anchorLabel.hidden = data.kind !== "centred" || !haveTable || surface;
  dom.anchor.max = String(Math.max(0, g - 1));
  dom.anchor.value = String(model.get("anchor_index"));
  dom.anchorText.textContent = data.grid ? nbxFormat(data.grid.data[Math.min(model.get("anchor_index"), g - 1)]) : "";

  dom.pairLabel.hidden = !(interactive && data.names.length > 1 && data.feature >= 0);
  const others = data.names.map((n, j) => [j, n]).filter(([j]) => j !== data.feature);
  nbxSetOptions(dom.pairSelect, [[-1, "(none)"], ...others], data.pair >= 0 ? data.pair : -1);
  dom.pairGroup.hidden = !(data.pair >= 0);
  for (const k of ["pdp", "ale"]) dom.pairButtons[k].setAttribute("aria-pressed", String(data.pairKind === k && surface));

  refreshPicker(view);
  refreshSurrogate(view);
  if (view.requester && view.requester.kernelless) markKernelOnly(view);
}

/** The features as buttons, ranked by permutation importance (bar and ± spread) when the kernel sent it. */
function refreshPicker(view) {
  const { model, data, dom } = view;
  const imp = data.importance, sd = data.importanceStd;
  dom.picker.hidden = !imp && data.names.length < 2;
  dom.pickerTitle.textContent = imp ? "features by importance" : "features";
  const order = data.names.map((_, j) => j);
  if (imp) order.sort((a, b) => imp.data[b] - imp.data[a]);
  const top = imp ? Math.max(1e-12, ...Array.from(imp.data).map((v, j) => v + (sd ? sd.data[j] : 0))) : 1;
  const interactive = model.get("interactive");
  dom.pickerList.replaceChildren(...order.map((j) => {
    const b = nbxEl("button", { type: "button", class: "nbx-feature", "data-feature": String(j), "aria-pressed": String(j === data.feature) });
    b.appendChild(nbxEl("span", { class: "nbx-feature-name" }, featureName(view, j) + (data.categorical[j] ? " ▦" : "")));
    const track = b.appendChild(nbxEl("span", { class: "nbx-bar-track" }));
    if (imp) {
      const v = imp.data[j];
      track.appendChild(nbxEl("span", { class: "nbx-bar", style: { width: `${Math.max(0, (100 * v) / top)}%` } }));
      if (sd) {
        const lo = Math.max(0, v - sd.data[j]), hi = v + sd.data[j];
        track.appendChild(nbxEl("span", { class: "nbx-bar-spread", style: { left: `${(100 * lo) / top}%`, width: `${(100 * (hi - lo)) / top}%` } }));
      }
      b.appendChild(nbxEl("span", { class: "nbx-feature-value" }, nbxFormat(v)));
      b.title = `${featureName(view, j)}: ${nbxFormat(v)} ± ${nbxFormat(sd ? sd.data[j] : 0)}`;
    }
    b.disabled = !interactive && j !== data.feature;
    return b;
  }));
  dom.pickerNote.textContent = imp ? model.get("importance_label") || "" : "";
}

/** Surrogate size input's label and default for a kind ("depth" of a tree, "terms" of a sparse linear model). */
function surrogateSize(dom, kind, info) {
  dom.surSizeLabel.firstChild.textContent = kind === "tree" ? "depth " : "terms ";
  dom.surSize.value = String(kind === "tree" ? info.max_depth || 3 : info.n_terms || 5);
}

/** The global surrogate panel: its fidelity and rules (hidden until one is fitted). */
function refreshSurrogate({ model, dom }) {
  const info = model.get("surrogate") || {};
  dom.sur.hidden = !info.kind;
  if (!info.kind) return;
  const name = info.fidelity_name === "R2" ? "R²" : info.fidelity_name;
  dom.surSummary.textContent = `Global surrogate: ${info.kind === "tree" ? "decision tree" : "sparse linear"}, fidelity ${name} = ${Number(info.fidelity).toFixed(3)}`;
  dom.surFidelity.textContent = `Fidelity to the model's ${info.output_label || "predictions"}: ${name} = ${Number(info.fidelity).toFixed(4)}`;
  dom.surKind.value = info.kind;
  surrogateSize(dom, info.kind, info);
  dom.surRules.textContent = info.text || "";
  dom.surKind.disabled = dom.surSize.disabled = dom.surFit.disabled = !model.get("interactive");
}

// ---- drawing ---------------------------------------------------------------------------------------------

/** Size the plot canvas for the screen's pixel ratio; returns its 2-D context in CSS pixels. */
function setupCanvas({ model, dom }) {
  const w = model.get("plot_width"), h = model.get("plot_height");
  const ratio = window.devicePixelRatio || 1;
  dom.plot.width = Math.round(w * ratio); dom.plot.height = Math.round(h * ratio);
  dom.plot.style.width = `${w}px`; dom.plot.style.height = `${h}px`;
  // long captions and readouts must not widen the figure (it would wrap under the picker and jump)
  dom.figure.style.width = `${w}px`;
  const ctx = dom.plot.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { ctx, w, h };
}

/** Grid lines, ticks, frame and axis labels in the theme's colours. */
function drawAxes({ dom }, ctx, f, xlabel, ylabel, xticks, xtickLabels) {
  const fg = nbxThemeColor(dom.root, "--jp-ui-font-color1", "#1f1f1f");
  ctx.save();
  ctx.font = "11px sans-serif"; ctx.fillStyle = fg; ctx.strokeStyle = nbxThemeColor(dom.root, "--jp-border-color2", "#e0e0e0"); ctx.lineWidth = 1;
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const t of nbxFxTicks(f.ylo, f.yhi, 5)) {
    const y = f.Y(t);
    ctx.beginPath(); ctx.moveTo(f.left, y); ctx.lineTo(f.left + f.pw, y); ctx.stroke();
    ctx.fillText(nbxFxTick(t), f.left - 4, y);
  }
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  (xticks || nbxFxTicks(f.xlo, f.xhi, 6)).forEach((t, i) => {
    const x = f.X(t);
    ctx.beginPath(); ctx.moveTo(x, f.top + f.ph); ctx.lineTo(x, f.top + f.ph + 4); ctx.strokeStyle = fg; ctx.stroke();
    ctx.fillText(xtickLabels ? xtickLabels[i] : nbxFxTick(t), x, f.top + f.ph + 6);
  });
  ctx.strokeStyle = fg;
  ctx.strokeRect(f.left, f.top, f.pw, f.ph);
  ctx.fillText(xlabel, f.left + f.pw / 2, f.h - 14);
  ctx.save(); ctx.translate(12, f.top + f.ph / 2); ctx.rotate(-Math.PI / 2); ctx.textBaseline = "middle";
  ctx.fillText(ylabel, 0, 0); ctx.restore();
  ctx.restore();
}

/** Short ticks along the x axis where the data lie. */
function drawRug(ctx, f, values, toX) {
  if (!values) return;
  ctx.save();
  ctx.strokeStyle = "rgba(0,0,0,0.35)"; ctx.lineWidth = 1;
  ctx.beginPath();
  const y0 = f.top + f.ph;
  for (const v of values) {
    const x = toX(v);
    if (x < f.left - 0.5 || x > f.left + f.pw + 0.5) continue;
    ctx.moveTo(x, y0); ctx.lineTo(x, y0 - 7);
  }
  ctx.stroke(); ctx.restore();
}

/** Bars from 0 for categorical levels at positions 0..k-1. */
function drawLevelBars(ctx, f, values, px) {
  const zero = f.Y(0), k = values.length;
  ctx.fillStyle = `rgba(${NBX_FX_LINE},0.8)`;
  for (let j = 0; j < k; j++) { const y = f.Y(values[j]); ctx.fillRect(px(j) - 0.3 * f.pw / k, Math.min(y, zero), 0.6 * f.pw / k, Math.abs(zero - y)); }
}

/** Numeric x axis: the data range (grid and rug). */
function xAxisFor({ data }, values) {
  return nbxFxRange([...values, ...(data.rug ? data.rug.data : [])], 0.02);
}

/** The whole plot for the traits: 2-D surface, ALE or ICE-family curves; keeps a copy for hover redraws. */
function drawPlot(view) {
  const { dom, plot } = view;
  view.data = decodeTraits(view.model, view.local);
  refreshControls(view);
  const { ctx, w, h } = setupCanvas(view);
  ctx.fillStyle = nbxThemeColor(dom.root, "--jp-layout-color0", "#ffffff");
  ctx.fillRect(0, 0, w, h);
  plot.hovered = -1;
  dom.readout.textContent = " ";
  plot.frame = null;
  let summary = { mode: "empty" };
  const data = view.data;
  if (showsSurface(view)) summary = drawSurface(view, ctx, w, h);
  else if (data.kind === "ale" && data.aleX) summary = drawAle(view, ctx, w, h);
  else if (data.table && data.grid) summary = drawIce(view, ctx, w, h);
  else dom.caption.textContent = data.importance ? "Permutation importance (pick a feature above)" : "";
  dom.plot.dataset.summary = JSON.stringify(summary);
  // plot geometry in CSS pixels, so tests (and tools) can aim at a data point
  const f = plot.frame;
  dom.plot.dataset.frame = f ? JSON.stringify({ left: f.left, top: f.top, pw: f.pw, ph: f.ph, xlo: f.xlo, xhi: f.xhi, ylo: f.ylo, yhi: f.yhi }) : "";
  dom.plot.setAttribute("aria-label", dom.caption.textContent || "feature effect plot");
  plot.background = document.createElement("canvas");
  plot.background.width = dom.plot.width; plot.background.height = dom.plot.height;
  plot.background.getContext("2d").drawImage(dom.plot, 0, 0);
}

/** PDP (mean line, or bars for a categorical feature), ICE lines, c-ICE with its anchor, d-ICE with ± 1 sd. */
function drawIce(view, ctx, w, h) {
  const { model, data, dom } = view;
  const kind = data.kind;
  const [rows, cols] = data.table.shape;
  const { curves, mean, sd, n, g } = nbxFxCurves(data.table.data, rows, cols, data.grid.data, kind, model.get("anchor_index"));
  const grid = data.grid.data;
  const cat = isCategorical(view);
  const ice = kind !== "pdp";
  let [ylo, yhi] = nbxFxRange(ice ? curves : mean);
  if (kind === "pdp" && cat) { ylo = Math.min(0, ylo); yhi = Math.max(0, yhi); }
  const [xlo, xhi] = cat ? [-0.6, g - 0.4] : xAxisFor(view, grid);
  const f = nbxFxFrame(w, h, xlo, xhi, ylo, yhi);
  const px = (j) => f.X(cat ? j : grid[j]);
  const name = featureName(view, data.feature);
  const out = data.outputLabel;
  const ylabel = { pdp: out, ice: out, centred: `${out} − value at anchor`, derivative: `d ${out} / d ${name}` }[kind];
  drawAxes(view, ctx, f, name, ylabel, cat ? Array.from(grid, (_, j) => j) : null, cat ? Array.from(grid, (v) => nbxFxTick(v)) : null);
  ctx.save();
  ctx.beginPath(); ctx.rect(f.left, f.top, f.pw, f.ph); ctx.clip();
  if (kind === "pdp" && cat) drawLevelBars(ctx, f, mean, px);
  else {
    if (ice) {
      ctx.strokeStyle = `rgba(${NBX_FX_LINE},${Math.max(0.04, Math.min(0.5, 12 / n))})`;
      ctx.lineWidth = 1;
      for (let r = 0; r < n; r++) nbxStrokeLine(ctx, g, px, (j) => f.Y(curves[r * g + j]));
      if (kind === "derivative") {
        ctx.fillStyle = "rgba(214,39,40,0.12)";
        ctx.beginPath();
        for (let j = 0; j < g; j++) ctx.lineTo(px(j), f.Y(mean[j] + sd[j]));
        for (let j = g - 1; j >= 0; j--) ctx.lineTo(px(j), f.Y(mean[j] - sd[j]));
        ctx.closePath(); ctx.fill();
      }
      if (kind === "centred") {
        const a = Math.min(model.get("anchor_index"), g - 1);
        ctx.strokeStyle = "rgba(0,0,0,0.5)"; ctx.setLineDash([3, 3]);
        ctx.beginPath(); ctx.moveTo(px(a), f.top); ctx.lineTo(px(a), f.top + f.ph); ctx.stroke(); ctx.setLineDash([]);
      }
    }
    ctx.strokeStyle = NBX_FX_MEAN; ctx.lineWidth = 2.5;
    nbxStrokeLine(ctx, g, px, (j) => f.Y(mean[j]));
  }
  ctx.restore();
  if (!cat) drawRug(ctx, f, data.rug && data.rug.data, f.X);
  const titles = { pdp: "Partial dependence", ice: "ICE", centred: "Centred ICE (c-ICE)", derivative: "Derivative ICE (d-ICE)" };
  dom.caption.textContent = `${titles[kind]} of ${name}` + (ice ? ` — ${n} rows; red: their mean` : ` — mean over ${n} rows`);
  view.plot.frame = { ...f, type: "ice", curves, n, g, px, cat };
  return { mode: "1d", kind, feature: name, mean: Array.from(mean), n, g };
}

/** Accumulated local effects: a line over the bin edges, or bars for categorical levels. */
function drawAle(view, ctx, w, h) {
  const { data, dom } = view;
  const xs = data.aleX.data, ys = data.aleY.data;
  const cat = isCategorical(view);
  const k = xs.length;
  let [ylo, yhi] = nbxFxRange(ys);
  ylo = Math.min(ylo, 0); yhi = Math.max(yhi, 0);
  const [xlo, xhi] = cat ? [-0.6, k - 0.4] : xAxisFor(view, xs);
  const f = nbxFxFrame(w, h, xlo, xhi, ylo, yhi);
  const px = (j) => f.X(cat ? j : xs[j]);
  const name = featureName(view, data.feature);
  drawAxes(view, ctx, f, name, `ALE of ${data.outputLabel}`, cat ? Array.from(xs, (_, j) => j) : null, cat ? Array.from(xs, (v) => nbxFxTick(v)) : null);
  ctx.save();
  ctx.beginPath(); ctx.rect(f.left, f.top, f.pw, f.ph); ctx.clip();
  const zero = f.Y(0);
  ctx.strokeStyle = "rgba(0,0,0,0.4)"; ctx.beginPath(); ctx.moveTo(f.left, zero); ctx.lineTo(f.left + f.pw, zero); ctx.stroke();
  if (cat) drawLevelBars(ctx, f, ys, px);
  else {
    ctx.strokeStyle = NBX_FX_MEAN; ctx.lineWidth = 2.5; ctx.fillStyle = NBX_FX_MEAN;
    nbxStrokeLine(ctx, k, px, (j) => f.Y(ys[j]));
    for (let j = 0; j < k; j++) { ctx.beginPath(); ctx.arc(px(j), f.Y(ys[j]), 2.2, 0, 2 * Math.PI); ctx.fill(); }
  }
  ctx.restore();
  if (!cat) drawRug(ctx, f, data.rug && data.rug.data, f.X);
  dom.caption.textContent = `Accumulated local effects of ${name} (${cat ? k + " levels" : k - 1 + " quantile bins"}, centred)`;
  view.plot.frame = { ...f, type: "ale", xs, ys, px, cat };
  return { mode: "1d", kind: "ale", feature: name, mean: Array.from(ys), n: 0, g: k };
}

/** The 2-D PDP (viridis) or interaction-only 2-D ALE (red-blue, symmetric) of a pair, data points, colour bar. */
function drawSurface(view, ctx, w, h) {
  const { data, dom } = view;
  const { surface, surfaceX, surfaceY } = data;
  const [g1, g2] = surface.shape;
  const xs = surfaceX.data, ys = surfaceY.data, z = surface.data;
  const ale = data.pairKind === "ale";
  let [lo, hi] = nbxFxRange(z, 0);
  if (ale) { const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1; lo = -m; hi = m; }
  const f = nbxFxFrame(w - 70, h, xs[0], xs[g1 - 1], ys[0], ys[g2 - 1]);
  const lut = nbxColormap(ale ? "RdBu" : "viridis");
  const colour = (v) => {
    const t = Math.max(0, Math.min(255, Math.round(((v - lo) / (hi - lo || 1)) * 255)));
    return `rgb(${lut[t * 3]},${lut[t * 3 + 1]},${lut[t * 3 + 2]})`;  // RdBu: low blue, high red
  };
  const edgesOf = (v, i) => [i === 0 ? v[0] : (v[i - 1] + v[i]) / 2, i === v.length - 1 ? v[i] : (v[i] + v[i + 1]) / 2];
  for (let i = 0; i < g1; i++) {
    const [x0, x1] = edgesOf(xs, i);
    for (let j = 0; j < g2; j++) {
      const [y0, y1] = edgesOf(ys, j);
      ctx.fillStyle = colour(z[i * g2 + j]);
      ctx.fillRect(f.X(x0), f.Y(y1), f.X(x1) - f.X(x0) + 0.5, f.Y(y0) - f.Y(y1) + 0.5);
    }
  }
  const [a, b] = data.surfaceFeatures;
  if (data.rowValues && data.rowValues.shape.length === 2 && data.rowValues.shape[1] > Math.max(a, b)) {
    const [n, nf] = data.rowValues.shape;
    ctx.fillStyle = "rgba(255,255,255,0.55)";
    for (let r = 0; r < n; r++) {
      const x = f.X(data.rowValues.data[r * nf + a]), y = f.Y(data.rowValues.data[r * nf + b]);
      if (x >= f.left && x <= f.left + f.pw && y >= f.top && y <= f.top + f.ph) ctx.fillRect(x - 1, y - 1, 2, 2);
    }
  }
  drawAxes(view, ctx, f, featureName(view, a), featureName(view, b));
  const cbx = w - 58, cbw = 12;  // colour bar
  for (let p = 0; p < f.ph; p++) { ctx.fillStyle = colour(hi - ((hi - lo) * p) / f.ph); ctx.fillRect(cbx, f.top + p, cbw, 1.5); }
  ctx.font = "10px sans-serif"; ctx.fillStyle = nbxThemeColor(dom.root, "--jp-ui-font-color1", "#1f1f1f");
  ctx.textAlign = "left"; ctx.textBaseline = "middle";
  ctx.fillText(nbxFormat(hi), cbx + cbw + 3, f.top + 4); ctx.fillText(nbxFormat(lo), cbx + cbw + 3, f.top + f.ph - 4);
  dom.caption.textContent = ale
    ? `2-D ALE of ${featureName(view, a)} × ${featureName(view, b)}: the interaction only (first-order effects removed)`
    : `2-D partial dependence of ${data.outputLabel} on ${featureName(view, a)} × ${featureName(view, b)}`;
  view.plot.frame = { ...f, type: "surface", xs, ys, z, g1, g2 };
  let sum = 0; for (const v of z) sum += v;
  return { mode: "2d", kind: data.pairKind, features: [featureName(view, a), featureName(view, b)], shape: [g1, g2], mean: sum / z.length };
}

// ---- hover: one ICE row highlighted, or the value under the pointer --------------------------------------

function describeRow(view, r) {
  const { data } = view;
  const id = data.rowIds ? data.rowIds.data[r] : r;
  const parts = [];
  if (data.rowValues && data.rowValues.shape.length === 2) {
    const nf = data.rowValues.shape[1];
    for (let j = 0; j < nf; j++) parts.push(`${featureName(view, j)} = ${nbxFormat(data.rowValues.data[r * nf + j])}`);
  }
  return { id, text: `row ${id}: ${parts.join(", ")}` };
}

/** Redraw the plot from its copy with ICE row r (−1: none) on top, where the row really is marked. */
function highlight(view, r) {
  const { data, dom, plot } = view;
  const frame = plot.frame;
  if (!frame || frame.type !== "ice" || r === plot.hovered) return;
  plot.hovered = r;
  const ctx = dom.plot.getContext("2d");
  const ratio = window.devicePixelRatio || 1;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(plot.background, 0, 0);
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  if (r < 0) { dom.readout.textContent = " "; delete dom.readout.dataset.row; sendHighlight(view, -1); return; }
  const { curves, g, px } = frame;
  ctx.save();
  ctx.beginPath(); ctx.rect(frame.left, frame.top, frame.pw, frame.ph); ctx.clip();
  ctx.strokeStyle = NBX_FX_HIGHLIGHT; ctx.lineWidth = 2.5;
  nbxStrokeLine(ctx, g, px, (j) => frame.Y(curves[r * g + j]));
  if (data.rowX && !frame.cat) {  // where the row really is
    const xv = data.rowX.data[r];
    const grid = data.grid.data;
    let j = 0; while (j < g - 2 && grid[j + 1] < xv) j++;
    const t = Math.max(0, Math.min(1, (xv - grid[j]) / (grid[j + 1] - grid[j] || 1)));
    const yv = curves[r * g + j] * (1 - t) + curves[r * g + j + 1] * t;
    ctx.fillStyle = NBX_FX_HIGHLIGHT; ctx.beginPath(); ctx.arc(frame.X(xv), frame.Y(yv), 4, 0, 2 * Math.PI); ctx.fill();
  }
  ctx.restore();
  const { id, text } = describeRow(view, r);
  dom.readout.textContent = text;
  dom.readout.dataset.row = String(id);
  sendHighlight(view, id);
}

/** Tell the kernel which row of X is under the pointer (the `highlighted` trait), once per change. */
function sendHighlight({ model, plot }, id) {
  if (id === plot.lastHighlight) return;
  plot.lastHighlight = id;
  model.set("highlighted", id);
  nbxSave(model);
}

/** The pointer over the plot: the nearest ICE line, or the surface/ALE value under it, in the read-out. */
function hoverPlot(view, event) {
  const { data, dom, plot } = view;
  const frame = plot.frame;
  if (!frame) return;
  const mx = event.offsetX, my = event.offsetY;
  if (frame.type === "ice") {
    if (data.kind === "pdp") return;
    const { curves, n, g, px } = frame;
    let j = 0;  // fractional grid position under the pointer
    while (j < g - 2 && px(j + 1) < mx) j++;
    const t = g > 1 ? Math.max(0, Math.min(1, (mx - px(j)) / (px(j + 1) - px(j) || 1))) : 0;
    let best = -1, bestDist = 10;
    for (let r = 0; r < n; r++) {
      const v = g > 1 ? curves[r * g + j] * (1 - t) + curves[r * g + j + 1] * t : curves[r * g];
      const d = Math.abs(frame.Y(v) - my);
      if (d < bestDist) { bestDist = d; best = r; }
    }
    highlight(view, best);
  } else if (frame.type === "surface") {
    const { xs, ys, z, g1, g2 } = frame;
    const xv = frame.invX(mx);
    const yv = frame.ylo + ((frame.top + frame.ph - my) / frame.ph) * (frame.yhi - frame.ylo);
    let i = 0, best = Infinity;
    xs.forEach((v, k) => { if (Math.abs(v - xv) < best) { best = Math.abs(v - xv); i = k; } });
    let j = 0; best = Infinity;
    ys.forEach((v, k) => { if (Math.abs(v - yv) < best) { best = Math.abs(v - yv); j = k; } });
    if (i < g1 && j < g2) dom.readout.textContent = `${featureName(view, data.surfaceFeatures[0])} = ${nbxFormat(xs[i])}, ${featureName(view, data.surfaceFeatures[1])} = ${nbxFormat(ys[j])}: ${nbxFormat(z[i * g2 + j])}`;
  } else if (frame.type === "ale") {
    const { xs, ys, px } = frame;
    let best = 0, dist = Infinity;
    for (let k = 0; k < xs.length; k++) { const d = Math.abs(px(k) - mx); if (d < dist) { dist = d; best = k; } }
    dom.readout.textContent = `${featureName(view, data.feature)} = ${nbxFormat(xs[best])}: ALE ${nbxFormat(ys[best])}`;
  }
}

/** Keyboard users step through the ICE rows with the up and down arrows; Escape clears. */
function plotKey(view, event) {
  const frame = view.plot.frame;
  if (!frame || frame.type !== "ice" || view.data.kind === "pdp") return;
  if (event.key !== "ArrowDown" && event.key !== "ArrowUp" && event.key !== "Escape") return;
  event.preventDefault();
  event.stopPropagation();  // handled here: not a notebook shortcut
  if (event.key === "Escape") { highlight(view, -1); return; }
  const step = event.key === "ArrowDown" ? 1 : -1;
  const hovered = view.plot.hovered;
  highlight(view, ((hovered < 0 ? (step > 0 ? -1 : 0) : hovered) + step + frame.n) % frame.n);
}

// ---- asking and following -----------------------------------------------------------------------------------

/** Ask the kernel (feature, pair, target, surrogate); redraw from the traits unless a newer request was sent. */
async function ask(view, action, params) {
  const answer = await view.requester.request(action, params);
  if (answer.stale) return;  // a newer request of this action is on its way: never draw an older result
  if (answer.source === "table") showTableAnswer(view, answer.data, action, params);
  view.dom.status.done(answer.status === "error" ? "failed: see the error above"
    : answer.status === "no-kernel" ? `that ${NBX_NEEDS_KERNEL}` : "");
  scheduleDraw(view, true);  // on error too: the controls go back to the kernel's state
}

/** Redraw once per frame; changes from elsewhere wait while a request of ours is pending (unless forced). */
function scheduleDraw(view, force = false) {
  if (!force && view.requester.inFlight() > 0) return;
  if (view.plot.pendingFrame !== null) return;
  view.plot.pendingFrame = requestAnimationFrame(() => { view.plot.pendingFrame = null; drawPlot(view); });
}

/** What the user does: the table answers kind and anchor here; feature, pair, class and surrogate ask the kernel. */
function listenToUser(view) {
  const { model, dom } = view;
  dom.pickerList.addEventListener("click", (event) => {
    const b = event.target.closest("button.nbx-feature");
    if (!b || b.disabled || !model.get("interactive")) return;
    const j = Number(b.dataset.feature);
    if (j === shownFeature(view) && model.get("pair") < 0) return;
    for (const other of dom.pickerList.children) other.setAttribute("aria-pressed", String(other === b));
    ask(view, "feature", { feature: j });
  });
  for (const [kind] of NBX_FX_KINDS) {
    dom.kindButtons[kind].addEventListener("click", () => {
      model.set("kind", kind);
      if (model.get("pair") >= 0) model.set("pair", -1);
      nbxSave(model);
      scheduleDraw(view, true);
    });
  }
  dom.anchor.addEventListener("input", () => { model.set("anchor_index", Number(dom.anchor.value)); nbxSave(model); scheduleDraw(view, true); });
  dom.pairSelect.addEventListener("change", () => {
    const k = Number(dom.pairSelect.value);
    if (k < 0) { model.set("pair", -1); nbxSave(model); scheduleDraw(view, true); return; }
    ask(view, "pair", { feature: shownFeature(view), pair: k, kind: model.get("pair_kind") });
  });
  for (const k of ["pdp", "ale"]) {
    dom.pairButtons[k].addEventListener("click", () => ask(view, "pair", { feature: shownFeature(view), pair: model.get("pair"), kind: k }));
  }
  dom.targetSelect.addEventListener("change", () => ask(view, "target", { target: Number(dom.targetSelect.value) }));
  dom.surKind.addEventListener("change", () => surrogateSize(dom, dom.surKind.value, model.get("surrogate") || {}));
  dom.surFit.addEventListener("click", () => {
    const size = Math.max(1, Math.round(Number(dom.surSize.value) || 1));
    ask(view, "surrogate", dom.surKind.value === "tree" ? { kind: "tree", max_depth: size } : { kind: "linear", n_terms: size });
  });
  dom.plot.addEventListener("mousemove", (event) => hoverPlot(view, event));
  dom.plot.addEventListener("mouseleave", () => {
    if (view.plot.frame && view.plot.frame.type === "ice") highlight(view, -1); else dom.readout.textContent = " ";
  });
  dom.plot.addEventListener("keydown", (event) => plotKey(view, event));
}

// (not "change" itself: the view's own `highlighted` updates must not redraw and drop the highlight)
const NBX_FX_REDRAW = ["feature_names", "categorical", "importance", "importance_std", "output_label", "classes", "target",
  "feature", "kind", "anchor_index", "grid", "ice_table", "row_ids", "row_values", "rug", "ale_x", "ale_y", "pair",
  "pair_kind", "surface", "surface_features", "surrogate", "interactive", "plot_width", "plot_height"];

function render({ model, el }) {
  const dom = buildDom(model, el);
  const view = { model, dom, data: null, requester: null, local: null,
                 plot: { background: null, frame: null, hovered: -1, lastHighlight: -1, pendingFrame: null } };
  view.requester = nbxRequester(model, {
    answer: (action, params) => tableAnswer(view, action, params),
    onProgress: (fraction, _action, elapsed) => dom.status.progress(fraction, elapsed),
    onBusy: (busy) => { if (busy) dom.status.busy(); else dom.status.done(); },
  });
  listenToUser(view);
  // the kernel caught up with a table answer (or moved on): its traits are what is shown again
  model.on("change:feature change:ice_table change:target", () => { if (view.local && model.get("feature") === view.local.feature) view.local = null; });
  model.on("change:target", () => { view.local = null; });
  model.on(NBX_FX_REDRAW.map((name) => `change:${name}`).join(" "), () => scheduleDraw(view));
  if (view.requester.kernelless) {
    const t = model.get("answer_tables");
    dom.root.insertBefore(nbxOfflineNote(dom.root, t
      ? "Exported page: every feature's PDP, ICE, c-ICE, d-ICE and ALE answer from tables; pairs, another class " +
        `and the surrogate: each ${NBX_NEEDS_KERNEL}.`
      : `Exported page without answer tables: other features, pairs, another class and the surrogate: each ${NBX_NEEDS_KERNEL}.`), dom.status.node);
  }
  drawPlot(view);
  return () => { if (view.plot.pendingFrame !== null) cancelAnimationFrame(view.plot.pendingFrame); dom.root.remove(); };
}

export default { render };
