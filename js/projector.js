// Projector view: every layer's map of a dataset on one canvas, the inputs beside the points.
// Traits: coords (L,N,2 float32: every layer's map, aligned), layer_names, layer, method, methods, quality,
// rows (N int32: the row of X of each point), labels / label_names, predictions / class_names, correct,
// columns (N,C float32) / column_names, thumbnails (N,h,w,3 uint8), color_by, column, tool, hovered,
// selected (rows of X), explain_methods, note, interactive, plot_width, plot_height, point_size.
//
// Switching layers is answered here (all maps are in `coords`): the points move to the new map, no request.
// Another method and explaining a selection are requests ("project", "explain") answered by the kernel; with
// answer tables (`answer_tables`, built with precompute=True or in an export) "project" is answered from them
// (`view.local` holds that method's maps until the kernel, told with a notification, shows the same). In an
// exported page without a kernel, what the tables cannot answer is marked "needs a running kernel".
//
// Where things are: buildDom (the page), loadData (traits -> typed arrays), pointColours and refreshLegend
// (colours), fitFrame / toScreen / toData (the frame), drawPoints (one pass into an ImageData), buildGrid and
// nearestPoint (hover lookup), showHover (the card), selection helpers (inBox, inPolygon, setSelection),
// animateTo (layer switch), refreshSelection (the grid of a selection) and showExplanations, listenToUser,
// followKernel, render.

const NBX_PJ_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7",
  "#dbdb8d", "#9edae5"];
const NBX_PJ_RIGHT = "#2ca02c";
const NBX_PJ_WRONG = "#d62728";
const NBX_PJ_ANIMATION_MS = 450;
const NBX_PJ_GRID_CELL = 12;     // CSS px per cell of the hover lookup grid
const NBX_PJ_HOVER_RADIUS = 8;   // CSS px: the farthest a point may be from the pointer to be hovered
const NBX_PJ_GRID_SHOWN = 60;    // thumbnails in the selection grid
const NBX_PJ_TABLE_SHOWN = 30;   // rows in the selection table

/** "#rrggbb" as [r, g, b]. */
function nbxPjRgb(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

/** An RGB colour as one little-endian RGBA pixel (for Uint32Array views of ImageData). */
function nbxPjPixel([r, g, b]) {
  return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

/** Any CSS colour as [r, g, b] (resolved by a 1x1 canvas), e.g. the theme's background. */
function nbxPjCssRgb(colour) {
  const c = document.createElement("canvas");
  c.width = c.height = 1;
  const ctx = c.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillStyle = colour;
  ctx.fillRect(0, 0, 1, 1);
  const d = ctx.getImageData(0, 0, 1, 1).data;
  return [d[0], d[1], d[2]];
}

/** Whether (x, y) lies inside the polygon `xs`, `ys` (even-odd rule, ray casting). */
function nbxPjInPolygon(x, y, xs, ys) {
  let inside = false;
  for (let i = 0, j = xs.length - 1; i < xs.length; j = i++) {
    if ((ys[i] > y) !== (ys[j] > y) && x < ((xs[j] - xs[i]) * (y - ys[i])) / (ys[j] - ys[i]) + xs[i]) inside = !inside;
  }
  return inside;
}

/** Indices of the points of `xy` (interleaved x, y) inside the box [x0, x1] x [y0, y1] (bounds included). */
function nbxPjInBox(xy, n, x0, x1, y0, y1) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i], y = xy[2 * i + 1];
    if (x >= x0 && x <= x1 && y >= y0 && y <= y1) out.push(i);
  }
  return out;
}

/** Indices of the points of `xy` inside the polygon `xs`, `ys` (a bounding-box test first). */
function nbxPjInLasso(xy, n, xs, ys) {
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  return nbxPjInBox(xy, n, x0, x1, y0, y1).filter((i) => nbxPjInPolygon(xy[2 * i], xy[2 * i + 1], xs, ys));
}

