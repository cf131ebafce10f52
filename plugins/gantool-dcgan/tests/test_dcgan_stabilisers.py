"""D's stabilisers: spectral normalisation keeps every layer's largest singular value at 1, and a packed D
judges groups of samples stacked along the channels."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gantool.core.errors import GantoolError
from gantool.plugins.registry import get_registry


def discriminator(data_shape=(3, 32, 32), **options):
    return get_registry().create("discriminator", "dcgan", data_shape, width=8, **options)


def normalised(D: nn.Module) -> list[nn.Module]:
    return [m for m in D.modules() if hasattr(m, "parametrizations")]


@pytest.mark.parametrize("labels", [{}, {"num_classes": 3, "cond": "projection"}, {"num_classes": 3, "cond": "acgan"}], ids=str)
def test_spectral_norm_keeps_the_largest_singular_value_near_1(labels):
    torch.manual_seed(0)
    D = discriminator(sn=True, **labels)
    y = torch.randint(0, 3, (16,))

    def score(x):
        return D(x, y)[:, :1] if labels else D(x)

    opt = torch.optim.Adam(D.parameters(), lr=0.01)  # a fast rate, so the raw weights drift far from norm 1
    for _ in range(10):  # hinge steps on noise
        real, fake = torch.randn(16, 3, 32, 32), 0.5 * torch.randn(16, 3, 32, 32)
        loss = torch.relu(1 - score(real)).mean() + torch.relu(1 + score(fake)).mean()
        opt.zero_grad(), loss.backward(), opt.step()
    with torch.no_grad():
        for _ in range(3):  # a few more power iterations (one per forward pass in training mode)
            score(real)
    layers = normalised(D)
    convs_and_linears = [m for m in D.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    assert convs_and_linears and all(m in layers for m in convs_and_linears)
    assert (labels.get("cond") == "projection") == any(isinstance(m, nn.Embedding) for m in layers)  # the projection's embedding too
    for m in layers:
        with torch.no_grad():
            sigma = torch.linalg.matrix_norm(m.weight.flatten(1), ord=2).item()
        assert sigma == pytest.approx(1.0, abs=0.02), m
    raw = [torch.linalg.matrix_norm(m.parametrizations.weight.original.flatten(1), ord=2).item() for m in layers]
    assert max(raw) > 1.2  # without the normalisation they would be far from 1


def test_spectral_norm_drops_batchnorm_and_loads_back():
    D = discriminator(sn=True)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert all(m.bias is not None for m in convs)  # no BatchNorm after them to cancel a bias
    assert "0.parametrizations.weight.original" in D.state_dict()
    x = torch.randn(4, 3, 32, 32)
    D(x)  # moves the power iteration's vectors
    again = discriminator(sn=True)
    again.load_state_dict(D.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(again.eval()(x), D.eval()(x))


def test_without_sn_nothing_changes():
    torch.manual_seed(0)
    default = discriminator()
    torch.manual_seed(0)
    off = discriminator(sn=False, pack=1)
    assert default.state_dict().keys() == off.state_dict().keys()
    assert all(torch.equal(a, b) for a, b in zip(default.state_dict().values(), off.state_dict().values(), strict=True))


@pytest.mark.parametrize("data_shape", [(1, 28, 28), (3, 64, 64)])
def test_packed_d_sees_each_group_stacked_along_the_channels(data_shape):
    D = discriminator(data_shape, pack=3)
    first = next(m for m in D.modules() if isinstance(m, nn.Conv2d))
    assert first.in_channels == 3 * data_shape[0]
    seen = []
    first.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    x = torch.randn(6, *data_shape)
    out = D(x)
    assert out.shape == (6, 1)
    (groups,) = seen
    assert groups.shape == (2, 3 * data_shape[0], *data_shape[1:])
    for g in range(2):
        torch.testing.assert_close(groups[g], torch.cat(list(x[3 * g : 3 * g + 3]), dim=0), rtol=0, atol=0)
        assert (out[3 * g : 3 * g + 3] == out[3 * g]).all()  # one logit per group, repeated for each member
    assert out[0] != out[3]


def test_packed_d_refuses_a_training_batch_that_does_not_divide():
    D = discriminator(pack=2)
    with pytest.raises(GantoolError, match=r"pack=2 judges groups of 2 samples, got a batch of 5: make --batch-size a multiple of 2"):
        D(torch.randn(5, 3, 32, 32))
    # outside training (gantool's shape check runs D on 2 samples) the last group is filled with the first samples
    assert discriminator(pack=4).eval()(torch.randn(2, 3, 32, 32)).shape == (2, 1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"pack": 0}, "pack must be a positive integer, got 0"),
        ({"pack": 1.5}, "pack must be a positive integer"),
        ({"sn": 2}, "sn must be true or false, got 2"),
        ({"pack": 2, "num_classes": 10}, "pack=2 does not combine with conditioning on labels"),
    ],
)
def test_bad_options_are_one_line_errors(options, message):
    with pytest.raises(GantoolError, match=message) as info:
        discriminator(**options)
    assert "\n" not in str(info.value)
