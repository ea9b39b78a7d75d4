// Heatmap / Comparison view: attribution maps over an image, drawn on canvases.
// Traits: image (H,W,3 uint8), maps (K,H,W float32), limits, signed, titles, classes, target, method(s),
// opacity, colormap, arrangement. Recomputations go through nbxRequester("attribute"); the kernel commits the
// result to the traits and answers; the view redraws only for the newest request.
//
// Where things are: buildDom (the page), refreshControls (menus and buttons from the traits), drawPanels
// (the maps), drawColorbar, attachHover (the read-out), recompute (ask the kernel, apply its answer),
// listenToUser and followKernel (events), render (puts them together).

const NBX_HM_COLORMAPS = ["auto", "magma", "viridis", "RdBu", "gray"];

/** The page: toolbar, status bar, error banner, panels, colour bar and hover read-out. */
function buildDom(model, el) {
  const root = el.appendChild(nbxEl("div", { class: "nbx-root nbx-heatmap" }));
  const toolbar = root.appendChild(nbxEl("div", { class: "nbx-toolbar" }));
  const methodLabel = toolbar.appendChild(nbxEl("label", {}, "method "));
  const methodSelect = methodLabel.appendChild(nbxEl("select", { class: "nbx-method", "aria-label": "attribution method" }));
  const targetLabel = toolbar.appendChild(nbxEl("label", {}, "class "));
  const targetSelect = targetLabel.appendChild(nbxEl("select", { class: "nbx-target", "aria-label": "target class" }));
  const cmapLabel = toolbar.appendChild(nbxEl("label", {}, "colours "));
  const cmapSelect = cmapLabel.appendChild(nbxEl("select", { class: "nbx-colormap", "aria-label": "colour map" }));
  nbxSetOptions(cmapSelect, NBX_HM_COLORMAPS.map((name) => [name, name]));
  const opacityLabel = toolbar.appendChild(nbxEl("label", {}, "opacity "));
  const opacity = opacityLabel.appendChild(nbxEl("input", { type: "range", min: "0", max: "1", step: "0.05", class: "nbx-opacity", "aria-label": "overlay opacity" }));
  const layoutGroup = toolbar.appendChild(nbxEl("span", { role: "group", "aria-label": "layout" }));
  const overlayButton = layoutGroup.appendChild(nbxEl("button", { type: "button", class: "nbx-layout-overlay" }, "overlay"));
  const sideButton = layoutGroup.appendChild(nbxEl("button", { type: "button", class: "nbx-layout-side" }, "side by side"));

  const status = nbxStatusBar(root);
  nbxErrorBanner(model, root);
  const panels = root.appendChild(nbxEl("div", { class: "nbx-panels" }));
  const footer = root.appendChild(nbxEl("div", { class: "nbx-footer", hidden: "" }));
  const colorbar = footer.appendChild(nbxEl("canvas", { class: "nbx-colorbar", width: "256", height: "10" }));
  const scaleText = footer.appendChild(nbxEl("span", { class: "nbx-scale" }));
  const readout = root.appendChild(nbxEl("div", { class: "nbx-readout", "aria-live": "off" }, " "));
  nbxKeepKeys(root);
  return { root, status, methodLabel, methodSelect, targetSelect, cmapSelect, opacityLabel, opacity,
           overlayButton, sideButton, panels, footer, colorbar, scaleText, readout };
}

/** Menus, slider and layout buttons as the traits say. */
function refreshControls({ model, dom }) {
  const methods = model.get("methods") || [];
  dom.methodLabel.hidden = methods.length === 0;
  nbxSetOptions(dom.methodSelect, methods.map((m) => [m.name, m.label]), model.get("method") || "");
  dom.methodSelect.disabled = !model.get("interactive") || methods.length < 2;
  const classes = model.get("classes") || [];
  nbxSetOptions(dom.targetSelect, classes.map((c) => [c.index, `${c.name} (${(c.probability * 100).toFixed(1)}%)`]), model.get("target"));
  dom.targetSelect.disabled = !model.get("interactive");
  dom.cmapSelect.value = model.get("colormap");
  dom.opacity.value = String(model.get("opacity"));
  const overlay = model.get("arrangement") === "overlay";
  dom.overlayButton.setAttribute("aria-pressed", String(overlay));
  dom.sideButton.setAttribute("aria-pressed", String(!overlay));
  dom.opacityLabel.hidden = !overlay;
}

