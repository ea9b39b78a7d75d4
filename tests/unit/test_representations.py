"""Learned representations against independent references: PCA against scikit-learn's PCA (up to the sign of each
component), activations against a hand-written forward pass with hooks, linear probes against
``cross_val_score`` with the same folds and model, trustworthiness against scikit-learn's, t-SNE / UMAP maps of the
digits' last layer trustworthy (>= 0.9 at 10 neighbours) and reproducible by seed."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import trustworthiness as sk_trustworthiness
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from unit_kit import ViewingCNN

import nbexplain as nbx
from nbexplain.errors import InputError, ModelError
from nbexplain.methods.representations.extraction import ModelInputs, extract, resolve_layers
from nbexplain.methods.representations.layout import aligned, normalised
from nbexplain.methods.representations.quality import trustworthiness


class Net(torch.nn.Module):
    """conv -> ReLU -> pool -> conv -> ReLU -> linear, float64: every layer's output is checkable."""

    def __init__(self, channels: int = 3):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.features = torch.nn.Sequential(OrderedDict(
            conv1=torch.nn.Conv2d(channels, 4, 3, padding=1), relu1=torch.nn.ReLU(), pool=torch.nn.MaxPool2d(2),
            conv2=torch.nn.Conv2d(4, 6, 3, padding=1), relu2=torch.nn.ReLU()))
        self.head = torch.nn.Linear(6 * 4 * 4, 3)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.4)
        self.double().eval()

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(1).integers(0, 256, size=(50, 8, 8, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def digits_hidden():
    data = nbx.datasets.digits("test")
    model = nbx.datasets.digits_classifier()
    acts = nbx.activations(model, data.images, layers=["block1", "hidden"], progress=False)
    return data, acts


def as_model_input(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) as nbexplain gives it to a model: float32 in [0, 1], channels first (as as_image does)."""
    return torch.from_numpy(images.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255.0)).double()


def hand_written(net, x: torch.Tensor, modules: dict) -> dict:
    """Each module's output for the whole batch at once, read by hooks registered here."""
    outputs, handles = {}, []
    for name, module in modules.items():
        handles.append(module.register_forward_hook(lambda m, i, o, name=name: outputs.__setitem__(name, o.detach())))
    with torch.no_grad():
        outputs["scores"] = net(x)
    for h in handles:
        h.remove()
    return outputs


# -- activations ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pool", ["mean", "max", "flatten"])
def test_activations_equal_a_hand_written_forward_pass_with_hooks(images, pool):
    net = Net()
    names = ["input", "features.conv1", "features.relu2", "head"]
    acts = nbx.activations(net, images, layers=names, pool=pool, batch_size=7, progress=False)
    x = as_model_input(images)
    ref = hand_written(net, x, {"features.conv1": net.features.conv1, "features.relu2": net.features.relu2,
                                "head": net.head})
    ref["input"] = x

    def pooled(t):
        if t.ndim == 2:
            return t.numpy()
        if pool == "flatten":
            return t.flatten(1).numpy()
        return (t.mean(dim=(2, 3)) if pool == "mean" else t.amax(dim=(2, 3))).numpy()

    assert acts.layers == names
    for name in names:
        assert acts[name].dtype == np.float64
        np.testing.assert_allclose(acts[name], pooled(ref[name]), rtol=1e-12, atol=1e-12)
    assert acts.shapes == {"input": (3, 8, 8), "features.conv1": (4, 8, 8), "features.relu2": (6, 4, 4), "head": (3,)}
    np.testing.assert_allclose(acts.scores, ref["scores"].numpy(), rtol=1e-12)
    np.testing.assert_array_equal(acts.predictions, ref["scores"].numpy().argmax(1))
    assert acts.to_frame()["dimensions"].tolist() == [acts[n].shape[1] for n in names]


def test_a_model_run_again_contiguous_by_the_adapter_is_read_once_per_pass(images):
    net = ViewingCNN(side=8).double().eval()  # the adapter's channels-last pass fails, then reruns
    acts = nbx.activations(net, images, layers=["conv", "fc"], batch_size=16, progress=False)
    ref = hand_written(net, as_model_input(images).contiguous(), {"conv": net.conv, "fc": net.fc})
    np.testing.assert_allclose(acts["conv"], ref["conv"].mean(dim=(2, 3)).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(acts["fc"], ref["fc"].numpy(), rtol=1e-12, atol=1e-12)


def test_activations_stream_one_model_batch_at_a_time(images):
    net = Net()
    seen = []
    net.register_forward_pre_hook(lambda m, args: seen.append(args[0].shape[0]))
    acts = nbx.activations(net, images, layers=[net.features.relu1], batch_size=16, progress=False)
    assert seen == [16, 16, 16, 2]  # the inputs are converted and run one batch at a time, in order
    assert acts.layers == ["features.relu1"] and acts["features.relu1"].shape == (50, 4)
    # the automatic batch size (the adapter's BatchSizer) gives the same numbers
    auto = nbx.activations(net, images, layers=["features.relu1"], progress=False)
    np.testing.assert_allclose(auto["features.relu1"], acts["features.relu1"], rtol=1e-12)


def test_activations_report_progress_and_accept_a_pooling_function(images):
    net = Net()
    fractions = []
    acts = nbx.activations(net, images, layers=["features.conv2"], pool=lambda t: t[:, :, 0, 0], batch_size=10,
                           progress=fractions.append)
    assert fractions[-1] == 1.0 and fractions == sorted(fractions) and len(fractions) == 5
    x = as_model_input(images)
    ref = hand_written(net, x, {"c": net.features.conv2})["c"][:, :, 0, 0].numpy()
    np.testing.assert_allclose(acts["features.conv2"], ref, rtol=1e-12)
    assert acts.pool == "<lambda>"


def test_inputs_are_laid_out_as_the_model_takes_them():
    rgb = np.arange(2 * 4 * 5 * 3, dtype=np.uint8).reshape(2, 4, 5, 3)
    batch = ModelInputs(rgb, channels=3)[0:2]
    np.testing.assert_allclose(batch, rgb.transpose(0, 3, 1, 2) / np.float32(255), rtol=1e-6)
    assert batch.dtype == np.float32
    rgba = np.zeros((2, 4, 5, 4), dtype=np.uint8)
    assert ModelInputs(rgba, channels=3)[0:1].shape == (1, 3, 4, 5)
    grey = np.ones((3, 8, 8), dtype=np.uint8) * 255
    assert ModelInputs(grey, channels=1)[0:3].shape == (3, 1, 8, 8)
    chw = np.random.default_rng(0).random((2, 3, 6, 6))
    np.testing.assert_array_equal(ModelInputs(chw, channels=3)[0:2], chw)  # float64 stays float64, as it is
    table = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_array_equal(ModelInputs(table)[1:3], table[1:3])


def test_reused_inputs_write_every_slice_into_one_buffer_with_the_same_values():
    rgb = np.random.default_rng(1).integers(0, 256, (7, 4, 5, 3), dtype=np.uint8)
    table = np.random.default_rng(2).normal(size=(7, 3))
    for X, channels in ((rgb, 3), (table, None)):
        fresh = ModelInputs(X, channels=channels)
        reused = ModelInputs(X, channels=channels)
        reused.reuse = True
        first = reused[0:4]
        np.testing.assert_array_equal(first, fresh[0:4])
        second = reused[4:7]  # a shorter slice: the front of the same buffer
        np.testing.assert_array_equal(second, fresh[4:7])
        assert np.shares_memory(first, second)
        assert not np.shares_memory(fresh[0:4], fresh[0:4])


def test_extraction_reuses_one_input_buffer_only_while_it_runs(images):
    net = Net().float()  # takes the float32 batches as they are
    inputs = ModelInputs(images, channels=3)
    seen = []
    handle = net.features.conv1.register_forward_pre_hook(lambda _m, args: seen.append(args[0].data_ptr()))
    try:
        extract(nbx.as_model(net, batch_size=3), inputs, resolve_layers(net, ["features.conv2"]), "mean")
    finally:
        handle.remove()
    assert len(seen) >= 3 and len(set(seen[1:])) == 1  # the first batch is the adapter's own copy
    assert inputs.reuse is False and inputs[0:2] is not inputs[0:2]


def test_activations_refuse_bad_input_with_messages_naming_it(images):
    net = Net()
    with pytest.raises(InputError, match=r"'features\.relu' is not a module of the model; did you mean 'features\.relu[12]'"):
        nbx.activations(net, images, layers=["features.relu"])
    with pytest.raises(InputError, match="pool='avg' is not valid"):
        nbx.activations(net, images, pool="avg")
    with pytest.raises(InputError, match=r"layers names \['head'\] more than once"):
        nbx.activations(net, images, layers=["head", net.head])
    with pytest.raises(InputError, match="activations need a torch.nn.Module"):
        nbx.activations(LogisticRegression().fit(np.eye(4), [0, 1, 0, 1]), np.eye(4))
    with pytest.raises(InputError, match="X contains NaN"):
        nbx.activations(net, np.full((2, 3, 8, 8), np.nan))
    with pytest.raises(InputError, match="one row per input"):
        nbx.activations(net, images, layers=["head"], pool=lambda t: t[:1])
    with pytest.raises(TypeError, match="unexpected keyword argument 'layer'"):
        nbx.activations(net, images, layer="head")
    net2 = Net()
    net2.features.relu1 = torch.nn.Identity()  # a shared module runs twice in one forward pass
    shared = torch.nn.ReLU()
    net2.features.relu1 = shared
    net2.features.relu2 = shared
    with pytest.raises(InputError, match="runs more than once in a forward pass"):
        nbx.activations(net2, images, layers=[shared])

    class Broken(Net):
        def forward(self, x):
            raise RuntimeError("broken on purpose")

    with pytest.raises(ModelError, match="broken on purpose"):
        nbx.activations(Broken(), images, layers=["head"])


def test_default_layers_are_the_top_level_stages(images):
    acts = nbx.activations(Net(), images, progress=False)
    assert acts.layers == ["features", "head"]


# -- projections ----------------------------------------------------------------------------------------------
def test_pca_equals_scikit_learns_up_to_the_sign_of_each_component():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 12)) @ rng.normal(size=(12, 12)) + rng.normal(size=12)
    result = nbx.project(X, "pca", n_components=3)
    ref = PCA(n_components=3).fit(X)
    expected = ref.transform(X)
    signs = np.sign((result.coordinates * expected).sum(axis=0))
    np.testing.assert_allclose(result.coordinates * signs, expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(result.explained_variance_ratio, ref.explained_variance_ratio_, rtol=1e-10)
    assert result.kl_divergence is None and result.method == "pca" and result.layer == "X"
    np.testing.assert_allclose(result.transform(X[:5]) * signs, expected[:5], rtol=1e-9, atol=1e-9)
    # a layer of one unit maps onto a line: one component, the second is zero
    line = nbx.project(X[:, :1], "pca")
    assert np.all(line.coordinates[:, 1] == 0) and line.explained_variance_ratio[0] == pytest.approx(1.0)


def test_pca_of_every_layer_of_activations(digits_hidden):
    data, acts = digits_hidden
    maps = nbx.project(acts, "pca")
    assert isinstance(maps, nbx.Projections) and maps.layers == ["block1", "hidden"]
    # exact (a full SVD): scikit-learn's "auto" would pick the covariance's eigendecomposition here, which is
    # less precise for this layer's dead (constant) units
    ref = PCA(n_components=2, svd_solver="full").fit_transform(acts["hidden"].astype(np.float64))
    got = maps["hidden"].coordinates
    signs = np.sign((got * ref).sum(axis=0))
    np.testing.assert_allclose(got * signs, ref, rtol=1e-9, atol=1e-9)
    assert maps.to_frame()["layer"].tolist() == ["block1", "hidden"]
    single = nbx.project(acts, "pca", layer="hidden")
    assert isinstance(single, nbx.Projection)
    np.testing.assert_array_equal(single.coordinates, got)


def test_trustworthiness_equals_scikit_learns_and_its_estimate_is_close():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 10))
    Y = X[:, :2] + rng.normal(scale=0.3, size=(400, 2))
    exact = sk_trustworthiness(X, Y, n_neighbors=10)
    assert trustworthiness(X, Y, 10) == pytest.approx(exact, abs=1e-12)  # scikit-learn's own, below 2000 rows
    assert trustworthiness(X, Y, 10, queries=np.arange(400)) == pytest.approx(exact, abs=1e-12)  # ours, chunked
    for k in (1, 5, 30):
        assert trustworthiness(X, Y, k, queries=np.arange(400)) == pytest.approx(sk_trustworthiness(X, Y, n_neighbors=k),
                                                                              abs=1e-12)
    estimate = trustworthiness(X, Y, 10, max_queries=150, seed=0)  # sampled queries, ranked against all rows
    assert estimate == pytest.approx(exact, abs=0.02)


