"""The built-in augmentations, DiffAugment's, held to its definitions: each one's draws recovered from its output
on images built so that every draw can be read back, per image, on 1- and 3-channel images of several sizes,
on every device at hand; and gradients reach G through each."""

from __future__ import annotations

import pytest
import torch

from gantool.core.errors import GantoolError
from gantool.plugins.registry import Registry

N = 4096  # images per statistics test: a mean within 0.02 of its expectation by a wide margin
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
SHAPES = [(1, 28, 28), (3, 32, 32), (1, 12, 20), (3, 7, 9)]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(entry_point_group=None)  # the built-ins alone


def augment(registry: Registry, name: str, shape: tuple[int, ...], seed: int = 0, **options):
    transform = registry.create("augmentation", name, shape, **options)
    return lambda x: transform(x, torch.Generator(device=x.device).manual_seed(seed))


def assert_uniform(values: torch.Tensor, low: float, high: float) -> None:
    """Inside [low, high], spread over it: mean and variance of U(low, high), every quarter of the range hit."""
    values = values.double().cpu()
    assert values.min() >= low - 1e-5 and values.max() <= high + 1e-5
    width = high - low
    assert abs(values.mean() - (low + high) / 2) < 0.03 * width
    assert abs(values.var() - width**2 / 12) < 0.1 * width**2 / 12
    quarters = torch.histc(values, bins=4, min=low, max=high)
    assert (quarters > len(values) / 5).all()


def test_they_are_registered_by_a_built_in_module_through_the_hook(registry):
    assert registry.names("augmentation") == ["color", "cutout", "translation"]
    assert {registry.get("augmentation", n).plugin for n in registry.names("augmentation")} == {"gantool.plugins.builtin.augmentations"}


@pytest.mark.parametrize("device", DEVICES)
def test_color_draws_brightness_saturation_and_contrast_per_image_as_diffaugment(registry, device):
    """Half the pixels are (a, -a, 0) (channel mean 0), half grey g: the output gives back b, s and c of each image."""
    a, g = 0.4, 0.6
    x = torch.zeros(N, 3, 4, 4, device=device)
    x[:, 0, :2], x[:, 1, :2] = a, -a
    x[:, :, 2:] = g
    out = augment(registry, "color", (3, 4, 4))(x)
    assert out.shape == x.shape
    M = out.mean(dim=(1, 2, 3))  # contrast keeps the image mean: the mean after brightness, g/2 + b
    c = (out[:, 0, 3, 0] - M) / (g / 2)
    s = ((out[:, 0, 0, 0] - M) / c + g / 2) / a
    b = M - g / 2
    assert_uniform(b, -0.5, 0.5)
    assert_uniform(s, 0.0, 2.0)
    assert_uniform(c, 0.5, 1.5)
    assert abs(torch.corrcoef(torch.stack([b, s, c]).cpu())[torch.triu_indices(3, 3, 1).unbind()]).max() < 0.1  # drawn apart


def test_color_on_one_channel_is_brightness_and_contrast(registry):
    x = torch.linspace(-0.5, 0.5, 28 * 28).reshape(1, 1, 28, 28).repeat(N, 1, 1, 1)
    out = augment(registry, "color", (1, 28, 28))(x)
    b = out.mean(dim=(1, 2, 3))
    c = (out - b.view(-1, 1, 1, 1)) / x  # saturation changes nothing on one channel
    assert torch.allclose(c[:, 0, 0, 0], c[:, 0, -1, -1], atol=1e-4)
    assert_uniform(b, -0.5, 0.5)
    assert_uniform(c[:, 0, 0, 0], 0.5, 1.5)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", SHAPES)
