// nbexplain shared view helpers. The Python asset loader prepends this file to every view module
// (anywidget loads a view from a blob URL, so views cannot import siblings). No dependencies.

const NBX_TYPED = {
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array,
  uint32: Uint32Array, int32: Int32Array, float32: Float32Array, float64: Float64Array,
};

/** Decode `{dtype, shape, buffer}` (buffer: DataView, ArrayBuffer or typed array) into `{data, shape, dtype}`.
 *  Honours byteOffset: a DataView may be a window into a larger ArrayBuffer. */
function nbxDecodeArray(obj) {
  if (!obj || !obj.buffer) return null;
  const Typed = NBX_TYPED[obj.dtype];
  if (!Typed) throw new Error(`nbexplain: unknown dtype ${obj.dtype}`);
  const b = obj.buffer;
  const bytes = b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const aligned = bytes.byteOffset % Typed.BYTES_PER_ELEMENT === 0 ? bytes : bytes.slice();
  const data = new Typed(aligned.buffer, aligned.byteOffset, aligned.byteLength / Typed.BYTES_PER_ELEMENT);
  return { data, shape: obj.shape, dtype: obj.dtype };
}

/** Encode a typed array for sending to the kernel: returns `{dtype, shape, buffer}` (buffer: DataView). */
function nbxEncodeArray(typed, shape) {
  const dtype = Object.keys(NBX_TYPED).find((k) => typed instanceof NBX_TYPED[k]);
  return { dtype, shape, buffer: new DataView(typed.buffer, typed.byteOffset, typed.byteLength) };
}

/** Put binary buffers back into a message at its `buffer_paths`. */
function nbxRestoreBuffers(content, buffers) {
  const paths = content.buffer_paths || [];
  paths.forEach((path, i) => {
    let node = content;
    for (const key of path.slice(0, -1)) node = node[key];
    node[path[path.length - 1]] = buffers[i];
  });
  delete content.buffer_paths;
  return content;
}

/** Lift DataViews out of `params` so they travel as binary buffers; returns [params, paths, buffers]. */
function nbxLiftBuffers(value, path = [], paths = [], buffers = []) {
  if (value instanceof DataView || ArrayBuffer.isView(value)) {
    paths.push(path); buffers.push(value instanceof DataView ? value : new DataView(value.buffer, value.byteOffset, value.byteLength));
    return [null, paths, buffers];
  }
  if (Array.isArray(value)) return [value.map((v, i) => nbxLiftBuffers(v, [...path, i], paths, buffers)[0]), paths, buffers];
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = nbxLiftBuffers(v, [...path, k], paths, buffers)[0];
    return [out, paths, buffers];
  }
  return [value, paths, buffers];
}

// ---- the page: elements, keys, theme, canvases ----------------------------------------------------

/** Create an element; text is always set with textContent (user text is never parsed as HTML). */
function nbxEl(tag, attrs = {}, text = undefined) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "style") Object.assign(node.style, v);
    else node.setAttribute(k, v);
  }
  if (text !== undefined) node.textContent = String(text);
  return node;
}

/** Fill a <select> with `[value, label]` pairs (labels are text) and select `value`. */
function nbxSetOptions(select, items, value) {
  select.replaceChildren(...items.map(([v, label]) => nbxEl("option", { value: String(v) }, label)));
  if (value !== undefined) select.value = String(value);
}

/** A view's outer element in `el` (classes `nbx-root` and `viewClass`, then `attrs`) and its first toolbar. */
function nbxViewRoot(el, viewClass, attrs = {}) {
  const root = el.appendChild(nbxEl("div", { class: `nbx-root ${viewClass}`, ...attrs }));
  const toolbar = root.appendChild(nbxEl("div", { class: "nbx-toolbar" }));
  return { root, toolbar };
}

/** A `<label>` reading `text` appended to `parent`, holding a new `<tag attrs>` control; returns the control. */
function nbxLabelled(parent, text, tag, attrs = {}) {
  const label = parent.appendChild(nbxEl("label", {}, text));
  return label.appendChild(nbxEl(tag, attrs));
}

const NBX_MOVE_KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown"]);

/** Whether `target` (a focused control) uses the key itself: a slider its arrows, a menu its arrows and
 *  type-ahead letters, a button Space and Enter. Keys with Ctrl, Alt or Meta, and Shift+Enter (run the
 *  cell), are never a control's. */
