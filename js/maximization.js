// ChannelGrid / Maximization view: a grid of channel pictures (filters, feature maps, maximised channels).
// Hover names a channel and its value; click (or Enter) opens it larger with, for a maximisation, its
// objective curve and its dataset examples. In "maximize" mode the view starts the optimisation in the
// kernel (run / stop, steps and seed), draws the frames the kernel streams while it runs (only those of the
// newest run), and the final gallery from the traits.
// Traits: images (N,H,W,3 uint8) or maps (N,h,w float32) with limits and colormap, labels, values,
// value_label, title, selected (the only trait the view writes), cell_size, mode; in "maximize" mode also
// curves (N,steps float32), steps, seed, done_steps, stopped_at, has_examples, autostart, interactive.
// Kernel messages: requests "maximize" {steps, seed} or {stop: true} and "examples" {index}; custom
// messages {type: "frame", id, step, steps, images, values} while a run streams.
//
// Where things are: buildDom, pictureOf / drawCells (the grid), drawDetail (the large picture, the curve,
// the examples), showExamples, run / stop, onFrame, listenToUser, followKernel, render.

function buildDom(model, el) {
  const maximize = model.get("mode") === "maximize";
  const root = el.appendChild(nbxEl("div", { class: `nbx-root nbx-maximization${maximize ? " nbx-live-mode" : ""}` }));
  const toolbar = root.appendChild(nbxEl("div", { class: "nbx-toolbar" }));
  toolbar.hidden = !maximize;
  const runButton = toolbar.appendChild(nbxEl("button", { type: "button", class: "nbx-run" }, "▶ run"));
  const stopButton = toolbar.appendChild(nbxEl("button", { type: "button", class: "nbx-stop", disabled: "" }, "■ stop"));
  const stepsLabel = toolbar.appendChild(nbxEl("label", {}, "steps "));
  const steps = stepsLabel.appendChild(nbxEl("input", { type: "number", min: "1", max: "100000", step: "1", class: "nbx-steps", "aria-label": "steps" }));
  const seedLabel = toolbar.appendChild(nbxEl("label", {}, "seed "));
  const seed = seedLabel.appendChild(nbxEl("input", { type: "number", min: "0", step: "1", class: "nbx-seed", "aria-label": "seed" }));
  const status = nbxStatusBar(root, { label: "optimisation progress" });
  nbxErrorBanner(model, root);
  const title = root.appendChild(nbxEl("div", { class: "nbx-title" }));
  const grid = root.appendChild(nbxEl("div", { class: "nbx-grid", role: "group", "aria-label": "channels" }));
  const readout = root.appendChild(nbxEl("div", { class: "nbx-readout", "aria-live": "off" }, " "));
  const detail = root.appendChild(nbxEl("div", { class: "nbx-detail", hidden: "" }));
  const detailHead = detail.appendChild(nbxEl("div", { class: "nbx-detail-head" }));
  const detailTitle = detailHead.appendChild(nbxEl("strong"));
  const close = detailHead.appendChild(nbxEl("button", { type: "button", class: "nbx-close", "aria-label": "close" }, "×"));
  const detailRow = detail.appendChild(nbxEl("div", { class: "nbx-detail-row" }));
  const big = detailRow.appendChild(nbxEl("canvas", { class: "nbx-big", role: "img" }));
  const side = detailRow.appendChild(nbxEl("div", { class: "nbx-side" }));
  const curve = side.appendChild(nbxEl("canvas", { class: "nbx-curve", width: "280", height: "100", role: "img", "aria-label": "objective per step" }));
  const curveText = side.appendChild(nbxEl("div", { class: "nbx-curve-text" }));
  const examplesTitle = detail.appendChild(nbxEl("div", { class: "nbx-examples-title", hidden: "" }, "dataset examples (the pool patches that excite this channel most)"));
  const examples = detail.appendChild(nbxEl("div", { class: "nbx-examples" }));
  nbxKeepKeys(root);
  return { root, toolbar, runButton, stopButton, steps, seed, status, title, grid, readout, detail, detailTitle,
           close, big, curve, curveText, examplesTitle, examples };
}