@pytest.mark.slow
def test_tsne_of_the_digits_last_layer_is_trustworthy_and_reproducible(digits_hidden):
    data, acts = digits_hidden
    first = nbx.project(acts, "tsne", layer="hidden", seed=0)
    assert first.trustworthiness >= 0.9
    assert first.trustworthiness == pytest.approx(sk_trustworthiness(acts["hidden"], first.coordinates,
                                                                     n_neighbors=10), abs=1e-12)
    assert first.kl_divergence > 0 and first.params["perplexity"] == 30.0
    again = nbx.project(acts, "tsne", layer="hidden", seed=0)
    np.testing.assert_array_equal(again.coordinates, first.coordinates)
    other = nbx.project(acts, "tsne", layer="hidden", seed=1)
    assert not np.allclose(other.coordinates, first.coordinates)
    # new points are placed into the map near their neighbours (openTSNE's transform): mostly their own digit
    placed = first.transform(acts["hidden"][:60])
    nearest = np.argmin(((placed[:, None, :] - first.coordinates[None, 60:, :]) ** 2).sum(-1), axis=1) + 60
    assert (data.labels[nearest] == data.labels[:60]).mean() >= 0.8


@pytest.mark.slow
def test_umap_of_the_digits_last_layer_is_trustworthy_and_reproducible(digits_hidden):
    pytest.importorskip("umap", reason="UMAP is the optional extra nbexplain[umap]")
    _, acts = digits_hidden
    first = nbx.project(acts, "umap", layer="hidden", seed=0)
    assert first.trustworthiness >= 0.9 and first.kl_divergence is None
    again = nbx.project(acts, "umap", layer="hidden", seed=0)
    np.testing.assert_array_equal(again.coordinates, first.coordinates)


