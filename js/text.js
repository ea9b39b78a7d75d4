// TextExplorer view: the text as tokens (each a focusable element, its text set with textContent; the gaps
// between tokens are text nodes) beside the class probabilities. Click a token, or drag across a phrase, to
// remove it (or replace it with the mask token); the view asks "predict" for the new mask through
// nbxRequester and draws the newest answer only (from the answer table when the kernel sent one, else from
// the kernel; after a table answer the kernel is notified). Explanations colour the tokens (diverging
// colours, a legend, values on hover and in each token's accessible name); an anchor highlights its tokens
// and lists sampled texts that keep or flip the prediction. Nothing the user wrote is ever parsed as HTML.
//
// Keys: arrows move between tokens, Home/End jump, Space/Enter toggles the focused token (or the selection),
// Shift+arrows extend a selection, Escape clears it.
//
// Where things are: buildDom (the page), tokenRange / nextMask / tokenColour / tableAnswer (pure helpers),
// buildTokens and paintTokens (the text), drawBars, drawInfo, drawControls, setMask (asking and applying
// answers: nbxPredictMask and nbxMaskKernelAction, shared with SuperpixelExplorer in js/_shared.js, redraw
// through the view's `explorer`), listenToUser and followKernel (events), render.

const NBX_TX_RDBU = nbxColormap("RdBu");

/** The page: toolbars, status bar, error banner, the text, the prediction bars and the explanation panel. */
function buildDom(model, el) {
  const { root, toolbar } = nbxViewRoot(el, "nbx-text");
  const targetSelect = nbxLabelled(toolbar, "class ", "select", { class: "nbx-target", "aria-label": "explained class" });
  const modeSelect = nbxLabelled(toolbar, "a removed word ", "select", { class: "nbx-tx-mode", "aria-label": "what a removed word becomes" });
  const actions = root.appendChild(nbxEl("div", { class: "nbx-toolbar nbx-actions" }));
  const resetButton = actions.appendChild(nbxEl("button", { type: "button", class: "nbx-reset" }, "Reset"));
  actions.appendChild(nbxEl("span", { class: "nbx-sep", "aria-hidden": "true" }, "|"));
  const explainBox = actions.appendChild(nbxEl("span", { class: "nbx-tx-explainers", role: "group", "aria-label": "explain with" }));
  const overlayButton = actions.appendChild(nbxEl("button", { type: "button", class: "nbx-show-overlay", "aria-pressed": "true" }, "show explanation"));

  const status = nbxStatusAndError(model, root);

  const main = root.appendChild(nbxEl("div", { class: "nbx-tx-main" }));
  const textBox = main.appendChild(nbxEl("div", { class: "nbx-tx-text", role: "group",
    "aria-label": "the text: click a word, or drag across words, to remove them; arrows move, space toggles" }));
  const side = main.appendChild(nbxEl("div", { class: "nbx-tx-side" }));
  const { barsBox, topLine } = nbxPredictionBox(side, "tx");
  const hover = side.appendChild(nbxEl("div", { class: "nbx-tx-hover" }));
  const { hint, infoBox, infoTitle, infoQuality } = nbxExplanationBox(side, "tx",
    "LIME, Shapley values, Anchor or IG colour the words by how much they matter.");
  const legend = infoBox.appendChild(nbxEl("div", { class: "nbx-tx-legend", hidden: "" }));
  const legendLow = legend.appendChild(nbxEl("span", { class: "nbx-tx-legend-low" }));
  const legendBar = legend.appendChild(nbxEl("canvas", { class: "nbx-colorbar", width: "128", height: "8", "aria-hidden": "true" }));
  const legendHigh = legend.appendChild(nbxEl("span", { class: "nbx-tx-legend-high" }));
  const legendText = infoBox.appendChild(nbxEl("div", { class: "nbx-tx-legend-text" }));
  const examples = infoBox.appendChild(nbxEl("div", { class: "nbx-tx-examples", hidden: "" }));
  nbxKeepKeys(root);
  return { root, status, targetSelect, modeSelect, resetButton, explainBox, overlayButton, textBox, barsBox, topLine,
           hover, hint, infoBox, infoTitle, infoQuality, legend, legendLow, legendBar, legendHigh, legendText, examples };
}

// ---- pure helpers (tested with node --test) --------------------------------------------------------------

/** The tokens from `a` to `b` (either order), inclusive, as [low, high]. */
function tokenRange(a, b) { return a <= b ? [a, b] : [b, a]; }

/** The mask after acting on tokens low..high: one token toggles; a range is removed, or put back when every
 *  token of it was removed already. */
