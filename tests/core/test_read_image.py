"""``core.images.read_image``: what ``gantool project`` makes of a user's PNG or JPEG for a model's image shape."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gantool.core.errors import GantoolError
from gantool.core.images import read_image


def test_rgb_png_is_read_exactly_as_c_h_w_in_unit_range(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (6, 4, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    x = read_image(tmp_path / "a.png", (3, 6, 4))
    assert x.shape == (3, 6, 4) and x.dtype == np.float32
    np.testing.assert_allclose(x, pixels.transpose(2, 0, 1) / 127.5 - 1, atol=1e-6)


def test_channels_follow_the_model(tmp_path):
    grey = np.arange(16, dtype=np.uint8).reshape(4, 4) * 16
    Image.fromarray(grey).save(tmp_path / "g.png")
    rgb = read_image(tmp_path / "g.png", (3, 4, 4))
    np.testing.assert_array_equal(rgb[0], rgb[2])  # grey for a colour model: the same in every channel
    Image.fromarray(np.stack([grey] * 3 + [np.full_like(grey, 255)], axis=-1)).save(tmp_path / "rgba.png")
    np.testing.assert_allclose(read_image(tmp_path / "rgba.png", (1, 4, 4))[0], grey / 127.5 - 1, atol=1e-6)


def test_jpeg_of_twice_the_size_is_resized(tmp_path):
    Image.fromarray(np.full((8, 16, 3), 200, dtype=np.uint8)).save(tmp_path / "a.jpg", quality=95)
    x = read_image(tmp_path / "a.jpg", (3, 4, 8))
    assert x.shape == (3, 4, 8)
    np.testing.assert_allclose(x, 200 / 127.5 - 1, atol=0.03)


def test_another_aspect_ratio_is_refused(tmp_path):
    Image.fromarray(np.zeros((8, 10), dtype=np.uint8)).save(tmp_path / "a.png")
    with pytest.raises(GantoolError, match=r"a.png is 10x8, but the model makes 8x8 images: crop it to that aspect ratio"):
        read_image(tmp_path / "a.png", (1, 8, 8))
