// nbexplain's offline widget manager: renders the anywidget views of a page exported by
// nbexplain.export_html (or `jupyter nbconvert --to nbexplain`) with no kernel and no network.
//
// It reads the widget state the exporter embedded (the page's script element of type STATE_MIME below:
// each model's traits, binary buffers as base64 at their paths, view modules and styles deduplicated under
// `nbexplain_assets`), gives every model the part of anywidget's model interface views use (get, set, on,
// off, save_changes, send, widget_manager), and renders each `<script type="application/vnd.jupyter.widget-view+json">`
// in place: the anywidget module (`_esm`, imported from a blob URL) is initialised once per model and
// rendered into the output. A view replaces the output's static picture only once it has rendered; a model
// this manager cannot render (not an anywidget, or a view module that fails) keeps its picture.
//
// Without a kernel, `send` reaches nobody and `save_changes` keeps changes in the page; the manager says so
// (`widget_manager.nbxKernelless`), and nbexplain's views then answer what they can from their tables and
// mark the rest "needs a running kernel".
(function nbxOfflineManager() {
  "use strict";
  const VIEW_MIME = "application/vnd.jupyter.widget-view+json";
  const STATE_MIME = "application/vnd.jupyter.widget-state+json";
  const ASSET_PREFIX = "nbx-asset:";

  function bytesOf(base64) {
    const text = atob(base64);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }

  /** Put each base64 buffer back at its path, as a DataView (what a live manager hands a view). */
  function restoreBuffers(state, buffers) {
    for (const { path, data, encoding } of buffers || []) {
      let node = state;
      for (const key of path.slice(0, -1)) node = node == null ? null : node[key];
      if (node == null || typeof node !== "object") continue;  // the trait was emptied after this buffer was sent
      const bytes = encoding === "hex" ? Uint8Array.from(data.match(/../g) || [], (h) => parseInt(h, 16)) : bytesOf(data);
      node[path[path.length - 1]] = new DataView(bytes.buffer);
    }
    return state;
  }

  class OfflineModel {
    constructor(manager, id, attributes) {
      this.widget_manager = manager;
      this.model_id = id;
      this.attributes = attributes;
      this.listeners = new Map();
    }
    get(name) { return this.attributes[name]; }
    set(name, value) {
      const changes = typeof name === "object" && name !== null ? name : { [name]: value };
      const changed = Object.keys(changes).filter((k) => this.attributes[k] !== changes[k]);
      for (const k of changed) this.attributes[k] = changes[k];
      for (const k of changed) this.trigger(`change:${k}`, this, changes[k]);
      if (changed.length) this.trigger("change", this);
    }
    save_changes() {}  // no kernel to save to: the change stays in this page
    send() {}          // no kernel to hear it (nbexplain's views know, and do not wait for an answer)
    on(events, callback, context) {
      for (const event of String(events).split(/\s+/).filter(Boolean)) {
        if (!this.listeners.has(event)) this.listeners.set(event, []);
        this.listeners.get(event).push({ callback, context });
      }
    }
    off(events, callback) {
      const names = events ? String(events).split(/\s+/).filter(Boolean) : [...this.listeners.keys()];
      for (const event of names) {
        if (!callback) this.listeners.delete(event);
        else this.listeners.set(event, (this.listeners.get(event) || []).filter((l) => l.callback !== callback));
      }
    }
    trigger(event, ...args) {
      for (const { callback, context } of [...(this.listeners.get(event) || [])]) {
        try { callback.apply(context, args); } catch (error) { console.error("nbexplain: a listener failed", error); }
      }
    }
  }

  class OfflineManager {
    constructor(stateDocument) {
      this.nbxKernelless = true;
      this.assets = stateDocument.nbexplain_assets || {};
      this.models = new Map();
      this.widgets = new Map();  // model id -> promise of its initialised anywidget module
      this.modules = new Map();  // module source -> promise of the imported module
      this.styles = new Set();
      for (const [id, entry] of Object.entries(stateDocument.state || {})) {
        const attributes = restoreBuffers({ ...(entry.state || {}) }, entry.buffers);
        for (const key of ["_esm", "_css"]) {
          const v = attributes[key];
          if (typeof v === "string" && v.startsWith(ASSET_PREFIX)) attributes[key] = this.assets[v.slice(ASSET_PREFIX.length)] || "";
        }
        this.models.set(id, new OfflineModel(this, id, attributes));
      }
    }
    get_model(id) {
      const model = this.models.get(id);
      return model ? Promise.resolve(model) : Promise.reject(new Error(`no widget model ${id} in this page`));
    }
    /** An anywidget's module, imported once per source, its `initialize` run once per model. */
    widget(model) {
      if (!this.widgets.has(model.model_id)) this.widgets.set(model.model_id, this.load(model));
      return this.widgets.get(model.model_id);
    }
    async load(model) {
      const source = model.get("_esm");
      if (typeof source !== "string" || !source || /^https?:\/\//.test(source.trim())) {
        throw new Error("the view's module is not inside this page");
      }
      if (!this.modules.has(source)) {
        const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
        this.modules.set(source, import(url));
      }
      const module = await this.modules.get(source);
      let widget = module.default !== undefined ? module.default : module;
      if (typeof widget === "function" && !module.render) widget = await widget();
      if (!widget || (typeof widget.render !== "function" && typeof module.render !== "function")) {
        throw new Error("the module exports no render function");
      }
      const render = widget.render || module.render;
      if (typeof widget.initialize === "function") await widget.initialize({ model, experimental: {} });
      return { render };
    }
    style(model) {
      const css = model.get("_css");
      if (typeof css !== "string" || !css || this.styles.has(css)) return;
      this.styles.add(css);
      document.head.appendChild(Object.assign(document.createElement("style"), { textContent: css }));
    }
    /** Render the view a `widget-view+json` script names, inside the script's output; keep the picture on failure. */
    async renderOutput(script) {
      const output = script.closest(".nbx-export-widget") || script.parentElement;
      let view;
      try { view = JSON.parse(script.textContent); } catch (error) { return; }
      const model = this.models.get(view.model_id);
      if (!model || model.get("_model_module") !== "anywidget") {
        output.dataset.nbxView = "picture";  // e.g. a standard ipywidget: its picture or text stays
        return;
      }
      const el = document.createElement("div");
      el.className = "nbx-export-live";
      output.appendChild(el);
      try {
        this.style(model);
        const { render } = await this.widget(model);
        await render({ model, el, experimental: {} });
        for (const fallback of output.querySelectorAll(":scope > .nbx-export-fallback")) fallback.hidden = true;
        output.dataset.nbxView = "live";
      } catch (error) {
        el.remove();
        output.dataset.nbxView = "picture";
        output.dataset.nbxError = String(error && error.message ? error.message : error);
        console.error(`nbexplain: widget ${view.model_id} shows its picture (${output.dataset.nbxError})`);
      }
    }
  }

  async function start() {
    const stateScript = document.querySelector(`script[type="${STATE_MIME}"]`);
    let stateDocument = { state: {} };
    if (stateScript) {
      try { stateDocument = JSON.parse(stateScript.textContent); } catch (error) { console.error("nbexplain: unreadable widget state", error); }
    }
    const manager = new OfflineManager(stateDocument);
    window.nbxOfflineManager = manager;  // for tests and for readers' consoles
    const outputs = [...document.querySelectorAll(`script[type="${VIEW_MIME}"]`)];
    await Promise.all(outputs.map((script) => manager.renderOutput(script)));
    document.documentElement.dataset.nbxWidgets = "rendered";
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