def test_aligned_maps_are_similar_to_the_originals_and_turned_onto_each_other():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200, 2))
    angle = 1.1
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    b = 5.0 * (a @ rotation) * np.array([1, -1]) + 3.0  # rotated, reflected, scaled, shifted
    first, second = aligned([b, a])
    np.testing.assert_allclose(first, second, atol=1e-10)  # the same map up to a similarity
    np.testing.assert_allclose(second, normalised(a))
    assert np.sqrt((second ** 2).sum(1).mean()) == pytest.approx(1.0)
    X = rng.normal(size=(200, 6))
    assert trustworthiness(X, first, 10) == pytest.approx(trustworthiness(X, b, 10), abs=1e-12)


def test_project_refuses_bad_input(digits_hidden):
    _, acts = digits_hidden
    with pytest.raises(InputError, match="method='tnse' is not valid.*did you mean 'tsne'"):
        nbx.project(acts, "tnse")
    with pytest.raises(InputError, match="perplexity must be a number > 0 and below"):
        nbx.project(np.random.default_rng(0).normal(size=(20, 3)), "tsne", perplexity=30)
    with pytest.raises(InputError, match="n_components must be an int in 2..3"):
        nbx.project(acts, n_components=4)
    with pytest.raises(InputError, match=r"layer=5 is out of range: there are 2 layers"):
        nbx.project(acts, layer=5)
    with pytest.raises(InputError, match="layer= needs X to be an Activations"):
        nbx.project(np.eye(5), layer="x")
    with pytest.raises(InputError, match="NaN"):
        nbx.project(np.full((10, 2), np.nan))