// ---- the page --------------------------------------------------------------------------------------
function buildDom(model, el) {
  const { root, toolbar } = nbxViewRoot(el, "nbx-projector", { "data-requests": "0", "data-draws": "0" });
  const layers = toolbar.appendChild(nbxEl("span", { class: "nbx-layers", role: "group", "aria-label": "layer" }));
  const methodLabel = toolbar.appendChild(nbxEl("label", {}, "map "));
  const methodSelect = methodLabel.appendChild(nbxEl("select", { class: "nbx-method", "aria-label": "projection method" }));
  const colourLabel = toolbar.appendChild(nbxEl("label", {}, "colour "));
  const colourSelect = colourLabel.appendChild(nbxEl("select", { class: "nbx-color-by", "aria-label": "colour by" }));
  const columnSelect = colourLabel.appendChild(nbxEl("select", { class: "nbx-column", "aria-label": "column" }));
  const tools = toolbar.appendChild(nbxEl("span", { class: "nbx-tools", role: "group", "aria-label": "tool" }));
  const toolButtons = {};
  for (const [name, label, title] of [["pan", "pan", "drag to pan, wheel to zoom"], ["box", "box", "drag a box to select"],
                                      ["lasso", "lasso", "draw around points to select"]]) {
    toolButtons[name] = tools.appendChild(nbxEl("button", { type: "button", class: `nbx-tool nbx-tool-${name}`, "data-tool": name, title }, label));
  }
  const fit = toolbar.appendChild(nbxEl("button", { type: "button", class: "nbx-fit", title: "show every point (double-click)" }, "fit"));
  const clear = toolbar.appendChild(nbxEl("button", { type: "button", class: "nbx-clear" }, "clear selection"));

  const status = nbxStatusAndError(model, root, { label: "projection progress" });
  const body = root.appendChild(nbxEl("div", { class: "nbx-projector-body" }));
  const stage = body.appendChild(nbxEl("div", { class: "nbx-stage" }));
  const canvas = stage.appendChild(nbxEl("canvas", { class: "nbx-scatter", role: "img", "aria-label": "map of the inputs" }));
  const overlay = stage.appendChild(nbxEl("canvas", { class: "nbx-overlay", tabindex: "0", "aria-label": "map: hover a point, drag to pan or select" }));
  const side = body.appendChild(nbxEl("div", { class: "nbx-side" }));
  const hover = side.appendChild(nbxEl("div", { class: "nbx-hover", "data-row": "-1", "aria-live": "off" }));
  const hoverThumb = hover.appendChild(nbxEl("canvas", { class: "nbx-hover-thumb", width: "1", height: "1", hidden: "" }));
  const hoverTitle = hover.appendChild(nbxEl("div", { class: "nbx-hover-title" }, "hover a point"));
  const hoverLabel = hover.appendChild(nbxEl("div", { class: "nbx-hover-label" }));
  const hoverPrediction = hover.appendChild(nbxEl("div", { class: "nbx-hover-prediction" }));
  const hoverValues = hover.appendChild(nbxEl("dl", { class: "nbx-hover-values" }));
  const legend = side.appendChild(nbxEl("div", { class: "nbx-legend" }));
  const quality = root.appendChild(nbxEl("div", { class: "nbx-quality" }));
  const selection = root.appendChild(nbxEl("section", { class: "nbx-selection", "aria-label": "selection" }));
  const selectionHead = selection.appendChild(nbxEl("div", { class: "nbx-selection-head" }));
  const selectionCount = selectionHead.appendChild(nbxEl("span", { class: "nbx-selection-count", "aria-live": "polite" }, "nothing selected"));
  const explainLabel = selectionHead.appendChild(nbxEl("label", {}, "explain with "));
  const explainSelect = explainLabel.appendChild(nbxEl("select", { class: "nbx-explain-method", "aria-label": "explanation method" }));
  const explainButton = selectionHead.appendChild(nbxEl("button", { type: "button", class: "nbx-explain" }, "explain selection"));
  const grid = selection.appendChild(nbxEl("div", { class: "nbx-selection-grid" }));
  const explanations = selection.appendChild(nbxEl("div", { class: "nbx-explanations" }));
  nbxKeepKeys(root);
  return { root, layers, methodLabel, methodSelect, colourSelect, columnSelect, toolButtons, fit, clear, status, canvas,
           overlay, hover, hoverThumb, hoverTitle, hoverLabel, hoverPrediction, hoverValues, legend, quality,
           selection, selectionCount, explainLabel, explainSelect, explainButton, grid, explanations };
}

// ---- data from the traits --------------------------------------------------------------------------
function loadData(view) {
  const { model } = view;
  const coords = view.local ? view.local.coords : nbxDecodeArray(model.get("coords"));
  const rows = nbxDecodeArray(model.get("rows"));
  const [L, N] = coords ? coords.shape : [0, 0];
  const rowIndex = new Map();
  const rowData = rows ? rows.data : new Int32Array(N).map((_, i) => i);
  for (let i = 0; i < N; i++) rowIndex.set(rowData[i], i);
  const thumbs = nbxDecodeArray(model.get("thumbnails"));
  const columns = nbxDecodeArray(model.get("columns"));
  const get = (name) => { const a = nbxDecodeArray(model.get(name)); return a ? a.data : null; };
  view.data = { coords: coords ? coords.data : new Float32Array(0), L, N, rows: rowData, rowIndex,
                labels: get("labels"), predictions: get("predictions"), correct: get("correct"),
                columns: columns ? columns.data : null, C: columns ? columns.shape[1] : 0,
                thumbs: thumbs ? thumbs.data : null, th: thumbs ? thumbs.shape[1] : 0, tw: thumbs ? thumbs.shape[2] : 0 };
  if (!view.shown || view.shown.length !== 2 * N) view.shown = new Float32Array(2 * N);
  view.order = new Int32Array(N).map((_, i) => i);
  let seed = 12345;  // a fixed shuffle: no class hides another by being drawn last
  for (let i = N - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    const t = view.order[i]; view.order[i] = view.order[j]; view.order[j] = t;
  }
  view.selectedMask = new Uint8Array(N);
  readSelection(view);
}

/** The method shown: a table answer's until the kernel shows it too, else the kernel's. */
function shownMethod(view) {
  return view.local ? view.local.method : view.model.get("method");
}

/** The kernel-free answer to "project": that method's maps from the tables (undefined: ask the kernel). */
function tableAnswer(view, action, params) {
  const t = view.model.get("answer_tables");
  if (action !== "project" || !t || !t.methods || !t.methods[params.method]) return undefined;
  const entry = t.methods[params.method];
  return { method: params.method, coords: nbxDecodeArray(entry.coords), quality: entry.quality };
}

function layerCoords(view, layer) {
  const { coords, N } = view.data;
  return coords.subarray(layer * N * 2, (layer + 1) * N * 2);
}

function pointSide(view) {
  const size = view.model.get("point_size");
  const n = view.data.N;
  const css = size > 0 ? size : n <= 1000 ? 5 : n <= 5000 ? 4 : n <= 20000 ? 3 : 2;
  return Math.max(1, Math.round(css * view.dpr));
}

// ---- colours and legend ----------------------------------------------------------------------------
function colourMode(view) {
  const mode = view.model.get("color_by");
  const d = view.data;
  if (mode === "label" && d.labels) return "label";
  if (mode === "prediction" && d.predictions) return "prediction";
  if (mode === "correct" && d.correct) return "correct";
  if (mode === "column" && d.columns) return "column";
  return "none";
}

function columnRange(view, j) {
  const { columns, C, N } = view.data;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < N; i++) { const v = columns[i * C + j]; if (v < lo) lo = v; if (v > hi) hi = v; }
  return [lo, hi];
}

