// FairnessAudit view: the groups of one attribute with their metrics and intervals (table and bars), a
// threshold slider per group and one for all, the disparities, and the accuracy-vs-disparity trade-off.
//
// Who answers what: everything a threshold moves (selection rate, TPR, FPR, FNR, accuracy, precision, the
// disparities, the point on the trade-off chart) is computed here from each group's ROC points (traits
// roc_*: distinct scores, decreasing, with the positives and negatives at or above each), the same
// arithmetic as nbexplain.methods.fairness.thresholds, so a drag needs no kernel. Letting a slider go sends
// one "thresholds" request; the kernel recounts the audit (with intervals) at those thresholds. The
// attribute and the "equal opportunity" / "demographic parity" buttons ask the kernel. User text (group
// names, class names) only goes through textContent.
//
// Where things are: the arithmetic (nbxFaCount, nbxFaRates, nbxFaDisparities, nbxFaCandidates,
// nbxFaTradeoff), then buildDom, decode, refreshControls, drawTable, drawBars, drawDisparities,
// drawTradeoff, the user's actions (listenToUser) and render.

const NBX_FA_LIVE = ["selection_rate", "tpr", "fpr", "accuracy", "precision"];
const NBX_FA_MEASURES = ["disparate_impact", "demographic_parity_difference", "equal_opportunity_difference",
  "equalized_odds_difference"];
const NBX_FA_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf"];

const nbxFaRatio = (a, b) => (b > 0 ? a / b : NaN);

/** Positives and negatives of group `g` scoring at least `t` (binary search in its decreasing scores). */
function nbxFaCount(roc, g, t) {
  const start = roc.offsets[g], end = roc.offsets[g + 1];
  let lo = start, hi = end;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (roc.scores[mid] >= t) lo = mid + 1; else hi = mid; }
  return lo > start ? [roc.positives[lo - 1], roc.negatives[lo - 1]] : [0, 0];
}

/** Selection rate, TPR, FPR, FNR, accuracy and precision of group `g` when selecting at score >= t. */
function nbxFaRates(roc, g, t) {
  const [tp, fp] = nbxFaCount(roc, g, t);
  const P = roc.nPos[g], N = roc.nNeg[g], n = P + N;
  return { selection_rate: nbxFaRatio(tp + fp, n), tpr: nbxFaRatio(tp, P), fpr: nbxFaRatio(fp, N),
           fnr: nbxFaRatio(P - tp, P), accuracy: nbxFaRatio(tp + N - fp, n), precision: nbxFaRatio(tp, tp + fp),
           size: n };
}

/** The disparities between groups' rates (NaN rates skipped), and the accuracy over all their rows. */
function nbxFaDisparities(rates) {
  const finite = (key) => rates.map((r) => r[key]).filter(Number.isFinite);
  const range = (v) => (v.length ? Math.max(...v) - Math.min(...v) : NaN);
  const sel = finite("selection_rate");
  const hi = sel.length ? Math.max(...sel) : NaN, lo = sel.length ? Math.min(...sel) : NaN;
  let correct = 0, total = 0;
  for (const r of rates) { if (Number.isFinite(r.accuracy)) correct += r.accuracy * r.size; total += r.size; }
  const tpr = range(finite("tpr"));
  return { disparate_impact: nbxFaRatio(lo, hi), demographic_parity_difference: hi - lo,
           equal_opportunity_difference: tpr, equalized_odds_difference: Math.max(tpr, range(finite("fpr"))),
           accuracy: total > 0 ? correct / total : NaN };
}

/** Group `g`'s achievable TPRs (or selection rates) and a threshold for each, selecting nobody first. */
function nbxFaCandidates(roc, g, rate) {
  const start = roc.offsets[g], end = roc.offsets[g + 1];
  const total = rate === "tpr" ? roc.nPos[g] : roc.nPos[g] + roc.nNeg[g];
  const values = [0], thresholds = [end > start ? roc.scores[start] + 1e-12 : 1];
  for (let i = start; i < end; i++) {
    const count = rate === "tpr" ? roc.positives[i] : roc.positives[i] + roc.negatives[i];
    values.push(nbxFaRatio(count, total));
    thresholds.push(i + 1 < end ? (roc.scores[i] + roc.scores[i + 1]) / 2 : roc.scores[i] / 2);
  }
  return { values, thresholds };
}

