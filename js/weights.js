// WeightHistograms view: recorded parameters with change sparklines and flags; the histogram of the chosen
// parameter at the chosen snapshot (slider, play), an optional second snapshot as an outline, linear or log
// counts, the parameter's statistics and findings.
// Traits: parameters [{name, shape, layer, size}], steps, tables [{counts (S,B) int32, edges (B+1) float64,
// stats (S,K) float64}], stat_names, flags [{kind, parameter, message}], summary, parameter, checkpoint,
// compare, log_counts, live. Everything is drawn from the tables here; the view writes only parameter,
// checkpoint, compare and log_counts (the kernel validates them).
//
// Where things are: buildDom (the page), decodeTables, drawList (parameters and sparklines), drawHistogram,
// drawDetail (statistics and findings), refresh (all of it), listenToUser, render.

const NBX_W_STAT_LABELS = {
  mean: "mean", std: "std", min: "min", max: "max", norm: "norm (L2)", grad_norm: "gradient norm",
  change: "change since previous", change_total: "change since first", nonfinite: "NaN / inf values",
};

function buildDom(model, el) {
  const root = el.appendChild(nbxEl("div", { class: "nbx-root nbx-weights" }));
  const toolbar = root.appendChild(nbxEl("div", { class: "nbx-toolbar" }));
  const play = toolbar.appendChild(nbxEl("button", { type: "button", class: "nbx-play", "aria-pressed": "false" }, "▶ play"));
  const sliderLabel = toolbar.appendChild(nbxEl("label", {}, "snapshot "));
  const slider = sliderLabel.appendChild(nbxEl("input", { type: "range", min: "0", max: "0", step: "1", class: "nbx-checkpoint", "aria-label": "snapshot" }));
  const stepText = toolbar.appendChild(nbxEl("span", { class: "nbx-step", "aria-live": "polite" }));
  const compareLabel = toolbar.appendChild(nbxEl("label", {}, "compare with "));
  const compare = compareLabel.appendChild(nbxEl("select", { class: "nbx-compare", "aria-label": "compare with snapshot" }));
  const log = toolbar.appendChild(nbxEl("button", { type: "button", class: "nbx-log", "aria-pressed": "false" }, "log counts"));
  const status = nbxStatusBar(root);
  nbxErrorBanner(model, root);
  const body = root.appendChild(nbxEl("div", { class: "nbx-body" }));
  const list = body.appendChild(nbxEl("div", { class: "nbx-params", role: "group", "aria-label": "parameters" }));
  const detail = body.appendChild(nbxEl("div", { class: "nbx-detail" }));
  const title = detail.appendChild(nbxEl("div", { class: "nbx-title" }));
  const hist = detail.appendChild(nbxEl("canvas", { class: "nbx-hist", width: "440", height: "190", role: "img" }));
  const axis = detail.appendChild(nbxEl("div", { class: "nbx-axis" }));
  const axisLo = axis.appendChild(nbxEl("span"));
  const legend = axis.appendChild(nbxEl("span", { class: "nbx-legend" }));
  const axisHi = axis.appendChild(nbxEl("span"));
  const stats = detail.appendChild(nbxEl("table", { class: "nbx-stats" }));
  const findings = detail.appendChild(nbxEl("ul", { class: "nbx-findings" }));
  const summary = root.appendChild(nbxEl("pre", { class: "nbx-summary" }));
  nbxKeepKeys(root);
  return { root, play, slider, stepText, compare, log, status, list, title, hist, axisLo, legend, axisHi, stats, findings, summary };
}

/** The tables as typed arrays: [{counts, edges, stats, S, B, K}]. */
function decodeTables(model) {
  return (model.get("tables") || []).map((t) => {
    const counts = nbxDecodeArray(t.counts);
    const edges = nbxDecodeArray(t.edges);
    const stats = nbxDecodeArray(t.stats);
    return { counts: counts.data, edges: edges.data, stats: stats.data, S: counts.shape[0], B: counts.shape[1], K: stats.shape[1] };
  });
}

function statAt(table, names, name, s) {
  const k = names.indexOf(name);
  return k < 0 || s < 0 || s >= table.S ? NaN : table.stats[s * table.K + k];
}