/** One packed pixel per point for the chosen colouring, and its faded twin (for points outside a selection). */
function pointColours(view) {
  const d = view.data;
  const mode = colourMode(view);
  const colours = new Uint32Array(d.N);
  const faded = new Uint32Array(d.N);
  const palette = NBX_PJ_PALETTE.map(nbxPjRgb);
  const bg = view.bgRgb;
  const fade = (rgb) => rgb.map((v, c) => Math.round(v * 0.22 + bg[c] * 0.78));
  const packed = palette.map(nbxPjPixel), packedFaded = palette.map((p) => nbxPjPixel(fade(p)));
  if (mode === "column") {
    const j = view.model.get("column");
    const [lo, hi] = columnRange(view, j);
    const lut = nbxColormap("viridis");
    const full = new Uint32Array(256), pale = new Uint32Array(256);
    for (let t = 0; t < 256; t++) {
      const rgb = [lut[t * 3], lut[t * 3 + 1], lut[t * 3 + 2]];
      full[t] = nbxPjPixel(rgb); pale[t] = nbxPjPixel(fade(rgb));
    }
    const span = hi > lo ? hi - lo : 1;
    for (let i = 0; i < d.N; i++) {
      const t = Math.max(0, Math.min(255, Math.round(((d.columns[i * d.C + j] - lo) / span) * 255)));
      colours[i] = full[t]; faded[i] = pale[t];
    }
  } else if (mode === "correct") {
    const right = nbxPjRgb(NBX_PJ_RIGHT), wrong = nbxPjRgb(NBX_PJ_WRONG);
    const p = [nbxPjPixel(wrong), nbxPjPixel(right)], f = [nbxPjPixel(fade(wrong)), nbxPjPixel(fade(right))];
    for (let i = 0; i < d.N; i++) { colours[i] = p[d.correct[i] ? 1 : 0]; faded[i] = f[d.correct[i] ? 1 : 0]; }
  } else {
    const codes = mode === "label" ? d.labels : mode === "prediction" ? d.predictions : null;
    for (let i = 0; i < d.N; i++) {
      const k = codes ? codes[i] % palette.length : 0;
      colours[i] = packed[k]; faded[i] = packedFaded[k];
    }
  }
  view.colours = colours;
  view.faded = faded;
}

function refreshLegend(view) {
  const { model, dom, data } = view;
  const mode = colourMode(view);
  const items = [];
  const counts = (codes, k) => { const c = new Array(k).fill(0); for (let i = 0; i < data.N; i++) c[codes[i]]++; return c; };
  dom.legend.replaceChildren();
  if (mode === "label" || mode === "prediction") {
    const names = model.get(mode === "label" ? "label_names" : "class_names") || [];
    const codes = mode === "label" ? data.labels : data.predictions;
    const n = counts(codes, names.length);
    names.forEach((name, k) => { if (n[k]) items.push([NBX_PJ_PALETTE[k % NBX_PJ_PALETTE.length], `${name} (${n[k]})`]); });
  } else if (mode === "correct") {
    let right = 0;
    for (let i = 0; i < data.N; i++) right += data.correct[i] ? 1 : 0;
    items.push([NBX_PJ_RIGHT, `right (${right})`], [NBX_PJ_WRONG, `wrong (${data.N - right})`]);
  } else if (mode === "column") {
    const j = model.get("column");
    const [lo, hi] = columnRange(view, j);
    dom.legend.appendChild(nbxEl("div", { class: "nbx-legend-title" }, (model.get("column_names") || [])[j] || ""));
    const bar = dom.legend.appendChild(nbxEl("canvas", { class: "nbx-colorbar", width: "160", height: "10" }));
    nbxPaintColorbar(bar, nbxColormap("viridis"));
    dom.legend.appendChild(nbxEl("div", { class: "nbx-legend-range" }, `${nbxFormat(lo)} … ${nbxFormat(hi)}`));
    return;
  }
  const list = dom.legend.appendChild(nbxEl("ul", { class: "nbx-legend-list" }));
  for (const [colour, text] of items) {
    const li = list.appendChild(nbxEl("li"));
    li.appendChild(nbxEl("span", { class: "nbx-swatch", style: { background: colour } }));
    li.appendChild(nbxEl("span", {}, text));
  }
}

// ---- the frame: data coordinates <-> CSS pixels of the canvas ---------------------------------------
function fitFrame(view, xy) {
  const n = xy.length / 2;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i], y = xy[2 * i + 1];
    if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
  }
  if (!(n > 0)) return { scale: 1, cx: 0, cy: 0, auto: true };
  const pad = 0.92;
  const scale = Math.min(view.width / Math.max(x1 - x0, 1e-9), view.height / Math.max(y1 - y0, 1e-9)) * pad;
  return { scale, cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, auto: true };
}

function toData(view, sx, sy) {
  const f = view.frame;
  return [f.cx + (sx - view.width / 2) / f.scale, f.cy - (sy - view.height / 2) / f.scale];
}

// ---- drawing: one pass of squares into an ImageData ---------------------------------------------------
function sizeCanvases(view) {
  const { model, dom } = view;
  view.dpr = window.devicePixelRatio || 1;
  view.width = model.get("plot_width");
  view.height = model.get("plot_height");
  for (const c of [dom.canvas, dom.overlay]) {
    c.width = Math.round(view.width * view.dpr);
    c.height = Math.round(view.height * view.dpr);
    c.style.width = `${view.width}px`;
    c.style.height = `${view.height}px`;
  }
  dom.canvas.parentNode.style.width = `${view.width}px`;
  dom.canvas.parentNode.style.height = `${view.height}px`;
  view.bgRgb = nbxPjCssRgb(nbxThemeColor(dom.root, "--jp-layout-color0", "#ffffff"));
  view.ink = nbxThemeColor(dom.root, "--jp-ui-font-color1", "#1f1f1f");  // read once: a hover never forces a style pass
  view.image = null;
}

