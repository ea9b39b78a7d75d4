// Keys pressed on a widget's controls (js/_shared.js): a control keeps the keys it uses; every other key
// still reaches JupyterLab's shortcuts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeElement, loadViews } from "./load_views.mjs";

const js = loadViews("_shared.js");
const control = (tag, type = "") => ({ tagName: tag.toUpperCase(), type });
const key = (k, mods = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods });

test("a slider keeps its arrows, Home, End and Page keys, nothing else", () => {
  const range = control("input", "range");
  for (const k of ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown"]) {
    assert.ok(js.nbxHandlesKey(range, key(k)), k);
  }
  for (const k of ["b", "a", " ", "Enter", "Escape", "Tab"]) assert.ok(!js.nbxHandlesKey(range, key(k)), k);
  assert.ok(!js.nbxHandlesKey(range, key("ArrowDown", { ctrlKey: true })));
});

test("a menu keeps arrows, Space, Enter and type-ahead letters; a button Space and Enter", () => {
  const select = control("select");
  for (const k of ["ArrowDown", "Home", " ", "Enter", "b", "7"]) assert.ok(js.nbxHandlesKey(select, key(k)), k);
  for (const k of ["Escape", "Tab", "F5"]) assert.ok(!js.nbxHandlesKey(select, key(k)), k);
  assert.ok(!js.nbxHandlesKey(select, key("s", { metaKey: true })));
  const button = control("button");
  assert.ok(js.nbxHandlesKey(button, key(" ")) && js.nbxHandlesKey(button, key("Enter")));
  for (const k of ["ArrowDown", "a", "Escape"]) assert.ok(!js.nbxHandlesKey(button, key(k)), k);
  assert.ok(js.nbxHandlesKey(control("input", "checkbox"), key(" ")));
});

test("Shift+Enter (run the cell) and keys on text fields or plain elements always reach JupyterLab", () => {
  for (const target of [control("button"), control("select"), control("input", "range")]) {
    assert.ok(!js.nbxHandlesKey(target, key("Enter", { shiftKey: true })));
  }
  assert.ok(!js.nbxHandlesKey(control("input", "number"), key("ArrowUp")));
  assert.ok(!js.nbxHandlesKey(control("div"), key("ArrowUp")));
  assert.ok(!js.nbxHandlesKey(null, key("ArrowUp")));
});

test("nbxKeepKeys stops only the keys the focused control handles", () => {
  const root = new FakeElement("div");
  assert.equal(js.nbxKeepKeys(root), root);
  const press = (target, k, mods) => {
    let stopped = false;
    root.dispatch("keydown", { target, ...key(k, mods), stopPropagation: () => { stopped = true; } });
    return stopped;
  };
  assert.ok(press(control("input", "range"), "ArrowDown"));
  assert.ok(!press(control("input", "range"), "b"));
  assert.ok(!press(control("button"), "Enter", { shiftKey: true }));
  assert.ok(press(control("button"), " "));
});