function nbxHandlesKey(target, event) {
  if (!target || event.ctrlKey || event.metaKey || event.altKey || (event.key === "Enter" && event.shiftKey)) return false;
  const tag = (target.tagName || "").toLowerCase();
  const type = (target.type || "").toLowerCase();
  if (tag === "input" && type === "range") return NBX_MOVE_KEYS.has(event.key);
  if (tag === "select") return NBX_MOVE_KEYS.has(event.key) || event.key === " " || event.key === "Enter" || event.key.length === 1;
  if (tag === "button" || (tag === "input" && (type === "checkbox" || type === "radio"))) return event.key === " " || event.key === "Enter";
  return false;
}

/** Keep the keys that the controls inside `node` use from reaching JupyterLab's notebook shortcuts
 *  (its command-mode shortcuts match any focused control that is not a text field); every other key,
 *  Shift+Enter included, still reaches JupyterLab. */
function nbxKeepKeys(node) {
  node.addEventListener("keydown", (event) => { if (nbxHandlesKey(event.target, event)) event.stopPropagation(); });
  return node;
}

/** A `--jp-*` theme colour as seen from `node`, or `fallback` outside JupyterLab. */
function nbxThemeColor(node, name, fallback) {
  return getComputedStyle(node).getPropertyValue(name).trim() || fallback;
}

/** Size a canvas of `width` x `height` pixels to `size` CSS pixels on its longer side (crisp when enlarged);
 *  returns the scale. */
function nbxFitCanvas(canvas, width, height, size) {
  const scale = size / Math.max(width, height);
  canvas.width = width; canvas.height = height;
  canvas.style.width = `${Math.round(width * scale)}px`;
  canvas.style.height = `${Math.round(height * scale)}px`;
  canvas.style.imageRendering = scale >= 2 ? "pixelated" : "";
  return scale;
}

/** The canvas pixel `[x, y]` under a mouse event (canvases may be drawn larger than their pixels). */
function nbxPixelAt(event, canvas, width, height) {
  const x = Math.min(width - 1, Math.max(0, Math.floor((event.offsetX * width) / canvas.clientWidth)));
  const y = Math.min(height - 1, Math.max(0, Math.floor((event.offsetY * height) / canvas.clientHeight)));
  return [x, y];
}

/** Stroke the line through `count` points (`x(i)`, `y(i)`) in the context's current style. */
function nbxStrokeLine(ctx, count, x, y) {
  ctx.beginPath();
  for (let i = 0; i < count; i++) { if (i) ctx.lineTo(x(i), y(i)); else ctx.moveTo(x(i), y(i)); }
  ctx.stroke();
}

/** Paint a horizontal colour bar over the whole canvas from a 256-entry RGB lookup table. */
function nbxPaintColorbar(canvas, lut) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width;
  for (let x = 0; x < w; x++) {
    const t = w > 1 ? Math.round((x / (w - 1)) * 255) : 0;
    ctx.fillStyle = `rgb(${lut[t * 3]},${lut[t * 3 + 1]},${lut[t * 3 + 2]})`;
    ctx.fillRect(x, 0, 1, canvas.height);
  }
}

// ---- talking to the kernel ------------------------------------------------------------------------

/**
 * Requests to "whoever answers": a local table when `answer(action, params)` returns a value
 * (kernel-free views), else the kernel over the widget's comm. Every request carries an id; the
 * promise resolves to `{status, data, error, stale, source, id}`; `stale` is true when a newer request of
 * the same action was sent after it, and a view must then ignore the result.
 *
 * Every message carries `view`, a token of this requester, and ids grow with every message: a kernel that
 * handles a burst out of order answers a request older than one it has received already "superseded".
 *
 * `notify(action, params)` only tells the kernel something (e.g. which mask a table answer put on
 * screen): the same request message, but nothing waits for its answer and the view is not busy.
 * `notifying()` counts the notifications the kernel has not answered yet (their echoes are stale).
 *
 * `onProgress(fraction, action, elapsedMs)` is called for the newest request of an action only;
 * `onBusy(isBusy)` when the first request goes out and when the last one is answered.
 */