function drawPoints(view) {
  const t0 = performance.now();
  const { dom, data } = view;
  const ctx = dom.canvas.getContext("2d");
  const w = dom.canvas.width, h = dom.canvas.height;
  if (!view.image || view.image.width !== w || view.image.height !== h) {
    view.image = ctx.createImageData(w, h);
    view.pixels = new Uint32Array(view.image.data.buffer);
  }
  const pix = view.pixels;
  pix.fill(nbxPjPixel(view.bgRgb));
  const n = data.N;
  const s = view.frame.scale * view.dpr;
  // + 0.5 and Math.floor: Math.round, cheaper in the loop below
  const ox = w / 2 - view.frame.cx * s + 0.5, oy = h / 2 + view.frame.cy * s + 0.5;
  const side = pointSide(view), half = side >> 1;
  const shown = view.shown, order = view.order, mask = view.selectedMask;
  const any = view.selectedCount > 0;
  for (let pass = any ? 0 : 1; pass < 2; pass++) {  // with a selection: the others faded first
    const colours = pass === 0 ? view.faded : view.colours;
    for (let k = 0; k < n; k++) {
      const i = order[k];
      if (any && (mask[i] === 1) !== (pass === 1)) continue;
      const x = Math.floor(ox + shown[2 * i] * s) - half;
      const y = Math.floor(oy - shown[2 * i + 1] * s) - half;
      if (x >= w || y >= h || x + side <= 0 || y + side <= 0) continue;
      const xa = x < 0 ? 0 : x, xb = x + side > w ? w : x + side, ya = y < 0 ? 0 : y, yb = y + side > h ? h : y + side;
      const c = colours[i];
      for (let yy = ya; yy < yb; yy++) {  // plain writes: 5x faster than a fill() call per row of a tiny square
        const end = yy * w + xb;
        for (let p = yy * w + xa; p < end; p++) pix[p] = c;
      }
    }
  }
  ctx.putImageData(view.image, 0, 0);
  view.gridValid = false;
  const f = view.frame;
  dom.canvas.dataset.transform = JSON.stringify({ scale: f.scale, cx: f.cx, cy: f.cy, width: view.width, height: view.height });
  dom.root.dataset.draws = String(Number(dom.root.dataset.draws) + 1);
  dom.root.dataset.lastDrawMs = (performance.now() - t0).toFixed(2);
}

// ---- hover: a grid of the points on screen, the nearest point, its card --------------------------------
function buildGrid(view) {
  const { data } = view;
  const cell = NBX_PJ_GRID_CELL;
  const cols = Math.ceil(view.width / cell), rows = Math.ceil(view.height / cell);
  const start = new Int32Array(cols * rows + 1);
  const cellOf = new Int32Array(data.N).fill(-1);
  const f = view.frame;
  for (let i = 0; i < data.N; i++) {
    const sx = view.width / 2 + (view.shown[2 * i] - f.cx) * f.scale;
    const sy = view.height / 2 - (view.shown[2 * i + 1] - f.cy) * f.scale;
    if (sx < 0 || sy < 0 || sx >= view.width || sy >= view.height) continue;
    const c = Math.floor(sy / cell) * cols + Math.floor(sx / cell);
    cellOf[i] = c;
    start[c + 1]++;
  }
  for (let c = 0; c < cols * rows; c++) start[c + 1] += start[c];
  const fill = start.slice(0, cols * rows);
  const items = new Int32Array(start[cols * rows]);
  for (let i = 0; i < data.N; i++) if (cellOf[i] >= 0) items[fill[cellOf[i]]++] = i;
  view.grid = { cols, rows, start, items };
  view.gridValid = true;
}

/** The point nearest to (sx, sy) in CSS px within the hover radius, or -1. */
function nearestPoint(view, sx, sy) {
  if (!view.gridValid) buildGrid(view);
  const { cols, rows, start, items } = view.grid;
  const cell = NBX_PJ_GRID_CELL, f = view.frame;
  const cx = Math.floor(sx / cell), cy = Math.floor(sy / cell);
  let best = -1, bestD = NBX_PJ_HOVER_RADIUS * NBX_PJ_HOVER_RADIUS;
  for (let gy = Math.max(0, cy - 1); gy <= Math.min(rows - 1, cy + 1); gy++) {
    for (let gx = Math.max(0, cx - 1); gx <= Math.min(cols - 1, cx + 1); gx++) {
      const c = gy * cols + gx;
      for (let k = start[c]; k < start[c + 1]; k++) {
        const i = items[k];
        const dx = view.width / 2 + (view.shown[2 * i] - f.cx) * f.scale - sx;
        const dy = view.height / 2 - (view.shown[2 * i + 1] - f.cy) * f.scale - sy;
        const d = dx * dx + dy * dy;
        if (d <= bestD) { bestD = d; best = i; }
      }
    }
  }
  return best;
}

function drawOverlay(view) {
  const { dom } = view;
  const ctx = dom.overlay.getContext("2d");
  ctx.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
  ctx.clearRect(0, 0, view.width, view.height);
  const ink = view.ink;
  if (view.hover >= 0) {
    const f = view.frame, i = view.hover;
    const sx = view.width / 2 + (view.shown[2 * i] - f.cx) * f.scale;
    const sy = view.height / 2 - (view.shown[2 * i + 1] - f.cy) * f.scale;
    ctx.strokeStyle = ink; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(sx, sy, 6, 0, 2 * Math.PI); ctx.stroke();
  }
  const drag = view.drag;
  if (drag && drag.tool === "box") {
    ctx.strokeStyle = ink; ctx.setLineDash([4, 3]); ctx.lineWidth = 1;
    ctx.strokeRect(Math.min(drag.x0, drag.x1), Math.min(drag.y0, drag.y1), Math.abs(drag.x1 - drag.x0), Math.abs(drag.y1 - drag.y0));
    ctx.setLineDash([]);
  } else if (drag && drag.tool === "lasso" && drag.xs.length > 1) {
    ctx.strokeStyle = ink; ctx.setLineDash([4, 3]); ctx.lineWidth = 1;
    nbxStrokeLine(ctx, drag.xs.length, (k) => drag.xs[k], (k) => drag.ys[k]);
    ctx.setLineDash([]);
  }
}

