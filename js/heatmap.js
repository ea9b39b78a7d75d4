// Heatmap / Comparison view: attribution maps over an image, drawn on canvases.
// Traits: image (H,W,3 uint8), maps (K,H,W float32), limits, signed, titles, classes, target, method(s),
// opacity, colormap, arrangement. Recomputations go through nbxRequester("attribute"); the kernel commits the
// result to the traits and answers; the view redraws only for the newest request.
//
// Answer tables (`answer_tables`, built with precompute=True or in an export): every method x the offered
// classes, as colour indices (drawn exactly as the kernel's float32 map would be) and float16 values (the
// hover read-out). A method or class switch is then answered here (`view.local` holds the answer until the
// kernel, told with a notification, shows the same); in an exported page what the tables lack says it needs
// a running kernel.
//
// Where things are: tableAnswer / indexImage (answers from the tables), buildDom (the page), refreshControls (menus and buttons from the traits), drawPanels
// (the maps), drawColorbar, attachHover (the read-out), recompute (ask the kernel, apply its answer),
// listenToUser and followKernel (events), render (puts them together).

const NBX_HM_COLORMAPS = ["auto", "magma", "viridis", "RdBu", "gray"];

/** The page: toolbar, status bar, error banner, panels, colour bar and hover read-out. */
function buildDom(model, el) {
  const { root, toolbar } = nbxViewRoot(el, "nbx-heatmap");
  const methodLabel = toolbar.appendChild(nbxEl("label", {}, "method "));
  const methodSelect = methodLabel.appendChild(nbxEl("select", { class: "nbx-method", "aria-label": "attribution method" }));
  const targetSelect = nbxLabelled(toolbar, "class ", "select", { class: "nbx-target", "aria-label": "target class" });
  const cmapSelect = nbxLabelled(toolbar, "colours ", "select", { class: "nbx-colormap", "aria-label": "colour map" });
  nbxSetOptions(cmapSelect, NBX_HM_COLORMAPS.map((name) => [name, name]));
  const opacityLabel = toolbar.appendChild(nbxEl("label", {}, "opacity "));
  const opacity = opacityLabel.appendChild(nbxEl("input", { type: "range", min: "0", max: "1", step: "0.05", class: "nbx-opacity", "aria-label": "overlay opacity" }));
  const layoutGroup = toolbar.appendChild(nbxEl("span", { role: "group", "aria-label": "layout" }));
  const overlayButton = layoutGroup.appendChild(nbxEl("button", { type: "button", class: "nbx-layout-overlay" }, "overlay"));
  const sideButton = layoutGroup.appendChild(nbxEl("button", { type: "button", class: "nbx-layout-side" }, "side by side"));

  const status = nbxStatusAndError(model, root);
  const panels = root.appendChild(nbxEl("div", { class: "nbx-panels" }));
  const footer = root.appendChild(nbxEl("div", { class: "nbx-footer", hidden: "" }));
  const colorbar = footer.appendChild(nbxEl("canvas", { class: "nbx-colorbar", width: "256", height: "10" }));
  const scaleText = footer.appendChild(nbxEl("span", { class: "nbx-scale" }));
  const readout = root.appendChild(nbxEl("div", { class: "nbx-readout", "aria-live": "off" }, " "));
  nbxKeepKeys(root);
  return { root, status, methodLabel, methodSelect, targetSelect, cmapSelect, opacityLabel, opacity,
           overlayButton, sideButton, panels, footer, colorbar, scaleText, readout };
}

// ---- answers from the tables ---------------------------------------------------------------------------

/** The kernel-free answer to "attribute": the maps of that method (or, compared, of every method) for that
 *  class, from the tables; undefined when they do not hold it. */