# -- linear probes ----------------------------------------------------------------------------------------------
def test_linear_probes_equal_cross_val_score_with_the_same_folds_and_model(digits_hidden):
    data, acts = digits_hidden
    probes = nbx.linear_probes(acts, data.labels)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=0))
    for i, layer in enumerate(acts.layers):
        expected = cross_val_score(model, acts[layer], data.labels, cv=folds)
        np.testing.assert_allclose(probes.scores[i], expected, rtol=0, atol=1e-12)
    assert probes.accuracy[1] > probes.accuracy[0] + 0.1  # the digits separate in the late layer
    assert probes.chance == pytest.approx(np.bincount(data.labels).max() / len(data.labels))
    frame = probes.to_frame()
    assert frame["layer"].tolist() == ["block1", "hidden"] and frame["dimensions"].tolist() == [8, 32]
    assert "hidden" in probes.summary() and probes["hidden"] == pytest.approx(probes.accuracy[1])


def test_linear_probes_with_another_probe_and_splitter():
    rng = np.random.default_rng(0)
    y = np.repeat(["cat", "dog", "owl"], 40)
    layers = {"noise": rng.normal(size=(120, 5)), "signal": rng.normal(size=(120, 5)) + (y == "dog")[:, None] * 3}
    folds = KFold(4, shuffle=True, random_state=3)
    probe = LogisticRegression(C=0.5, max_iter=500)
    probes = nbx.linear_probes(layers, y, cv=folds, probe=probe)
    for i, name in enumerate(layers):
        np.testing.assert_allclose(probes.scores[i], cross_val_score(probe, layers[name], y, cv=folds), atol=1e-12)
    assert probes.probe == "LogisticRegression" and probes.layers == ["noise", "signal"]
    with pytest.raises(InputError, match=r"y must be 1-D with one label per row of X \(120\)"):
        nbx.linear_probes(layers, y[:10])
    with pytest.raises(InputError, match="at least two classes"):
        nbx.linear_probes(layers, np.zeros(120))
    with pytest.raises(InputError, match="cv must be an int from 2 to the size of the smallest class"):
        nbx.linear_probes(layers, y, cv=100)