function className(names, k) {
  return names && k >= 0 && k < names.length ? names[k] : `class ${k}`;
}

/** The card of point `i`: its thumbnail (images) or feature values (tables), label and prediction. */
function showHover(view, i) {
  const { model, dom, data } = view;
  view.hover = i;
  drawOverlay(view);
  if (i < 0) {
    dom.hover.dataset.row = "-1";
    return;
  }
  const row = data.rows[i];
  dom.hover.dataset.row = String(row);
  dom.hoverTitle.textContent = `row ${row}`;
  if (data.thumbs) {
    const { th, tw } = data;
    dom.hoverThumb.width = tw; dom.hoverThumb.height = th;
    dom.hoverThumb.getContext("2d").putImageData(nbxRgbImage(data.thumbs.subarray(i * th * tw * 3, (i + 1) * th * tw * 3), tw, th), 0, 0);
    dom.hoverThumb.hidden = false;
  } else {
    dom.hoverThumb.hidden = true;
  }
  dom.hoverLabel.textContent = data.labels ? `label: ${className(model.get("label_names"), data.labels[i])}` : "";
  const names = model.get("class_names");
  const wrong = data.correct && !data.correct[i];
  dom.hoverPrediction.textContent = data.predictions ? `prediction: ${className(names, data.predictions[i])}${data.correct ? (wrong ? " ✗" : " ✓") : ""}` : "";
  dom.hoverPrediction.classList.toggle("nbx-wrong", Boolean(wrong));
  dom.hoverValues.replaceChildren();
  if (data.columns) {
    const columnNames = model.get("column_names") || [];
    for (let j = 0; j < Math.min(data.C, 14); j++) {
      dom.hoverValues.appendChild(nbxEl("dt", {}, columnNames[j] || `column ${j}`));
      dom.hoverValues.appendChild(nbxEl("dd", {}, nbxFormat(data.columns[i * data.C + j])));
    }
  }
}

function tellHovered(view, i) {
  const row = i >= 0 ? view.data.rows[i] : -1;
  if (view.model.get("hovered") === row) return;
  view.model.set("hovered", row);
  nbxSave(view.model);
}

// ---- selection -----------------------------------------------------------------------------------------
/** The selection the kernel holds (`selected`, rows of X) as a mask over the points. */
function readSelection(view) {
  const sel = nbxDecodeArray(view.model.get("selected"));
  view.selectedMask.fill(0);
  let count = 0;
  if (sel) for (const row of sel.data) { const i = view.data.rowIndex.get(Number(row)); if (i !== undefined) { view.selectedMask[i] = 1; count++; } }
  view.selectedCount = count;
}

/** Select the points `indices` (replace, add or remove) and tell the kernel (`selected`, a binary buffer). */
function setSelection(view, indices, mode) {
  const mask = view.selectedMask;
  if (mode === "replace") mask.fill(0);
  for (const i of indices) mask[i] = mode === "remove" ? 0 : 1;
  const rows = [];
  for (let i = 0; i < view.data.N; i++) if (mask[i]) rows.push(view.data.rows[i]);
  rows.sort((a, b) => a - b);
  view.selectedCount = rows.length;
  const typed = Int32Array.from(rows);
  view.settingSelection = true;  // the change event below is our own: drawn once, here
  try {
    view.model.set("selected", nbxEncodeArray(typed, [typed.length]));
    nbxSave(view.model);
  } finally {
    view.settingSelection = false;
  }
  drawPoints(view);
  refreshSelection(view);
}

function finishDrag(view, event) {
  const drag = view.drag;
  view.drag = null;
  drawOverlay(view);
  if (!drag || drag.tool === "pan") return;
  const xy = layerCoords(view, view.layerShown);
  const mode = event.shiftKey ? "add" : event.altKey ? "remove" : "replace";
  if (drag.tool === "box") {
    const [xa, ya] = toData(view, drag.x0, drag.y0);
    const [xb, yb] = toData(view, drag.x1, drag.y1);
    if (Math.abs(drag.x1 - drag.x0) < 2 && Math.abs(drag.y1 - drag.y0) < 2) return;
    const box = [Math.min(xa, xb), Math.max(xa, xb), Math.min(ya, yb), Math.max(ya, yb)];
    view.dom.overlay.dataset.box = JSON.stringify(box);  // the box in map coordinates (what was selected)
    setSelection(view, nbxPjInBox(xy, view.data.N, ...box), mode);
  } else if (drag.xs.length >= 3) {
    const points = drag.xs.map((x, k) => toData(view, x, drag.ys[k]));
    view.dom.overlay.dataset.lasso = JSON.stringify(points);  // the polygon in map coordinates
    setSelection(view, nbxPjInLasso(xy, view.data.N, points.map((p) => p[0]), points.map((p) => p[1])), mode);
  }
}

