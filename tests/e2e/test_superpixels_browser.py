"""SuperpixelExplorer in a real JupyterLab in Chromium: clicks and keys toggle superpixels, the bars follow
and the kernel's ``ex.active`` matches; 50 rapid clicks end consistent with no stale prediction drawn; each
explain button draws its overlay; a model error during a toggle shows in the widget and the next toggle
works; with the 2**M table the view answers alone and the kernel follows; toggle latency measured in-page.

Set ``NBX_LATENCY_OUT=<file.json>`` to have the latency test write its timings there (benchmarks/superpixels.py
does), and ``NBX_LATENCY_MODEL=resnet18`` to measure with the benchmark's ResNet-18-shaped CNN at 224².
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
XSS = "<img src=x onerror=alert(1)>"

SETUP = f'''\
import time
import numpy as np
import torch
import nbexplain as nbx

torch.manual_seed(0)


class TinyCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.Tanh())
        self.head = torch.nn.Linear(8 * 16, 4)
        self.fail = False   # set from a cell: every forward raises
        self.delay = 0.0    # seconds each forward sleeps, so that requests overlap

    def forward(self, x):
        if self.fail:
            raise RuntimeError("forward failed on purpose (nbx-e2e)")
        time.sleep(self.delay)
        return 4 * self.head(torch.nn.functional.adaptive_avg_pool2d(self.features(x), 4).flatten(1))


net = TinyCNN().eval()
rng = np.random.default_rng(0)
blocks = rng.integers(0, 256, size=(4, 4, 3))
image = (np.kron(blocks, np.ones((12, 12, 1))) + rng.integers(0, 30, (48, 48, 3))).clip(0, 255).astype(np.uint8)
CLASSES = ["cat", "dog", "owl", {XSS!r}]
model = nbx.as_model(net, class_names=CLASSES)'''
SHOW = ('ex = nbx.SuperpixelExplorer(model, image, "grid", n_segments=16, top_k=4, display_size=240,\n'
        '    explain_options={"lime": {"n_samples": 300, "seed": 0}, "shapley": {"method": "sampled", "n_permutations": 20, "seed": 0},\n'
        '                     "anchor": {"seed": 0, "max_samples": 2000}})\nex')
CELLS = [SETUP, SHOW]

JS_VIEW_MASK = """(root) => [...root.querySelectorAll('.nbx-sp-dot')]
    .map((b) => (b.getAttribute('aria-pressed') === 'true' ? '1' : '0')).join('')"""
JS_SETTLED = """(root) => {
    const mask = [...root.querySelectorAll('.nbx-sp-dot')]
        .map((b) => (b.getAttribute('aria-pressed') === 'true' ? '1' : '0')).join('');
    return root.dataset.barsFor === mask && root.querySelector('.nbx-sp-bars').getAttribute('aria-busy') === 'false'
        && root.querySelector('.nbx-status progress').hidden;
}"""
KERNEL_MASK = "(ex.wait(60), ''.join('01'[int(a)] for a in ex.active))[1]"
KERNEL_STATE = ("(lambda d: repr({'active': ''.join('01'[int(a)] for a in ex.active), 'idle': ex.wait(5), "
                "'waiting': {k: (r.id, r.params) for k, r in d._waiting.items()}, 'running': d._running, "
                "'working': d._working, 'worker alive': d._thread is not None and d._thread.is_alive(), "
                "'committed': ex.committed_request, 'error': ex.error}))(ex._dispatcher)")
JS_BLANK_CANVASES = """(root) => [...root.querySelectorAll('canvas')].filter((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return false;
    return true;
}).map((c) => c.className)"""


def explorer(page):
    return page.locator(".nbx-superpixels").first


def open_explorer(open_notebook, page, cells=CELLS):
    nb = open_notebook(cells)
    nb.run_all()
    nb.wait_all_run()
    widget = explorer(page)
    canvas = widget.locator("canvas.nbx-sp-canvas")
    canvas.wait_for()
    nb.wait_until(lambda: nb.canvas_pixels(canvas).drawn, 30, message="a drawn superpixel canvas")
    settle(widget)
    return nb, widget


def settle(widget, timeout: float = 60) -> str:
    """Wait until the bars describe the mask the view shows; return that mask."""
    widget.page.wait_for_function(JS_SETTLED, arg=widget.element_handle(), timeout=timeout * 1000)
    return widget.evaluate(JS_VIEW_MASK)


def shown_bars(widget) -> list[float]:
    return widget.evaluate("(root) => [...root.querySelectorAll('.nbx-sp-bar')].map((r) => Number(r.dataset.probability))")


def kernel_bars(nb) -> list[float]:
    """The shown classes' probabilities, recomputed in the kernel for ``ex.active``."""
    return json.loads(nb.kernel_value(
        "(ex.wait(60), __import__('json').dumps([float(v) for v in ex.game.model.predict_proba("
        "ex.game.render(ex.active[None]))[0][[c['index'] for c in ex.classes]]]))[1]"))