function tableAnswer({ model }, action, params) {
  const t = model.get("answer_tables");
  if (action !== "attribute" || !t || !t.index) return undefined;
  const j = t.classes.indexOf(Number(params.target));
  const rows = t.kind === "comparison" ? t.methods.map((_, i) => i) : [t.methods.indexOf(params.method)];
  if (j < 0 || rows.some((i) => i < 0)) return undefined;
  const known = nbxDecodeArray(t.known).data, index = nbxDecodeArray(t.index), values = nbxDecodeArray(t.values);
  const limits = nbxDecodeArray(t.limits).data;
  const [, nc, h, w] = index.shape;
  if (rows.some((i) => !known[i * nc + j])) return undefined;
  const maps = rows.map((i) => {
    const at = (i * nc + j) * h * w;
    return { index: index.data.subarray(at, at + h * w), values: nbxHalfToFloat(values.data.subarray(at, at + h * w)),
             limits: [limits[(i * nc + j) * 2], limits[(i * nc + j) * 2 + 1]], title: t.titles[i],
             signed: t.signed ? Boolean(t.signed[i]) : true };
  });
  return { method: params.method, target: Number(params.target), maps, w, h };
}

/** RGBA ImageData of a map's colour indices through a lookup table (the indices nbxScalarImage would compute). */
function indexImage(index, width, height, lut) {
  const img = new ImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const t = index[i];
    img.data[i * 4] = lut[t * 3]; img.data[i * 4 + 1] = lut[t * 3 + 1]; img.data[i * 4 + 2] = lut[t * 3 + 2];
    img.data[i * 4 + 3] = 255;
  }
  return img;
}

/** Whether the tables hold method `name` (or, compared, every method) for class `target`. */
function inTables(model, name, target) {
  return tableAnswer({ model }, "attribute", { method: name, target }) !== undefined;
}

/** Menus, slider and layout buttons as the traits say. */
function refreshControls(view) {
  const { model, dom } = view;
  const local = view.local;
  const kernelless = view.requester && view.requester.kernelless;
  const methods = model.get("methods") || [];
  const method = local ? local.method : model.get("method") || "";
  const target = local ? local.target : model.get("target");
  dom.methodLabel.hidden = methods.length === 0;
  nbxSetOptions(dom.methodSelect, methods.map((m) => [m.name, m.label]), method);
  dom.methodSelect.disabled = !model.get("interactive") || methods.length < 2;
  const classes = model.get("classes") || [];
  nbxSetOptions(dom.targetSelect, classes.map((c) => [c.index, `${c.name} (${(c.probability * 100).toFixed(1)}%)`]), target);
  dom.targetSelect.disabled = !model.get("interactive");
  if (kernelless) {  // an exported page: what the tables lack needs a kernel, and says so
    for (const option of dom.methodSelect.options) {
      if (option.value !== method && !inTables(model, option.value, target)) { option.disabled = true; option.textContent += ` (${NBX_NEEDS_KERNEL})`; }
    }
    for (const option of dom.targetSelect.options) {
      if (Number(option.value) !== target && !inTables(model, method, Number(option.value))) { option.disabled = true; option.textContent += ` (${NBX_NEEDS_KERNEL})`; }
    }
  }
  dom.cmapSelect.value = model.get("colormap");
  dom.opacity.value = String(model.get("opacity"));
  const overlay = model.get("arrangement") === "overlay";
  dom.overlayButton.setAttribute("aria-pressed", String(overlay));
  dom.sideButton.setAttribute("aria-pressed", String(!overlay));
  dom.opacityLabel.hidden = !overlay;
}

/** The colour map of map `k`: the chosen one, or by sign ("auto"; a table answer's maps say their own sign). */
function colormapFor(model, k, local = null) {
  const chosen = model.get("colormap");
  if (chosen !== "auto") return chosen;
  return (local ? local.maps[k].signed : (model.get("signed") || [])[k]) ? "RdBu" : "magma";
}

function mapCanvas(width, height, size, label) {
  const c = nbxEl("canvas", { role: "img", "aria-label": label });
  nbxFitCanvas(c, width, height, size);
  return c;
}