/** The selection below the map: a grid of thumbnails (images) or a table of rows (tables). */
function refreshSelection(view) {
  const { model, dom, data } = view;
  const chosen = [];
  for (let i = 0; i < data.N; i++) if (view.selectedMask[i]) chosen.push(i);
  chosen.sort((a, b) => data.rows[a] - data.rows[b]);
  dom.selectionCount.textContent = chosen.length ? `${chosen.length} selected` : "nothing selected: drag a box or a lasso";
  dom.selection.dataset.count = String(chosen.length);
  dom.grid.replaceChildren();
  dom.explanations.replaceChildren();
  const methods = model.get("explain_methods") || [];
  dom.explainLabel.hidden = dom.explainButton.hidden = methods.length === 0 || !chosen.length;
  if (!chosen.length) return;
  const labelNames = model.get("label_names"), names = model.get("class_names");
  if (data.thumbs) {
    const { th, tw } = data;
    for (const i of chosen.slice(0, NBX_PJ_GRID_SHOWN)) {
      const wrong = data.correct && !data.correct[i];
      const cell = dom.grid.appendChild(nbxEl("button", { type: "button", class: `nbx-cell${wrong ? " nbx-wrong" : ""}`, "data-row": String(data.rows[i]) }));
      const c = cell.appendChild(nbxEl("canvas", { width: String(tw), height: String(th) }));
      c.getContext("2d").putImageData(nbxRgbImage(data.thumbs.subarray(i * th * tw * 3, (i + 1) * th * tw * 3), tw, th), 0, 0);
      const caption = [data.labels ? className(labelNames, data.labels[i]) : null,
                       data.predictions ? `→ ${className(names, data.predictions[i])}` : null].filter(Boolean).join(" ");
      cell.appendChild(nbxEl("span", {}, caption || `row ${data.rows[i]}`));
      cell.addEventListener("click", () => showHover(view, i));
    }
    if (chosen.length > NBX_PJ_GRID_SHOWN) dom.grid.appendChild(nbxEl("span", { class: "nbx-more" }, `… and ${chosen.length - NBX_PJ_GRID_SHOWN} more`));
    return;
  }
  const table = dom.grid.appendChild(nbxEl("table", { class: "nbx-selection-table" }));
  const columnNames = (model.get("column_names") || []).slice(0, 10);
  const head = table.appendChild(nbxEl("tr"));
  for (const title of ["row", "label", "prediction", ...columnNames]) head.appendChild(nbxEl("th", {}, title));
  for (const i of chosen.slice(0, NBX_PJ_TABLE_SHOWN)) {
    const tr = table.appendChild(nbxEl("tr", { "data-row": String(data.rows[i]) }));
    if (data.correct && !data.correct[i]) tr.classList.add("nbx-wrong");
    tr.appendChild(nbxEl("td", {}, String(data.rows[i])));
    tr.appendChild(nbxEl("td", {}, data.labels ? className(labelNames, data.labels[i]) : ""));
    tr.appendChild(nbxEl("td", {}, data.predictions ? className(names, data.predictions[i]) : ""));
    for (let j = 0; j < columnNames.length; j++) tr.appendChild(nbxEl("td", {}, nbxFormat(data.columns[i * data.C + j])));
    tr.addEventListener("click", () => showHover(view, i));
  }
}

/** The kernel's explanations of the selection: attribution maps over the inputs, or one line per row. */
function showExplanations(view, data) {
  const { dom } = view;
  dom.explanations.replaceChildren();
  const rows = nbxDecodeArray(data.rows);
  if (data.texts) {
    data.texts.forEach((text, k) => dom.explanations.appendChild(nbxEl("div", { class: "nbx-explanation-text", "data-row": String(rows.data[k]) }, `row ${rows.data[k]}: ${text}`)));
    return;
  }
  const maps = nbxDecodeArray(data.maps), images = nbxDecodeArray(data.images);
  const [k, h, w] = maps.shape;
  for (let m = 0; m < k; m++) {
    const [lo, hi] = data.limits[m];
    const figure = dom.explanations.appendChild(nbxEl("figure", { class: "nbx-explanation", "data-row": String(rows.data[m]) }));
    const c = figure.appendChild(nbxEl("canvas", { width: String(w), height: String(h), "aria-label": data.titles[m] }));
    const heat = document.createElement("canvas");
    heat.width = w; heat.height = h;
    heat.getContext("2d").putImageData(nbxScalarImage(maps.data.subarray(m * h * w, (m + 1) * h * w), w, h, nbxColormap(data.signed[m] ? "RdBu" : "magma"), lo, hi), 0, 0);
    const ctx = c.getContext("2d");
    ctx.putImageData(nbxRgbImage(images.data.subarray(m * h * w * 3, (m + 1) * h * w * 3), w, h), 0, 0);
    ctx.globalAlpha = 0.6;
    ctx.drawImage(heat, 0, 0);
    figure.appendChild(nbxEl("figcaption", {}, `row ${rows.data[m]} · ${data.titles[m]}`));
  }
}