/** Accuracy and disparities along one threshold for all (`global`) and along thresholds equalising TPR
 *  at each level (`equalised`), for the groups `groups` (global indices). */
function nbxFaTradeoff(roc, groups, steps = 101) {
  const global = [], equalised = [];
  const options = groups.map((g) => nbxFaCandidates(roc, g, "tpr"));
  for (let i = 0; i < steps; i++) {
    const level = i / (steps - 1);
    global.push(nbxFaDisparities(groups.map((g) => nbxFaRates(roc, g, level))));
    equalised.push(nbxFaDisparities(groups.map((g, k) => {
      const { values, thresholds } = options[k];
      let best = 0;
      for (let j = 1; j < values.length; j++) if (Math.abs(values[j] - level) < Math.abs(values[best] - level)) best = j;
      return nbxFaRates(roc, g, thresholds[best]);
    })));
  }
  return { global, equalised };
}

// ---- the page ----------------------------------------------------------------------------------------

function buildDom(model, el) {
  const { root, toolbar } = nbxViewRoot(el, "nbx-fairness");
  const attribute = nbxLabelled(toolbar, "groups by ", "select", { class: "nbx-fa-attribute", "aria-label": "sensitive attribute" });
  const metric = nbxLabelled(toolbar, "bars show ", "select", { class: "nbx-fa-metric", "aria-label": "metric of the bars" });
  const thresholdBox = toolbar.appendChild(nbxEl("span", { class: "nbx-fa-global" }));
  const globalLabel = thresholdBox.appendChild(nbxEl("label", {}, "threshold for all "));
  const global = globalLabel.appendChild(nbxEl("input", { type: "range", min: "0", max: "1", step: "0.001", class: "nbx-fa-global-threshold", "aria-label": "threshold for every group" }));
  const globalText = globalLabel.appendChild(nbxEl("span", { class: "nbx-fa-value" }));
  const buttons = thresholdBox.appendChild(nbxEl("span", { role: "group", "aria-label": "fair thresholds" }));
  const eo = buttons.appendChild(nbxEl("button", { type: "button", class: "nbx-fa-fair", "data-criterion": "equal_opportunity", title: "per-group thresholds that equalise the true positive rate (Hardt et al. 2016)" }, "equal opportunity"));
  const dp = buttons.appendChild(nbxEl("button", { type: "button", class: "nbx-fa-fair", "data-criterion": "demographic_parity", title: "per-group thresholds that equalise the selection rate" }, "demographic parity"));
  const status = nbxStatusAndError(model, root, { label: "fairness audit" });
  const summary = root.appendChild(nbxEl("div", { class: "nbx-fa-summary" }));
  const body = root.appendChild(nbxEl("div", { class: "nbx-fa-body" }));
  const tableBox = body.appendChild(nbxEl("div", { class: "nbx-fa-tablebox" }));
  const table = tableBox.appendChild(nbxEl("table", { class: "nbx-fa-table" }));
  const side = body.appendChild(nbxEl("div", { class: "nbx-fa-side" }));
  const barsTitle = side.appendChild(nbxEl("div", { class: "nbx-fa-title" }));
  const bars = side.appendChild(nbxEl("div", { class: "nbx-fa-bars", role: "list" }));
  const barsNote = side.appendChild(nbxEl("div", { class: "nbx-fa-note" }));
  const disparities = side.appendChild(nbxEl("ul", { class: "nbx-fa-disparities", "aria-live": "polite" }));
  const tradeBox = root.appendChild(nbxEl("figure", { class: "nbx-fa-tradeoff" }));
  const tradeCaption = tradeBox.appendChild(nbxEl("figcaption", {}));
  const tradeMeasure = nbxLabelled(tradeCaption, "accuracy against ", "select", { class: "nbx-fa-measure", "aria-label": "disparity of the trade-off chart" });
  const trade = tradeBox.appendChild(nbxEl("canvas", { class: "nbx-fa-chart", role: "img", "aria-label": "accuracy against disparity" }));
  const legend = tradeBox.appendChild(nbxEl("div", { class: "nbx-fa-legend" }));
  for (const [colour, text] of [["#2166ac", "one threshold for all"], ["#b2182b", "thresholds equalising TPR"], ["#000", "the thresholds shown"]]) {
    const item = legend.appendChild(nbxEl("span", {}));
    item.appendChild(nbxEl("span", { class: "nbx-fa-swatch", style: { background: colour } }));
    item.appendChild(document.createTextNode(text));
  }
  const rule = root.appendChild(nbxEl("p", { class: "nbx-fa-rule" }));
  nbxKeepKeys(root);
  return { root, attribute, metric, thresholdBox, global, globalText, eo, dp, status, summary, table, barsTitle, bars,
           barsNote, disparities, tradeBox, tradeMeasure, trade, rule };
}