def click_cell(widget, r: int, c: int) -> None:
    """Click grid cell (r, c) on the canvas away from its dot (cells are 60 CSS px)."""
    widget.locator("canvas.nbx-sp-canvas").click(position={"x": 60 * c + 15, "y": 60 * r + 45})


def page_errors(page) -> list[str]:
    return [m for m in page.console_messages if m.startswith("pageerror")]


# -- 1. clicks and keys -----------------------------------------------------------------------------------------
def test_clicks_and_keys_toggle_superpixels_and_the_kernel_follows(open_notebook, page):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    nb, widget = open_explorer(open_notebook, page)
    assert settle(widget) == "1" * 16
    first_bars = shown_bars(widget)
    canvas = widget.locator("canvas.nbx-sp-canvas")
    before = nb.canvas_pixels(canvas)

    click_cell(widget, 0, 0)
    click_cell(widget, 1, 2)
    widget.locator(".nbx-sp-dot[data-index='15']").click()
    mask = settle(widget)
    assert mask == "".join("0" if i in (0, 6, 15) else "1" for i in range(16))
    assert nb.kernel_value(KERNEL_MASK) == mask
    assert shown_bars(widget) != first_bars
    for shown, expected in zip(shown_bars(widget), kernel_bars(nb), strict=True):
        assert abs(shown - expected) < 1e-6
    after = nb.canvas_pixels(canvas)
    assert 0.1 < after.differs(before) < 0.4  # three of sixteen cells now show their fill

    # keyboard: focus a superpixel, arrows move, space toggles; aria-pressed says which are shown
    dot = widget.locator(".nbx-sp-dot[data-index='5']")
    dot.focus()
    page.keyboard.press("Space")
    mask = settle(widget)
    assert mask[5] == "0" and dot.get_attribute("aria-pressed") == "false"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.index") == "6"
    page.keyboard.press("Space")
    mask = settle(widget)
    assert mask[6] == "1" and nb.kernel_value(KERNEL_MASK) == mask
    widget.locator(".nbx-sp-dot[data-index='6']").focus()  # (reading the kernel ran a cell: focus moved)
    page.keyboard.press("ArrowDown")  # the superpixel below; the notebook's own arrow shortcuts stay out
    assert page.evaluate("document.activeElement.dataset.index") == "10"
    live = widget.locator(".nbx-live").inner_text()
    assert "of 16 superpixels shown" in live

    # reset and invert
    widget.locator("button.nbx-invert").click()
    inverted = settle(widget)
    assert inverted == "".join("1" if v == "0" else "0" for v in mask)
    assert nb.kernel_value(KERNEL_MASK) == inverted
    widget.locator("button.nbx-reset").click()
    assert settle(widget) == "1" * 16 and nb.kernel_value(KERNEL_MASK) == "1" * 16
    assert shown_bars(widget) == first_bars

    # a class name that is HTML is shown as text
    names = widget.locator(".nbx-sp-name").all_inner_texts()
    assert XSS in names and widget.locator("img").count() == 0 and dialogs == []

    # re-segment in the view: another method, then its main parameter, then another fill
    dots = widget.locator(".nbx-sp-dot")
    widget.locator("select.nbx-seg-method").select_option("felzenszwalb")
    nb.wait_until(lambda: nb.kernel_value("(ex.wait(60), ex.seg_method)[1]") == "felzenszwalb", 60, 0.5, "felzenszwalb")
    settle(widget)
    assert dots.count() == int(nb.kernel_value("ex.n_superpixels")) == int(
        nb.kernel_value("nbx.segment(image, 'felzenszwalb').n_segments"))
    widget.locator("select.nbx-seg-method").select_option("grid")
    nb.wait_until(lambda: nb.kernel_value("(ex.wait(60), ex.seg_method)[1]") == "grid", 60, 0.5, "the grid")
    settle(widget)
    assert dots.count() == 16  # the grid's parameter was remembered
    widget.locator("input.nbx-seg-param").evaluate(
        "(input) => { input.value = '4'; input.dispatchEvent(new Event('input')); input.dispatchEvent(new Event('change')); }")
    widget.page.wait_for_function("(root) => root.querySelectorAll('.nbx-sp-dot').length === 4",
                                  arg=widget.element_handle())
    assert settle(widget) == "1111" and nb.kernel_value("(ex.wait(60), ex.seg_param)[1]") == "4.0"
    widget.locator("select.nbx-fill").select_option("black")
    nb.wait_until(lambda: nb.kernel_value("(ex.wait(60), ex.fill)[1]") == "black", 60, 0.5, "the black fill")
    settle(widget)
    click_cell(widget, 0, 0)  # the top-left quarter of the image (cells are 120 px now)
    assert settle(widget) == "0111" and nb.kernel_value(KERNEL_MASK) == "0111"
    pixels = nb.canvas_pixels(canvas)
    corner = [pixels.pixels[(y * pixels.width + x) * 4:(y * pixels.width + x) * 4 + 3] for y in (3, 10) for x in (3, 10)]
    assert all(p == [0, 0, 0] for p in corner), corner
    assert page_errors(page) == [], "\n".join(page_errors(page))