// ---- layers: the points move to another layer's map -------------------------------------------------------
function animateTo(view, layer, instant = false) {
  const { dom, data } = view;
  if (!data.N || layer < 0 || layer >= data.L) return;
  const from = view.shown.slice();
  const to = layerCoords(view, layer);
  const frameFrom = { ...view.frame };
  const frameTo = view.frame.auto ? fitFrame(view, to) : view.frame;
  view.layerShown = layer;
  refreshLayers(view);
  const token = ++view.animation;
  const reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const done = () => {
    view.shown.set(to);
    view.frame = frameTo;
    drawPoints(view);
    dom.root.dataset.layer = String(layer);
    if (view.hover >= 0) showHover(view, view.hover);
  };
  if (instant || reduced) { done(); return; }
  const t0 = performance.now();
  const step = (now) => {
    if (token !== view.animation) return;
    const t = Math.min(1, (now - t0) / NBX_PJ_ANIMATION_MS);
    if (t >= 1) { done(); return; }
    const e = t < 0.5 ? 2 * t * t : 1 - ((-2 * t + 2) ** 2) / 2;
    for (let j = 0; j < to.length; j++) view.shown[j] = from[j] + (to[j] - from[j]) * e;
    view.frame = { scale: frameFrom.scale * (frameTo.scale / frameFrom.scale) ** e, cx: frameFrom.cx + (frameTo.cx - frameFrom.cx) * e,
                   cy: frameFrom.cy + (frameTo.cy - frameFrom.cy) * e, auto: frameTo.auto };
    drawPoints(view);
    drawOverlay(view);
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
}

function refreshLayers(view) {
  const { model, dom } = view;
  const names = model.get("layer_names") || [];
  if (dom.layers.childElementCount !== names.length || [...dom.layers.children].some((b, k) => b.textContent !== names[k])) {
    dom.layers.replaceChildren(...names.map((name, k) => {
      const b = nbxEl("button", { type: "button", class: "nbx-layer", "data-layer": String(k) }, name);
      b.addEventListener("click", () => {
        model.set("layer", k);
        nbxSave(model);
        animateTo(view, k);
      });
      return b;
    }));
  }
  [...dom.layers.children].forEach((b, k) => b.setAttribute("aria-pressed", String(k === view.layerShown)));
  const method = shownMethod(view);
  const quality = ((view.local ? view.local.quality : model.get("quality")) || [])[view.layerShown] || [];
  dom.quality.textContent = [`${(model.get("methods") || []).find((m) => m.name === method)?.label || method} of ${names[view.layerShown] || ""}`,
                             ...quality, model.get("note")].filter(Boolean).join(" · ");
}

function refreshControls(view) {
  const { model, dom, data } = view;
  const methods = model.get("methods") || [];
  const tables = (model.get("answer_tables") || {}).methods || {};
  const kernelless = view.requester && view.requester.kernelless;
  const offered = kernelless ? methods.filter((m) => tables[m.name] || m.name === shownMethod(view)) : methods;
  nbxSetOptions(dom.methodSelect, offered.map((m) => [m.name, m.label]), shownMethod(view));
  dom.methodSelect.disabled = !model.get("interactive") || offered.length < 2;
  if (kernelless && offered.length < methods.length && offered.length < 2) nbxNeedsKernel(dom.methodSelect);
  const modes = [["label", "label", data.labels], ["prediction", "prediction", data.predictions],
                 ["correct", "right / wrong", data.correct], ["column", "column", data.columns], ["none", "none", true]];
  nbxSetOptions(dom.colourSelect, modes.filter((m) => m[2]).map((m) => [m[0], m[1]]), colourMode(view));
  const columnNames = model.get("column_names") || [];
  nbxSetOptions(dom.columnSelect, columnNames.map((name, j) => [j, name]), model.get("column"));
  dom.columnSelect.hidden = colourMode(view) !== "column";
  for (const [name, button] of Object.entries(dom.toolButtons)) button.setAttribute("aria-pressed", String(model.get("tool") === name));
  dom.overlay.dataset.tool = model.get("tool");
  const explain = model.get("explain_methods") || [];
  const current = dom.explainSelect.value;
  nbxSetOptions(dom.explainSelect, explain.map((m) => [m.name, m.label]), explain.some((m) => m.name === current) ? current :
    (explain.find((m) => m.name === "gradcam") || explain[0] || {}).name);
  if (kernelless) nbxNeedsKernel(dom.explainSelect, dom.explainButton);
  refreshLayers(view);
}

/** Everything from the traits: data, colours, legend, controls, selection, the points (no animation). */
function loadAll(view) {
  loadData(view);
  const layer = Math.min(view.model.get("layer"), Math.max(0, view.data.L - 1));
  view.layerShown = layer;
  if (view.data.N) {
    view.shown.set(layerCoords(view, layer));
    if (view.frame.auto) view.frame = fitFrame(view, view.shown);
  }
  pointColours(view);
  refreshLegend(view);
  refreshControls(view);
  refreshSelection(view);
  drawPoints(view);
  view.dom.root.dataset.layer = String(layer);
  showHover(view, -1);
}

// ---- kernel requests ---------------------------------------------------------------------------------------
async function ask(view, action, params) {
  if (tableAnswer(view, action, params) === undefined && !view.requester.kernelless) {  // one more kernel request
    view.dom.root.dataset.requests = String(Number(view.dom.root.dataset.requests) + 1);
  }
  const answer = await view.requester.request(action, params);
  if (answer.stale) return null;
  view.dom.status.done();
  if (answer.status === "error") view.dom.status.say("failed: see the error above");
  else if (answer.status === "no-kernel") view.dom.status.say(`that ${NBX_NEEDS_KERNEL}`);
  return answer.status === "ok" ? answer : null;
}

async function switchMethod(view, method) {
  const before = view.shown.slice();
  const answer = await ask(view, "project", { method });
  if (answer && answer.source === "table") {
    view.local = answer.data;
    if (!view.requester.kernelless) view.requester.notify("project", { method });  // the kernel follows
  }
  refreshControls(view);
  if (!answer) return;
  loadData(view);
  view.shown.set(before.length === view.shown.length ? before : layerCoords(view, view.layerShown));
  pointColours(view);
  animateTo(view, Math.min(view.model.get("layer"), view.data.L - 1));
  view.dom.status.say(`${shownMethod(view)} maps of ${view.data.L} layers`);
}

// ---- what the user does --------------------------------------------------------------------------------------
function listenToUser(view) {
  const { model, dom } = view;
  dom.methodSelect.addEventListener("change", () => switchMethod(view, dom.methodSelect.value));
  dom.colourSelect.addEventListener("change", () => {
    model.set("color_by", dom.colourSelect.value);
    nbxSave(model);
    recolour(view);
  });
  dom.columnSelect.addEventListener("change", () => {
    model.set("column", Number(dom.columnSelect.value));
    nbxSave(model);
    recolour(view);
  });
  for (const [name, button] of Object.entries(dom.toolButtons)) {
    button.addEventListener("click", () => { model.set("tool", name); nbxSave(model); refreshControls(view); });
  }
  dom.fit.addEventListener("click", () => { view.frame = fitFrame(view, view.shown); drawPoints(view); drawOverlay(view); });
  dom.clear.addEventListener("click", () => setSelection(view, [], "replace"));
  dom.explainButton.addEventListener("click", async () => {
    dom.explanations.replaceChildren();
    const answer = await ask(view, "explain", { method: dom.explainSelect.value });
    if (answer) showExplanations(view, answer.data);
  });

  const overlay = dom.overlay;
  overlay.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    overlay.setPointerCapture(event.pointerId);
    const tool = model.get("tool");
    view.drag = { tool, x0: event.offsetX, y0: event.offsetY, x1: event.offsetX, y1: event.offsetY, xs: [event.offsetX], ys: [event.offsetY],
                  frame: { ...view.frame } };
  });
  overlay.addEventListener("pointermove", (event) => {
    const drag = view.drag;
    if (drag) {
      drag.x1 = event.offsetX; drag.y1 = event.offsetY;
      if (drag.tool === "pan") {
        view.frame = { ...drag.frame, cx: drag.frame.cx - (drag.x1 - drag.x0) / drag.frame.scale,
                       cy: drag.frame.cy + (drag.y1 - drag.y0) / drag.frame.scale, auto: false };
        drawPoints(view);
      } else if (drag.tool === "lasso") { drag.xs.push(event.offsetX); drag.ys.push(event.offsetY); }
      drawOverlay(view);
      return;
    }
    const i = nearestPoint(view, event.offsetX, event.offsetY);
    if (i !== view.hover) { showHover(view, i); tellHovered(view, i); }
  });
  overlay.addEventListener("pointerup", (event) => finishDrag(view, event));
  overlay.addEventListener("pointercancel", () => { view.drag = null; drawOverlay(view); });
  overlay.addEventListener("pointerleave", () => { if (!view.drag && view.hover >= 0) { showHover(view, -1); tellHovered(view, -1); } });
  overlay.addEventListener("dblclick", () => { view.frame = fitFrame(view, view.shown); drawPoints(view); drawOverlay(view); });
  overlay.addEventListener("keydown", (event) => {  // the focused map: arrows pan, + and - zoom, 0 fits
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const f = view.frame, step = 40 / f.scale;
    const move = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] }[event.key];
    if (move) view.frame = { ...f, cx: f.cx + move[0], cy: f.cy + move[1], auto: false };
    else if (event.key === "+" || event.key === "=") view.frame = { ...f, scale: f.scale * 1.25, auto: false };
    else if (event.key === "-") view.frame = { ...f, scale: f.scale / 1.25, auto: false };
    else if (event.key === "0") view.frame = fitFrame(view, view.shown);
    else return;  // every other key still reaches JupyterLab
    event.preventDefault();
    event.stopPropagation();
    drawPoints(view);
    drawOverlay(view);
  });
  overlay.addEventListener("wheel", (event) => {
    event.preventDefault();
    const [x, y] = toData(view, event.offsetX, event.offsetY);
    const scale = view.frame.scale * Math.exp(-event.deltaY * 0.0015);
    view.frame = { scale, cx: x - (event.offsetX - view.width / 2) / scale, cy: y + (event.offsetY - view.height / 2) / scale, auto: false };
    drawPoints(view);
    drawOverlay(view);
  }, { passive: false });
}