function nextMask(mask, low, high) {
  const next = Uint8Array.from(mask);
  if (low === high) { next[low] = next[low] ? 0 : 1; return next; }
  let allRemoved = true;
  for (let i = low; i <= high; i++) if (mask[i]) allRemoved = false;
  for (let i = low; i <= high; i++) next[i] = allRemoved ? 1 : 0;
  return next;
}

/** The CSS colour of a token with value `v` on the diverging scale ±`limit` (red positive, blue negative). */
function tokenColour(v, limit, lut = NBX_TX_RDBU) {
  const t = Math.max(0, Math.min(255, Math.round(((v / (limit || 1)) + 1) * 127.5)));
  return `rgb(${lut[t * 3]},${lut[t * 3 + 1]},${lut[t * 3 + 2]})`;
}

/** The local answerer: "predict" from the answer table when the kernel sent one (row = bitmask of the
 *  tokens kept); undefined sends the request to the kernel. */
function tableAnswer(model, action, params) {
  const t = model.get("answer_tables");
  if (action !== "predict" || !t) return undefined;
  return nbxMaskTableAnswer(params.active, params.active.length, { bars: t.bars, tops: t.top, topsP: t.top_p, names: t.names });
}

// ---- the text --------------------------------------------------------------------------------------------

/** One element per token (textContent), the gaps as text nodes between them: the text reads as written. */
function buildTokens(view) {
  const { model, state, dom } = view;
  const tokens = model.get("tokens") || [];
  const gaps = model.get("gaps") || [];
  const interactive = model.get("interactive");
  dom.textBox.replaceChildren();
  state.tokenEls = tokens.map((tok, i) => {
    dom.textBox.appendChild(document.createTextNode(gaps[i] || ""));
    const span = dom.textBox.appendChild(nbxEl("span", { class: "nbx-tx-tok", role: "button", "data-index": String(i),
      tabindex: i === 0 ? "0" : "-1", "aria-pressed": "true", "aria-disabled": String(!interactive) }, tok));
    span.addEventListener("pointerdown", (event) => startDrag(view, event, i));
    span.addEventListener("pointerenter", () => { moveDrag(view, i); showHover(view, i); });
    span.addEventListener("focus", () => { state.focused = i; setRoving(view, i); showHover(view, i); });
    span.addEventListener("keydown", (event) => onKey(view, event, i));
    return span;
  });
  dom.textBox.appendChild(document.createTextNode(gaps[tokens.length] || ""));
  state.mask = kernelMask(model, tokens.length);
  state.selection = null;
}

function kernelMask(model, n) {
  const a = nbxDecodeArray(model.get("active"));
  return a && a.data.length === n ? Uint8Array.from(a.data, (v) => (v ? 1 : 0)) : new Uint8Array(n).fill(1);
}

function setRoving({ state }, i) { state.tokenEls.forEach((el, j) => el.setAttribute("tabindex", j === i ? "0" : "-1")); }

/** The value of token i under the current explanation (null without one). */
function tokenValue({ model, state }, i) {
  if (!state.showOverlay || !model.get("overlay")) return null;
  const values = nbxDecodeArray(model.get("overlay_values"));
  return values && i < values.data.length ? values.data[i] : null;
}

/** Colours, removed marks, the anchor, the selection, and each token's accessible name and tooltip. */
function paintTokens(view) {
  const { model, state } = view;
  const kind = state.showOverlay ? model.get("overlay") : "";
  const info = model.get("overlay_info") || {};
  const anchor = kind === "anchor" ? new Set(model.get("anchor") || []) : null;
  const [low, high] = state.selection ? tokenRange(...state.selection) : [-1, -2];
  state.tokenEls.forEach((el, i) => {
    const present = Boolean(state.mask[i]);
    const v = tokenValue(view, i);
    el.classList.toggle("nbx-tx-removed", !present);
    el.classList.toggle("nbx-tx-selected", i >= low && i <= high);
    el.classList.toggle("nbx-tx-anchor", Boolean(anchor && anchor.has(i)));
    el.classList.toggle("nbx-tx-dim", Boolean(anchor && !anchor.has(i)));
    el.style.backgroundColor = v !== null && !anchor ? tokenColour(v, info.limit) : "";
    el.style.color = v !== null && !anchor && Math.abs(v) > 0.7 * (info.limit || 1) ? "#fff" : "";
    el.setAttribute("aria-pressed", String(present));
    const valueText = v === null ? "" : anchor ? (anchor.has(i) ? ", in the anchor" : "") : `, ${info.label || "value"} ${nbxFormat(v)}`;
    const what = `${el.textContent}, ${present ? "kept" : "removed"}${valueText}`;
    el.setAttribute("aria-label", what);
    el.title = v === null ? (present ? "click to remove" : "click to put back") : `${nbxFormat(v)} (${info.label || "value"})`;
  });
}