# -- 2. 50 rapid clicks ------------------------------------------------------------------------------------------
def test_fifty_rapid_clicks_end_consistent_without_stale_predictions(open_notebook, page):
    nb, widget = open_explorer(open_notebook, page)
    nb.run_cell("net.delay = 0.03  # every forward takes 30 ms: clicks overlap with predictions")
    widget.evaluate("""async (root) => {
        window.__nbxDrawn = [];
        root.addEventListener('nbx-bars-drawn', (e) => {
          const now = [...root.querySelectorAll('.nbx-sp-dot')]
              .map((b) => (b.getAttribute('aria-pressed') === 'true' ? '1' : '0')).join('');
          window.__nbxDrawn.push([e.detail.mask, now]);
        });
        const dots = root.querySelectorAll('.nbx-sp-dot');
        let seed = 7;
        for (let i = 0; i < 50; i++) {
          seed = (seed * 1103515245 + 12345) % 2147483648;
          dots[seed % dots.length].click();
          // bursts and pauses, so some answers arrive while newer clicks are in flight and some are drawn
          if (i % 5 === 4) await new Promise((resolve) => setTimeout(resolve, i % 10 === 9 ? 250 : (seed >> 8) % 40));
        }
    }""")
    mask = settle(widget, timeout=120)
    page.wait_for_timeout(500)  # a late stale answer would land by now
    drawn = page.evaluate("window.__nbxDrawn")
    assert drawn, "no prediction was drawn"
    assert all(asked == shown for asked, shown in drawn), f"a prediction for another mask was drawn: {drawn}"
    assert drawn[-1][0] == mask and settle(widget) == mask
    print(f"\n[nbx-e2e] 50 rapid clicks: {len(drawn)} predictions drawn")
    assert nb.kernel_value(KERNEL_MASK) == mask
    for shown, expected in zip(shown_bars(widget), kernel_bars(nb), strict=True):
        assert abs(shown - expected) < 1e-6