function nbxRequester(model, { answer = null, onProgress = null, onBusy = null } = {}) {
  const kernelless = nbxKernelless(model);
  const view = nbxToken();
  let nextId = Date.now() % 1e9;
  const latest = {};            // action -> id of its newest request
  const pending = new Map();    // id -> {action, resolve, sent}: requests whose answer is awaited
  const notified = new Set();   // ids of notifications the kernel has not answered
  let busy = false;
  const setBusy = () => {
    if ((pending.size > 0) === busy) return;
    busy = !busy;
    if (onBusy) onBusy(busy);
  };
  model.on("msg:custom", (msg, buffers) => {
    if (!msg || (msg.type !== "response" && msg.type !== "progress")) return;
    if (notified.has(msg.id)) { if (msg.type === "response") notified.delete(msg.id); return; }
    const entry = pending.get(msg.id);
    if (!entry) return;
    if (msg.type === "progress") {
      if (onProgress && latest[entry.action] === msg.id) onProgress(msg.fraction, entry.action, performance.now() - entry.sent);
      return;
    }
    nbxRestoreBuffers(msg, buffers || []);
    pending.delete(msg.id);
    setBusy();
    entry.resolve({ status: msg.status, data: msg.data || {}, error: msg.error || null,
                    stale: latest[entry.action] !== msg.id, source: "kernel", id: msg.id });
  });
  function send(id, action, params) {
    const [lifted, paths, buffers] = nbxLiftBuffers(params, ["params"]);  // paths from the message root
    model.send({ type: "request", id, view, action, params: lifted, buffer_paths: paths }, undefined, buffers);
  }
  function request(action, params = {}) {
    const id = ++nextId;
    latest[action] = id;
    if (answer) {
      const local = answer(action, params);
      if (local !== undefined) return Promise.resolve({ status: "ok", data: local, error: null, stale: false, source: "table", id });
    }
    if (kernelless) {  // an exported page: nobody else can answer, and the view says so instead of waiting
      return Promise.resolve({ status: "no-kernel", data: {}, error: { type: "NoKernel", message: NBX_NEEDS_KERNEL },
                               stale: false, source: "none", id });
    }
    return new Promise((resolve) => {
      pending.set(id, { action, resolve, sent: performance.now() });
      setBusy();
      send(id, action, params);
    });
  }
  function notify(action, params = {}) {
    const id = ++nextId;
    if (kernelless) return id;
    notified.add(id);
    send(id, action, params);
    return id;
  }
  return { request, notify, inFlight: () => pending.size, notifying: () => notified.size,
           isLatest: (action, id) => latest[action] === id, kernelless };
}

/** A random token naming one view (or one model's writes) in the messages it sends. */
function nbxToken() {
  return Math.random().toString(36).slice(2) + Date.now().toString(36);
}

const nbxWriteCounts = new WeakMap();  // model -> { token, count }: the stamps of this page's writes

/** Save the traits the view has set (`model.set`) to the kernel, stamped `_nbx_write: [token, count]`, the count
 *  growing with every save of this model in this page: a kernel that handles a burst of writes out of order
 *  keeps each trait's newest value. */
function nbxSave(model) {
  let stamp = nbxWriteCounts.get(model);
  if (!stamp) nbxWriteCounts.set(model, stamp = { token: nbxToken(), count: 0 });
  model.set("_nbx_write", [stamp.token, ++stamp.count]);
  model.save_changes();
}

// ---- without a kernel: a page exported by nbexplain.export_html -----------------------------------

/** What a control that only the kernel can answer says in an exported page. */
const NBX_NEEDS_KERNEL = "needs a running kernel";
/** What an answer extrapolated from the tables (not the model's own output) is labelled with. */
const NBX_APPROXIMATE = "approximate — no kernel";

/** Whether the view runs without a kernel: its widget manager is nbexplain's offline one (an exported
 *  page), which says so. Requests the view cannot answer from its tables then resolve at once with
 *  status "no-kernel". */
function nbxKernelless(model) {
  const manager = model && model.widget_manager;
  return Boolean(manager && manager.nbxKernelless);
}

/** Controls only a kernel can answer, in an exported page: disabled, and saying why (tooltip and name). */
function nbxNeedsKernel(...controls) {
  for (const control of controls) {
    if (!control) continue;
    control.disabled = true;
    control.title = NBX_NEEDS_KERNEL;
    control.dataset.needsKernel = "true";
    const name = control.getAttribute("aria-label") || control.textContent || "";
    if (!name.includes(NBX_NEEDS_KERNEL)) control.setAttribute("aria-label", `${name.trim()} (${NBX_NEEDS_KERNEL})`);
  }
}

/** A visible line saying what the exported page answers from its tables and what needs a kernel. */
function nbxOfflineNote(parent, text) {
  return parent.appendChild(nbxEl("div", { class: "nbx-offline-note", role: "note" }, text));
}

/** Numbers from IEEE half-precision bits (a Uint16Array): answer tables keep exact-enough values in half the bytes. */
function nbxHalfToFloat(bits) {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i], sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    out[i] = exp === 0 ? sign * frac * 2 ** -24 : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

// ---- what the view tells the user: status bar and error banner ------------------------------------

/** "40 % · about 3 s left": the fraction done and the time left at the pace so far (no guess before
 *  a second has passed or 2 % is done). */
