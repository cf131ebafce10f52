"""Every built-in component, built through the registry as the CLI builds it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gantool.core.errors import GantoolError
from gantool.plugins.builtin.datasets import grid_modes, ring_modes
from gantool.plugins.registry import get_registry

PAIRS = ["mlp", "mlp-deep", "mlp-bn", "mlp-small"]
SHAPES = [(1, 28, 28), (2,), (3, 8, 8)]


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("shape", SHAPES)
def test_pairs_map_latents_to_data_and_data_to_logits(name, shape):
    reg = get_registry()
    G = reg.create("generator", name, 16, shape)
    D = reg.create("discriminator", name, shape)
    G.eval()
    D.eval()
    with torch.no_grad():
        x = G(torch.randn(5, 16) * 10)  # large latents still land in [-1, 1]
        logits = D(x)
    assert x.shape == (5, *shape)
    assert x.abs().max() <= 1.0
    assert logits.shape in ((5,), (5, 1))
    assert torch.isfinite(logits).all()


def test_seed_architectures():
    reg = get_registry()
    linear = torch.nn.Linear
    widths = lambda m: [(layer.in_features, layer.out_features) for layer in m.modules() if isinstance(layer, linear)]  # noqa: E731
    assert widths(reg.create("generator", "mlp", 64, (1, 28, 28))) == [(64, 256), (256, 256), (256, 784)]
    assert widths(reg.create("discriminator", "mlp", (1, 28, 28))) == [(784, 256), (256, 256), (256, 1)]
    deep_g = reg.create("generator", "mlp-deep", 100, (1, 28, 28))
    assert [w[1] for w in widths(deep_g)] == [196, 289, 361, 400, 512, 625, 784, 784]
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in deep_g.modules()) == 7
    assert [m.p for m in deep_g.modules() if isinstance(m, torch.nn.Dropout)] == [0.5, 0.5, 0.5, 0.4, 0.4, 0.4, 0.4]
    deep_d = reg.create("discriminator", "mlp-deep", (1, 28, 28))
    assert widths(deep_d) == [(784, 441), (441, 256), (256, 32), (32, 1)]
    assert [m.p for m in deep_d.modules() if isinstance(m, torch.nn.Dropout)] == [0.2, 0.2]
    bn_g = reg.create("generator", "mlp-bn", 50, (1, 28, 28))
    assert widths(bn_g) == [(50, 200), (200, 784)]
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in bn_g.modules()) == 1
    small_d = reg.create("discriminator", "mlp-small", (1, 28, 28))
    assert widths(small_d) == [(784, 128), (128, 1)]
    assert [m.negative_slope for m in small_d.modules() if isinstance(m, torch.nn.LeakyReLU)] == [0.01]
    assert [m.negative_slope for m in reg.create("discriminator", "mlp", (2,)).modules() if isinstance(m, torch.nn.LeakyReLU)] == [0.2, 0.2]
    for name in PAIRS:  # every generator ends in tanh: data lives in [-1, 1]
        modules = [m for m in reg.create("generator", name, 8, (2,)).modules() if not isinstance(m, torch.nn.Sequential)]
        assert isinstance(modules[-2], torch.nn.Tanh)


def test_width_options_and_bad_values():
    reg = get_registry()
    G = reg.create("generator", "mlp", 8, (2,), hidden=32)
    assert G[0].out_features == 32
    for kind, args in (("generator", (8, (2,))), ("discriminator", ((2,),))):  # `layers`: how many hidden layers
        linears = [m for m in reg.create(kind, "mlp", *args, hidden=16, layers=4).modules() if isinstance(m, torch.nn.Linear)]
        assert [m.out_features for m in linears[:-1]] == [16] * 4
    with pytest.raises(GantoolError, match="positive integer"):
        reg.create("discriminator", "mlp", (2,), layers=0)
    D = reg.create("discriminator", "mlp-deep", (2,), widths="64,16", dropout=False)
    assert not any(isinstance(m, torch.nn.Dropout) for m in D.modules())
    with pytest.raises(GantoolError, match="takes: hidden"):
        reg.create("generator", "mlp", 8, (2,), width=3)
    with pytest.raises(GantoolError, match="positive integer"):
        reg.create("generator", "mlp", 8, (2,), hidden=-4)
    with pytest.raises(GantoolError, match="comma-separated"):
        reg.create("generator", "mlp-deep", 8, (2,), widths="a,b")


class Affine(torch.nn.Module):
    """A fixed critic whose logit is the mean of its input times ``scale``."""

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(scale))

    def forward(self, x):
        return x.reshape(len(x), -1).mean(1, keepdim=True) * self.scale


def test_losses_match_their_formulas():
    reg = get_registry()
    real, fake = torch.full((4, 2), 0.5), torch.full((4, 2), -0.5)
    D = Affine(2.0)  # logits: +1 on real, -1 on fake
    sig = torch.sigmoid
    one = torch.tensor(1.0)
    bce_d = -(torch.log(sig(one)) + torch.log(1 - sig(-one)))
    for name in ("minimax", "nonsat"):
        assert torch.allclose(reg.create("loss", name).discriminator_loss(D, real, fake), bce_d)
    assert torch.allclose(reg.create("loss", "minimax").generator_loss(D, real, fake), torch.log(1 - sig(-one)))
    assert torch.allclose(reg.create("loss", "nonsat").generator_loss(D, real, fake), -torch.log(sig(-one)))
    lsgan = reg.create("loss", "lsgan")
    assert torch.allclose(lsgan.discriminator_loss(D, real, fake), torch.tensor(0.5 * (0.0 + 1.0)))
    assert torch.allclose(lsgan.generator_loss(D, real, fake), torch.tensor(0.5 * 4.0))
    smooth = reg.create("loss", "nonsat", label_smoothing=0.1)
    expected = -(0.9 * torch.log(sig(one)) + 0.1 * torch.log(1 - sig(one))) - torch.log(1 - sig(-one))
    assert torch.allclose(smooth.discriminator_loss(D, real, fake), expected)
    with pytest.raises(GantoolError, match="label_smoothing"):
        reg.create("loss", "nonsat", label_smoothing=1.5)


def test_minimax_saturates_where_nonsat_does_not():
    """The reason for the heuristic: when D rejects fakes confidently, log(1 - D(G(z))) has almost no gradient."""
    reg = get_registry()
    grads = {}
    for name in ("minimax", "nonsat"):
        fake = torch.full((8, 2), -1.0, requires_grad=True)
        reg.create("loss", name).generator_loss(Affine(8.0), None, fake).backward()
        grads[name] = fake.grad.abs().sum().item()
    assert grads["nonsat"] > 100 * grads["minimax"]


def test_losses_stay_finite_for_confident_discriminators():
    reg = get_registry()
    D = Affine(1e4)
    real, fake = torch.ones(3, 2), -torch.ones(3, 2)
    for name in ("minimax", "nonsat", "lsgan"):
        loss = reg.create("loss", name)
        assert torch.isfinite(loss.discriminator_loss(D, real, fake))
        assert torch.isfinite(loss.generator_loss(D, real, fake))


def test_digits_are_real_mnist_test_digits():
    data = get_registry().create("dataset", "digits").train
    assert data.shape == (10000, 1, 28, 28) and data.dtype == torch.uint8
    assert data.float().mean().item() == pytest.approx(33.3, abs=1.0)  # MNIST's mean pixel value


@pytest.mark.parametrize("name,modes,sigma", [("ring", ring_modes, 0.01 * 0.8), ("grid", grid_modes, 0.05 * 0.2)])
def test_mode_collapse_benchmarks_follow_pacgan_geometry(name, modes, sigma):
    made = get_registry().create("dataset", name)
    data = made.train
    means, s = modes()
    assert made.modes.means == means and made.modes.sigma == s
    assert s == pytest.approx(sigma)
    assert data.shape == (100_000, 2) and data.abs().max() <= 1.0
    centres = torch.tensor(means)
    nearest = torch.cdist(data, centres).min(1)
    assert (nearest.values < 4 * s).float().mean() > 0.999
    counts = torch.bincount(nearest.indices, minlength=len(means)).float()
    assert counts.min() > 0.8 * len(data) / len(means)  # every mode equally likely
    assert torch.equal(data, get_registry().create("dataset", name).train)  # fixed samples
    held_out = made.held_out_samples()
    assert held_out.shape == data.shape and not torch.equal(held_out, data)  # a fresh draw of the same mixture
    if name == "grid":
        assert sorted({round(m[0] / 0.2) for m in means}) == [-4, -2, 0, 2, 4]
    else:
        assert all(math.hypot(*m) == pytest.approx(0.8) for m in means)


def test_image_folder(tmp_path):
    from PIL import Image

    for i in range(3):
        Image.fromarray(np.full((40, 30, 3), 80 * i, dtype=np.uint8)).save(tmp_path / f"{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    made = get_registry().create("dataset", "image-folder", path=str(tmp_path), size=16, channels=3)
    data = made.train
    assert made.classes is None and made.labels is None  # images in the folder itself: no classes
    assert data.shape == (3, 3, 16, 16) and data.dtype == torch.uint8
    assert sorted(data.float().mean((1, 2, 3)).tolist()) == [0.0, 80.0, 160.0]
    with pytest.raises(GantoolError, match="does not exist"):
        get_registry().create("dataset", "image-folder", path=str(tmp_path / "missing"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(GantoolError, match="no images"):
        get_registry().create("dataset", "image-folder", path=str(empty))


def test_image_folder_with_a_folder_per_class(tmp_path):
    from PIL import Image

    for cls, value in (("dog", 200), ("cat", 50)):
        (tmp_path / cls / "deeper").mkdir(parents=True)
        for i in range(2):
            Image.fromarray(np.full((8, 8), value, dtype=np.uint8)).save(tmp_path / cls / "deeper" / f"{i}.png")
    (tmp_path / "empty").mkdir()
    made = get_registry().create("dataset", "image-folder", path=str(tmp_path), size=8)
    assert made.classes == ["cat", "dog", "empty"]  # sorted names, as torchvision's ImageFolder; empty classes are kept
    assert made.labels.tolist() == [0, 0, 1, 1]
    assert made.train[made.labels == 1].float().mean().item() == 200.0


def test_mnist_from_a_local_root(mnist_root):
    data = get_registry().create("dataset", "mnist", root=str(mnist_root), download=False).train
    assert data.shape == (60000, 1, 28, 28) and data.dtype == torch.uint8
    test = get_registry().create("dataset", "mnist", root=str(mnist_root), train=False, download=False)
    assert torch.equal(test.train, get_registry().create("dataset", "digits").train)  # the embedded set is MNIST's test split


def test_mnist_missing_without_download_is_a_clear_error(tmp_path):
    with pytest.raises(GantoolError, match="--data-opt root=DIR"):
        get_registry().create("dataset", "mnist", root=str(tmp_path), download=False)