/** The traits as arrays (decoded once per change). */
function decode(model) {
  const d = (name) => { const a = nbxDecodeArray(model.get(name)); return a ? a.data : null; };
  const values = nbxDecodeArray(model.get("values"));
  return {
    kind: model.get("kind"), attributes: model.get("attributes") || [], metricKeys: model.get("metric_keys") || [],
    metricLabels: model.get("metric_labels") || [], moved: new Set(model.get("threshold_metrics") || []),
    names: model.get("group_names") || [], groupAttribute: d("group_attribute"), sizes: d("sizes"),
    values: values ? values.data : null, nMetrics: values ? values.shape[1] : 0, low: d("low"), high: d("high"),
    tooSmall: d("too_small"), audited: d("audited_thresholds"), info: model.get("info") || {},
    disparities: model.get("disparities") || {},
    roc: model.get("kind") === "classification" ? { offsets: d("roc_offsets"), scores: d("roc_scores"),
      positives: d("roc_positives"), negatives: d("roc_negatives"), nPos: d("n_pos"), nNeg: d("n_neg") } : null,
  };
}

/** Global indices of the shown attribute's groups. */
function shownGroups(view) {
  const a = view.model.get("attribute"), out = [];
  const ga = view.data.groupAttribute || [];
  for (let g = 0; g < ga.length; g++) if (ga[g] === a) out.push(g);
  return out;
}

/** The kernel's value of metric `m` for group `g`, with its interval and too-small flag. */
function kernelValue(view, g, m) {
  const { data } = view;
  const k = data.metricKeys.indexOf(m);
  if (m === "size") return { value: data.sizes[g], low: NaN, high: NaN, small: false };
  const i = g * data.nMetrics + k;
  return { value: data.values[i], low: data.low[i], high: data.high[i], small: Boolean(data.tooSmall[i]) };
}

/** Whether group `g` (position `k` among the shown) is shown at the threshold the kernel audited. */
const atAudited = (view, g, k) => view.data.kind !== "classification"
  || Math.abs(view.local[k] - view.data.audited[g]) < 1e-12;

/** What group `g` (position `k`) shows for metric `m`: live from the ROC points where its threshold moved. */
function shownValue(view, g, k, m) {
  const kv = kernelValue(view, g, m);
  if (!view.data.moved.has(m) || atAudited(view, g, k)) return { ...kv, live: false };
  return { value: view.rates[k][m], low: NaN, high: NaN, small: kv.small, live: true };
}

const fmt = (v) => (Number.isFinite(v) ? v.toFixed(3) : "—");

// ---- drawing ------------------------------------------------------------------------------------------

function refreshControls(view) {
  const { model, data, dom } = view;
  nbxSetOptions(dom.attribute, data.attributes.map((a, i) => [i, a]), model.get("attribute"));
  const metrics = [["size", "size"], ...data.metricKeys.map((m, i) => [m, (data.metricLabels[i] || [m, m])[1]])];
  nbxSetOptions(dom.metric, metrics, model.get("metric"));
  const labels = data.info.disparity_labels || {};
  const current = dom.tradeMeasure.value || "demographic_parity_difference";
  nbxSetOptions(dom.tradeMeasure, NBX_FA_MEASURES.filter((m) => m !== "disparate_impact").map((m) => [m, labels[m] || m]), current);
  const classification = data.kind === "classification";
  dom.thresholdBox.hidden = !classification;
  dom.tradeBox.hidden = !classification;
  const interactive = model.get("interactive");
  for (const control of [dom.attribute, dom.global, dom.eo, dom.dp]) control.disabled = !interactive;
  dom.rule.textContent = classification ? data.info.rule || "" : "";
  dom.summary.textContent = [data.info.summary, ...(data.info.quality || [])].filter(Boolean).join(" · ");
}