function nbxEstimate(fraction, elapsedMs) {
  const f = Math.max(0, Math.min(1, Number(fraction) || 0));
  const percent = `${Math.floor(f * 100)} %`;
  if (f >= 1 || f < 0.02 || !(elapsedMs >= 1000)) return percent;
  const left = (elapsedMs * (1 - f)) / f / 1000;
  let text;
  if (left < 1) text = "less than a second left";
  else if (left < 90) text = `about ${Math.round(left)} s left`;
  else if (left < 5400) text = `about ${Math.round(left / 60)} min left`;
  else text = `about ${Math.round(left / 3600)} h left`;
  return `${percent} · ${text}`;
}

/** The status line under a view's toolbar: a progress bar, an aria-live message and the time estimate.
 *  `busy(text)` while a request runs, `progress(fraction, elapsedMs)` as the kernel reports,
 *  `done(text)` when it is answered, `say(text)` for news. */
function nbxStatusBar(parent, { label = "progress" } = {}) {
  const node = parent.appendChild(nbxEl("div", { class: "nbx-status" }));
  const bar = node.appendChild(nbxEl("progress", { max: "1", hidden: "", "aria-label": label }));
  const live = node.appendChild(nbxEl("span", { class: "nbx-live", "aria-live": "polite" }));
  const eta = node.appendChild(nbxEl("span", { class: "nbx-eta" }));
  return {
    node,
    text: () => live.textContent,
    say(text) { live.textContent = text; },
    busy(text = "computing…") {
      bar.hidden = false; bar.removeAttribute("value"); eta.textContent = "";
      if (text) live.textContent = text;
    },
    progress(fraction, elapsedMs) {
      bar.hidden = false; bar.value = fraction; eta.textContent = nbxEstimate(fraction, elapsedMs);
    },
    done(text) {
      bar.hidden = true; eta.textContent = "";
      if (text !== undefined) live.textContent = text;
    },
  };
}

/** An error banner bound to the model's `error` trait: message, a traceback to expand, a dismiss button. */
function nbxErrorBanner(model, parent) {
  const box = nbxEl("div", { class: "nbx-error", role: "alert", hidden: "" });
  const title = box.appendChild(nbxEl("strong"));
  const message = box.appendChild(nbxEl("span", { class: "nbx-error-message" }));
  const details = box.appendChild(nbxEl("details"));
  details.appendChild(nbxEl("summary", {}, "traceback"));
  const trace = details.appendChild(nbxEl("pre"));
  const close = box.appendChild(nbxEl("button", { class: "nbx-error-close", "aria-label": "dismiss error" }, "×"));
  close.addEventListener("click", () => { box.hidden = true; });
  function show() {
    const err = model.get("error") || {};
    if (!err.message) { box.hidden = true; return; }
    title.textContent = `${err.type || "Error"}${err.action ? ` in ${err.action}` : ""}: `;
    message.textContent = err.message;
    trace.textContent = err.traceback || "";
    box.hidden = false;
  }
  model.on("change:error", show);
  show();
  parent.appendChild(box);
  return box;
}

/** What every view has under its toolbars: the status bar (`options` as nbxStatusBar's), then the error
 *  banner bound to the model's `error` trait; returns the status bar. */
function nbxStatusAndError(model, root, options = undefined) {
  const status = nbxStatusBar(root, options);
  nbxErrorBanner(model, root);
  return status;
}

/** A requester (nbxRequester; `answer` answers locally where it can) that shows the kernel's progress in the
 *  view's status bar and ends the bar once the last answer is in. */
function nbxStatusRequester(model, status, answer = null) {
  return nbxRequester(model, {
    answer,
    onProgress: (fraction, _action, elapsed) => status.progress(fraction, elapsed),
    onBusy: (busy) => { if (!busy) status.done(); },
  });
}

// ---- colour maps: 256-entry RGB lookup tables interpolated from a few stops ------------------------
const NBX_STOPS = {
  magma: ["#000004", "#2c115f", "#721f81", "#b73779", "#f1605d", "#feb078", "#fcfdbf"],
  viridis: ["#440154", "#414487", "#2a788e", "#22a884", "#7ad151", "#fde725"],
  RdBu: ["#053061", "#2166ac", "#4393c3", "#92c5de", "#f7f7f7", "#f4a582", "#d6604d", "#b2182b", "#67001f"],
  gray: ["#000000", "#ffffff"],
};

function nbxColormap(name) {
  const stops = (NBX_STOPS[name] || NBX_STOPS.magma).map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (stops.length - 1);
    const j = Math.min(Math.floor(t), stops.length - 2);
    const f = t - j;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(stops[j][c] * (1 - f) + stops[j + 1][c] * f);
  }
  return lut;
}