/** The parameter list: a button per parameter with its shape, a sparkline of its change and its flag. */
function drawList(view) {
  const { model, dom } = view;
  const params = model.get("parameters") || [];
  const flags = model.get("flags") || [];
  const names = model.get("stat_names") || [];
  const selected = model.get("parameter");
  // one log scale for every sparkline, so that a stalled parameter looks stalled next to the others
  let lo = Infinity, hi = -Infinity;
  for (const t of view.tables) {
    for (let s = 1; s < t.S; s++) {
      const c = statAt(t, names, "change", s);
      if (c > 0 && Number.isFinite(c)) { lo = Math.min(lo, Math.log10(c)); hi = Math.max(hi, Math.log10(c)); }
    }
  }
  if (!(hi > lo)) { lo = -6; hi = 0; }
  lo = Math.min(lo, hi - 1);
  const danger = nbxThemeColor(dom.root, "--jp-error-color1", "#d32f2f");
  const ink = nbxThemeColor(dom.root, "--jp-brand-color1", "#1976d2");
  dom.list.replaceChildren();
  params.forEach((p, i) => {
    const mine = flags.filter((f) => f.parameter === p.name);
    const row = dom.list.appendChild(nbxEl("button", { type: "button", class: "nbx-param", "aria-pressed": String(i === selected), "data-index": String(i) }));
    row.appendChild(nbxEl("span", { class: "nbx-name" }, p.name));
    row.appendChild(nbxEl("span", { class: "nbx-shape" }, `${p.layer ? p.layer + " " : ""}${p.shape.join("×")}`));
    const spark = row.appendChild(nbxEl("canvas", { class: "nbx-spark", width: "90", height: "20", "aria-hidden": "true" }));
    const t = view.tables[i];
    const ctx = spark.getContext("2d");
    const values = [];
    for (let s = 1; t && s < t.S; s++) values.push(statAt(t, names, "change", s));
    const frozen = values.length > 0 && values.every((v) => v === 0);
    ctx.strokeStyle = frozen ? danger : ink;
    ctx.lineWidth = 1.5;
    if (values.length === 1) values.push(values[0]);
    const y = (v) => (v > 0 ? 18 - ((Math.log10(v) - lo) / (hi - lo)) * 16 : 19);
    nbxStrokeLine(ctx, values.length, (k) => (k / Math.max(1, values.length - 1)) * 88 + 1, (k) => y(values[k]));
    if (mine.length) {
      const badge = row.appendChild(nbxEl("span", { class: "nbx-flag", title: mine.map((f) => f.message).join("\n") }, `⚠ ${mine.map((f) => f.kind).join(", ")}`));
      badge.setAttribute("aria-label", mine.map((f) => f.message).join(" "));
    }
    row.addEventListener("click", () => view.choose({ parameter: i }));
  });
}

/** The histogram of the chosen parameter at the chosen snapshot, the compared snapshot as an outline. */
function drawHistogram(view) {
  const { model, dom } = view;
  const canvas = dom.hist;
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, top = 8;
  ctx.clearRect(0, 0, w, h);
  const i = model.get("parameter");
  const t = view.tables[i];
  const steps = model.get("steps") || [];
  if (!t || t.S === 0) return;
  const s = Math.min(model.get("checkpoint"), t.S - 1);
  const c = model.get("compare");
  const useLog = model.get("log_counts");
  const row = (k) => Array.from(t.counts.subarray(k * t.B, (k + 1) * t.B));
  const shape = (v) => (useLog ? Math.log1p(v) : v);
  const counts = row(s);
  const other = c >= 0 && c < t.S ? row(c) : null;
  const ymax = Math.max(1e-9, ...counts.map(shape), ...(other ? other.map(shape) : [0]));
  const bw = w / t.B;
  ctx.fillStyle = nbxThemeColor(dom.root, "--jp-brand-color1", "#1976d2");
  counts.forEach((v, b) => {
    const bh = (shape(v) / ymax) * (h - top);
    if (bh > 0) ctx.fillRect(b * bw, h - bh, Math.max(1, bw - 0.5), bh);
  });
  if (other) {
    ctx.strokeStyle = nbxThemeColor(dom.root, "--jp-warn-color0", "#e65100");
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    other.forEach((v, b) => {
      const y = h - (shape(v) / ymax) * (h - top);
      if (b === 0) ctx.moveTo(0, y); else ctx.lineTo(b * bw, y);
      ctx.lineTo((b + 1) * bw, y);
    });
    ctx.stroke();
  }
  const name = (model.get("parameters")[i] || {}).name || "";
  canvas.dataset.counts = JSON.stringify(counts);
  canvas.dataset.compareCounts = other ? JSON.stringify(other) : "";
  canvas.dataset.step = String(steps[s]);
  canvas.setAttribute("aria-label", `histogram of ${name} at step ${steps[s]}: ${t.B} bins, ${counts.reduce((a, b) => a + b, 0)} values`);
  dom.axisLo.textContent = nbxFormat(t.edges[0]);
  dom.axisHi.textContent = nbxFormat(t.edges[t.B]);
  dom.legend.textContent = other ? `bars: step ${steps[s]} · outline: step ${steps[c]}${useLog ? " · log(1 + count)" : ""}`
                                 : `step ${steps[s]}${useLog ? " · log(1 + count)" : ""}`;
}