# -- 3. explanations ------------------------------------------------------------------------------------------------
def test_each_explain_button_draws_its_overlay(open_notebook, page):
    nb, widget = open_explorer(open_notebook, page)
    canvas = widget.locator("canvas.nbx-sp-canvas")
    plain = nb.canvas_pixels(canvas)
    assert widget.locator(".nbx-sp-info").is_hidden()
    # before any explanation: no empty legend or curve box, a line saying what will appear instead
    assert widget.evaluate(JS_BLANK_CANVASES) == [] and widget.locator("canvas").count() == 1
    hint = widget.locator(".nbx-sp-hint")
    assert hint.is_visible() and "deletion and insertion curves" in hint.inner_text()
    pictures = {}
    for method, title, quality in [("lime", "LIME weights", "fidelity (weighted R²)"),
                                   ("shapley", "Shapley values (sampled)", "Σφ ="),
                                   ("anchor", "anchor for", "coverage")]:
        widget.locator(f"button.nbx-explain-{method}").click()
        widget.locator(".nbx-sp-info-title", has_text=title).wait_for(timeout=120_000)
        settle(widget)
        text = widget.locator(".nbx-sp-quality").inner_text()
        assert quality in text, text
        assert widget.locator(f"button.nbx-explain-{method}").get_attribute("aria-pressed") == "true"
        pictures[method] = nb.canvas_pixels(canvas)
        assert pictures[method].differs(plain) > 0.3, f"{method} drew no overlay"
        assert nb.kernel_value("ex.overlay") == method
    assert pictures["lime"].differs(pictures["anchor"]) > 0.3
    precision = float(nb.kernel_value("ex.result.precision"))
    assert f"precision {precision:.3f}" in widget.locator(".nbx-sp-quality").inner_text()

    # the overlay can be hidden and shown again
    widget.locator("button.nbx-show-overlay").click()
    assert nb.canvas_pixels(canvas).differs(plain) == 0
    widget.locator("button.nbx-show-overlay").click()

    # LIME again, then the keep-top-k slider shows the insertion curve's steps
    widget.locator("button.nbx-explain-lime").click()
    widget.locator(".nbx-sp-info-title", has_text="LIME weights").wait_for(timeout=120_000)
    curves = widget.locator(".nbx-sp-curves")
    curves.wait_for()
    assert "deletion AUC" in widget.locator(".nbx-sp-auc").inner_text()
    # the legend and the curves are drawn where they show; the hint is gone
    assert widget.evaluate(JS_BLANK_CANVASES) == [] and hint.is_hidden()
    legend = widget.locator(".nbx-sp-scale canvas.nbx-colorbar")
    assert legend.is_visible() and nb.canvas_pixels(legend).colours > 50
    curve = widget.locator("canvas.nbx-sp-curve")
    assert curve.is_visible() and nb.canvas_pixels(curve).opaque > 300
    widget.locator("input.nbx-keep").fill("3")
    mask = settle(widget)
    order = json.loads(nb.kernel_value("__import__('json').dumps(ex.curve_order.tolist())"))
    assert mask == "".join("1" if i in order[:3] else "0" for i in range(16))
    assert nb.kernel_value(KERNEL_MASK) == mask
    insertion = float(nb.kernel_value("float(ex.curve_insertion[3])"))
    target_row = widget.locator(".nbx-sp-bar.nbx-sp-target")
    assert abs(float(target_row.get_attribute("data-probability")) - insertion) < 1e-5
    assert page_errors(page) == [], "\n".join(page_errors(page))


# -- 4. the error channel -------------------------------------------------------------------------------------------
def test_model_error_during_a_toggle_is_shown_and_the_next_toggle_works(open_notebook, page):
    nb, widget = open_explorer(open_notebook, page)
    banner = widget.locator(".nbx-error")
    assert banner.is_hidden()
    bars = shown_bars(widget)
    nb.run_cell("net.fail = True")
    click_cell(widget, 2, 1)
    banner.wait_for(state="visible", timeout=60_000)
    assert "forward failed on purpose (nbx-e2e)" in banner.inner_text()
    mask = settle(widget)
    assert mask == "1" * 16, "the view kept a mask the kernel could not predict"
    assert shown_bars(widget) == bars
    assert nb.kernel_value(KERNEL_MASK) == "1" * 16
    assert "failed on purpose" in nb.kernel_value("ex.error.get('message')")

    nb.run_cell("net.fail = False")
    click_cell(widget, 2, 1)
    banner.wait_for(state="hidden", timeout=30_000)
    mask = settle(widget)
    assert mask[9] == "0" and nb.kernel_value(KERNEL_MASK) == mask
    assert shown_bars(widget) != bars
    assert nb.kernel_value("ex.error") == "{}"