/** One figure per map: the map over the image (overlay) or beside it, then the colour bar and the news. */
function drawPanels(view) {
  const { model, dom } = view;
  const local = view.local;
  const image = nbxDecodeArray(model.get("image"));
  const maps = local ? { shape: [local.maps.length, local.h, local.w] } : nbxDecodeArray(model.get("maps"));
  dom.panels.replaceChildren();
  dom.footer.hidden = !image || !maps;
  if (!image || !maps) return;
  const [k, h, w] = maps.shape;
  const titles = local ? local.maps.map((m) => m.title) : model.get("titles") || [];
  const limits = local ? local.maps.map((m) => m.limits) : model.get("limits") || [];
  const size = model.get("display_size");
  const overlay = model.get("arrangement") === "overlay";
  const base = nbxRgbImage(image.data, w, h);
  for (let i = 0; i < k; i++) {
    const values = local ? local.maps[i].values : maps.data.subarray(i * h * w, (i + 1) * h * w);
    const [lo, hi] = limits[i] || [0, 1];
    const heat = document.createElement("canvas");
    heat.width = w; heat.height = h;
    const lut = nbxColormap(colormapFor(model, i, local));
    heat.getContext("2d").putImageData(local ? indexImage(local.maps[i].index, w, h, lut) : nbxScalarImage(values, w, h, lut, lo, hi), 0, 0);
    const panel = dom.panels.appendChild(nbxEl("figure", { class: "nbx-panel" }));
    panel.appendChild(nbxEl("figcaption", {}, titles[i] || ""));
    const row = panel.appendChild(nbxEl("div", { class: "nbx-panel-row" }));
    const title = titles[i] || "attribution";
    if (overlay) {
      const c = row.appendChild(mapCanvas(w, h, size, `${title} over the image`));
      c.classList.add("nbx-map");
      const ctx = c.getContext("2d");
      ctx.putImageData(base, 0, 0);
      ctx.globalAlpha = model.get("opacity");
      ctx.drawImage(heat, 0, 0);
      attachHover(view, c, values, w, h, titles[i]);
    } else {
      const imageCanvas = row.appendChild(mapCanvas(w, h, size, "image"));
      imageCanvas.getContext("2d").putImageData(base, 0, 0);
      const c = row.appendChild(mapCanvas(w, h, size, title));
      c.classList.add("nbx-map");
      c.getContext("2d").drawImage(heat, 0, 0);
      attachHover(view, c, values, w, h, titles[i]);
      attachHover(view, imageCanvas, values, w, h, titles[i]);
    }
  }
  drawColorbar(view, limits[0] || [0, 1]);
  dom.panels.dataset.source = local ? "table" : "kernel";
  const shownTarget = local ? local.target : model.get("target");
  const target = (model.get("classes") || []).find((c) => c.index === shownTarget);
  dom.status.say(target ? `${titles.length > 1 ? "compared" : titles[0]} for ${target.name} (p=${target.probability.toFixed(3)})` : "");
}

/** The colour bar of the first map and its value range (compared maps share −1 … 1). */
function drawColorbar({ model, dom, local }, [lo, hi]) {
  nbxPaintColorbar(dom.colorbar, nbxColormap(colormapFor(model, 0, local)));
  const k = (model.get("titles") || []).length;
  dom.scaleText.textContent = k > 1 ? ` −1 … 1  ${model.get("scale_label")}` : ` ${nbxFormat(lo)} … ${nbxFormat(hi)}  ${model.get("scale_label")}`;
}

/** Hovering a canvas shows the map's value at the pixel under the pointer. */
function attachHover({ dom }, canvas, values, w, h, title) {
  canvas.addEventListener("mousemove", (event) => {
    const [x, y] = nbxPixelAt(event, canvas, w, h);
    const v = values[y * w + x];
    dom.readout.textContent = `${title || "attribution"} at (${x}, ${y}): ${nbxFormat(v)}`;
    dom.readout.dataset.value = String(v);
  });
  canvas.addEventListener("mouseleave", () => { dom.readout.textContent = " "; delete dom.readout.dataset.value; });
}

