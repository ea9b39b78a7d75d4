"""A big photo: the page gets a display-sized copy; the kernel keeps (and explains) the full resolution."""

from __future__ import annotations

import numpy as np

import nbexplain as nbx
from nbexplain.widgets.display import MAX_SIDE, page_image, page_labels, page_maps, page_shape


def test_page_copies_keep_small_images_and_shrink_big_ones():
    small = np.zeros((200, 300, 3), np.uint8)
    assert page_image(small) is small
    big = (np.random.default_rng(0).random((2000, 3000, 3)) * 255).astype(np.uint8)
    shown = page_image(big)
    assert shown.shape == (683, 1024, 3) == (*page_shape(big.shape), 3) and shown.dtype == np.uint8
    ramp = np.tile(np.arange(3000, dtype=np.float32), (2000, 1))[None]
    m = page_maps(ramp)
    assert m.shape == (1, 683, 1024)
    assert abs(m.mean() - ramp.mean()) < 1.0 and np.all(np.diff(m[0, 0]) > 0)  # box means of the ramp
    assert m[0, 0, 0] < 3 and m[0, 0, -1] > 2996
    labels = np.repeat(np.arange(6, dtype=np.int32), 500)[None].repeat(2000, 0)
    lab = page_labels(labels)
    assert lab.shape == (683, 1024) and set(np.unique(lab)) == set(range(6))


def test_heatmap_and_explorer_send_the_page_a_display_sized_copy(tiny_cnn):
    photo = (np.random.default_rng(1).random((1500, 2100, 3)) * 255).astype(np.uint8)
    hm = nbx.Heatmap(tiny_cnn, photo, method="gradient")
    assert hm.result.map.shape == (1500, 2100)  # the kernel's result is full size
    assert max(hm.image.shape[:2]) == MAX_SIDE and hm.maps.shape[1:] == hm.image.shape[:2]
    state = hm.get_state()
    sent = sum(len(state[k]["buffer"]) for k in ("image", "maps"))
    assert sent < 6e6  # instead of 3.2 MB of image and 12.6 MB of map
    ex = nbx.SuperpixelExplorer(tiny_cnn, photo, segmentation="grid", n_segments=12)
    assert ex.segmentation.labels.shape == (1500, 2100)
    assert ex.labels.shape == ex.image.shape[:2] == ex.fill_image.shape[:2] and max(ex.labels.shape) == MAX_SIDE
    assert set(np.unique(ex.labels)) == set(range(ex.n_superpixels))