/** The colour map of map `k`: the chosen one, or by sign ("auto"). */
function colormapFor(model, k) {
  const chosen = model.get("colormap");
  if (chosen !== "auto") return chosen;
  return (model.get("signed") || [])[k] ? "RdBu" : "magma";
}

function mapCanvas(width, height, size, label) {
  const c = nbxEl("canvas", { role: "img", "aria-label": label });
  nbxFitCanvas(c, width, height, size);
  return c;
}

/** One figure per map: the map over the image (overlay) or beside it, then the colour bar and the news. */
function drawPanels(view) {
  const { model, dom } = view;
  const image = nbxDecodeArray(model.get("image"));
  const maps = nbxDecodeArray(model.get("maps"));
  dom.panels.replaceChildren();
  dom.footer.hidden = !image || !maps;
  if (!image || !maps) return;
  const [k, h, w] = maps.shape;
  const titles = model.get("titles") || [];
  const limits = model.get("limits") || [];
  const size = model.get("display_size");
  const overlay = model.get("arrangement") === "overlay";
  const base = nbxRgbImage(image.data, w, h);
  for (let i = 0; i < k; i++) {
    const values = maps.data.subarray(i * h * w, (i + 1) * h * w);
    const [lo, hi] = limits[i] || [0, 1];
    const heat = document.createElement("canvas");
    heat.width = w; heat.height = h;
    heat.getContext("2d").putImageData(nbxScalarImage(values, w, h, nbxColormap(colormapFor(model, i)), lo, hi), 0, 0);
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
  const target = (model.get("classes") || []).find((c) => c.index === model.get("target"));
  dom.status.say(target ? `${titles.length > 1 ? "compared" : titles[0]} for ${target.name} (p=${target.probability.toFixed(3)})` : "");
}

/** The colour bar of the first map and its value range (compared maps share −1 … 1). */
function drawColorbar({ model, dom }, [lo, hi]) {
  nbxPaintColorbar(dom.colorbar, nbxColormap(colormapFor(model, 0)));
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
  if (answer.status === "ok") { refreshControls(view); drawPanels(view); }
  else if (answer.status === "error") { view.dom.status.say("failed: see the error above"); refreshControls(view); }
}

/** What the user does: menus recompute in the kernel; colours, opacity and layout redraw here. */
function listenToUser(view) {
  const { model, dom } = view;
  const ask = () => recompute(view, { method: dom.methodSelect.value, target: Number(dom.targetSelect.value) });
  const setAndDraw = (name, value) => { model.set(name, value); model.save_changes(); refreshControls(view); drawPanels(view); };
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
  model.on("change:maps", () => { if (requester.inFlight() === 0) { refreshControls(view); drawPanels(view); } });
  model.on("change:colormap change:opacity change:arrangement change:display_size", () => { refreshControls(view); drawPanels(view); });
  model.on("change:methods change:classes change:target change:method change:interactive", () => {
    if (requester.inFlight() === 0) refreshControls(view);
  });
}

function render({ model, el }) {
  const dom = buildDom(model, el);
  const requester = nbxRequester(model, {
    onProgress: (fraction, _action, elapsed) => dom.status.progress(fraction, elapsed),
    onBusy: (busy) => { if (busy) dom.status.busy(); else dom.status.done(); },
  });
  const view = { model, dom, requester };
  listenToUser(view);
  followKernel(view);
  refreshControls(view);
  drawPanels(view);
  return () => dom.root.remove();
}

export default { render };