function recolour(view) {
  pointColours(view);
  refreshLegend(view);
  refreshControls(view);
  drawPoints(view);
}

/** Changes made from Python (or by another view of this model). */
function followKernel(view) {
  const { model, requester } = view;
  const idle = () => requester.inFlight() === 0;
  model.on("change:coords change:rows change:labels change:predictions change:correct change:columns change:thumbnails", () => {
    if (view.local && requester.notifying() > 0) return;  // the kernel catching up with a table answer
    if (idle()) { view.local = null; loadAll(view); }
  });
  model.on("change:answer_tables", () => refreshControls(view));
  model.on("change:layer", () => { if (model.get("layer") !== view.layerShown) animateTo(view, model.get("layer")); });
  model.on("change:color_by change:column", () => recolour(view));
  model.on("change:selected", () => {
    if (view.settingSelection) return;
    readSelection(view); drawPoints(view); refreshSelection(view);
  });
  model.on("change:tool change:methods change:method change:interactive change:explain_methods change:column_names", () => refreshControls(view));
  model.on("change:quality change:note change:layer_names", () => refreshLayers(view));
  model.on("change:plot_width change:plot_height change:point_size", () => { sizeCanvases(view); view.frame.auto = true; loadAll(view); });
}

function render({ model, el }) {
  const dom = buildDom(model, el);
  const view = { model, dom, frame: { scale: 1, cx: 0, cy: 0, auto: true }, hover: -1, drag: null,
                 animation: 0, selectedCount: 0, layerShown: 0, local: null };
  view.requester = nbxRequester(model, {
    answer: (action, params) => tableAnswer(view, action, params),
    onProgress: (fraction, _action, elapsed) => dom.status.progress(fraction, elapsed),
    onBusy: (busy) => { if (busy) dom.status.busy(); else dom.status.done(); },
  });
  if (view.requester.kernelless) {  // an exported page: say what works here and what needs a kernel
    const t = model.get("answer_tables");
    dom.root.insertBefore(nbxOfflineNote(dom.root, `Exported page: layers, colours, hover, zoom and selection work here${
      t ? "; so do the maps of " + Object.keys(t.methods || {}).join(", ") : ""}; explaining a selection${
      t ? "" : " and other maps"} ${NBX_NEEDS_KERNEL}.`), dom.status.node);
  }
  sizeCanvases(view);
  listenToUser(view);
  followKernel(view);
  loadAll(view);
  return () => { view.animation++; dom.root.remove(); };
}

export default { render };