# -- pictures and data ------------------------------------------------------------------------------------------
def test_results_draw_and_render_as_png(digits_hidden):
    data, acts = digits_hidden
    maps = nbx.project(acts, "pca")
    axes = maps.plot(y=data.labels, class_names=data.class_names)
    assert len(axes) == 2 and "PCA of hidden" in axes[1].get_title()
    assert [t.get_text() for t in axes[1].get_legend().get_texts()][:2] == ["0", "1"]
    ax = maps["hidden"].plot(y=acts["hidden"][:, 0])  # numbers on a colour scale
    assert ax.get_title().startswith("PCA of hidden")
    for result in (maps, maps["hidden"], nbx.linear_probes(acts, data.labels), acts):
        assert result._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
    ax = acts.plot(layer="hidden", y=data.labels)
    assert ax.get_ylabel() == "class"
    with_dollars = nbx.project({"$5k layer": acts["hidden"]}, "pca").plot()
    assert "\\$5k" in with_dollars.get_title()  # user text is drawn literally, not as mathtext


def test_a_class_has_the_same_colour_whichever_classes_are_present():
    from matplotlib.colors import to_hex

    from nbexplain.plotting.representations import PALETTE

    maps = nbx.project(np.random.default_rng(0).normal(size=(40, 3)), "pca")
    y = np.array([3, 7] * 20)
    ax = maps.plot(y=y, class_names=[f"digit {i}" for i in range(10)])
    legend = {t.get_text(): to_hex(h.get_facecolor()[0]) for t, h in zip(ax.get_legend().get_texts(),
                                                                          ax.get_legend().legend_handles, strict=True)}
    assert legend == {"digit 3": PALETTE[3], "digit 7": PALETTE[7]}  # as the Projector colours them
    ax = maps.plot(y=np.array(["b", "a"] * 20), palette=["#000000", "#ffffff"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]


def test_digits_data_and_classifier():
    train, test, everything = nbx.datasets.digits("train"), nbx.datasets.digits("test"), nbx.datasets.digits()
    assert (len(train), len(test), len(everything)) == (1000, 797, 1797)
    assert not set(train.rows) & set(test.rows)
    assert test.images.dtype == np.uint8 and test.images.shape[1:] == (8, 8) and test.X.shape == (797, 1, 8, 8)
    model = nbx.datasets.digits_classifier()
    accuracy = (nbx.activations(model, test.images, layers=["logits"], progress=False).predictions == test.labels).mean()
    assert accuracy >= 0.95
    with pytest.raises(InputError, match="split='validation' is not valid"):
        nbx.datasets.digits("validation")
