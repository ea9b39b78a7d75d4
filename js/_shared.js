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
 * `notify(action, params)` only tells the kernel something (e.g. which mask a table answer put on
 * screen): the same request message, but nothing waits for its answer and the view is not busy.
 * `notifying()` counts the notifications the kernel has not answered yet (their echoes are stale).
 *
 * `onProgress(fraction, action, elapsedMs)` is called for the newest request of an action only;
 * `onBusy(isBusy)` when the first request goes out and when the last one is answered.
 */
function nbxRequester(model, { answer = null, onProgress = null, onBusy = null } = {}) {
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
    model.send({ type: "request", id, action, params: lifted, buffer_paths: paths }, undefined, buffers);
  }
  function request(action, params = {}) {
    const id = ++nextId;
    latest[action] = id;
    if (answer) {
      const local = answer(action, params);
      if (local !== undefined) return Promise.resolve({ status: "ok", data: local, error: null, stale: false, source: "table", id });
    }
    return new Promise((resolve) => {
      pending.set(id, { action, resolve, sent: performance.now() });
      setBusy();
      send(id, action, params);
    });
  }
  function notify(action, params = {}) {
    const id = ++nextId;
    notified.add(id);
    send(id, action, params);
    return id;
  }
  return { request, notify, inFlight: () => pending.size, notifying: () => notified.size,
           isLatest: (action, id) => latest[action] === id };
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