def test_translation_shifts_each_image_by_whole_pixels_up_to_an_eighth_zero_padded(registry, shape, device):
    channels, height, width = shape
    n = 1024
    x = (torch.arange(height * width, dtype=torch.float32) + 1).reshape(1, 1, height, width).repeat(n, channels, 1, 1).to(device)
    x[:, 1:] *= -1  # channels differ, and move together
    out = augment(registry, "translation", shape)(x)
    assert out.shape == x.shape
    limit_h, limit_w = int(height / 8 + 0.5), int(width / 8 + 0.5)
    shifts = []
    for image in out.cpu():
        # the image is x moved by (dy, dx): read them off any surviving pixel, then check every pixel against them
        i, j = [int(k[0]) for k in (image[0] != 0).nonzero(as_tuple=True)]
        value = int(image[0, i, j]) - 1
        dy, dx = value // width - i, value % width - j
        padded = torch.nn.functional.pad(x[0].cpu(), [limit_w] * 2 + [limit_h] * 2)
        expected = padded[:, limit_h + dy : limit_h + dy + height, limit_w + dx : limit_w + dx + width]
        assert torch.equal(image, expected)
        shifts.append((dy, dx))
    dys, dxs = torch.tensor(shifts).T
    assert set(dys.tolist()) == set(range(-limit_h, limit_h + 1)) and set(dxs.tolist()) == set(range(-limit_w, limit_w + 1))
    assert abs(dys.float().mean()) < 0.25 * max(limit_h, 1) and abs(dxs.float().mean()) < 0.25 * max(limit_w, 1)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", SHAPES)
def test_cutout_zeroes_one_square_of_half_the_size_per_image(registry, shape, device):
    channels, height, width = shape
    x = torch.ones(N, channels, height, width, device=device)
    out = augment(registry, "cutout", shape)(x).cpu()
    assert out.shape == x.shape
    assert torch.equal(out, out[:, :1].expand_as(out))  # the same square on every channel
    size_h, size_w = int(height / 2 + 0.5), int(width / 2 + 0.5)
    zero = out[:, 0] == 0
    rows, cols = zero.any(dim=2), zero.any(dim=1)
    h, w = rows.sum(1), cols.sum(1)
    assert (zero.sum((1, 2)) == h * w).all()  # a rectangle: the square, clipped at the border
    assert (h <= size_h).all() and (w <= size_w).all() and (h >= (size_h + 1) // 2).all() and (w >= (size_w + 1) // 2).all()
    inside = (h == size_h) & (w == size_w)
    assert 0.2 < inside.float().mean() < 0.95  # sometimes whole, sometimes cut by the border
    centre_row = (rows.float() * torch.arange(height)).sum(1) / h
    assert abs(centre_row.mean() - (height - 1) / 2) < 0.1 * height  # anywhere in the image, evenly


@pytest.mark.parametrize("name", ["color", "translation", "cutout"])
def test_each_draws_anew_per_image_and_repeats_from_the_same_generator_state(registry, name):
    x = torch.randn(64, 3, 16, 16)
    first, again, other = (
        augment(registry, name, (3, 16, 16))(x),
        augment(registry, name, (3, 16, 16))(x),
        augment(registry, name, (3, 16, 16), seed=1)(x),
    )
    assert torch.equal(first, again) and not torch.equal(first, other)
    same_image = torch.randn(1, 3, 16, 16).repeat(64, 1, 1, 1)
    out = augment(registry, name, (3, 16, 16))(same_image)
    assert len({tuple(o.flatten().tolist()) for o in out}) > 16  # each image its own draw (translation has 25 outcomes here)


@pytest.mark.parametrize("name", ["color", "translation", "cutout"])
def test_gradients_reach_every_weight_of_g_through_each(registry, name):
    G = registry.create("generator", "mlp-small", 8, (1, 12, 12))
    D = registry.create("discriminator", "mlp-small", (1, 12, 12))
    fake = G(torch.randn(16, 8))
    D(augment(registry, name, (1, 12, 12))(fake)).mean().backward()
    for pname, p in G.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", ["translation", "cutout"])
def test_moving_pixels_is_refused_on_points_with_one_line(registry, name):
    with pytest.raises(GantoolError, match=f"augmentation '{name}' moves pixels.*got data of shape 2: use --augment color"):
        registry.create("augmentation", name, (2,))


def test_color_works_on_points(registry):
    out = augment(registry, "color", (2,))(torch.randn(100, 2))
    assert out.shape == (100, 2) and out.isfinite().all()


def test_a_bad_ratio_is_refused(registry):
    with pytest.raises(GantoolError, match="ratio must be a fraction of the image in \\(0, 1\\], got 2"):
        registry.create("augmentation", "cutout", (1, 28, 28), ratio=2)