/** The chosen parameter's name, statistics at the snapshot, and its findings. */
function drawDetail(view) {
  const { model, dom } = view;
  const i = model.get("parameter");
  const p = (model.get("parameters") || [])[i];
  const t = view.tables[i];
  const names = model.get("stat_names") || [];
  const steps = model.get("steps") || [];
  const s = model.get("checkpoint");
  dom.title.textContent = p ? `${p.name} — ${p.layer ? p.layer + ", " : ""}${p.size} values` : "";
  dom.stats.replaceChildren();
  if (t) {
    const head = dom.stats.appendChild(nbxEl("tr"));
    head.appendChild(nbxEl("th", {}, "statistic"));
    head.appendChild(nbxEl("th", {}, `step ${steps[s]}`));
    for (const name of names) {
      const tr = dom.stats.appendChild(nbxEl("tr", { "data-stat": name }));
      tr.appendChild(nbxEl("td", {}, NBX_W_STAT_LABELS[name] || name));
      const v = statAt(t, names, name, s);
      tr.appendChild(nbxEl("td", {}, Number.isNaN(v) ? "—" : nbxFormat(v)));
    }
  }
  dom.findings.replaceChildren(...(model.get("flags") || []).filter((f) => p && f.parameter === p.name)
    .map((f) => nbxEl("li", { class: `nbx-finding nbx-${f.kind}` }, f.message)));
}

function refreshControls(view) {
  const { model, dom } = view;
  const steps = model.get("steps") || [];
  const s = model.get("checkpoint");
  dom.slider.max = String(Math.max(0, steps.length - 1));
  dom.slider.value = String(s);
  dom.stepText.textContent = steps.length ? `step ${steps[s]} (${s + 1} of ${steps.length})${model.get("live") ? " · recording" : ""}` : "no snapshot";
  const items = [[-1, "none"]].concat(steps.map((st, k) => [k, `step ${st}`]));
  nbxSetOptions(dom.compare, items, model.get("compare"));
  dom.log.setAttribute("aria-pressed", String(model.get("log_counts")));
  dom.summary.textContent = model.get("summary") || "";
}

function refresh(view) {
  view.tables = decodeTables(view.model);
  refreshControls(view);
  drawList(view);
  drawHistogram(view);
  drawDetail(view);
}

function listenToUser(view) {
  const { model, dom } = view;
  view.choose = (changes) => {
    for (const [k, v] of Object.entries(changes)) model.set(k, v);
    nbxSave(model);
    refreshControls(view);
    if ("parameter" in changes) drawList(view);
    drawHistogram(view);
    drawDetail(view);
  };
  dom.slider.addEventListener("input", () => view.choose({ checkpoint: Number(dom.slider.value) }));
  dom.compare.addEventListener("change", () => view.choose({ compare: Number(dom.compare.value) }));
  dom.log.addEventListener("click", () => view.choose({ log_counts: !model.get("log_counts") }));
  dom.play.addEventListener("click", () => {
    if (view.timer) { stopPlaying(view); return; }
    dom.play.setAttribute("aria-pressed", "true");
    dom.play.textContent = "⏸ pause";
    view.timer = setInterval(() => {
      const n = (model.get("steps") || []).length;
      if (n < 2) { stopPlaying(view); return; }
      view.choose({ checkpoint: (model.get("checkpoint") + 1) % n });
    }, 500);
  });
}

function stopPlaying(view) {
  clearInterval(view.timer);
  view.timer = null;
  view.dom.play.setAttribute("aria-pressed", "false");
  view.dom.play.textContent = "▶ play";
}

function render({ model, el }) {
  const dom = buildDom(model, el);
  const view = { model, dom, tables: [], timer: null };
  listenToUser(view);
  model.on("change:tables change:parameters change:flags change:summary change:steps", () => refresh(view));
  model.on("change:parameter change:checkpoint change:compare change:log_counts change:live", () => {
    refreshControls(view); drawList(view); drawHistogram(view); drawDetail(view);
  });
  refresh(view);
  return () => { stopPlaying(view); dom.root.remove(); };
}

export default { render };