/** RGBA ImageData of a scalar field through a colour map, values clipped to [lo, hi]. */
function nbxScalarImage(values, width, height, lut, lo, hi) {
  const img = new ImageData(width, height);
  const span = hi > lo ? hi - lo : 1;
  for (let i = 0; i < width * height; i++) {
    const t = Math.max(0, Math.min(255, Math.round(((values[i] - lo) / span) * 255)));
    img.data[i * 4] = lut[t * 3]; img.data[i * 4 + 1] = lut[t * 3 + 1]; img.data[i * 4 + 2] = lut[t * 3 + 2];
    img.data[i * 4 + 3] = 255;
  }
  return img;
}

/** RGBA ImageData of an (H, W, 3) uint8 image. */
function nbxRgbImage(rgb, width, height) {
  const img = new ImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    img.data[i * 4] = rgb[i * 3]; img.data[i * 4 + 1] = rgb[i * 3 + 1]; img.data[i * 4 + 2] = rgb[i * 3 + 2];
    img.data[i * 4 + 3] = 255;
  }
  return img;
}

/** A number for people: 3 significant digits, exponent notation for very small/large magnitudes. */
function nbxFormat(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toPrecision(3);
}

// ---- the quality panel: can we trust this explanation? (issue 17) ----------------------------------

const NBX_QUALITY_COLOURS = ["#b2182b", "#2166ac", "#1b9e77", "#d95f02", "#7570b3", "#e7298a"];

/**
 * The quality panel of an explanation view, under `parent`: one button per check the kernel offers
 * (`quality_checks`), then the report's lines (`quality_panel.lines`, text) and small line plots (rows of the
 * binary `quality_curves` named by `quality_panel.plots`). A check runs in the kernel ("quality" {check}) with
 * the view's progress; when the explanation on screen changes the kernel clears the panel, and an open panel
 * asks again for the check last run. `status` (the view's status bar) gets its text back once a check is done.
 */
function nbxQualityPanel(model, parent, requester, { status = null } = {}) {
  const box = parent.appendChild(nbxEl("details", { class: "nbx-quality" }));
  box.appendChild(nbxEl("summary", {}, "quality: can we trust this explanation?"));
  const checks = box.appendChild(nbxEl("div", { class: "nbx-quality-checks", role: "group", "aria-label": "quality checks" }));
  const state = box.appendChild(nbxEl("div", { class: "nbx-quality-state", "aria-live": "polite" }));
  const title = box.appendChild(nbxEl("div", { class: "nbx-quality-title" }));
  const lines = box.appendChild(nbxEl("ul", { class: "nbx-quality-lines" }));
  const plots = box.appendChild(nbxEl("div", { class: "nbx-quality-plots" }));
  const panel = { node: box, last: null, asking: 0, answers: 0 };
  const empty = () => !((model.get("quality_panel") || {}).lines);
  const wanted = () => box.open && panel.last !== null && !requester.kernelless && panel.asking === 0 && empty();

  function buttons() {
    const offered = model.get("quality_checks") || [];
    box.hidden = offered.length === 0;
    checks.replaceChildren(...offered.map((c) => {
      const b = nbxEl("button", { type: "button", class: "nbx-quality-check", "data-check": c.name, "aria-pressed": "false" }, c.label);
      b.addEventListener("click", () => panel.ask(c.name));
      if (requester.kernelless) nbxNeedsKernel(b);
      return b;
    }));
    draw();
  }

  function draw() {
    const p = model.get("quality_panel") || {};
    title.textContent = p.title || "";
    lines.replaceChildren(...(p.lines || []).map((text) => nbxEl("li", {}, text)));
    const curves = nbxDecodeArray(model.get("quality_curves"));
    plots.replaceChildren(...(curves ? (p.plots || []).map((spec) => nbxQualityPlot(spec, curves)) : []));
    checks.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.check === p.check)));
    box.dataset.check = p.check || "";
  }

  panel.ask = async (name) => {
    panel.last = name;
    box.open = true;
    const before = status ? status.text() : "";
    state.textContent = `checking ${name}…`;
    panel.asking++;
    const answer = await requester.request("quality", { check: name });
    panel.asking--;
    if (answer.stale) return;
    panel.answers++;
    if (status && status.text().startsWith("computing")) status.say(before);
    state.textContent = answer.status === "ok" ? "" : answer.status === "error" ? "the check failed: see the error above"
      : answer.status === "no-kernel" ? NBX_NEEDS_KERNEL : "";
    draw();
    if (answer.status === "superseded" && wanted()) panel.ask(panel.last);  // it gave way: ask again for what is shown
  };
  panel.draw = draw;

  model.on("change:quality_checks", buttons);
  model.on("change:quality_panel change:quality_curves", () => { draw(); if (wanted()) panel.ask(panel.last); });
  box.addEventListener("toggle", () => {  // opening the panel runs the first check (or the last one run)
    const first = (model.get("quality_checks") || [])[0];
    if (box.open && empty() && panel.asking === 0 && !requester.kernelless && (panel.last || first)) {
      panel.ask(panel.last || first.name);
    }
  });
  buttons();
  return panel;
}

