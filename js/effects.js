// FeatureEffects view: a feature picker ranked by permutation importance, one effect plot (PDP, ICE,
// c-ICE, d-ICE, ALE) with a rug of the data, a 2-D heatmap for a pair, and a global-surrogate panel.
//
// Who answers what: switching between PDP / ICE / c-ICE / d-ICE (and moving the c-ICE anchor) is
// answered from the ICE table the kernel sent (trait `ice_table`, rows x grid), so it needs no kernel;
// choosing a feature, a pair, a class or a surrogate asks the kernel through nbxRequester (request ids,
// stale responses ignored, progress shown). User text (feature and class names) only goes through
// textContent.

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

function render({ model, el }) {
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

  const status = root.appendChild(nbxEl("div", { class: "nbx-status" }));
  const progress = status.appendChild(nbxEl("progress", { max: "1", hidden: "" }));
  const live = status.appendChild(nbxEl("span", { class: "nbx-live", "aria-live": "polite" }));
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
  surKind.appendChild(nbxEl("option", { value: "tree" }, "decision tree"));
  surKind.appendChild(nbxEl("option", { value: "linear" }, "sparse linear"));
  const surSizeLabel = surControls.appendChild(nbxEl("label", {}, "depth "));
  const surSize = surSizeLabel.appendChild(nbxEl("input", { type: "number", min: "1", max: "12", step: "1", class: "nbx-surrogate-size", "aria-label": "tree depth or number of terms" }));
  const surFit = surControls.appendChild(nbxEl("button", { type: "button", class: "nbx-surrogate-fit" }, "fit"));
  const surFidelity = sur.appendChild(nbxEl("div", { class: "nbx-fidelity" }));
  const surRules = sur.appendChild(nbxEl("pre", { class: "nbx-rules" }));

  const requester = nbxRequester(model, {
    onProgress: (fraction) => { progress.hidden = false; progress.value = fraction; },
    onBusy: (isBusy) => { progress.hidden = !isBusy; if (isBusy) { progress.removeAttribute("value"); live.textContent = "computing…"; } },
  });

  let state = {};
  let background = null; // offscreen canvas with everything but the highlight
  let frame = null;      // plot geometry of the last draw
  let hovered = -1;      // index into the ICE table's rows

  function decodeAll() {
    const d = (name) => nbxDecodeArray(model.get(name));
    state = {
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
  }

  const featureName = (j) => state.names[j] !== undefined ? state.names[j] : `x${j}`;
  const isCategorical = () => Boolean(state.categorical[state.feature]);
  const showsSurface = () => state.pair >= 0 && state.surface && state.surfaceFeatures.length === 3
    && state.surfaceFeatures[0] === state.feature && state.surfaceFeatures[1] === state.pair;

  // ---- controls ------------------------------------------------------------------------------
  function refreshControls() {
    const interactive = model.get("interactive");
    const classes = model.get("classes") || [];
    targetLabel.hidden = classes.length === 0;
    targetSelect.replaceChildren(...classes.map((c) => nbxEl("option", { value: String(c.index) }, c.name)));
    targetSelect.value = String(model.get("target"));
    targetSelect.disabled = !interactive;

    const haveTable = Boolean(state.table), haveAle = Boolean(state.aleX);
    for (const [kind] of NBX_FX_KINDS) {
      const b = kindButtons[kind];
      b.setAttribute("aria-pressed", String(state.kind === kind && !showsSurface()));
      b.disabled = kind === "ale" ? !haveAle : !haveTable || (kind === "derivative" && isCategorical());
    }
    kindGroup.hidden = !haveTable && !haveAle;
    const g = state.grid ? state.grid.data.length : 0;
    anchorLabel.hidden = state.kind !== "centred" || !haveTable || showsSurface();
    anchor.max = String(Math.max(0, g - 1));
    anchor.value = String(model.get("anchor_index"));
    anchorText.textContent = state.grid ? nbxFormat(state.grid.data[Math.min(model.get("anchor_index"), g - 1)]) : "";

    const canPair = interactive && state.names.length > 1 && state.feature >= 0;
    pairLabel.hidden = !canPair;
    pairSelect.replaceChildren(nbxEl("option", { value: "-1" }, "(none)"),
      ...state.names.map((n, j) => nbxEl("option", { value: String(j) }, n)).filter((_, j) => j !== state.feature));
    pairSelect.value = String(state.pair >= 0 ? state.pair : -1);
    pairGroup.hidden = !(state.pair >= 0);
    for (const k of ["pdp", "ale"]) pairButtons[k].setAttribute("aria-pressed", String(state.pairKind === k && showsSurface()));

    refreshPicker();
    refreshSurrogate();
  }

  function refreshPicker() {
    const imp = state.importance, sd = state.importanceStd;
    picker.hidden = !imp && state.names.length < 2;
    pickerTitle.textContent = imp ? "features by importance" : "features";
    const order = state.names.map((_, j) => j);
    if (imp) order.sort((a, b) => imp.data[b] - imp.data[a]);
    const top = imp ? Math.max(1e-12, ...Array.from(imp.data).map((v, j) => v + (sd ? sd.data[j] : 0))) : 1;
    const interactive = model.get("interactive");
    pickerList.replaceChildren(...order.map((j) => {
      const b = nbxEl("button", { type: "button", class: "nbx-feature", "data-feature": String(j), "aria-pressed": String(j === state.feature) });
      b.appendChild(nbxEl("span", { class: "nbx-feature-name" }, featureName(j) + (state.categorical[j] ? " ▦" : "")));
      const track = b.appendChild(nbxEl("span", { class: "nbx-bar-track" }));
      if (imp) {
        const v = imp.data[j];
        track.appendChild(nbxEl("span", { class: "nbx-bar", style: { width: `${Math.max(0, (100 * v) / top)}%` } }));
        if (sd) {
          const lo = Math.max(0, v - sd.data[j]), hi = v + sd.data[j];
          track.appendChild(nbxEl("span", { class: "nbx-bar-spread", style: { left: `${(100 * lo) / top}%`, width: `${(100 * (hi - lo)) / top}%` } }));
        }
        b.appendChild(nbxEl("span", { class: "nbx-feature-value" }, nbxFormat(v)));
        b.title = `${featureName(j)}: ${nbxFormat(v)} ± ${nbxFormat(sd ? sd.data[j] : 0)}`;
      }
      b.disabled = !interactive && j !== state.feature;
      return b;
    }));
    pickerNote.textContent = imp ? model.get("importance_label") || "" : "";
  }

  function refreshSurrogate() {
    const info = model.get("surrogate") || {};
    sur.hidden = !info.kind;
    if (!info.kind) return;
    const name = info.fidelity_name === "R2" ? "R²" : info.fidelity_name;
    surSummary.textContent = `Global surrogate: ${info.kind === "tree" ? "decision tree" : "sparse linear"}, fidelity ${name} = ${Number(info.fidelity).toFixed(3)}`;
    surFidelity.textContent = `Fidelity to the model's ${info.output_label || "predictions"}: ${name} = ${Number(info.fidelity).toFixed(4)}`;
    surKind.value = info.kind;
    surSizeLabel.firstChild.textContent = info.kind === "tree" ? "depth " : "terms ";
    surSize.value = String(info.kind === "tree" ? info.max_depth || 3 : info.n_terms || 5);
    surRules.textContent = info.text || "";
    const enabled = model.get("interactive");
    surKind.disabled = surSize.disabled = surFit.disabled = !enabled;
  }

  // ---- the curves of the current kind, answered from the ICE table --------------------------------
  function currentCurves() {
    const { table, grid } = state;
    const [n, g] = table.shape;
    const raw = table.data;
    const kind = state.kind;
    let curves;
    if (kind === "derivative") curves = nbxFxGradient(raw, n, g, grid.data);
    else if (kind === "centred") {
      const a = Math.min(model.get("anchor_index"), g - 1);
      curves = new Float64Array(n * g);
      for (let r = 0; r < n; r++) for (let j = 0; j < g; j++) curves[r * g + j] = raw[r * g + j] - raw[r * g + a];
    } else curves = Float64Array.from(raw);
    const mean = new Float64Array(g), sd = new Float64Array(g);
    for (let r = 0; r < n; r++) for (let j = 0; j < g; j++) mean[j] += curves[r * g + j] / n;
    for (let r = 0; r < n; r++) for (let j = 0; j < g; j++) sd[j] += (curves[r * g + j] - mean[j]) ** 2 / n;
    for (let j = 0; j < g; j++) sd[j] = Math.sqrt(sd[j]);
    return { curves, mean, sd, n, g };
  }

  // ---- drawing ---------------------------------------------------------------------------------------
  function setupCanvas() {
    const w = model.get("plot_width"), h = model.get("plot_height");
    const ratio = window.devicePixelRatio || 1;
    plot.width = Math.round(w * ratio); plot.height = Math.round(h * ratio);
    plot.style.width = `${w}px`; plot.style.height = `${h}px`;
    // long captions and readouts must not widen the figure (it would wrap under the picker and jump)
    figure.style.width = `${w}px`;
    const ctx = plot.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    return { ctx, w, h, ratio };
  }

  function makeFrame(w, h, xlo, xhi, ylo, yhi) {
    const left = 58, right = 12, top = 10, bottom = 42;
    const pw = w - left - right, ph = h - top - bottom;
    const X = (v) => left + ((v - xlo) / (xhi - xlo || 1)) * pw;
    const Y = (v) => top + ph - ((v - ylo) / (yhi - ylo || 1)) * ph;
    const invX = (px) => xlo + ((px - left) / pw) * (xhi - xlo);
    return { left, right, top, bottom, pw, ph, X, Y, invX, xlo, xhi, ylo, yhi, w, h };
  }

  function drawAxes(ctx, f, xlabel, ylabel, xticks, xtickLabels) {
    const fg = getComputedStyle(root).getPropertyValue("--jp-ui-font-color1").trim() || "#1f1f1f";
    const grid = getComputedStyle(root).getPropertyValue("--jp-border-color2").trim() || "#e0e0e0";
    ctx.save();
    ctx.font = "11px sans-serif"; ctx.fillStyle = fg; ctx.strokeStyle = grid; ctx.lineWidth = 1;
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

  function range(values, pad = 0.05) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; } }
    if (!Number.isFinite(lo)) return [0, 1];
    if (hi === lo) { lo -= 0.5; hi += 0.5; }
    const p = (hi - lo) * pad;
    return [lo - p, hi + p];
  }

  function draw() {
    decodeAll();
    refreshControls();
    const { ctx, w, h } = setupCanvas();
    ctx.fillStyle = getComputedStyle(root).getPropertyValue("--jp-layout-color0").trim() || "#ffffff";
    ctx.fillRect(0, 0, w, h);
    hovered = -1;
    readout.textContent = " ";
    frame = null;
    let summary = { mode: "empty" };
    if (showsSurface()) summary = drawSurface(ctx, w, h);
    else if (state.kind === "ale" && state.aleX) summary = drawAle(ctx, w, h);
    else if (state.table && state.grid) summary = drawIce(ctx, w, h);
    else caption.textContent = state.importance ? "Permutation importance (pick a feature above)" : "";
    plot.dataset.summary = JSON.stringify(summary);
    // plot geometry in CSS pixels, so tests (and tools) can aim at a data point
    plot.dataset.frame = frame ? JSON.stringify({ left: frame.left, top: frame.top, pw: frame.pw, ph: frame.ph,
      xlo: frame.xlo, xhi: frame.xhi, ylo: frame.ylo, yhi: frame.yhi }) : "";
    plot.setAttribute("aria-label", caption.textContent || "feature effect plot");
    background = document.createElement("canvas");
    background.width = plot.width; background.height = plot.height;
    background.getContext("2d").drawImage(plot, 0, 0);
  }

  function xAxisFor(values) {
    // numeric: data range (rug and grid); categorical: positions 0..L-1 labelled by the levels
    if (isCategorical()) return null;
    return range([...values, ...(state.rug ? state.rug.data : [])], 0.02);
  }

  function drawIce(ctx, w, h) {
    const { curves, mean, sd, n, g } = currentCurves();
    const grid = state.grid.data;
    const cat = isCategorical();
    const kind = state.kind;
    const ice = kind !== "pdp";
    const ys = ice ? curves : mean;
    let [ylo, yhi] = range(ys);
    if (kind === "pdp" && cat) { ylo = Math.min(0, ylo); yhi = Math.max(0, yhi); }
    const [xlo, xhi] = cat ? [-0.6, g - 0.4] : xAxisFor(grid);
    const f = makeFrame(w, h, xlo, xhi, ylo, yhi);
    const px = (j) => f.X(cat ? j : grid[j]);
    const name = featureName(state.feature);
    const ylabel = { pdp: state.outputLabel, ice: state.outputLabel, centred: `${state.outputLabel} − value at anchor`, derivative: `d ${state.outputLabel} / d ${name}` }[kind];
    drawAxes(ctx, f, name, ylabel, cat ? Array.from(grid, (_, j) => j) : null, cat ? Array.from(grid, (v) => nbxFxTick(v)) : null);
    ctx.save();
    ctx.beginPath(); ctx.rect(f.left, f.top, f.pw, f.ph); ctx.clip();
    if (kind === "pdp" && cat) {
      const zero = f.Y(0);
      ctx.fillStyle = `rgba(${NBX_FX_LINE},0.8)`;
      for (let j = 0; j < g; j++) { const y = f.Y(mean[j]); ctx.fillRect(px(j) - 0.3 * f.pw / g, Math.min(y, zero), 0.6 * f.pw / g, Math.abs(zero - y)); }
    } else {
      if (ice) {
        ctx.strokeStyle = `rgba(${NBX_FX_LINE},${Math.max(0.04, Math.min(0.5, 12 / n))})`;
        ctx.lineWidth = 1;
        for (let r = 0; r < n; r++) {
          ctx.beginPath();
          for (let j = 0; j < g; j++) { const x = px(j), y = f.Y(curves[r * g + j]); if (j) ctx.lineTo(x, y); else ctx.moveTo(x, y); }
          ctx.stroke();
        }
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
      ctx.beginPath();
      for (let j = 0; j < g; j++) { const x = px(j), y = f.Y(mean[j]); if (j) ctx.lineTo(x, y); else ctx.moveTo(x, y); }
      ctx.stroke();
    }
    ctx.restore();
    if (!cat) drawRug(ctx, f, state.rug && state.rug.data, f.X);
    const titles = { pdp: "Partial dependence", ice: "ICE", centred: "Centred ICE (c-ICE)", derivative: "Derivative ICE (d-ICE)" };
    caption.textContent = `${titles[kind]} of ${name}` + (ice ? ` — ${n} rows; red: their mean` : ` — mean over ${n} rows`);
    frame = { ...f, type: "ice", curves, n, g, px, cat };
    return { mode: "1d", kind, feature: name, mean: Array.from(mean), n, g };
  }

  function drawAle(ctx, w, h) {
    const xs = state.aleX.data, ys = state.aleY.data;
    const cat = isCategorical();
    const k = xs.length;
    let [ylo, yhi] = range(ys);
    ylo = Math.min(ylo, 0); yhi = Math.max(yhi, 0);
    const [xlo, xhi] = cat ? [-0.6, k - 0.4] : xAxisFor(xs);
    const f = makeFrame(w, h, xlo, xhi, ylo, yhi);
    const px = (j) => f.X(cat ? j : xs[j]);
    const name = featureName(state.feature);
    drawAxes(ctx, f, name, `ALE of ${state.outputLabel}`, cat ? Array.from(xs, (_, j) => j) : null, cat ? Array.from(xs, (v) => nbxFxTick(v)) : null);
    ctx.save();
    ctx.beginPath(); ctx.rect(f.left, f.top, f.pw, f.ph); ctx.clip();
    const zero = f.Y(0);
    ctx.strokeStyle = "rgba(0,0,0,0.4)"; ctx.beginPath(); ctx.moveTo(f.left, zero); ctx.lineTo(f.left + f.pw, zero); ctx.stroke();
    if (cat) {
      ctx.fillStyle = `rgba(${NBX_FX_LINE},0.8)`;
      for (let j = 0; j < k; j++) { const y = f.Y(ys[j]); ctx.fillRect(px(j) - 0.3 * f.pw / k, Math.min(y, zero), 0.6 * f.pw / k, Math.abs(zero - y)); }
    } else {
      ctx.strokeStyle = NBX_FX_MEAN; ctx.lineWidth = 2.5; ctx.fillStyle = NBX_FX_MEAN;
      ctx.beginPath();
      for (let j = 0; j < k; j++) { if (j) ctx.lineTo(px(j), f.Y(ys[j])); else ctx.moveTo(px(j), f.Y(ys[j])); }
      ctx.stroke();
      for (let j = 0; j < k; j++) { ctx.beginPath(); ctx.arc(px(j), f.Y(ys[j]), 2.2, 0, 2 * Math.PI); ctx.fill(); }
    }
    ctx.restore();
    if (!cat) drawRug(ctx, f, state.rug && state.rug.data, f.X);
    caption.textContent = `Accumulated local effects of ${name} (${cat ? k + " levels" : k - 1 + " quantile bins"}, centred)`;
    frame = { ...f, type: "ale", xs, ys, px, cat };
    return { mode: "1d", kind: "ale", feature: name, mean: Array.from(ys), n: 0, g: k };
  }

  function drawSurface(ctx, w, h) {
    const { surface, surfaceX, surfaceY } = state;
    const [g1, g2] = surface.shape;
    const xs = surfaceX.data, ys = surfaceY.data, z = surface.data;
    const ale = state.pairKind === "ale";
    let [lo, hi] = range(z, 0);
    if (ale) { const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1; lo = -m; hi = m; }
    const f = makeFrame(w - 70, h, xs[0], xs[g1 - 1], ys[0], ys[g2 - 1]);
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
    const [a, b] = state.surfaceFeatures;
    if (state.rowValues && state.rowValues.shape.length === 2 && state.rowValues.shape[1] > Math.max(a, b)) {
      const [n, nf] = state.rowValues.shape;
      ctx.fillStyle = "rgba(255,255,255,0.55)";
      for (let r = 0; r < n; r++) {
        const x = f.X(state.rowValues.data[r * nf + a]), y = f.Y(state.rowValues.data[r * nf + b]);
        if (x >= f.left && x <= f.left + f.pw && y >= f.top && y <= f.top + f.ph) ctx.fillRect(x - 1, y - 1, 2, 2);
      }
    }
    drawAxes(ctx, f, featureName(a), featureName(b));
    // colour bar
    const cbx = w - 58, cbw = 12;
    for (let p = 0; p < f.ph; p++) { ctx.fillStyle = colour(hi - ((hi - lo) * p) / f.ph); ctx.fillRect(cbx, f.top + p, cbw, 1.5); }
    ctx.font = "10px sans-serif"; ctx.fillStyle = getComputedStyle(root).getPropertyValue("--jp-ui-font-color1").trim() || "#1f1f1f";
    ctx.textAlign = "left"; ctx.textBaseline = "middle";
    ctx.fillText(nbxFormat(hi), cbx + cbw + 3, f.top + 4); ctx.fillText(nbxFormat(lo), cbx + cbw + 3, f.top + f.ph - 4);
    caption.textContent = ale
      ? `2-D ALE of ${featureName(a)} × ${featureName(b)}: the interaction only (first-order effects removed)`
      : `2-D partial dependence of ${state.outputLabel} on ${featureName(a)} × ${featureName(b)}`;
    frame = { ...f, type: "surface", xs, ys, z, g1, g2 };
    let sum = 0; for (const v of z) sum += v;
    return { mode: "2d", kind: state.pairKind, features: [featureName(a), featureName(b)], shape: [g1, g2], mean: sum / z.length };
  }

  // ---- hover ---------------------------------------------------------------------------------------
  function describeRow(r) {
    const id = state.rowIds ? state.rowIds.data[r] : r;
    const parts = [];
    if (state.rowValues && state.rowValues.shape.length === 2) {
      const nf = state.rowValues.shape[1];
      for (let j = 0; j < nf; j++) parts.push(`${featureName(j)} = ${nbxFormat(state.rowValues.data[r * nf + j])}`);
    }
    return { id, text: `row ${id}: ${parts.join(", ")}` };
  }

  function highlight(r) {
    if (!frame || frame.type !== "ice" || r === hovered) return;
    hovered = r;
    const ctx = plot.getContext("2d");
    const ratio = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(background, 0, 0);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    if (r < 0) { readout.textContent = " "; delete readout.dataset.row; sendHighlight(-1); return; }
    const { curves, g, px } = frame;
    ctx.save();
    ctx.beginPath(); ctx.rect(frame.left, frame.top, frame.pw, frame.ph); ctx.clip();
    ctx.strokeStyle = NBX_FX_HIGHLIGHT; ctx.lineWidth = 2.5;
    ctx.beginPath();
    for (let j = 0; j < g; j++) { const x = px(j), y = frame.Y(curves[r * g + j]); if (j) ctx.lineTo(x, y); else ctx.moveTo(x, y); }
    ctx.stroke();
    if (state.rowX && !frame.cat) {  // where the row really is
      const xv = state.rowX.data[r];
      const grid = state.grid.data;
      let j = 0; while (j < g - 2 && grid[j + 1] < xv) j++;
      const t = Math.max(0, Math.min(1, (xv - grid[j]) / (grid[j + 1] - grid[j] || 1)));
      const yv = curves[r * g + j] * (1 - t) + curves[r * g + j + 1] * t;
      ctx.fillStyle = NBX_FX_HIGHLIGHT; ctx.beginPath(); ctx.arc(frame.X(xv), frame.Y(yv), 4, 0, 2 * Math.PI); ctx.fill();
    }
    ctx.restore();
    const { id, text } = describeRow(r);
    readout.textContent = text;
    readout.dataset.row = String(id);
    sendHighlight(id);
  }

  let lastSent = -1;
  function sendHighlight(id) {
    if (id === lastSent) return;
    lastSent = id;
    model.set("highlighted", id);
    model.save_changes();
  }

  plot.addEventListener("mousemove", (event) => {
    if (!frame) return;
    const mx = event.offsetX, my = event.offsetY;
    if (frame.type === "ice") {
      if (state.kind === "pdp") return;
      const { curves, n, g, px } = frame;
      // fractional grid position under the pointer
      let j = 0;
      while (j < g - 2 && px(j + 1) < mx) j++;
      const t = g > 1 ? Math.max(0, Math.min(1, (mx - px(j)) / (px(j + 1) - px(j) || 1))) : 0;
      let best = -1, bestDist = 10;
      for (let r = 0; r < n; r++) {
        const v = g > 1 ? curves[r * g + j] * (1 - t) + curves[r * g + j + 1] * t : curves[r * g];
        const d = Math.abs(frame.Y(v) - my);
        if (d < bestDist) { bestDist = d; best = r; }
      }
      highlight(best);
    } else if (frame.type === "surface") {
      const { xs, ys, z, g1, g2 } = frame;
      const xv = frame.invX(mx);
      const yv = frame.ylo + ((frame.top + frame.ph - my) / frame.ph) * (frame.yhi - frame.ylo);
      let i = 0, best = Infinity;
      xs.forEach((v, k) => { if (Math.abs(v - xv) < best) { best = Math.abs(v - xv); i = k; } });
      let j = 0; best = Infinity;
      ys.forEach((v, k) => { if (Math.abs(v - yv) < best) { best = Math.abs(v - yv); j = k; } });
      if (i < g1 && j < g2) readout.textContent = `${featureName(state.surfaceFeatures[0])} = ${nbxFormat(xs[i])}, ${featureName(state.surfaceFeatures[1])} = ${nbxFormat(ys[j])}: ${nbxFormat(z[i * g2 + j])}`;
    } else if (frame.type === "ale") {
      const { xs, ys, px } = frame;
      let best = 0, dist = Infinity;
      for (let k = 0; k < xs.length; k++) { const d = Math.abs(px(k) - mx); if (d < dist) { dist = d; best = k; } }
      readout.textContent = `${featureName(state.feature)} = ${nbxFormat(xs[best])}: ALE ${nbxFormat(ys[best])}`;
    }
  });
  plot.addEventListener("mouseleave", () => { if (frame && frame.type === "ice") highlight(-1); else readout.textContent = " "; });
  plot.addEventListener("keydown", (event) => {  // keyboard users step through the rows
    if (!frame || frame.type !== "ice" || state.kind === "pdp") return;
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp" && event.key !== "Escape") return;
    event.preventDefault();
    if (event.key === "Escape") { highlight(-1); return; }
    const step = event.key === "ArrowDown" ? 1 : -1;
    highlight(((hovered < 0 ? (step > 0 ? -1 : 0) : hovered) + step + frame.n) % frame.n);
  });

  // ---- requests --------------------------------------------------------------------------------------
  async function ask(action, params) {
    const answer = await requester.request(action, params);
    if (answer.stale) return;  // a newer request of this action is on its way: never draw an older result
    progress.hidden = true;
    if (answer.status === "ok") { live.textContent = ""; scheduleDraw(true); }
    else if (answer.status === "error") { live.textContent = "failed: see the error above"; scheduleDraw(true); }
  }

  pickerList.addEventListener("click", (event) => {
    const b = event.target.closest("button.nbx-feature");
    if (!b || b.disabled || !model.get("interactive")) return;
    const j = Number(b.dataset.feature);
    if (j === model.get("feature") && model.get("pair") < 0) return;
    for (const other of pickerList.children) other.setAttribute("aria-pressed", String(other === b));
    ask("feature", { feature: j });
  });
  for (const [kind] of NBX_FX_KINDS) {
    kindButtons[kind].addEventListener("click", () => {
      model.set("kind", kind);
      if (model.get("pair") >= 0) { model.set("pair", -1); }
      model.save_changes();
      scheduleDraw(true);
    });
  }
  anchor.addEventListener("input", () => { model.set("anchor_index", Number(anchor.value)); model.save_changes(); scheduleDraw(true); });
  pairSelect.addEventListener("change", () => {
    const k = Number(pairSelect.value);
    if (k < 0) { model.set("pair", -1); model.save_changes(); scheduleDraw(true); return; }
    ask("pair", { feature: model.get("feature"), pair: k, kind: model.get("pair_kind") });
  });
  for (const k of ["pdp", "ale"]) {
    pairButtons[k].addEventListener("click", () => ask("pair", { feature: model.get("feature"), pair: model.get("pair"), kind: k }));
  }
  targetSelect.addEventListener("change", () => ask("target", { target: Number(targetSelect.value) }));
  surKind.addEventListener("change", () => {
    const info = model.get("surrogate") || {};
    surSizeLabel.firstChild.textContent = surKind.value === "tree" ? "depth " : "terms ";
    surSize.value = String(surKind.value === "tree" ? info.max_depth || 3 : info.n_terms || 5);
  });
  surFit.addEventListener("click", () => {
    const size = Math.max(1, Math.round(Number(surSize.value) || 1));
    ask("surrogate", surKind.value === "tree" ? { kind: "tree", max_depth: size } : { kind: "linear", n_terms: size });
  });

  // Changes made from Python (or another view) redraw once per frame, when no request of ours is pending.
  let pending = null;
  function scheduleDraw(force = false) {
    if (!force && requester.inFlight() > 0) return;
    if (pending !== null) return;
    pending = requestAnimationFrame(() => { pending = null; draw(); });
  }
  // (not "change" itself: the view's own `highlighted` updates must not redraw and drop the highlight)
  const REDRAW = ["feature_names", "categorical", "importance", "importance_std", "output_label", "classes", "target",
    "feature", "kind", "anchor_index", "grid", "ice_table", "row_ids", "row_values", "rug", "ale_x", "ale_y", "pair",
    "pair_kind", "surface", "surface_features", "surrogate", "interactive", "plot_width", "plot_height"];
  model.on(REDRAW.map((name) => `change:${name}`).join(" "), () => scheduleDraw());

  draw();
  return () => { if (pending !== null) cancelAnimationFrame(pending); root.remove(); };
}

export default { render };