/** Recompute the live rates of the shown groups at the local thresholds. */
function computeRates(view) {
  view.groups = shownGroups(view);
  view.rates = view.data.roc ? view.groups.map((g, k) => nbxFaRates(view.data.roc, g, view.local[k])) : [];
}

function drawTable(view) {
  const { data, dom, groups } = view;
  const classification = data.kind === "classification";
  const columns = classification ? ["selection_rate", "tpr", "fpr", "accuracy", "precision"]
    : data.metricKeys.filter((m) => m !== "mean_prediction");
  const label = (m) => (data.metricLabels[data.metricKeys.indexOf(m)] || [m])[0];
  const head = nbxEl("tr");
  for (const text of ["group", "n", ...(classification ? ["threshold"] : []), ...columns.map(label),
    ...(classification ? ["vs highest"] : [])]) head.appendChild(nbxEl("th", { scope: "col" }, text));
  const rows = [head];
  const sel = groups.map((g, k) => shownValue(view, g, k, "selection_rate").value);
  const top = Math.max(...sel.filter(Number.isFinite));
  groups.forEach((g, k) => {
    const tr = nbxEl("tr", { "data-group": String(g) });
    const small = data.sizes[g] < (data.info.min_group_size || 0);
    tr.appendChild(nbxEl("th", { scope: "row", class: "nbx-fa-name" + (small ? " nbx-fa-small" : ""),
      title: small ? "too small for its numbers to mean much" : "" }, data.names[g] + (small ? " ⚠" : "")));
    tr.appendChild(nbxEl("td", { "data-metric": "size" }, data.sizes[g].toLocaleString()));
    if (classification) {
      const cell = tr.appendChild(nbxEl("td", { class: "nbx-fa-threshold" }));
      const slider = cell.appendChild(nbxEl("input", { type: "range", min: "0", max: "1", step: "0.001",
        class: "nbx-fa-slider", "data-index": String(k), "aria-label": `threshold for ${data.names[g]}` }));
      slider.value = String(view.local[k]);
      slider.disabled = !view.model.get("interactive");
      cell.appendChild(nbxEl("span", { class: "nbx-fa-value" }, view.local[k].toFixed(3)));
    }
    for (const m of columns) {
      const v = shownValue(view, g, k, m);
      const td = tr.appendChild(nbxEl("td", { "data-metric": m, "data-value": String(v.value),
        class: (v.small ? "nbx-fa-small" : "") + (v.live ? " nbx-fa-live" : "") }, fmt(v.value) + (v.small ? " ⚠" : "")));
      if (Number.isFinite(v.low) && Number.isFinite(v.high)) td.title = `${fmt(v.low)} – ${fmt(v.high)}`;
    }
    if (classification) {
      const ratio = nbxFaRatio(sel[k], top);
      tr.appendChild(nbxEl("td", { "data-metric": "ratio", "data-value": String(ratio),
        class: ratio < 0.8 ? "nbx-fa-fails" : "" }, fmt(ratio)));
    }
    rows.push(tr);
  });
  dom.table.replaceChildren(...rows);
  view.sliders = [...dom.table.querySelectorAll("input.nbx-fa-slider")];
}

