"""The DCGAN pair against seed 003's rules and gantool's plugin contract, built through gantool's registry."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest
import torch
from torch import nn

from gantool.core.errors import GantoolError
from gantool.plugins.registry import Registry, get_registry

SHAPES = [(1, 28, 28), (3, 32, 32), (3, 28, 28), (1, 32, 32)]
WEIGHTED = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)


def build(data_shape, width=8, latent_dim=16):
    registry = get_registry()
    G = registry.create("generator", "dcgan", latent_dim, data_shape, width=width)
    D = registry.create("discriminator", "dcgan", data_shape, width=width)
    return G, D


def after_each_weighted_layer(model: nn.Module) -> list[tuple[nn.Module, nn.Module | None]]:
    """(layer, the module that processes its output next), skipping reshapes."""
    chain = [m for m in model.modules() if not isinstance(m, nn.Sequential | nn.Unflatten | nn.Flatten)]
    return [(m, chain[i + 1] if i + 1 < len(chain) else None) for i, m in enumerate(chain) if isinstance(m, WEIGHTED)]


def test_found_through_the_gantool_entry_point_only():
    assert any(ep.value == "gantool_dcgan" for ep in entry_points(group="gantool"))
    registry = get_registry()
    assert registry.get("generator", "dcgan").plugin == "gantool-dcgan"
    assert registry.get("discriminator", "dcgan").plugin == "gantool-dcgan"
    assert not registry.plugins["gantool-dcgan"].errors
    with pytest.raises(GantoolError, match="unknown generator 'dcgan'"):
        Registry(entry_point_group=None).get("generator", "dcgan")


def test_registering_does_not_import_torch():
    code = "import sys, gantool_dcgan; from gantool.plugins.registry import Registry; Registry(); assert 'torch' not in sys.modules"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("data_shape", SHAPES)
def test_shapes_and_range(data_shape):
    G, D = build(data_shape)
    x = G(torch.randn(6, 16))
    assert x.shape == (6, *data_shape)
    assert x.min() >= -1 and x.max() <= 1
    assert D(x).shape == (6, 1)


@pytest.mark.parametrize("data_shape", [(1, 28, 28), (3, 32, 32), (1, 16, 16), (3, 64, 64), (1, 128, 128)])
def test_seed_003_rules(data_shape):
    G, D = build(data_shape)
    doublings = {28: 2, 16: 2, 32: 3, 64: 4, 128: 5}[data_shape[1]]
    for model in (G, D):
        names = {type(m).__name__ for m in model.modules()}
        assert not any("Pool" in n or "Upsample" in n for n in names), names
    # strided convolutions change the resolution
    assert [m.stride for m in G.modules() if isinstance(m, nn.ConvTranspose2d)] == [(2, 2)] * doublings
    d_convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert [m.stride for m in d_convs[:-1]] == [(2, 2)] * doublings
    assert d_convs[-1].kernel_size == (data_shape[1] >> doublings,) * 2  # the logit layer covers the last map whole
    # the only dense layer takes z
    g_layers = after_each_weighted_layer(G)
    assert isinstance(g_layers[0][0], nn.Linear) and sum(isinstance(m, nn.Linear) for m in G.modules()) == 1
    assert not any(isinstance(m, nn.Linear) for m in D.modules())
    # BatchNorm after every layer but G's output and D's input; ReLU/tanh in G, LeakyReLU 0.2 in D
    assert all(isinstance(nxt, nn.BatchNorm2d) for _, nxt in g_layers[:-1])
    assert isinstance(g_layers[-1][1], nn.Tanh)
    d_layers = after_each_weighted_layer(D)
    assert isinstance(d_layers[0][1], nn.LeakyReLU)
    assert all(isinstance(nxt, nn.BatchNorm2d) for _, nxt in d_layers[1:-1])
    assert d_layers[-1][1] is None  # the logit is D's output
    g_acts = [type(m) for m in G.modules() if isinstance(m, nn.ReLU | nn.LeakyReLU | nn.Tanh | nn.Sigmoid)]
    assert g_acts == [nn.ReLU] * doublings + [nn.Tanh]
    d_acts = [m for m in D.modules() if isinstance(m, nn.ReLU | nn.LeakyReLU | nn.Tanh | nn.Sigmoid)]
    assert len(d_acts) == doublings and all(type(m) is nn.LeakyReLU and m.negative_slope == 0.2 for m in d_acts)


def test_width_sets_the_channels():
    G, D = build((1, 28, 28), width=5)
    assert [m.out_channels for m in G.modules() if isinstance(m, nn.ConvTranspose2d)] == [5, 1]
    assert [m.out_channels for m in D.modules() if isinstance(m, nn.Conv2d)] == [5, 10, 1]


@pytest.mark.parametrize("data_shape", [(2,), (1, 48, 48), (1, 512, 512), (2, 64, 64), (2, 28, 28), (28, 28), (1, 28, 32)])
def test_other_shapes_are_refused_naming_the_supported_ones(data_shape):
    for kind, args in (("generator", (16, data_shape)), ("discriminator", (data_shape,))):
        with pytest.raises(GantoolError) as info:
            get_registry().create(kind, "dcgan", *args)
        message = str(info.value)
        assert "\n" not in message
        assert f"{kind} 'dcgan'" in message and "1x28x28" in message and "3x32x32" in message and str(tuple(data_shape)) in message
        assert "1x16x16" in message and "3x64x64" in message and "1x256x256" in message


@pytest.mark.parametrize("width", [0, -3, 2.5, True])
def test_bad_width_is_a_one_line_error(width):
    with pytest.raises(GantoolError, match="width must be a positive integer"):
        get_registry().create("generator", "dcgan", 16, (1, 28, 28), width=width)
