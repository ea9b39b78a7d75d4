"""The quality panels in a real JupyterLab in Chromium: the Heatmap's panel shows the kernel's AUCs for the
current method, switching method recomputes them, the sanity check draws in the panel and its figure renders
in the page.

Each test writes its own notebook (a tiny seeded torch CNN on a seeded 32x32 image), runs it with Run All,
drives the view like a user (open the panel, choose a method, press a check) and compares what the page shows
with what the kernel holds (a new cell that prints it).
"""

from __future__ import annotations

import re

SETUP = '''\
import numpy as np
import torch
import nbexplain as nbx

torch.manual_seed(0)
net = torch.nn.Sequential(
    torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
    torch.nn.Linear(8, 3)).eval()
image = np.random.default_rng(0).integers(0, 256, size=(32, 32, 3), dtype=np.uint8)'''
SHOW = "hm = nbx.Heatmap(net, image, method='gradient')\nhm"

JS_IMAGE_PIXELS = """(img) => {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  const colours = new Set();
  for (let i = 0; i < d.length; i += 4) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  return {width: c.width, height: c.height, colours: colours.size};
}"""


def panel_of(page):
    return page.locator(".nbx-heatmap .nbx-quality").first


def page_lines(panel) -> list[str]:
    return [t.strip() for t in panel.locator(".nbx-quality-lines li").all_inner_texts()]


def kernel_lines(nb) -> list[str]:
    return nb.kernel_value("(hm.wait(120), '|'.join(hm.quality_panel.get('lines', [])))[1]").split("|")


def wait_for_title(nb, panel, words: str, timeout: float = 120) -> None:
    nb.wait_until(lambda: words in panel.locator(".nbx-quality-title").inner_text()
                  and panel.locator(".nbx-quality-lines li").count() > 0, timeout,
                  message=f"the quality panel showing {words!r}")


def page_errors(page) -> list[str]:
    return [m for m in page.console_messages if m.startswith("pageerror")]


def test_the_quality_panel_shows_the_kernels_aucs_and_follows_the_method(open_notebook, page):
    nb = open_notebook([SETUP, SHOW])
    nb.run_all()
    nb.wait_all_run()
    panel = panel_of(page)
    panel.wait_for(timeout=60_000)
    assert panel.get_attribute("open") is None  # closed until the user opens it
    buttons = panel.locator("button.nbx-quality-check").all_text_contents()  # in the closed panel
    assert buttons == ["faithfulness & robustness", "sanity check"]

    # opening the panel runs the first check in the kernel; the page shows the kernel's own lines
    panel.locator("summary").click()
    wait_for_title(nb, panel, "Gradient (saliency)")
    shown = page_lines(panel)
    assert shown == kernel_lines(nb)
    auc = nb.kernel_value("'%.3f %.3f' % (hm.quality_report.parts['faithfulness'].auc_deletion, "
                          "hm.quality_report.parts['faithfulness'].auc_insertion)").split()
    assert shown[0] == f"deletion AUC {auc[0]} (lower is better)"
    assert shown[1] == f"insertion AUC {auc[1]} (higher is better)"
    assert panel.locator("button[data-check='faithfulness']").get_attribute("aria-pressed") == "true"
    curves = nb.canvas_pixels(panel.locator(".nbx-quality-plot canvas").first)
    assert curves.opaque > 0 and curves.colours >= 3, "the deletion/insertion plot is not drawn"
    legend = panel.locator(".nbx-quality-legend").first.inner_text()
    assert f"deletion (AUC {auc[0]})" in legend and f"insertion (AUC {auc[1]})" in legend

    # another method: the kernel clears the panel, the open panel asks again, the new numbers arrive
    page.locator(".nbx-heatmap select.nbx-method").first.select_option("integrated_gradients")
    wait_for_title(nb, panel, "Integrated gradients")
    assert nb.kernel_value("(hm.wait(120), hm.quality_report.parts['faithfulness'].method)[1]") == "integrated_gradients"
    again = page_lines(panel)
    assert again == kernel_lines(nb)
    assert again[0] != shown[0] or again[1] != shown[1], "the AUCs did not change with the method"
    assert page_errors(page) == [], "\n".join(page_errors(page))


def test_the_sanity_check_draws_in_the_panel_and_its_figure_renders(open_notebook, page):
    nb = open_notebook([SETUP, SHOW, "check = nbx.sanity_check(net, image, ['gradient', 'gradcam'], progress=False)\n"
                                     "check"])
    nb.run_all()
    nb.wait_all_run()
    # the result's figure (Adebayo et al.'s: maps row by row, similarity curves) is a PNG in the notebook
    picture = page.locator(".jp-OutputArea-output img").last
    picture.wait_for(timeout=60_000)
    nb.wait_until(lambda: picture.evaluate("(img) => img.complete && img.naturalWidth > 0"), 30,
                  message="the sanity-check figure loaded")
    pixels = picture.evaluate(JS_IMAGE_PIXELS)
    assert pixels["width"] > 400 and pixels["height"] > 150 and pixels["colours"] > 50, pixels
    verdicts = nb.kernel_value("'|'.join(check.quality())").split("|")
    assert verdicts[0].startswith("Gradient (saliency) ") and verdicts[1].startswith("Grad-CAM ")

    # in the widget: the "sanity check" button runs it for the method on screen and draws its curve
    panel = panel_of(page)
    panel.locator("summary").click()
    wait_for_title(nb, panel, "Gradient (saliency)")
    panel.locator("button[data-check='sanity']").click()
    nb.wait_until(lambda: any(t.startswith("sanity: Gradient (saliency)") for t in page_lines(panel)), 180,
                  message="the sanity verdict in the panel")
    assert page_lines(panel) == kernel_lines(nb)
    caption = panel.locator(".nbx-quality-plot figcaption").first.inner_text()
    assert caption.startswith("sanity check")
    curve = nb.canvas_pixels(panel.locator(".nbx-quality-plot canvas").first)
    assert curve.opaque > 0 and curve.colours >= 3
    steps = int(nb.kernel_value("len(hm.quality_report.parts['sanity'].steps)"))
    assert steps == 3  # every parameterised layer of the tiny CNN, top-down: linear, conv, conv
    # and back on the faithfulness check, the verdict stays beside the numbers
    panel.locator("button[data-check='faithfulness']").click()
    nb.wait_until(lambda: (lines := page_lines(panel)) and lines[0].startswith("deletion AUC")
                  and any(re.match(r"sanity: Gradient", t) for t in lines), 180,
                  message="faithfulness lines with the sanity verdict")
    assert page_errors(page) == [], "\n".join(page_errors(page))