# -- 5. table answers and latency ------------------------------------------------------------------------------------
LATENCY_JS = """async (root, n) => {
    const dots = root.querySelectorAll('.nbx-sp-dot');
    const out = [], sources = [];
    for (let i = 0; i < n; i++) {
      const done = new Promise((resolve) => root.addEventListener('nbx-bars-drawn',
          (e) => resolve([performance.now(), e.detail.source]), { once: true }));
      const t0 = performance.now();
      dots[(i * 5) % dots.length].click();
      const [t1, source] = await done;
      out.push(t1 - t0); sources.push(source);
    }
    return [out, sources];
}"""

RESNET_CELLS = [
    "import sys, numpy as np, torch\nsys.path.insert(0, " + repr(str(REPO / "benchmarks")) + ")\n"
    "import nbexplain as nbx\nfrom superpixels import benchmark_model, benchmark_image\n"
    "net, image = benchmark_model(), benchmark_image()\nmodel = nbx.as_model(net)",
    'ex = nbx.SuperpixelExplorer(model, image, "slic", n_segments=50, display_size=300)\nex',
]


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def test_table_answers_without_the_kernel_and_toggle_latency(open_notebook, page):
    heavy = os.environ.get("NBX_LATENCY_MODEL") == "resnet18"
    nb, widget = open_explorer(open_notebook, page, RESNET_CELLS if heavy else CELLS)
    timings = {}
    n = 30 if heavy else 40
    ms, sources = widget.evaluate(LATENCY_JS, n)
    settle(widget)
    assert set(sources) == {"kernel"}
    timings["kernel"] = ms[3:]  # the first clicks pay one-off set-up costs
    if not heavy:
        nb.run_cell('ex.resegment("grid", 9)\nex.precompute()')
        widget.page.wait_for_function("(root) => root.querySelectorAll('.nbx-sp-dot').length === 9",
                                      arg=widget.element_handle())
        settle(widget)
        ms, sources = widget.evaluate(LATENCY_JS, n)
        assert set(sources) == {"table"}, sources
        timings["table"] = ms[3:]
        mask = settle(widget)
        # the kernel followed the table's answers (the view told it which mask is shown)
        try:
            nb.wait_until(lambda: nb.kernel_value(KERNEL_MASK) == mask, 30, 0.5, "the kernel's active to follow")
        except AssertionError as exc:  # say where the kernel stands: its mask, its queue, its worker
            raise AssertionError(f"{exc}; the view shows {mask}; the kernel: {nb.kernel_value(KERNEL_STATE)}") from None
        for shown, expected in zip(shown_bars(widget), kernel_bars(nb), strict=True):
            assert abs(shown - expected) < 1e-6
    report = {k: {"median_ms": statistics.median(v), "p95_ms": percentile(v, 0.95), "n": len(v)}
              for k, v in timings.items()}
    report["model"] = "ResNet-18-shaped CNN at 224x224, 50 slic superpixels" if heavy else "tiny CNN at 48x48, grid"
    for k, v in report.items():
        if isinstance(v, dict):
            print(f"\n[nbx-e2e] toggle -> bars redrawn ({k}, {report['model']}): median {v['median_ms']:.1f} ms, "
                  f"p95 {v['p95_ms']:.1f} ms (n={v['n']})")
    if os.environ.get("NBX_LATENCY_OUT"):
        Path(os.environ["NBX_LATENCY_OUT"]).write_text(json.dumps(report, indent=1))
    assert page_errors(page) == [], "\n".join(page_errors(page))