/** ImageData of picture `i`: from the frame being streamed, the images trait, or a coloured map. */
function pictureOf(view, i) {
  const { model } = view;
  const source = view.frame || nbxDecodeArray(model.get("images"));
  if (source) {
    const [, h, w] = source.shape;
    return nbxRgbImage(source.data.subarray(i * h * w * 3, (i + 1) * h * w * 3), w, h);
  }
  const maps = nbxDecodeArray(model.get("maps"));
  if (!maps) return null;
  const [, h, w] = maps.shape;
  const [lo, hi] = model.get("limits") || [0, 1];
  return nbxScalarImage(maps.data.subarray(i * h * w, (i + 1) * h * w), w, h, nbxColormap(model.get("colormap")), lo, hi);
}

function count(view) {
  const source = view.frame || nbxDecodeArray(view.model.get("images")) || nbxDecodeArray(view.model.get("maps"));
  return source ? source.shape[0] : 0;
}

function valueText(view, i) {
  const values = view.frameValues || view.model.get("values") || [];
  const label = view.frameValues ? "objective" : view.model.get("value_label");
  const v = values[i];
  return v === undefined || v === null || Number.isNaN(v) ? "" : `${label} ${nbxFormat(v)}`;
}

/** One cell per picture: a button holding a canvas and the channel's label. */
function drawCells(view) {
  const { model, dom } = view;
  const n = count(view);
  const labels = model.get("labels") || [];
  const size = model.get("cell_size");
  if (dom.grid.children.length !== n) {
    dom.grid.replaceChildren();
    for (let i = 0; i < n; i++) {
      const cell = dom.grid.appendChild(nbxEl("button", { type: "button", class: "nbx-cell", "data-index": String(i) }));
      cell.appendChild(nbxEl("canvas", { role: "img" }));
      cell.appendChild(nbxEl("span", { class: "nbx-cell-label" }));
      cell.addEventListener("click", () => select(view, i));
      cell.addEventListener("mouseenter", () => { dom.readout.textContent = `${labels[i] || `channel ${i}`} · ${valueText(view, i)}`; });
      cell.addEventListener("focus", () => { dom.readout.textContent = `${labels[i] || `channel ${i}`} · ${valueText(view, i)}`; });
      cell.addEventListener("mouseleave", () => { dom.readout.textContent = " "; });
    }
  }
  const selected = model.get("selected");
  for (let i = 0; i < n; i++) {
    const cell = dom.grid.children[i];
    const picture = pictureOf(view, i);
    const canvas = cell.querySelector("canvas");
    if (picture) {
      nbxFitCanvas(canvas, picture.width, picture.height, size);
      canvas.getContext("2d").putImageData(picture, 0, 0);
    }
    const label = labels[i] || `channel ${i}`;
    cell.querySelector(".nbx-cell-label").textContent = label;
    cell.setAttribute("aria-pressed", String(i === selected));
    cell.title = `${label} · ${valueText(view, i)}`;
    canvas.setAttribute("aria-label", `${label}, ${valueText(view, i)}`);
  }
  dom.title.textContent = model.get("title") || "";
}