/** One small plot of a quality panel: curves over a shared x (rows of `curves`), a legend in text. */
function nbxQualityPlot(spec, curves) {
  const [, n] = curves.shape;
  const row = (r) => curves.data.subarray(r * n, (r + 1) * n);
  const x = row(spec.x_row);
  const ys = spec.rows.map(row);
  const fig = nbxEl("figure", { class: "nbx-quality-plot" });
  fig.appendChild(nbxEl("figcaption", {}, spec.title || ""));
  const canvas = fig.appendChild(nbxEl("canvas", { width: "280", height: "150", role: "img",
    "aria-label": `${spec.title}: ${(spec.labels || []).join(", ")}` }));
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < n; i++) if (Number.isFinite(x[i])) { x0 = Math.min(x0, x[i]); x1 = Math.max(x1, x[i]); }
  for (const y of ys) for (let i = 0; i < n; i++) if (Number.isFinite(y[i])) { y0 = Math.min(y0, y[i]); y1 = Math.max(y1, y[i]); }
  if (!(x1 > x0)) x1 = x0 + 1;
  if (!(y1 > y0)) { y0 -= 0.5; y1 += 0.5; }
  const ctx = canvas.getContext("2d");
  const pad = { l: 34, r: 6, t: 6, b: 18 }, w = canvas.width - pad.l - pad.r, h = canvas.height - pad.t - pad.b;
  const px = (v) => pad.l + ((v - x0) / (x1 - x0)) * w, py = (v) => pad.t + (1 - (v - y0) / (y1 - y0)) * h;
  ctx.strokeStyle = nbxThemeColor(canvas, "--jp-border-color1", "#bbb");
  ctx.strokeRect(pad.l, pad.t, w, h);
  ctx.fillStyle = nbxThemeColor(canvas, "--jp-ui-font-color2", "#555");
  ctx.font = "10px sans-serif";
  ctx.fillText(nbxFormat(y1), 2, pad.t + 8); ctx.fillText(nbxFormat(y0), 2, pad.t + h);
  ctx.fillText(nbxFormat(x0), pad.l, canvas.height - 4); ctx.fillText(nbxFormat(x1), pad.l + w - 24, canvas.height - 4);
  ys.forEach((y, k) => {
    ctx.strokeStyle = NBX_QUALITY_COLOURS[k % NBX_QUALITY_COLOURS.length];
    ctx.lineWidth = 1.5;
    const idx = [];
    for (let i = 0; i < n; i++) if (Number.isFinite(x[i]) && Number.isFinite(y[i])) idx.push(i);
    nbxStrokeLine(ctx, idx.length, (i) => px(x[idx[i]]), (i) => py(y[idx[i]]));
  });
  const legend = fig.appendChild(nbxEl("div", { class: "nbx-quality-legend" }));
  (spec.labels || []).forEach((label, k) => {
    const item = legend.appendChild(nbxEl("span", { class: "nbx-quality-key" }));
    item.appendChild(nbxEl("span", { class: "nbx-quality-swatch", style: { background: NBX_QUALITY_COLOURS[k % NBX_QUALITY_COLOURS.length] } }));
    item.appendChild(document.createTextNode(label));
  });
  if (spec.x_label) fig.appendChild(nbxEl("div", { class: "nbx-quality-axis" }, `x: ${spec.x_label}${spec.y_label ? ` · y: ${spec.y_label}` : ""}`));
  return fig;
}

// ---- mask explorers (SuperpixelExplorer, TextExplorer) ---------------------------------------------
// The user keeps or removes parts of one input (superpixels, words); the view asks "predict" for that mask
// and draws one probability bar per shown class. These helpers take the view: `model`, `requester`,
// `state` (`mask`: a Uint8Array, 1 = kept; `predictions`: answers drawn; `showOverlay`), `dom` (`root`,
// `status`, `barsBox`, `topLine`, `overlayButton`, `infoBox`, `infoTitle`, `infoQuality`) and `explorer`,
// what is the view's own: `drawBars(view, bars, top)`, `showKernelPrediction(view)`, `loadAll(view)`,
// `drawControls(view)`, `sync` (the action that tells the kernel which mask a table answer put on screen),
// `noKernel` (what, in an exported page, needs a kernel when the tables cannot answer a mask) and, optionally,
// `drawn(view, data, asked, source)` (after an answer is drawn).

