// SuperpixelExplorer view: the image split into superpixels (canvas) beside the class probabilities (bars).
// The view owns the mask being edited. Every change asks "predict" through nbxRequester; the answer comes
// from the 2**M table when the kernel sent one (small segmentations: no kernel needed), else from the
// kernel. Only the newest answer is drawn; while one is pending the bars are marked busy (never a stale
// prediction presented as current). Explanations, re-segmentation and the target class are kernel requests
// whose results arrive as traits. Class names are user text: set with textContent only.

function render({ model, el }) {
  const root = el.appendChild(nbxEl("div", { class: "nbx-root nbx-superpixels" }));

  // ---- toolbar --------------------------------------------------------------------------------------
  const toolbar = root.appendChild(nbxEl("div", { class: "nbx-toolbar" }));
  const segLabel = toolbar.appendChild(nbxEl("label", {}, "superpixels "));
  const segSelect = segLabel.appendChild(nbxEl("select", { class: "nbx-seg-method", "aria-label": "segmentation method" }));
  const paramLabel = toolbar.appendChild(nbxEl("label", { class: "nbx-seg-param-label" }));
  const paramName = paramLabel.appendChild(nbxEl("span"));
  const paramInput = paramLabel.appendChild(nbxEl("input", { type: "range", class: "nbx-seg-param" }));
  const paramValue = paramLabel.appendChild(nbxEl("output", { class: "nbx-seg-param-value" }));
  const fillLabel = toolbar.appendChild(nbxEl("label", {}, "hidden shows "));
  const fillSelect = fillLabel.appendChild(nbxEl("select", { class: "nbx-fill", "aria-label": "fill of hidden superpixels" }));
  const targetLabel = toolbar.appendChild(nbxEl("label", {}, "class "));
  const targetSelect = targetLabel.appendChild(nbxEl("select", { class: "nbx-target", "aria-label": "explained class" }));

  const actions = root.appendChild(nbxEl("div", { class: "nbx-toolbar nbx-actions" }));
  const resetButton = actions.appendChild(nbxEl("button", { type: "button", class: "nbx-reset" }, "Reset"));
  const invertButton = actions.appendChild(nbxEl("button", { type: "button", class: "nbx-invert" }, "Invert"));
  actions.appendChild(nbxEl("span", { class: "nbx-sep", "aria-hidden": "true" }, "|"));
  const explainButtons = {};
  for (const [name, label] of [["lime", "LIME"], ["shapley", "Shapley values"], ["anchor", "Anchor"]]) {
    explainButtons[name] = actions.appendChild(nbxEl("button", { type: "button", class: `nbx-explain nbx-explain-${name}`, "data-method": name }, label));
  }
  const overlayButton = actions.appendChild(nbxEl("button", { type: "button", class: "nbx-show-overlay", "aria-pressed": "true" }, "show explanation"));

  const status = root.appendChild(nbxEl("div", { class: "nbx-status" }));
  const progress = status.appendChild(nbxEl("progress", { max: "1", hidden: "" }));
  const live = status.appendChild(nbxEl("span", { class: "nbx-live", "aria-live": "polite" }));
  nbxErrorBanner(model, root);

  // ---- main area: image | bars ----------------------------------------------------------------------
  const main = root.appendChild(nbxEl("div", { class: "nbx-sp-main" }));
  const figure = main.appendChild(nbxEl("div", { class: "nbx-sp-figure" }));
  const canvas = figure.appendChild(nbxEl("canvas", { class: "nbx-sp-canvas", role: "img", "aria-label": "image with superpixels; click one to hide or show it" }));
  const dots = figure.appendChild(nbxEl("div", { class: "nbx-sp-dots", role: "group", "aria-label": "superpixels (arrow keys move, space toggles)" }));
  const side = main.appendChild(nbxEl("div", { class: "nbx-sp-side" }));
  side.appendChild(nbxEl("div", { class: "nbx-sp-heading" }, "prediction"));
  const barsBox = side.appendChild(nbxEl("div", { class: "nbx-sp-bars", "aria-busy": "false" }));
  const topLine = side.appendChild(nbxEl("div", { class: "nbx-sp-top" }));
  const infoBox = side.appendChild(nbxEl("div", { class: "nbx-sp-info" }));
  const infoTitle = infoBox.appendChild(nbxEl("div", { class: "nbx-sp-info-title" }));
  const infoQuality = infoBox.appendChild(nbxEl("ul", { class: "nbx-sp-quality" }));
  const scale = infoBox.appendChild(nbxEl("div", { class: "nbx-sp-scale" }));
  const scaleBar = scale.appendChild(nbxEl("canvas", { class: "nbx-colorbar", width: "128", height: "8" }));
  const scaleText = scale.appendChild(nbxEl("span"));
  const curvesBox = side.appendChild(nbxEl("div", { class: "nbx-sp-curves", hidden: "" }));
  const curveCanvas = curvesBox.appendChild(nbxEl("canvas", { class: "nbx-sp-curve", width: "240", height: "110", role: "img", "aria-label": "deletion and insertion curves" }));
  const curveText = curvesBox.appendChild(nbxEl("div", { class: "nbx-sp-auc" }));
  const keepRow = curvesBox.appendChild(nbxEl("div", { class: "nbx-sp-keep" }));
  const modeSelect = keepRow.appendChild(nbxEl("select", { class: "nbx-keep-mode", "aria-label": "keep or remove the top superpixels" }));
  modeSelect.appendChild(nbxEl("option", { value: "keep" }, "keep top"));
  modeSelect.appendChild(nbxEl("option", { value: "remove" }, "remove top"));
  const keepSlider = keepRow.appendChild(nbxEl("input", { type: "range", min: "0", max: "1", step: "1", value: "0", class: "nbx-keep", "aria-label": "number of top superpixels" }));
  const keepValue = keepRow.appendChild(nbxEl("output", { class: "nbx-keep-value" }, "0"));

  // ---- state ------------------------------------------------------------------------------------------
  let S = { image: null, fill: null, labels: null, boundary: null, w: 0, h: 0, m: 0, centroids: [] };
  let mask = new Uint8Array(0);       // what is drawn and asked for
  let focused = -1;
  let showOverlay = true;
  let predictions = 0;                 // predict answers drawn (tests and latency measurements read it)

  const maskString = (m) => Array.from(m, (v) => (v ? "1" : "0")).join("");
  const kernelActive = () => { const a = nbxDecodeArray(model.get("active")); return a ? Uint8Array.from(a.data, (v) => (v ? 1 : 0)) : new Uint8Array(0); };

  // The table answers "predict" locally when present: row = bitmask of the shown superpixels.
  function tableAnswer(action, params) {
    if (action !== "predict") return undefined;
    const table = nbxDecodeArray(model.get("table"));
    if (!table || S.m > 30 || table.shape[0] !== 2 ** S.m) return undefined;
    let row = 0;
    for (let i = 0; i < S.m; i++) if (params.active[i]) row += 2 ** i;
    const t = table.shape[1];
    const tops = nbxDecodeArray(model.get("table_top")).data;
    const topsP = nbxDecodeArray(model.get("table_top_p")).data;
    const names = model.get("table_names") || {};
    const index = tops[row];
    return { bars: table.data.slice(row * t, (row + 1) * t), top: { index, name: names[String(index)] ?? `class ${index}`, probability: topsP[row] } };
  }

  const requester = nbxRequester(model, {
    answer: tableAnswer,
    onProgress: (fraction) => { progress.hidden = false; progress.value = fraction; },
    onBusy: (isBusy) => { if (!isBusy) progress.hidden = true; },
  });
  let syncId = -1;
  let pendingSyncs = 0;
  model.on("msg:custom", (msg) => { if (msg && msg.type === "response" && msg.id < 0) pendingSyncs = Math.max(0, pendingSyncs - 1); });
  function syncKernel(m) {  // after a table answer: tell the kernel (if there is one) which mask is shown
    const [body, paths, buffers] = nbxLiftBuffers({ params: { active: m.slice() } });  // paths from the message root
    pendingSyncs++;
    model.send({ type: "request", id: syncId--, action: "sync", params: body.params, buffer_paths: paths }, undefined, buffers);
  }

  // ---- loading traits ---------------------------------------------------------------------------------
  function loadSegmentation() {
    const image = nbxDecodeArray(model.get("image"));
    const labels = nbxDecodeArray(model.get("labels"));
    const fill = nbxDecodeArray(model.get("fill_image"));
    if (!image || !labels) { S = { ...S, image: null, labels: null, m: 0 }; return; }
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
      // the superpixel's pixel nearest its centroid (a centroid can fall outside a curved superpixel)
      centroids.push([sums[i * 3] / n, sums[i * 3 + 1] / n]);
    }
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const l = lab[y * w + x], c = centroids[l];
      const d = (y - c[0]) ** 2 + (x - c[1]) ** 2;
      if (c[2] === undefined || d < c[2]) { c[2] = d; c[3] = y; c[4] = x; }
    }
    S = { image: image.data, fill: fill ? fill.data : image.data, labels: lab, boundary, w, h, m,
          centroids: centroids.map((c) => [c[3], c[4]]) };
    const size = model.get("display_size");
    const k = size / Math.max(w, h);
    canvas.width = w; canvas.height = h;
    canvas.style.width = `${Math.round(w * k)}px`; canvas.style.height = `${Math.round(h * k)}px`;
    if (k >= 2) canvas.style.imageRendering = "pixelated";
    figure.style.width = canvas.style.width; figure.style.height = canvas.style.height;
    buildDots(k);
  }

  function buildDots(k) {
    dots.replaceChildren();
    const interactive = model.get("interactive");
    S.centroids.forEach(([y, x], i) => {
      const b = nbxEl("button", { type: "button", class: "nbx-sp-dot", "data-index": String(i), tabindex: i === 0 ? "0" : "-1",
                                   "aria-label": `superpixel ${i}`, "aria-pressed": "true" });
      b.style.left = `${(x + 0.5) * k}px`; b.style.top = `${(y + 0.5) * k}px`;
      b.disabled = !interactive;
      b.addEventListener("click", (event) => { event.stopPropagation(); toggle(i); });
      b.addEventListener("focus", () => { focused = i; setRoving(i); draw(); });
      b.addEventListener("blur", () => { if (focused === i) { focused = -1; draw(); } });
      b.addEventListener("keydown", (event) => moveFocus(event, i));
      dots.appendChild(b);
    });
  }

  function setRoving(i) { dots.querySelectorAll(".nbx-sp-dot").forEach((b, j) => b.setAttribute("tabindex", j === i ? "0" : "-1")); }

  function moveFocus(event, i) {
    const dirs = { ArrowRight: [0, 1], ArrowLeft: [0, -1], ArrowDown: [1, 0], ArrowUp: [-1, 0] };
    let next = -1;
    if (event.key === "Home") next = 0;
    else if (event.key === "End") next = S.m - 1;
    else if (dirs[event.key]) {
      const [dy, dx] = dirs[event.key];
      const [y0, x0] = S.centroids[i];
      let best = Infinity;
      S.centroids.forEach(([y, x], j) => {
        const along = (y - y0) * dy + (x - x0) * dx;
        if (j === i || along <= 0) return;
        const across = Math.abs((y - y0) * dx) + Math.abs((x - x0) * dy);
        const cost = along + 2 * across;
        if (cost < best) { best = cost; next = j; }
      });
    } else {
      if (event.key === " " || event.key === "Enter") event.stopPropagation();  // the button toggles, not the notebook
      return;
    }
    event.preventDefault();
    event.stopPropagation();  // only the keys the superpixels use; other shortcuts still reach JupyterLab
    if (next >= 0) dots.children[next].focus();
  }

  function refreshDots() {
    Array.from(dots.children).forEach((b, i) => {
      b.setAttribute("aria-pressed", String(Boolean(mask[i])));
      b.setAttribute("aria-label", `superpixel ${i} ${mask[i] ? "shown" : "hidden"}`);
    });
  }

  // ---- drawing ------------------------------------------------------------------------------------------
  const RDBU = nbxColormap("RdBu");
  function draw() {
    if (!S.image) { canvas.width = 1; return; }
    const { w, h, labels, boundary, image, fill } = S;
    const ctx = canvas.getContext("2d");
    const out = ctx.createImageData(w, h);
    const d = out.data;
    const kind = model.get("overlay");
    const values = showOverlay && kind && kind !== "anchor" ? nbxDecodeArray(model.get("overlay_values")) : null;
    const limit = (model.get("overlay_info") || {}).limit || 1;
    const anchor = showOverlay && kind === "anchor" ? new Set(model.get("anchor") || []) : null;
    const alpha = 0.55;
    for (let p = 0; p < w * h; p++) {
      const l = labels[p];
      const src = mask[l] ? image : fill;
      let r = src[p * 3], g = src[p * 3 + 1], b = src[p * 3 + 2];
      if (values) {
        const t = Math.max(0, Math.min(255, Math.round(((values.data[l] / limit) + 1) * 127.5)));
        r = r * (1 - alpha) + RDBU[t * 3] * alpha; g = g * (1 - alpha) + RDBU[t * 3 + 1] * alpha; b = b * (1 - alpha) + RDBU[t * 3 + 2] * alpha;
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
    refreshDots();
  }

  function drawBars(bars, top) {
    const classes = model.get("classes") || [];
    const target = model.get("target");
    barsBox.replaceChildren(...classes.map((c, i) => {
      const p = bars ? bars[i] : 0;
      const row = nbxEl("div", { class: `nbx-sp-bar${c.index === target ? " nbx-sp-target" : ""}`, "data-index": String(c.index), "data-probability": String(p) });
      row.appendChild(nbxEl("span", { class: "nbx-sp-name", title: c.name }, c.name));
      const track = row.appendChild(nbxEl("span", { class: "nbx-sp-track", "aria-hidden": "true" }));
      const fillBar = track.appendChild(nbxEl("span", { class: "nbx-sp-fillbar" }));
      fillBar.style.width = `${(100 * p).toFixed(1)}%`;
      const ghost = track.appendChild(nbxEl("span", { class: "nbx-sp-ghost", title: "whole image" }));
      ghost.style.left = `${(100 * c.full).toFixed(1)}%`;
      row.appendChild(nbxEl("span", { class: "nbx-sp-value" }, p.toFixed(3)));
      return row;
    }));
    topLine.textContent = top && top.name !== undefined ? `predicted: ${top.name} (${Number(top.probability).toFixed(3)})` : "";
    const t = classes.findIndex((c) => c.index === target);
    if (t >= 0 && bars) {
      const shown = mask.reduce((a, v) => a + v, 0);
      live.textContent = `${classes[t].name}: ${bars[t].toFixed(3)} with ${shown} of ${S.m} superpixels shown; predicted ${top ? top.name : ""}`;
    }
  }

  function drawInfo() {
    const kind = model.get("overlay");
    const info = model.get("overlay_info") || {};
    infoBox.hidden = !kind;
    overlayButton.hidden = !kind;
    infoTitle.textContent = info.title || "";
    infoQuality.replaceChildren(...(info.quality || []).map((q) => nbxEl("li", {}, q)));
    scale.hidden = !kind || kind === "anchor";
    if (!scale.hidden) {
      const ctx = scaleBar.getContext("2d");
      for (let x = 0; x < 128; x++) { const t = Math.round((x / 127) * 255); ctx.fillStyle = `rgb(${RDBU[t * 3]},${RDBU[t * 3 + 1]},${RDBU[t * 3 + 2]})`; ctx.fillRect(x, 0, 1, 8); }
      scaleText.textContent = ` ${nbxFormat(-info.limit)} … ${nbxFormat(info.limit)}`;
    }
    for (const [name, b] of Object.entries(explainButtons)) b.setAttribute("aria-pressed", String(kind === name));
    overlayButton.setAttribute("aria-pressed", String(showOverlay));
    drawCurves();
  }

  function drawCurves() {
    const del = nbxDecodeArray(model.get("curve_deletion"));
    const ins = nbxDecodeArray(model.get("curve_insertion"));
    curvesBox.hidden = !del || !ins;
    if (curvesBox.hidden) return;
    const info = model.get("curve_info") || {};
    const m = del.data.length - 1;
    keepSlider.max = String(m);
    const ctx = curveCanvas.getContext("2d");
    const W = curveCanvas.width, H = curveCanvas.height, pad = 6;
    const styles = getComputedStyle(root);
    ctx.clearRect(0, 0, W, H);
    ctx.strokeStyle = styles.getPropertyValue("--jp-border-color1") || "#bbb"; ctx.strokeRect(0.5, 0.5, W - 1, H - 1);
    let hi = 0;
    for (const v of [...del.data, ...ins.data]) hi = Math.max(hi, v);
    let lo = Math.min(0, ...del.data, ...ins.data);
    if (hi <= lo) hi = lo + 1;
    const X = (k) => pad + ((W - 2 * pad) * k) / m, Y = (v) => H - pad - ((H - 2 * pad) * (v - lo)) / (hi - lo);
    for (const [curve, colour] of [[del.data, "#b2182b"], [ins.data, "#2166ac"]]) {
      ctx.strokeStyle = colour; ctx.lineWidth = 1.5; ctx.beginPath();
      curve.forEach((v, k) => (k ? ctx.lineTo(X(k), Y(v)) : ctx.moveTo(X(k), Y(v))));
      ctx.stroke();
    }
    const k = Number(keepSlider.value);
    ctx.strokeStyle = "#888"; ctx.setLineDash([3, 3]); ctx.beginPath(); ctx.moveTo(X(k), pad); ctx.lineTo(X(k), H - pad); ctx.stroke(); ctx.setLineDash([]);
    curveText.textContent = `deletion AUC ${nbxFormat(info.auc_deletion)} (lower is better), insertion AUC ${nbxFormat(info.auc_insertion)} (higher is better); ${info.label || ""}`;
    keepValue.textContent = String(k);
  }

  // sliders and menus keep their keys (arrows change them) instead of moving the notebook's selection
  for (const control of [paramInput, keepSlider, segSelect, fillSelect, targetSelect, modeSelect]) nbxKeepKeys(control);

  function paramText(v) { return Number.isInteger(v) ? String(v) : nbxFormat(v); }

  function drawControls() {
    const options = model.get("seg_options") || [];
    segSelect.replaceChildren(...options.map((o) => nbxEl("option", { value: o.name }, o.label)));
    segSelect.value = model.get("seg_method");
    const spec = options.find((o) => o.name === model.get("seg_method"));
    paramLabel.hidden = !spec || !spec.param;
    if (spec && spec.param) {
      paramName.textContent = `${spec.param} `;
      paramInput.min = String(spec.low); paramInput.max = String(spec.high); paramInput.step = String(spec.step);
      paramInput.value = String(model.get("seg_param"));
      paramInput.setAttribute("aria-label", spec.param);
      paramValue.textContent = paramText(model.get("seg_param"));
    }
    fillSelect.replaceChildren(...(model.get("fill_options") || []).map((f) => nbxEl("option", { value: f }, f === "mean" ? "its mean colour" : f)));
    fillSelect.value = model.get("fill");
    const classes = model.get("classes") || [];
    targetSelect.replaceChildren(...classes.map((c) => nbxEl("option", { value: String(c.index) }, `${c.name} (${c.full.toFixed(3)})`)));
    targetSelect.value = String(model.get("target"));
    const interactive = model.get("interactive");
    for (const control of [segSelect, paramInput, fillSelect, targetSelect, resetButton, invertButton, ...Object.values(explainButtons), keepSlider, modeSelect]) control.disabled = !interactive;
  }

  function loadAll() {
    loadSegmentation();
    mask = kernelActive();
    drawControls();
    draw();
    const bars = nbxDecodeArray(model.get("bars"));
    drawBars(bars ? bars.data : null, model.get("top"));
    markSettled();
    drawInfo();
  }

  function markSettled() {
    barsBox.setAttribute("aria-busy", "false");
    barsBox.classList.remove("nbx-pending");
    root.dataset.barsFor = maskString(mask);
    root.dataset.predictions = String(predictions);
  }

  // ---- interaction ---------------------------------------------------------------------------------------
  async function predict() {
    const asked = mask.slice();
    barsBox.setAttribute("aria-busy", "true");
    barsBox.classList.add("nbx-pending");
    const answer = await requester.request("predict", { active: asked });  // the mask travels as a binary buffer
    if (answer.stale) return;  // a newer mask was asked for: its answer will be drawn, never this one
    if (answer.status === "ok") {
      if (answer.source === "table") syncKernel(asked);
      const data = answer.data;
      const bars = data.bars instanceof Float32Array ? data.bars : nbxDecodeArray(data.bars).data;
      predictions++;
      drawBars(bars, data.top);
      markSettled();
      root.dispatchEvent(new CustomEvent("nbx-bars-drawn", { detail: { mask: maskString(asked), source: answer.source } }));
    } else if (answer.status === "error") {
      mask = kernelActive();  // back to the state the kernel's probabilities describe
      draw();
      const bars = nbxDecodeArray(model.get("bars"));
      drawBars(bars ? bars.data : null, model.get("top"));
      markSettled();
      live.textContent = "the model failed: see the error above";
    }
  }

  function toggle(i) {
    if (!model.get("interactive") || i < 0 || i >= S.m) return;
    mask[i] = mask[i] ? 0 : 1;
    draw();
    predict();
  }

  function setMask(next) { mask = next; draw(); predict(); }

  canvas.addEventListener("click", (event) => {
    if (!S.image) return;
    const x = Math.min(S.w - 1, Math.max(0, Math.floor((event.offsetX * S.w) / canvas.clientWidth)));
    const y = Math.min(S.h - 1, Math.max(0, Math.floor((event.offsetY * S.h) / canvas.clientHeight)));
    toggle(S.labels[y * S.w + x]);
  });
  resetButton.addEventListener("click", () => setMask(new Uint8Array(S.m).fill(1)));
  invertButton.addEventListener("click", () => setMask(mask.map((v) => 1 - v)));
  overlayButton.addEventListener("click", () => { showOverlay = !showOverlay; drawInfo(); draw(); });

  async function kernelAction(action, params, busyText, doneText) {
    live.textContent = busyText;
    progress.hidden = false; progress.removeAttribute("value");
    const answer = await requester.request(action, params);
    if (answer.stale) return;
    progress.hidden = true;
    if (answer.status === "ok") { showOverlay = true; loadAll(); live.textContent = typeof doneText === "function" ? doneText() : doneText; }
    else if (answer.status === "error") { drawControls(); live.textContent = "failed: see the error above"; }
  }

  for (const [name, b] of Object.entries(explainButtons)) {
    b.addEventListener("click", () => kernelAction("explain", { method: name }, `computing ${b.textContent}…`, `${b.textContent} done`));
  }
  const segmented = () => `${model.get("n_superpixels")} superpixels`;
  const resegment = () => kernelAction("segment", { method: segSelect.value, param: paramLabel.hidden ? null : Number(paramInput.value), fill: fillSelect.value }, "segmenting…", segmented);
  segSelect.addEventListener("change", () => kernelAction("segment", { method: segSelect.value, param: null, fill: fillSelect.value }, "segmenting…", segmented));
  paramInput.addEventListener("input", () => { paramValue.textContent = paramText(Number(paramInput.value)); });
  paramInput.addEventListener("change", resegment);
  fillSelect.addEventListener("change", resegment);
  targetSelect.addEventListener("change", () => kernelAction("target", { target: Number(targetSelect.value) }, "changing class…", "class changed"));

  function keepTop() {
    const order = nbxDecodeArray(model.get("curve_order"));
    if (!order) return;
    const k = Number(keepSlider.value);
    const keep = modeSelect.value === "keep";
    const next = new Uint8Array(S.m).fill(keep ? 0 : 1);
    for (let j = 0; j < k; j++) next[order.data[j]] = keep ? 1 : 0;
    drawCurves();
    setMask(next);
  }
  keepSlider.addEventListener("input", keepTop);
  modeSelect.addEventListener("change", keepTop);

  // ---- changes made from Python (or another view): redraw when none of our requests is pending --------------
  const idle = () => requester.inFlight() === 0 && pendingSyncs === 0;
  model.on("change:labels change:image change:fill_image change:display_size change:interactive", () => { if (idle()) loadAll(); });
  model.on("change:active change:bars change:top", () => {
    if (!idle()) return;  // our own request's answer will be drawn (or a sync's echo would be stale)
    mask = kernelActive(); draw();
    const bars = nbxDecodeArray(model.get("bars"));
    drawBars(bars ? bars.data : null, model.get("top"));
    markSettled();
  });
  model.on("change:overlay change:overlay_values change:overlay_info change:anchor change:curve_deletion", () => { if (idle()) { drawInfo(); draw(); } });
  model.on("change:classes change:target change:seg_method change:seg_param change:fill", () => { if (idle()) drawControls(); });

  loadAll();
  return () => root.remove();
}

export default { render };