/** The selected channel large, its objective curve (a maximisation) and the place for its examples. */
function drawDetail(view) {
  const { model, dom } = view;
  const i = model.get("selected");
  const n = count(view);
  dom.detail.hidden = !(i >= 0 && i < n);
  if (dom.detail.hidden) return;
  const label = (model.get("labels") || [])[i] || `channel ${i}`;
  dom.detailTitle.textContent = `${label} · ${valueText(view, i)}`;
  const picture = pictureOf(view, i);
  if (picture) {
    nbxFitCanvas(dom.big, picture.width, picture.height, 224);
    dom.big.getContext("2d").putImageData(picture, 0, 0);
    dom.big.setAttribute("aria-label", `${label} enlarged`);
  }
  const curves = model.get("mode") === "maximize" ? nbxDecodeArray(model.get("curves")) : null;
  dom.curve.hidden = !curves;
  dom.curveText.textContent = "";
  if (curves && !view.frame) {
    const [, steps] = curves.shape;
    const row = curves.data.subarray(i * steps, (i + 1) * steps);
    const ctx = dom.curve.getContext("2d");
    const { width: w, height: h } = dom.curve;
    ctx.clearRect(0, 0, w, h);
    let lo = Infinity, hi = -Infinity;
    for (const v of row) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (!(hi > lo)) hi = lo + 1;
    ctx.strokeStyle = nbxThemeColor(dom.root, "--jp-brand-color1", "#1976d2");
    ctx.lineWidth = 1.5;
    nbxStrokeLine(ctx, steps, (k) => (k / Math.max(1, steps - 1)) * (w - 2) + 1, (k) => h - 2 - ((row[k] - lo) / (hi - lo)) * (h - 4));
    dom.curveText.textContent = `objective: ${nbxFormat(row[0])} at step 1 → ${nbxFormat(row[steps - 1])} at step ${steps}`;
    dom.curve.dataset.first = String(row[0]);
    dom.curve.dataset.last = String(row[steps - 1]);
  }
}

/** Choose cell `i`: tell the kernel (a validated trait), draw it large, ask for its dataset examples. */
function select(view, i) {
  const { model } = view;
  model.set("selected", i);
  nbxSave(model);
  drawCells(view);
  drawDetail(view);
  loadExamples(view, i);
}

async function loadExamples(view, i) {
  const { model, dom } = view;
  dom.examples.replaceChildren();
  delete dom.examples.dataset.values;
  delete dom.examples.dataset.images;
  dom.examplesTitle.hidden = true;
  if (model.get("mode") !== "maximize" || !model.get("has_examples") || i < 0) return;
  dom.examples.appendChild(nbxEl("span", { class: "nbx-pending" }, "finding dataset examples…"));
  const answer = await view.requester.request("examples", { index: i });
  if (answer.stale || model.get("selected") !== i) return;
  dom.examples.replaceChildren();
  if (answer.status === "no-kernel") dom.examples.appendChild(nbxEl("span", { class: "nbx-pending" }, `dataset examples: ${NBX_NEEDS_KERNEL}`));
  if (answer.status !== "ok") return;
  showExamples(view, answer.data);
}

function showExamples(view, data) {
  const { dom } = view;
  const patches = nbxDecodeArray(data.patches);
  const values = nbxDecodeArray(data.values);
  const images = nbxDecodeArray(data.image);
  dom.examplesTitle.hidden = false;
  const [k, ph, pw] = patches.shape;
  for (let j = 0; j < k; j++) {
    const fig = dom.examples.appendChild(nbxEl("figure", { class: "nbx-example" }));
    const canvas = fig.appendChild(nbxEl("canvas", { role: "img", "aria-label": `example ${j + 1}: activation ${nbxFormat(values.data[j])}` }));
    nbxFitCanvas(canvas, pw, ph, 72);
    canvas.getContext("2d").putImageData(nbxRgbImage(patches.data.subarray(j * ph * pw * 3, (j + 1) * ph * pw * 3), pw, ph), 0, 0);
    fig.appendChild(nbxEl("figcaption", {}, `${nbxFormat(values.data[j])} · image ${images.data[j]}`));
  }
  dom.examples.dataset.channel = String(data.channel);
  dom.examples.dataset.values = JSON.stringify(Array.from(values.data));
  dom.examples.dataset.images = JSON.stringify(Array.from(images.data));
}

function setRunning(view, running) {
  view.dom.runButton.disabled = running || !view.model.get("interactive");
  view.dom.stopButton.disabled = !running;
}