/** The hovered (or focused) token and its value, as text. */
function showHover(view, i) {
  const el = view.state.tokenEls[i];
  const v = tokenValue(view, i);
  const info = view.model.get("overlay_info") || {};
  view.dom.hover.textContent = v === null ? "" : `“${el.textContent}”: ${info.label || "value"} ${nbxFormat(v)}`;
}

// ---- clicks, drags and keys -------------------------------------------------------------------------------

function startDrag(view, event, i) {
  if (!view.model.get("interactive") || event.button !== 0) return;
  event.preventDefault();  // no text selection while dragging
  view.state.drag = [i, i];
  view.state.selection = [i, i];
  view.state.tokenEls[i].focus();
  paintTokens(view);
}

function moveDrag(view, i) {
  const { state } = view;
  if (!state.drag) return;
  state.drag[1] = i;
  state.selection = [...state.drag];
  paintTokens(view);
}

function endDrag(view) {
  const { state } = view;
  if (!state.drag) return;
  const [low, high] = tokenRange(...state.drag);
  state.drag = null;
  state.selection = null;
  setMask(view, nextMask(state.mask, low, high));
}

function onKey(view, event, i) {
  const { state } = view;
  const n = state.tokenEls.length;
  let next = -1;
  if (event.key === "ArrowRight" || event.key === "ArrowDown") next = Math.min(n - 1, i + 1);
  else if (event.key === "ArrowLeft" || event.key === "ArrowUp") next = Math.max(0, i - 1);
  else if (event.key === "Home") next = 0;
  else if (event.key === "End") next = n - 1;
  else if (event.key === " " || event.key === "Enter") {
    if (event.shiftKey && event.key === "Enter") return;  // Shift+Enter runs the cell
    event.preventDefault(); event.stopPropagation();
    if (!view.model.get("interactive")) return;
    const [low, high] = state.selection ? tokenRange(...state.selection) : [i, i];
    state.selection = null;
    setMask(view, nextMask(state.mask, low, high));
    return;
  } else if (event.key === "Escape" && state.selection) {
    event.stopPropagation(); state.selection = null; paintTokens(view); return;
  } else return;
  event.preventDefault();
  event.stopPropagation();  // only the keys the text uses; other shortcuts still reach JupyterLab
  if (event.shiftKey) state.selection = [state.selection ? state.selection[0] : i, next];
  else state.selection = null;
  state.tokenEls[next].focus();
  paintTokens(view);
}

// ---- the side panel --------------------------------------------------------------------------------------

/** One bar per shown class (the target highlighted, a tick at its probability for the whole text). */
function drawBars(view, bars, top) {
  nbxDrawMaskBars(view, bars, top, { prefix: "tx", whole: "whole text", parts: "words kept", labelTracks: true });
}

/** The explanation's title, quality lines, legend and (an anchor's) sampled texts. */
function drawInfo({ model, state, dom }) {
  const kind = model.get("overlay");
  const info = model.get("overlay_info") || {};
  dom.hint.hidden = Boolean(kind);
  nbxDrawExplanationBox({ state, dom }, kind, info);
  for (const b of dom.explainBox.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.kind === kind));
  if (!kind) return;
  const signed = kind !== "anchor";
  dom.legend.hidden = !signed;
  if (signed) {
    nbxPaintColorbar(dom.legendBar, NBX_TX_RDBU);
    dom.legendLow.textContent = nbxFormat(-(info.limit || 1));
    dom.legendHigh.textContent = nbxFormat(info.limit || 1);
    dom.legendText.textContent = `red raises ${info.output || "the output"}, blue lowers it`;
  } else {
    dom.legendText.textContent = "highlighted: the anchor; with these words kept the prediction holds";
  }
  const ex = model.get("examples") || {};
  const groups = [["kept", `sampled texts with the anchor that keep the prediction`], ["flipped", "sampled texts with the anchor that flip it"]];
  dom.examples.replaceChildren();
  for (const [key, heading] of groups) {
    const texts = ex[key] || [];
    if (!texts.length) continue;
    dom.examples.appendChild(nbxEl("div", { class: "nbx-tx-examples-heading" }, heading));
    const list = dom.examples.appendChild(nbxEl("ul", { class: `nbx-tx-examples-${key}` }));
    for (const t of texts) list.appendChild(nbxEl("li", {}, t));
  }
  dom.examples.hidden = dom.examples.childElementCount === 0;
}