/** A mask as text, "1" for each kept part (the page's data-bars-for: tests and latency measurements read it). */
function nbxMaskString(mask) {
  return Array.from(mask, (v) => (v ? "1" : "0")).join("");
}

/** A class's name from an answer table's `names` (keyed by the class index as text), else "class <index>". */
function nbxClassName(names, index) {
  return names[String(index)] ?? `class ${index}`;
}

/** "predict" for the first `m` parts of mask `active` from a 2**M answer table, or undefined where there is
 *  no table for `m` parts. As the kernel sends them: `bars` (one row per mask, row = bitmask of the kept parts,
 *  one column per shown class), `tops` and `topsP` (each row's top class and its probability); `names`: class
 *  names by index. */
function nbxMaskTableAnswer(active, m, { bars, tops, topsP, names }) {
  const table = nbxDecodeArray(bars);
  if (!table || table.shape[0] !== 2 ** m) return undefined;
  let row = 0;
  for (let i = 0; i < m; i++) if (active[i]) row += 2 ** i;
  const c = table.shape[1];
  const index = nbxDecodeArray(tops).data[row];
  return { bars: table.data.slice(row * c, (row + 1) * c),
           top: { index, name: nbxClassName(names || {}, index), probability: nbxDecodeArray(topsP).data[row] } };
}

/** The side panel's prediction: a heading, the bars' box and the predicted-class line (`nbx-<prefix>-…`). */
function nbxPredictionBox(side, prefix) {
  side.appendChild(nbxEl("div", { class: `nbx-${prefix}-heading` }, "prediction"));
  const barsBox = side.appendChild(nbxEl("div", { class: `nbx-${prefix}-bars`, "aria-busy": "false" }));
  const topLine = side.appendChild(nbxEl("div", { class: `nbx-${prefix}-top` }));
  return { barsBox, topLine };
}

/** The explanation panel: the `hint` (text) while there is no explanation, then a box, hidden until there is
 *  one, with its title and quality lines (`nbx-<prefix>-…`). */
function nbxExplanationBox(side, prefix, hint) {
  const hintNode = side.appendChild(nbxEl("div", { class: `nbx-${prefix}-hint` }, hint));
  const infoBox = side.appendChild(nbxEl("div", { class: `nbx-${prefix}-info`, hidden: "" }));
  const infoTitle = infoBox.appendChild(nbxEl("div", { class: `nbx-${prefix}-info-title` }));
  const infoQuality = infoBox.appendChild(nbxEl("ul", { class: `nbx-${prefix}-quality` }));
  return { hint: hintNode, infoBox, infoTitle, infoQuality };
}

/** The explanation box shown with an explanation (`kind`), its title and quality lines (`info`; text), and the
 *  show-explanation toggle (shown with an explanation, pressed while it is drawn). */
function nbxDrawExplanationBox({ state, dom }, kind, info) {
  dom.infoBox.hidden = !kind;
  dom.overlayButton.hidden = !kind;
  dom.overlayButton.setAttribute("aria-pressed", String(state.showOverlay));
  dom.infoTitle.textContent = info.title || "";
  dom.infoQuality.replaceChildren(...(info.quality || []).map((line) => nbxEl("li", {}, line)));
}

/** One bar per shown class (the `classes` trait: index, name, and `full`, its probability for the whole
 *  input, marked by a tick titled `whole`; the `target` highlighted) and the predicted class `top`; `bars`
 *  null draws them empty. Elements are classed `nbx-<prefix>-…`; `labelTracks` names each track for screen
 *  readers (else it is hidden from them). The status bar then says the target's probability with the number
 *  of kept parts of `total` (default: the mask's length) and what they are (`parts`: "words kept"). */