/** Start an optimisation in the kernel; frames stream in until it ends or is stopped. */
async function run(view) {
  const { model, dom } = view;
  const params = {};
  const steps = Number(dom.steps.value);
  const seed = Number(dom.seed.value);
  if (Number.isInteger(steps) && steps > 0) params.steps = steps;
  if (Number.isInteger(seed) && seed >= 0) params.seed = seed;
  view.frames = 0;
  dom.root.dataset.frames = "0";
  setRunning(view, true);
  dom.status.busy("starting…");
  const answer = await view.requester.request("maximize", params);
  if (answer.stale) return;
  finish(view, answer);
}

async function stop(view) {
  view.dom.status.busy("stopping…");
  const answer = await view.requester.request("maximize", { stop: true });
  if (answer.stale) return;
  finish(view, answer);
}

function finish(view, answer) {
  const { model, dom } = view;
  view.frame = null;
  view.frameValues = null;
  setRunning(view, false);
  if (answer.status === "ok") {
    const stopped = model.get("stopped_at");
    dom.status.done(stopped >= 0 ? `stopped at step ${stopped} of ${model.get("steps")}` : `done: ${model.get("done_steps")} steps`);
    dom.root.dataset.state = stopped >= 0 ? "stopped" : "done";
  } else if (answer.status === "error") {
    dom.status.done("failed: see the error above");
    dom.root.dataset.state = "error";
  } else if (answer.status === "no-kernel") {
    dom.status.done(`optimising ${NBX_NEEDS_KERNEL}`);
  }
  refreshControls(view);
  drawCells(view);
  drawDetail(view);
}

/** A streamed frame of the newest run: draw it in the cells (and the detail picture). */
function onFrame(view, msg, buffers) {
  if (!msg || msg.type !== "frame" || !view.requester.isLatest("maximize", msg.id)) return;
  nbxRestoreBuffers(msg, buffers || []);
  view.frame = nbxDecodeArray(msg.images);
  view.frameValues = Array.from(nbxDecodeArray(msg.values).data);
  view.frames += 1;
  view.dom.root.dataset.frames = String(view.frames);
  view.dom.root.dataset.step = String(msg.step);
  view.dom.status.say(`step ${msg.step} of ${msg.steps}`);
  drawCells(view);
  drawDetail(view);
}

function refreshControls(view) {
  const { model, dom } = view;
  dom.steps.value = String(model.get("steps"));
  dom.seed.value = String(Math.max(0, model.get("seed")));
  dom.runButton.disabled = !model.get("interactive") || view.requester.inFlight() > 0;
  dom.steps.disabled = dom.seed.disabled = !model.get("interactive");
}

function listenToUser(view) {
  const { dom } = view;
  dom.runButton.addEventListener("click", () => run(view));
  dom.stopButton.addEventListener("click", () => stop(view));
  dom.close.addEventListener("click", () => select(view, -1));
}

/** Changes made from Python redraw when no request of ours is pending. */
function followKernel(view) {
  const { model, requester } = view;
  model.on("msg:custom", (msg, buffers) => onFrame(view, msg, buffers));
  model.on("change:images change:maps change:labels change:values change:curves change:title", () => {
    if (requester.inFlight() === 0) { drawCells(view); drawDetail(view); }
  });
  model.on("change:selected", () => { drawCells(view); drawDetail(view); });
  model.on("change:steps change:seed change:interactive", () => refreshControls(view));
}

function render({ model, el }) {
  const dom = buildDom(model, el);
  const view = { model, dom, frame: null, frameValues: null, frames: 0 };
  view.requester = nbxRequester(model, {
    onProgress: (fraction, _action, elapsed) => dom.status.progress(fraction, elapsed),
    onBusy: (busy) => { if (!busy) dom.status.done(); },
  });
  listenToUser(view);
  followKernel(view);
  refreshControls(view);
  drawCells(view);
  drawDetail(view);
  if (model.get("selected") >= 0) loadExamples(view, model.get("selected"));
  if (model.get("mode") === "maximize" && model.get("autostart") && model.get("interactive") && count(view) === 0) run(view);
  return () => dom.root.remove();
}

export default { render };