/** Ask the kernel for another method or class; draw its answer unless a newer request was sent. */
async function recompute(view, params) {
  const answer = await view.requester.request("attribute", params);
  if (answer.stale) return;  // a newer request is on its way: never draw an older result
  view.dom.status.done();
  if (answer.source === "table") {
    view.local = answer.data;
    if (!view.requester.kernelless) view.requester.notify("attribute", params);  // the kernel follows
  }
  if (answer.status === "ok") { refreshControls(view); drawPanels(view); }
  else if (answer.status === "error") { view.dom.status.say("failed: see the error above"); refreshControls(view); }
  else if (answer.status === "no-kernel") { view.dom.status.say(`that ${NBX_NEEDS_KERNEL}`); refreshControls(view); }
}

/** What the user does: menus recompute in the kernel; colours, opacity and layout redraw here. */
function listenToUser(view) {
  const { model, dom } = view;
  const ask = () => recompute(view, { method: dom.methodSelect.value, target: Number(dom.targetSelect.value) });
  const setAndDraw = (name, value) => { model.set(name, value); nbxSave(model); refreshControls(view); drawPanels(view); };
  dom.methodSelect.addEventListener("change", ask);
  dom.targetSelect.addEventListener("change", ask);
  dom.cmapSelect.addEventListener("change", () => setAndDraw("colormap", dom.cmapSelect.value));
  dom.opacity.addEventListener("input", () => setAndDraw("opacity", Number(dom.opacity.value)));
  dom.overlayButton.addEventListener("click", () => setAndDraw("arrangement", "overlay"));
  dom.sideButton.addEventListener("click", () => setAndDraw("arrangement", "side-by-side"));
}

/** Changes made from Python (or by another view of this model) redraw when no request of ours is pending. */
function followKernel(view) {
  const { model, requester } = view;
  model.on("change:maps", () => {
    if (view.local && requester.notifying() > 0) return;  // the kernel catching up with a table answer
    view.local = null;  // else it moved on (e.g. from Python): its maps are what is shown
    if (requester.inFlight() === 0) { refreshControls(view); drawPanels(view); }
  });
  model.on("change:colormap change:opacity change:arrangement change:display_size", () => { refreshControls(view); drawPanels(view); });
  model.on("change:methods change:classes change:target change:method change:interactive", () => {
    if (requester.inFlight() === 0) refreshControls(view);
  });
}

function render({ model, el }) {
  const dom = buildDom(model, el);
  const holder = {};
  const requester = nbxRequester(model, {
    answer: (action, params) => tableAnswer(holder.view, action, params),
    onProgress: (fraction, _action, elapsed) => dom.status.progress(fraction, elapsed),
    onBusy: (busy) => { if (busy) dom.status.busy(); else dom.status.done(); },
  });
  const view = { model, dom, requester, local: null };
  holder.view = view;
  listenToUser(view);
  followKernel(view);
  refreshControls(view);
  drawPanels(view);
  view.quality = nbxQualityPanel(model, dom.root, requester, { status: dom.status });  // issue 17
  if (requester.kernelless) {
    const t = model.get("answer_tables");
    dom.root.insertBefore(nbxOfflineNote(dom.root, t
      ? `Exported page: every ${t.kind === "comparison" ? "class" : "method and class"} in the menus is drawn from tables; ` +
        `colours, opacity and layout change here. What the tables lack ${NBX_NEEDS_KERNEL}.`
      : `Exported page without answer tables: another method or class ${NBX_NEEDS_KERNEL}.`), dom.status.node);
  }
  return () => dom.root.remove();
}

export default { render };