/** The class and perturbation menus and the explain buttons, as the traits say. */
function drawControls(view) {
  const { model, dom } = view;
  nbxSetOptions(dom.targetSelect, (model.get("classes") || []).map((c) => [c.index, `${c.name} (${c.full.toFixed(3)})`]), model.get("target"));
  nbxSetOptions(dom.modeSelect, [["remove", "is removed"], ["mask", `becomes “${model.get("mask_token")}”`]], model.get("perturbation"));
  dom.explainBox.replaceChildren(...(model.get("explainers") || []).map(([name, label]) => {
    const b = nbxEl("button", { type: "button", class: `nbx-explain nbx-explain-${name}`, "data-method": name,
                                "data-kind": name === "integrated_gradients" ? "gradient" : name, "aria-pressed": "false" }, label);
    b.addEventListener("click", () => nbxMaskKernelAction(view, "explain", { method: name }, `computing ${label}…`, `${label} done`));
    return b;
  }));
  const disabled = !model.get("interactive");
  for (const c of [dom.targetSelect, dom.modeSelect, dom.resetButton, ...dom.explainBox.querySelectorAll("button")]) c.disabled = disabled;
  if (view.requester && view.requester.kernelless) {
    nbxNeedsKernel(dom.targetSelect, dom.modeSelect, ...dom.explainBox.querySelectorAll("button"));
  }
}

/** Show the kernel's mask and its probabilities. */
function showKernelPrediction(view) {
  const { model, state } = view;
  state.mask = kernelMask(model, state.tokenEls.length);
  paintTokens(view);
  nbxShowKernelBars(view);
}

function loadAll(view) {
  buildTokens(view);
  drawControls(view);
  showKernelPrediction(view);
  drawInfo(view);
  paintTokens(view);
}

// ---- asking and applying answers (nbxPredictMask and nbxMaskKernelAction, with the view's `explorer`) ----------

function setMask(view, next) { view.state.mask = next; paintTokens(view); nbxPredictMask(view); }

function listenToUser(view) {
  const { model, state, dom } = view;
  state.onPointerUp = () => endDrag(view);
  window.addEventListener("pointerup", state.onPointerUp);
  dom.textBox.addEventListener("pointerleave", () => { dom.hover.textContent = ""; });
  dom.resetButton.addEventListener("click", () => setMask(view, new Uint8Array(state.mask.length).fill(1)));
  dom.overlayButton.addEventListener("click", () => { state.showOverlay = !state.showOverlay; drawInfo(view); paintTokens(view); });
  dom.targetSelect.addEventListener("change", () => nbxMaskKernelAction(view, "target", { target: Number(dom.targetSelect.value) }, "changing class…", "class changed"));
  dom.modeSelect.addEventListener("change", () => nbxMaskKernelAction(view, "perturbation", { perturbation: dom.modeSelect.value }, "changing how words are removed…", () => ""));
  void model;
}

/** Changes made from Python (or another view): redrawn when none of our requests or notifications is pending. */
function followKernel(view) {
  nbxFollowWhenIdle(view.model, view.requester, [
    ["change:tokens change:gaps change:interactive", () => loadAll(view)],
    ["change:active change:bars change:top", () => showKernelPrediction(view)],
    ["change:overlay change:overlay_values change:overlay_info change:anchor change:examples", () => { drawInfo(view); paintTokens(view); }],
    ["change:classes change:target change:perturbation change:explainers", () => drawControls(view)],
  ]);
}

function render({ model, el }) {
  const dom = buildDom(model, el);
  const explorer = { drawBars, showKernelPrediction, loadAll, drawControls, sync: "predict", noKernel: "this text's predictions" };
  const view = { model, dom, requester: null, explorer, state: {
    tokenEls: [], mask: new Uint8Array(0), focused: -1, selection: null, drag: null,
    showOverlay: true, predictions: 0, onPointerUp: null,
  } };
  view.requester = nbxStatusRequester(model, dom.status, (action, params) => tableAnswer(model, action, params));
  listenToUser(view);
  followKernel(view);
  loadAll(view);
  if (view.requester.kernelless) {
    nbxOfflineNote(dom.root, model.get("answer_tables")
      ? "Exported page: removing words shows the model's own prediction (from a table); explanations need a running kernel."
      : `Exported page: removing words and explaining ${NBX_NEEDS_KERNEL}.`);
  }
  return () => { window.removeEventListener("pointerup", view.state.onPointerUp); dom.root.remove(); };
}

export default { render };