/** Update the table's moving cells in place (during a drag: the sliders keep their pointer capture). */
function updateTable(view) {
  const { dom, groups } = view;
  const sel = groups.map((g, k) => shownValue(view, g, k, "selection_rate").value);
  const top = Math.max(...sel.filter(Number.isFinite));
  groups.forEach((g, k) => {
    const tr = dom.table.querySelector(`tr[data-group="${g}"]`);
    if (!tr) return;
    const value = tr.querySelector(".nbx-fa-threshold .nbx-fa-value");
    if (value) value.textContent = view.local[k].toFixed(3);
    for (const td of tr.querySelectorAll("td[data-metric]")) {
      const m = td.dataset.metric;
      if (m === "size") continue;
      if (m === "ratio") {
        const ratio = nbxFaRatio(sel[k], top);
        td.dataset.value = String(ratio); td.textContent = fmt(ratio);
        td.classList.toggle("nbx-fa-fails", ratio < 0.8);
        continue;
      }
      const v = shownValue(view, g, k, m);
      td.dataset.value = String(v.value);
      td.textContent = fmt(v.value) + (v.small ? " ⚠" : "");
      td.classList.toggle("nbx-fa-live", v.live);
      td.title = Number.isFinite(v.low) && Number.isFinite(v.high) ? `${fmt(v.low)} – ${fmt(v.high)}` : "";
    }
  });
}

function drawBars(view) {
  const { model, data, dom, groups } = view;
  const m = model.get("metric");
  const k = data.metricKeys.indexOf(m);
  const longLabel = m === "size" ? "size" : (data.metricLabels[k] || [m, m])[1];
  const shown = groups.map((g, i) => shownValue(view, g, i, m));
  const rate = m !== "size" && !["mae", "rmse", "mean_error", "mean_truth", "mean_prediction"].includes(m);
  const span = rate ? 1 : Math.max(1e-12, ...shown.map((v) => Math.max(Math.abs(v.value) || 0, Math.abs(v.high) || 0)));
  dom.barsTitle.textContent = `${longLabel} by ${data.attributes[model.get("attribute")] || ""}`;
  const rows = shown.map((v, i) => {
    const g = groups[i];
    const row = nbxEl("div", { class: "nbx-fa-bar-row", role: "listitem", "data-group": String(g) });
    row.appendChild(nbxEl("span", { class: "nbx-fa-bar-name" }, data.names[g]));
    const track = row.appendChild(nbxEl("span", { class: "nbx-fa-track" }));
    const width = Number.isFinite(v.value) ? Math.max(0, Math.min(1, Math.abs(v.value) / span)) : 0;
    track.appendChild(nbxEl("span", { class: "nbx-fa-bar" + (v.small ? " nbx-fa-small" : ""),
      style: { width: `${(width * 100).toFixed(2)}%`, background: NBX_FA_COLOURS[i % NBX_FA_COLOURS.length] } }));
    if (Number.isFinite(v.low) && Number.isFinite(v.high)) {
      const a = Math.max(0, Math.min(1, v.low / span)), b = Math.max(0, Math.min(1, v.high / span));
      track.appendChild(nbxEl("span", { class: "nbx-fa-interval", style: { left: `${(a * 100).toFixed(2)}%`, width: `${((b - a) * 100).toFixed(2)}%` } }));
    }
    if (m === "selection_rate") {
      const top = Math.max(...shown.map((s) => s.value).filter(Number.isFinite));
      if (Number.isFinite(top)) track.appendChild(nbxEl("span", { class: "nbx-fa-fifths", style: { left: `${(0.8 * top / span * 100).toFixed(2)}%` }, title: "four-fifths of the highest rate" }));
    }
    const text = m === "size" ? String(v.value) : fmt(v.value)
      + (Number.isFinite(v.low) ? ` [${fmt(v.low)}, ${fmt(v.high)}]` : "") + (v.small ? " ⚠" : "");
    row.appendChild(nbxEl("span", { class: "nbx-fa-bar-value", "data-value": String(v.value) }, text));
    return row;
  });
  dom.bars.replaceChildren(...rows);
  const live = shown.some((v) => v.live);
  const ci = data.info.ci ? `${Math.round(data.info.ci * 100)} %` : "";
  dom.barsNote.textContent = live ? "moved thresholds: intervals follow when you let go"
    : (data.info.n_bootstrap ? `${ci} bootstrap intervals over ${data.info.n_bootstrap} resamples; ⚠ fewer than ${data.info.min_group_size} rows` : "");
}

