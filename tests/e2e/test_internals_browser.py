"""WeightHistograms and Maximization in a real JupyterLab in Chromium: the slider draws the kernel's histogram of
the chosen snapshot; a maximisation streams its images, stops on "stop" keeping what it found; clicking a gallery
cell shows that channel's dataset examples, the kernel's own list.

Each test writes its own notebook (the tank CNN trained a few steps with one layer frozen; a small seeded CNN
whose forward sleeps a little, so that a run lasts long enough to watch), runs it with Run All, drives the view
like a user and checks what is drawn against what the kernel holds (a new cell that prints it).
"""

from __future__ import annotations

import json

SETUP_WEIGHTS = """\
import numpy as np, torch, nbexplain as nbx
from nbexplain.datasets import tank_network, tanks
model = tank_network(0)
model[4].requires_grad_(False)
opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.05)
rec = nbx.WeightRecorder(model, optimizer=opt, every=2, bins=16)
data = tanks(48, seed=0)
x = torch.from_numpy(data.images.transpose(0, 3, 1, 2).copy()).float() / 255
y = torch.from_numpy(data.labels)
for i in range(6):
    opt.zero_grad()
    torch.nn.functional.cross_entropy(model(x[i * 8:(i + 1) * 8]), y[i * 8:(i + 1) * 8]).backward()
    opt.step()
rec.close()
w = nbx.WeightHistograms(rec, parameter="0.weight")
w"""

SETUP_MAX = """\
import time, numpy as np, torch, nbexplain as nbx
torch.manual_seed(0)
class SlowCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1), torch.nn.ReLU(),
                                            torch.nn.Conv2d(6, 5, 3, padding=1), torch.nn.ReLU())
        self.head = torch.nn.Linear(5, 3)
        self.delay = 0.03
    def forward(self, x):
        time.sleep(self.delay)
        return self.head(self.features(x).mean((2, 3)))
net = SlowCNN().eval()
pool = (np.random.default_rng(0).random((20, 16, 16, 3)) * 255).astype(np.uint8)"""


def drawn_counts(widget) -> list[int]:
    return json.loads(widget.locator("canvas.nbx-hist").get_attribute("data-counts"))


def test_the_slider_draws_the_kernels_histogram_of_each_snapshot(open_notebook, page):
    nb = open_notebook([SETUP_WEIGHTS])
    nb.run_all()
    nb.wait_all_run()
    widget = page.locator(".nbx-weights").first
    canvas = widget.locator("canvas.nbx-hist")
    canvas.wait_for()
    assert widget.locator("input.nbx-checkpoint").input_value() == "3"  # the last of steps 0, 2, 4, 6
    last = nb.canvas_pixels(canvas)
    assert drawn_counts(widget) == json.loads(nb.kernel_value("__import__('json').dumps(w.histogram()[0].tolist())"))
    slider = widget.locator("input.nbx-checkpoint")
    slider.focus()
    for _ in range(3):
        page.keyboard.press("ArrowLeft")  # to snapshot 0, as a user moves a slider
    nb.wait_until(lambda: canvas.get_attribute("data-step") == "0", 10, message="the bars of step 0")
    assert nb.kernel_value("(w.wait(), w.checkpoint)[1]") == "0"
    kernel = json.loads(nb.kernel_value("__import__('json').dumps(w.recorder.histogram('0.weight', 0)[0].tolist())"))
    assert drawn_counts(widget) == kernel
    assert nb.canvas_pixels(canvas).differs(last) > 0.01, "the bars did not change with the slider"
    # a frozen parameter: flagged in the list, its findings in words; its histogram never moves
    frozen = widget.locator("button.nbx-param", has_text="4.weight")
    assert "frozen" in frozen.locator(".nbx-flag").inner_text()
    frozen.click()
    nb.wait_until(lambda: "did not change at all" in widget.locator(".nbx-findings").inner_text(), 10,
                  message="the frozen parameter's finding")
    assert nb.kernel_value("w.parameter_name") == "4.weight"
    widget.locator("select.nbx-compare").select_option("3")
    assert canvas.get_attribute("data-compare-counts") == canvas.get_attribute("data-counts")
    assert [m for m in page.console_messages if m.startswith("pageerror")] == []


