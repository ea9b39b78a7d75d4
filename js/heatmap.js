// Heatmap / Comparison view: attribution maps over an image, drawn on canvases.
// Traits: image (H,W,3 uint8), maps (K,H,W float32), limits, signed, titles, classes, target, method(s),
// opacity, colormap, arrangement. Recomputations go through nbxRequester("attribute"); the kernel commits the
// result to the traits and answers; the view redraws only for the newest request.

function render({ model, el }) {
  const root = el.appendChild(nbxEl("div", { class: "nbx-root nbx-heatmap" }));
  const toolbar = root.appendChild(nbxEl("div", { class: "nbx-toolbar" }));

  const methodLabel = toolbar.appendChild(nbxEl("label", {}, "method "));
  const methodSelect = methodLabel.appendChild(nbxEl("select", { class: "nbx-method", "aria-label": "attribution method" }));
  const targetLabel = toolbar.appendChild(nbxEl("label", {}, "class "));
  const targetSelect = targetLabel.appendChild(nbxEl("select", { class: "nbx-target", "aria-label": "target class" }));
  const cmapLabel = toolbar.appendChild(nbxEl("label", {}, "colours "));
  const cmapSelect = cmapLabel.appendChild(nbxEl("select", { class: "nbx-colormap", "aria-label": "colour map" }));
  for (const name of ["auto", "magma", "viridis", "RdBu", "gray"]) cmapSelect.appendChild(nbxEl("option", { value: name }, name));
  const opacityLabel = toolbar.appendChild(nbxEl("label", {}, "opacity "));
  const opacity = nbxKeepKeys(opacityLabel.appendChild(nbxEl("input", { type: "range", min: "0", max: "1", step: "0.05", class: "nbx-opacity", "aria-label": "overlay opacity" })));
  nbxKeepKeys(toolbar);
  const layoutGroup = toolbar.appendChild(nbxEl("span", { role: "group", "aria-label": "layout" }));
  const overlayButton = layoutGroup.appendChild(nbxEl("button", { type: "button", class: "nbx-layout-overlay" }, "overlay"));
  const sideButton = layoutGroup.appendChild(nbxEl("button", { type: "button", class: "nbx-layout-side" }, "side by side"));

  const status = root.appendChild(nbxEl("div", { class: "nbx-status" }));
  const progress = status.appendChild(nbxEl("progress", { max: "1", hidden: "" }));
  const live = status.appendChild(nbxEl("span", { class: "nbx-live", "aria-live": "polite" }));
  nbxErrorBanner(model, root);

  const panels = root.appendChild(nbxEl("div", { class: "nbx-panels" }));
  const footer = root.appendChild(nbxEl("div", { class: "nbx-footer" }));
  const colorbar = footer.appendChild(nbxEl("canvas", { class: "nbx-colorbar", width: "256", height: "10" }));
  const scaleText = footer.appendChild(nbxEl("span", { class: "nbx-scale" }));
  const readout = root.appendChild(nbxEl("div", { class: "nbx-readout", "aria-live": "off" }, " "));

  const requester = nbxRequester(model, {
    onProgress: (fraction) => { progress.hidden = false; progress.value = fraction; },
    onBusy: (isBusy) => { progress.hidden = !isBusy; if (isBusy) { progress.removeAttribute("value"); live.textContent = "computing…"; } },
  });

  let decoded = { image: null, maps: null };

  function refreshControls() {
    const methods = model.get("methods") || [];
    methodLabel.hidden = methods.length === 0;
    methodSelect.replaceChildren(...methods.map((m) => nbxEl("option", { value: m.name }, m.label)));
    methodSelect.value = model.get("method") || "";
    methodSelect.disabled = !model.get("interactive") || methods.length < 2;
    const classes = model.get("classes") || [];
    targetSelect.replaceChildren(...classes.map((c) =>
      nbxEl("option", { value: String(c.index) }, `${c.name} (${(c.probability * 100).toFixed(1)}%)`)));
    targetSelect.value = String(model.get("target"));
    targetSelect.disabled = !model.get("interactive");
    cmapSelect.value = model.get("colormap");
    opacity.value = String(model.get("opacity"));
    const layout = model.get("arrangement");
    overlayButton.setAttribute("aria-pressed", String(layout === "overlay"));
    sideButton.setAttribute("aria-pressed", String(layout !== "overlay"));
    opacityLabel.hidden = layout !== "overlay";
  }

  function colormapFor(k) {
    const chosen = model.get("colormap");
    if (chosen !== "auto") return chosen;
    return (model.get("signed") || [])[k] ? "RdBu" : "magma";
  }

  function canvas(width, height, size, label) {
    const c = nbxEl("canvas", { width: String(width), height: String(height), role: "img", "aria-label": label });
    const scale = size / Math.max(width, height);
    c.style.width = `${Math.round(width * scale)}px`;
    c.style.height = `${Math.round(height * scale)}px`;
    if (scale >= 2) c.style.imageRendering = "pixelated";
    return c;
  }

  function draw() {
    decoded.image = nbxDecodeArray(model.get("image"));
    decoded.maps = nbxDecodeArray(model.get("maps"));
    panels.replaceChildren();
    if (!decoded.image || !decoded.maps) return;
    const [k, h, w] = decoded.maps.shape;
    const titles = model.get("titles") || [];
    const limits = model.get("limits") || [];
    const size = model.get("display_size");
    const overlay = model.get("arrangement") === "overlay";
    const base = nbxRgbImage(decoded.image.data, w, h);
    for (let i = 0; i < k; i++) {
      const values = decoded.maps.data.subarray(i * h * w, (i + 1) * h * w);
      const [lo, hi] = limits[i] || [0, 1];
      const heat = nbxScalarImage(values, w, h, nbxColormap(colormapFor(i)), lo, hi);
      const panel = panels.appendChild(nbxEl("figure", { class: "nbx-panel" }));
      panel.appendChild(nbxEl("figcaption", {}, titles[i] || ""));
      const row = panel.appendChild(nbxEl("div", { class: "nbx-panel-row" }));
      const heatCanvas = document.createElement("canvas");
      heatCanvas.width = w; heatCanvas.height = h;
      heatCanvas.getContext("2d").putImageData(heat, 0, 0);
      if (overlay) {
        const c = row.appendChild(canvas(w, h, size, `${titles[i] || "attribution"} over the image`));
        c.classList.add("nbx-map");
        const ctx = c.getContext("2d");
        ctx.putImageData(base, 0, 0);
        ctx.globalAlpha = model.get("opacity");
        ctx.drawImage(heatCanvas, 0, 0);
        attachHover(c, values, w, h, titles[i]);
      } else {
        const imageCanvas = row.appendChild(canvas(w, h, size, "image"));
        imageCanvas.getContext("2d").putImageData(base, 0, 0);
        const c = row.appendChild(canvas(w, h, size, `${titles[i] || "attribution"}`));
        c.classList.add("nbx-map");
        c.getContext("2d").drawImage(heatCanvas, 0, 0);
        attachHover(c, values, w, h, titles[i]);
        attachHover(imageCanvas, values, w, h, titles[i]);
      }
    }
    drawColorbar(limits[0] || [0, 1]);
    const target = (model.get("classes") || []).find((c) => c.index === model.get("target"));
    live.textContent = target ? `${titles.length > 1 ? "compared" : titles[0]} for ${target.name} (p=${target.probability.toFixed(3)})` : "";
  }

  function drawColorbar([lo, hi]) {
    const ctx = colorbar.getContext("2d");
    const lut = nbxColormap(colormapFor(0));
    for (let x = 0; x < 256; x++) {
      ctx.fillStyle = `rgb(${lut[x * 3]},${lut[x * 3 + 1]},${lut[x * 3 + 2]})`;
      ctx.fillRect(x, 0, 1, 10);
    }
    const k = (model.get("titles") || []).length;
    scaleText.textContent = k > 1 ? ` −1 … 1  ${model.get("scale_label")}` : ` ${nbxFormat(lo)} … ${nbxFormat(hi)}  ${model.get("scale_label")}`;
  }

  function attachHover(c, values, w, h, title) {
    c.addEventListener("mousemove", (event) => {
      const x = Math.min(w - 1, Math.max(0, Math.floor((event.offsetX * w) / c.clientWidth)));
      const y = Math.min(h - 1, Math.max(0, Math.floor((event.offsetY * h) / c.clientHeight)));
      const v = values[y * w + x];
      readout.textContent = `${title || "attribution"} at (${x}, ${y}): ${nbxFormat(v)}`;
      readout.dataset.value = String(v);
    });
    c.addEventListener("mouseleave", () => { readout.textContent = " "; delete readout.dataset.value; });
  }

  async function recompute(params) {
    const answer = await requester.request("attribute", params);
    if (answer.stale) return;  // a newer request is on its way: never draw an older result
    progress.hidden = true;
    if (answer.status === "ok") { refreshControls(); draw(); }
    else if (answer.status === "error") { live.textContent = "failed: see the error above"; refreshControls(); }
  }

  methodSelect.addEventListener("change", () => recompute({ method: methodSelect.value, target: Number(targetSelect.value) }));
  targetSelect.addEventListener("change", () => recompute({ method: methodSelect.value, target: Number(targetSelect.value) }));
  cmapSelect.addEventListener("change", () => { model.set("colormap", cmapSelect.value); model.save_changes(); draw(); });
  opacity.addEventListener("input", () => { model.set("opacity", Number(opacity.value)); model.save_changes(); draw(); });
  overlayButton.addEventListener("click", () => { model.set("arrangement", "overlay"); model.save_changes(); refreshControls(); draw(); });
  sideButton.addEventListener("click", () => { model.set("arrangement", "side-by-side"); model.save_changes(); refreshControls(); draw(); });

  // Changes made from Python (or by another view of this model) redraw when no request of ours is pending.
  const onKernelChange = () => { if (requester.inFlight() === 0) { refreshControls(); draw(); } };
  model.on("change:maps", onKernelChange);
  model.on("change:colormap change:opacity change:arrangement change:display_size", () => { refreshControls(); draw(); });
  model.on("change:methods change:classes change:target change:method change:interactive", () => {
    if (requester.inFlight() === 0) refreshControls();
  });

  refreshControls();
  draw();
  return () => root.remove();
}

export default { render };