function nbxDrawMaskBars({ model, state, dom }, bars, top, { prefix, whole, parts, total = state.mask.length, labelTracks = false }) {
  const classes = model.get("classes") || [];
  const target = model.get("target");
  const cls = (name) => `nbx-${prefix}-${name}`;
  dom.barsBox.replaceChildren(...classes.map((c, i) => {
    const p = bars ? bars[i] : 0;
    const row = nbxEl("div", { class: `${cls("bar")}${c.index === target ? ` ${cls("target")}` : ""}`,
                               "data-index": String(c.index), "data-probability": String(p) });
    row.appendChild(nbxEl("span", { class: cls("name"), title: c.name }, c.name));
    const track = row.appendChild(nbxEl("span", labelTracks
      ? { class: cls("track"), role: "img", "aria-label": `${c.name}: ${(100 * p).toFixed(1)} percent` }
      : { class: cls("track"), "aria-hidden": "true" }));
    track.appendChild(nbxEl("span", { class: cls("fillbar"), style: { width: `${(100 * p).toFixed(1)}%` } }));
    track.appendChild(nbxEl("span", { class: cls("ghost"), title: whole, style: { left: `${(100 * c.full).toFixed(1)}%` } }));
    row.appendChild(nbxEl("span", { class: cls("value") }, p.toFixed(3)));
    return row;
  }));
  dom.topLine.textContent = top && top.name !== undefined ? `predicted: ${top.name} (${Number(top.probability).toFixed(3)})` : "";
  const t = classes.findIndex((c) => c.index === target);
  if (t >= 0 && bars) {
    const kept = state.mask.reduce((a, v) => a + v, 0);
    dom.status.say(`${classes[t].name}: ${bars[t].toFixed(3)} with ${kept} of ${total} ${parts}; predicted ${top ? top.name : ""}`);
  }
}

/** The bars are settled: they describe the mask on screen (the page's data-bars-for and data-predictions:
 *  tests and latency measurements read them). */
function nbxMarkSettled({ state, dom }) {
  dom.barsBox.setAttribute("aria-busy", "false");
  dom.barsBox.classList.remove("nbx-pending");
  dom.root.dataset.barsFor = nbxMaskString(state.mask);
  dom.root.dataset.predictions = String(state.predictions);
}

/** The kernel's own probabilities (its `bars` and `top` traits) drawn as the view draws bars, settled. */
function nbxShowKernelBars(view) {
  const bars = nbxDecodeArray(view.model.get("bars"));
  view.explorer.drawBars(view, bars ? bars.data : null, view.model.get("top"));
  nbxMarkSettled(view);
}

/** Ask "predict" for the mask on screen (it travels as a binary buffer) and draw the newest answer only: while
 *  it is pending the bars are marked busy, and a newer mask's answer is drawn, never an older one. After a table
 *  answer the kernel is told which mask is shown; on error, or in an exported page that cannot answer the mask,
 *  back to the state the kernel's probabilities describe. */
async function nbxPredictMask(view) {
  const { state, dom, requester, explorer } = view;
  const asked = state.mask.slice();
  dom.barsBox.setAttribute("aria-busy", "true");
  dom.barsBox.classList.add("nbx-pending");
  const answer = await requester.request("predict", { active: asked });
  // a table answer is never stale when it resolves, but clicks made in the same task (a burst) ask again before
  // it is drawn: whether it is still the newest is known only now
  if (answer.stale || !requester.isLatest("predict", answer.id)) return;
  if (answer.status === "ok") {
    if (answer.source === "table") requester.notify(explorer.sync, { active: asked });  // the kernel follows the table
    const data = answer.data;
    const bars = data.bars instanceof Float32Array ? data.bars : nbxDecodeArray(data.bars).data;
    state.predictions++;
    explorer.drawBars(view, bars, data.top);
    nbxMarkSettled(view);
    if (explorer.drawn) explorer.drawn(view, data, asked, answer.source);
  } else if (answer.status === "error") {
    explorer.showKernelPrediction(view);
    dom.status.say("the model failed: see the error above");
  } else if (answer.status === "no-kernel") {
    explorer.showKernelPrediction(view);
    dom.status.say(`${explorer.noKernel} ${NBX_NEEDS_KERNEL}`);
  }
}

/** A kernel request whose result arrives as traits (explain, target, …): the status bar busy with `busyText`;
 *  then the explanation shown, everything redrawn and the status saying `doneText` (a function is called
 *  then), or, when it failed, the menus back to what the kernel holds. */
async function nbxMaskKernelAction(view, action, params, busyText, doneText) {
  const { dom, explorer } = view;
  dom.status.busy(busyText);
  const answer = await view.requester.request(action, params);
  if (answer.stale) return;
  if (answer.status === "ok") {
    view.state.showOverlay = true;
    explorer.loadAll(view);
    dom.status.done(typeof doneText === "function" ? doneText() : doneText);
  } else {
    explorer.drawControls(view);
    dom.status.done(answer.status === "error" ? "failed: see the error above"
      : answer.status === "no-kernel" ? NBX_NEEDS_KERNEL : undefined);
  }
}

/** Changes made from Python (or another view): `redraws` pairs model events with what they redraw, run only
 *  while none of the view's requests or notifications is pending (its own request's answer will be drawn; a
 *  notification's echo would be stale). */
function nbxFollowWhenIdle(model, requester, redraws) {
  const idle = () => requester.inFlight() === 0 && requester.notifying() === 0;
  for (const [events, redraw] of redraws) model.on(events, () => { if (idle()) redraw(); });
}
