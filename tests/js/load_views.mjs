// Load nbexplain's view scripts (js/_shared.js, js/<view>.js) into a node:vm context, the way the asset loader
// concatenates them for anywidget, and hand back their top-level functions and constants.
//
// The files are not ES modules that export their helpers (they are concatenated into one module per view),
// so a test reads the text, drops the view's `export default`, runs it in a context with the few browser
// globals the helpers touch, and reads names out of that context:
//
//     const js = loadViews("_shared.js", "effects.js");
//     js.nbxFormat(0.5);   // "0.500"
//
// Typed arrays, DataView and ArrayBuffer are this realm's, so `instanceof` works on both sides. Objects and
// arrays made inside the context have the context's prototypes: compare them with assert.deepEqual (not
// deepStrictEqual) or copy them first. NBX_JS_DIR points the loader at another folder (to check that a broken
// helper makes the tests fail).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

export const JS_DIR = process.env.NBX_JS_DIR || fileURLToPath(new URL("../../js/", import.meta.url));

/** A minimal element: attributes, children, text, `hidden`, `style`, `value`, `dataset`, `classList`,
 *  listeners. Enough for the shared helpers that build a few nodes (status bar, error banner, the mask
 *  explorers' bars); not a DOM. */
export class FakeElement {
  constructor(tag) {
    this.tagName = tag.toUpperCase();
    this.attributes = {};
    this.children = [];
    this.style = {};
    this.listeners = {};
    this.textContent = "";
    this.className = "";
    this.parentNode = null;
    this.dataset = {};
  }
  setAttribute(k, v) {
    this.attributes[k] = String(v);
    if (k === "hidden") this.hidden = true;
    if (k === "value") this.value = Number(v);
  }
  getAttribute(k) { return k in this.attributes ? this.attributes[k] : null; }
  removeAttribute(k) {
    delete this.attributes[k];
    if (k === "value") delete this.value;
    if (k === "hidden") this.hidden = false;
  }
  hasAttribute(k) { return k in this.attributes; }
  appendChild(child) { this.children.push(child); child.parentNode = this; return child; }
  replaceChildren(...nodes) {
    for (const child of this.children) child.parentNode = null;
    this.children = [];
    for (const node of nodes) this.appendChild(node);
  }
  get classList() {
    const names = () => this.className.split(/\s+/).filter(Boolean);
    return {
      add: (name) => { if (!names().includes(name)) this.className = [...names(), name].join(" "); },
      remove: (name) => { this.className = names().filter((n) => n !== name).join(" "); },
      contains: (name) => names().includes(name),
    };
  }
  addEventListener(type, fn) { (this.listeners[type] ||= []).push(fn); }
  dispatch(type, event) { for (const fn of this.listeners[type] || []) fn(event); }
}

export const fakeDocument = { createElement: (tag) => new FakeElement(tag) };

/** An ImageData that needs no canvas. */
export class FakeImageData {
  constructor(width, height) { this.width = width; this.height = height; this.data = new Uint8ClampedArray(width * height * 4); }
}

/** Run the named files of js/ in one fresh context; returns a proxy that reads any top-level name from it. */
export function loadViews(...files) {
  const context = vm.createContext({
    Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array,
    Uint8ClampedArray, DataView, ArrayBuffer,
    performance, setTimeout, clearTimeout, console,
    document: fakeDocument, ImageData: FakeImageData,
  });
  for (const file of files) {
    const text = readFileSync(join(JS_DIR, file), "utf8").replace(/^export default .*$/m, "");
    vm.runInContext(text, context, { filename: file });
  }
  return new Proxy({}, { get: (_, name) => (typeof name === "string" ? vm.runInContext(name, context) : undefined) });
}