function drawDisparities(view) {
  const { data, dom, groups, model } = view;
  const attr = data.attributes[model.get("attribute")];
  const audited = (data.disparities[attr] || []);
  const labels = data.info.disparity_labels || {};
  const moved = groups.some((g, k) => !atAudited(view, g, k));
  const live = data.roc ? nbxFaDisparities(view.rates) : {};
  const items = audited.map((d) => {
    const useLive = moved && data.roc && d.measure in live;
    const value = useLive ? live[d.measure] : d.value;
    const li = nbxEl("li", { "data-measure": d.measure, "data-value": String(value) });
    li.appendChild(nbxEl("strong", {}, `${labels[d.measure] || d.label}: `));
    let text = fmt(value ?? NaN);
    if (!useLive && d.low !== null && d.high !== null && data.info.n_bootstrap) text += ` [${fmt(d.low)}, ${fmt(d.high)}]`;
    if (!useLive && d.worst) text += ` (${d.worst} vs ${d.best})`;
    li.appendChild(nbxEl("span", {}, text));
    if (d.measure === "disparate_impact" && Number.isFinite(value)) {
      const fails = value < 0.8;
      li.appendChild(nbxEl("span", { class: fails ? "nbx-fa-fails" : "nbx-fa-passes" },
        fails ? " below four-fifths: adverse impact" : " passes the four-fifths rule"));
    }
    return li;
  });
  if (data.roc) {
    const li = nbxEl("li", { "data-measure": "accuracy", "data-value": String(live.accuracy) });
    li.appendChild(nbxEl("strong", {}, "accuracy (all groups): "));
    li.appendChild(nbxEl("span", {}, fmt(live.accuracy)));
    items.push(li);
  }
  dom.disparities.replaceChildren(...items);
}