def test_a_maximisation_streams_images_and_stops_on_cancel(open_notebook, page):
    nb = open_notebook([SETUP_MAX, 'w = nbx.Maximization(net, "features.3", channels=3, size=16, steps=400)\nw'])
    nb.run_all()
    nb.wait_all_run()
    widget = page.locator(".nbx-maximization").first
    root = widget
    # autostart: the view starts the run; frames stream into the grid
    nb.wait_until(lambda: int(root.get_attribute("data-frames") or 0) >= 3, 60, message="three streamed frames")
    cells = widget.locator("button.nbx-cell canvas")
    assert cells.count() == 3
    first = nb.canvas_pixels(cells.first)
    nb.wait_until(lambda: nb.canvas_pixels(cells.first).differs(first) > 0, 30, message="the image changing")
    assert "step" in widget.locator(".nbx-live").inner_text()
    widget.locator("button.nbx-stop").click()
    nb.wait_until(lambda: root.get_attribute("data-state") == "stopped", 60, message="the stopped state")
    live = widget.locator(".nbx-live").inner_text()
    stopped = int(nb.kernel_value("(w.wait(), w.stopped_at)[1]"))
    assert 0 < stopped < 400 and f"stopped at step {stopped} of 400" in live
    frames = int(root.get_attribute("data-frames"))
    page.wait_for_timeout(1000)
    assert int(root.get_attribute("data-frames")) == frames, "frames kept coming after stop"
    assert nb.kernel_value("w.curves.shape") == f"(3, {stopped})"
    assert widget.locator("button.nbx-run").is_enabled() and widget.locator("button.nbx-stop").is_disabled()
    assert [m for m in page.console_messages if m.startswith("pageerror")] == []


def test_clicking_a_gallery_cell_shows_the_kernels_dataset_examples(open_notebook, page):
    cells = [SETUP_MAX, "net.delay = 0\n"
             'gallery = nbx.maximize_channels(net, "features.3", channels=[0, 2, 4], size=16, steps=20, progress=False)\n'
             "w = gallery.widget(model=net, examples=pool, k=4)\nw"]
    nb = open_notebook(cells)
    nb.run_all()
    nb.wait_all_run()
    widget = page.locator(".nbx-maximization").first
    widget.locator("button.nbx-cell").nth(1).click()
    examples = widget.locator(".nbx-examples")
    nb.wait_until(lambda: examples.get_attribute("data-values"), 60, message="the dataset examples")
    assert examples.get_attribute("data-channel") == "2"
    assert examples.locator("canvas").count() == 4
    shown = json.loads(examples.get_attribute("data-values"))
    images = json.loads(examples.get_attribute("data-images"))
    kernel = json.loads(nb.kernel_value(
        "__import__('json').dumps({'values': nbx.dataset_examples(net, 'features.3', pool, channels=[0, 2, 4], k=4)"
        ".of(2)['values'].tolist(), 'images': w.examples_of(1)['image'].tolist(), 'selected': w.selected})"))
    assert images == kernel["images"] and kernel["selected"] == 1
    assert shown == [float(v) for v in kernel["values"]] or all(
        abs(a - b) <= 1e-9 * max(1.0, abs(b)) for a, b in zip(shown, kernel["values"], strict=True))
    # the detail panel: the larger picture and its objective curve (drawn from the kernel's curves)
    assert widget.locator(".nbx-detail").is_visible()
    first = float(widget.locator("canvas.nbx-curve").get_attribute("data-first"))
    assert abs(first - float(nb.kernel_value("float(w.curves[1, 0])"))) < 1e-4
    assert [m for m in page.console_messages if m.startswith("pageerror")] == []