function drawTradeoff(view) {
  const { data, dom } = view;
  if (!data.roc) return;
  const canvas = dom.trade;
  const w = 460, h = 260, ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(w * ratio); canvas.height = Math.round(h * ratio);
  canvas.style.width = `${w}px`; canvas.style.height = `${h}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const measure = dom.tradeMeasure.value || "demographic_parity_difference";
  const key = view.groups.join(",");
  if (!view.curves || view.curvesKey !== key) { view.curves = nbxFaTradeoff(data.roc, view.groups); view.curvesKey = key; }
  const point = nbxFaDisparities(view.rates);
  const all = [...view.curves.global, ...view.curves.equalised, point];
  const xs = all.map((p) => p[measure]).filter(Number.isFinite), ys = all.map((p) => p.accuracy).filter(Number.isFinite);
  const xhi = Math.max(1e-6, ...xs), ylo = Math.min(...ys), yhi = Math.max(...ys);
  const left = 48, right = 28, top = 10, bottom = 34, pw = w - left - right, ph = h - top - bottom;
  const X = (v) => left + (v / xhi) * pw, Y = (v) => top + ph - ((v - ylo) / (yhi - ylo || 1)) * ph;
  const fg = nbxThemeColor(dom.root, "--jp-ui-font-color1", "#1f1f1f");
  ctx.strokeStyle = fg; ctx.fillStyle = fg; ctx.lineWidth = 1; ctx.font = "11px sans-serif";
  ctx.beginPath(); ctx.moveTo(left, top); ctx.lineTo(left, top + ph); ctx.lineTo(left + pw, top + ph); ctx.stroke();
  ctx.textAlign = "center";
  for (const v of [0, xhi / 2, xhi]) ctx.fillText(nbxFormat(v), X(v), top + ph + 14);
  ctx.textAlign = "left";
  for (const v of [ylo, (ylo + yhi) / 2, yhi]) { ctx.fillText(nbxFormat(v), 4, Y(v) + 4); }
  ctx.textAlign = "center";
  ctx.fillText((data.info.disparity_labels || {})[measure] || measure, left + pw / 2, h - 4);
  ctx.textAlign = "left";
  const line = (points, colour) => {
    const ok = points.filter((p) => Number.isFinite(p[measure]) && Number.isFinite(p.accuracy));
    ctx.strokeStyle = colour; ctx.lineWidth = 1.6;
    nbxStrokeLine(ctx, ok.length, (i) => X(ok[i][measure]), (i) => Y(ok[i].accuracy));
  };
  line(view.curves.global, "#2166ac");
  line(view.curves.equalised, "#b2182b");
  ctx.fillStyle = "#000";
  if (Number.isFinite(point[measure]) && Number.isFinite(point.accuracy)) {
    ctx.beginPath(); ctx.arc(X(point[measure]), Y(point.accuracy), 5, 0, 2 * Math.PI); ctx.fill();
  }
  canvas.dataset.point = JSON.stringify({ measure, x: point[measure], accuracy: point.accuracy });
}

/** Everything from the traits (after a kernel change). */
function drawAll(view) {
  view.data = decode(view.model);
  if (!view.dragging) view.local = Float64Array.from(nbxDecodeArray(view.model.get("thresholds"))?.data || []);
  computeRates(view);
  refreshControls(view);
  const same = view.local.length && view.local.every((t) => t === view.local[0]);
  view.dom.global.value = String(same ? view.local[0] : view.data.info.threshold ?? 0.5);
  view.dom.globalText.textContent = same ? view.local[0].toFixed(3) : "per group";
  drawTable(view);
  drawBars(view);
  drawDisparities(view);
  drawTradeoff(view);
}

/** What a drag changes, computed here (no kernel). */
function drawLive(view) {
  computeRates(view);
  updateTable(view);
  drawBars(view);
  drawDisparities(view);
  drawTradeoff(view);
  const g = view.groups;
  view.dom.status.say(g.map((gi, k) => `${view.data.names[gi]}: selection ${fmt(view.rates[k].selection_rate)}`).join(", "));
}

// ---- what the user does -------------------------------------------------------------------------------

async function ask(view, action, params) {
  view.dom.status.busy();
  const answer = await view.requester.request(action, params);
  if (answer.stale) return;
  view.dom.status.done(answer.status === "error" ? "failed: see the error above"
    : answer.status === "no-kernel" ? `that ${NBX_NEEDS_KERNEL}` : "");
  drawAll(view);  // on error too: the sliders go back to the kernel's thresholds
}

function listenToUser(view) {
  const { model, dom } = view;
  const release = () => {
    view.dragging = false;
    ask(view, "thresholds", { thresholds: nbxEncodeArray(Float64Array.from(view.local), [view.local.length]) });
  };
  dom.table.addEventListener("input", (event) => {
    const slider = event.target.closest("input.nbx-fa-slider");
    if (!slider) return;
    view.dragging = true;
    view.local[Number(slider.dataset.index)] = Number(slider.value);
    drawLive(view);
  });
  dom.table.addEventListener("change", (event) => { if (event.target.closest("input.nbx-fa-slider")) release(); });
  dom.global.addEventListener("input", () => {
    view.dragging = true;
    view.local.fill(Number(dom.global.value));
    for (const s of view.sliders || []) s.value = dom.global.value;
    dom.globalText.textContent = Number(dom.global.value).toFixed(3);
    drawLive(view);
  });
  dom.global.addEventListener("change", release);
  for (const b of [dom.eo, dom.dp]) b.addEventListener("click", () => ask(view, "fair", { criterion: b.dataset.criterion }));
  dom.attribute.addEventListener("change", () => ask(view, "attribute", { attribute: Number(dom.attribute.value) }));
  dom.metric.addEventListener("change", () => { model.set("metric", dom.metric.value); nbxSave(model); drawBars(view); });
  dom.tradeMeasure.addEventListener("change", () => drawTradeoff(view));
}

const NBX_FA_REDRAW = ["values", "low", "high", "too_small", "audited_thresholds", "thresholds", "disparities", "info",
  "attribute", "attributes", "group_names", "roc_scores", "metric", "interactive"];

function render({ model, el }) {
  const dom = buildDom(model, el);
  const view = { model, dom, data: null, local: new Float64Array(0), rates: [], groups: [], dragging: false,
                 requester: null, pending: null };
  view.requester = nbxStatusRequester(model, dom.status);
  listenToUser(view);
  model.on(NBX_FA_REDRAW.map((n) => `change:${n}`).join(" "), () => {
    if (view.pending !== null || view.dragging) return;
    view.pending = requestAnimationFrame(() => { view.pending = null; drawAll(view); });
  });
  drawAll(view);
  return () => { if (view.pending !== null) cancelAnimationFrame(view.pending); dom.root.remove(); };
}

export default { render };
