"""Each loss on small inputs whose value and gradient can be worked out by hand.

A linear critic D(x) = w.x + b has gradient w everywhere, so its gradient penalties are
plain arithmetic; D(x) = |x|^2 / 2 has gradient x, which makes the penalties depend on
where they are taken.
"""

from __future__ import annotations

import math

import pytest
import torch
from gantool_losses.penalties import gradient_penalty, r1_penalty
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from gantool.core.errors import GantoolError
from gantool.plugins.registry import get_registry

REAL = torch.tensor([[1.0, 0.0], [0.0, 1.0]])  # linear critic scores 3.5, 4.5
FAKE = torch.tensor([[0.0, 0.0], [-1.0, 1.0]])  # linear critic scores 0.5, 1.5


def loss(name, **options):
    return get_registry().create("loss", name, **options)


def linear_critic() -> nn.Linear:
    D = nn.Linear(2, 1)
    with torch.no_grad():
        D.weight.copy_(torch.tensor([[3.0, 4.0]]))  # |w| = 5
        D.bias.fill_(0.5)
    return D


def half_square(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x.square().sum(dim=1)


def column_sum(x: torch.Tensor) -> torch.Tensor:
    return x.sum(dim=1)


def sp(x: float) -> float:
    return math.log1p(math.exp(x))


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_losses_come_from_the_plugin_not_from_gantool():
    registry = get_registry()
    for name in ("wgan-gp", "hinge", "r1", "rsgan"):
        assert registry.get("loss", name).plugin == "gantool-losses"


# --- WGAN-GP ------------------------------------------------------------------------------------


def test_wgan_gp_value_and_gradient_for_a_linear_critic():
    D = linear_critic()
    d_loss = loss("wgan-gp").discriminator_loss(D, REAL, FAKE)
    assert d_loss.item() == pytest.approx(1.0 - 4.0 + 10 * (5 - 1) ** 2)  # mean D(fake) - mean D(real) + 10 (|w| - 1)^2
    d_loss.backward()
    # d/dw: mean(fake) - mean(real) + 20 (|w| - 1) w / |w| = (-1, 0) + 80 (0.6, 0.8)
    torch.testing.assert_close(D.weight.grad, torch.tensor([[47.0, 64.0]]))
    torch.testing.assert_close(D.bias.grad, torch.tensor([0.0]))
    assert loss("wgan-gp", weight=0).discriminator_loss(D, REAL, FAKE).item() == pytest.approx(-3.0)
    assert loss("wgan-gp").generator_loss(D, REAL, FAKE).item() == pytest.approx(-1.0)


def test_gradient_penalty_is_taken_per_sample_between_real_and_fake():
    real, fake = torch.tensor([[2.0, 0.0], [0.0, 4.0]]), torch.zeros(2, 2)
    # mixes 0.25 and 0.5 put the samples at (0.5, 0) and (0, 2): gradient norms 0.5 and 2
    gp = gradient_penalty(half_square, real, fake, mix=torch.tensor([0.25, 0.5]))
    assert gp.item() == pytest.approx(((0.5 - 1) ** 2 + (2 - 1) ** 2) / 2)
    same = torch.tensor([[1.0, 0.0], [0.0, 3.0], [0.6, 0.8]])  # real == fake: no mix can move them
    assert gradient_penalty(half_square, same, same).item() == pytest.approx((0 + 4 + 0) / 3)


def test_gradient_penalty_mixes_uniformly():
    # at (2u, 0) with u ~ U(0, 1) the penalty is (2u - 1)^2, whose mean is 1/3
    torch.manual_seed(0)
    real, fake = torch.tensor([[2.0, 0.0]]).repeat(20_000, 1), torch.zeros(20_000, 2)
    assert gradient_penalty(half_square, real, fake).item() == pytest.approx(1 / 3, abs=0.01)


# --- hinge --------------------------------------------------------------------------------------


def test_hinge_values():
    real, fake = torch.tensor([[2.0], [0.5], [-1.0]]), torch.tensor([[-2.0], [0.5], [2.5]])
    hinge = loss("hinge")
    # relu(1 - real) = 0, 0.5, 2 and relu(1 + fake) = 0, 1.5, 3.5
    assert hinge.discriminator_loss(column_sum, real, fake).item() == pytest.approx(2.5 / 3 + 5 / 3)
    assert hinge.generator_loss(column_sum, real, fake).item() == pytest.approx(-1 / 3)


# --- R1 -----------------------------------------------------------------------------------------


def test_r1_value_and_gradient_for_a_linear_critic():
    D = linear_critic()
    d_loss = loss("r1", gamma=10).discriminator_loss(D, REAL, FAKE)
    bce = (sp(-3.5) + sp(-4.5)) / 2 + (sp(0.5) + sp(1.5)) / 2
    assert d_loss.item() == pytest.approx(bce + 10 / 2 * 25)  # gamma/2 |w|^2
    d_loss.backward()
    # d/dw: mean(-sigmoid(-D(x)) x) over real + mean(sigmoid(D(G(z))) G(z)) over fake + gamma w
    grad_w = [
        -(sigmoid(-3.5) * 1 + sigmoid(-4.5) * 0) / 2 + (sigmoid(0.5) * 0 + sigmoid(1.5) * -1) / 2 + 30,
        -(sigmoid(-3.5) * 0 + sigmoid(-4.5) * 1) / 2 + (sigmoid(0.5) * 0 + sigmoid(1.5) * 1) / 2 + 40,
    ]
    torch.testing.assert_close(D.weight.grad, torch.tensor([grad_w]))
    assert loss("r1").generator_loss(D, REAL, FAKE).item() == pytest.approx((sp(-0.5) + sp(-1.5)) / 2)


def test_r1_penalises_the_real_samples_only():
    real = torch.tensor([[1.0, 0.0], [0.0, 2.0]])  # |grad|^2 = |x|^2 = 1 and 4
    assert r1_penalty(half_square, real).item() == pytest.approx(2.5)
    for fake in (torch.zeros(2, 2), torch.full((2, 2), 7.0)):
        with_penalty = loss("r1", gamma=4).discriminator_loss(half_square, real, fake)
        without = loss("r1", gamma=0).discriminator_loss(half_square, real, fake)
        assert (with_penalty - without).item() == pytest.approx(4 / 2 * 2.5)


# --- relativistic -------------------------------------------------------------------------------


def test_rsgan_pairs_real_with_fake():
    real, fake = torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0], [0.5]])
    rsgan = loss("rsgan")
    assert rsgan.discriminator_loss(column_sum, real, fake).item() == pytest.approx((sp(-1) + sp(-1.5)) / 2)
    assert rsgan.generator_loss(column_sum, real, fake).item() == pytest.approx((sp(1) + sp(1.5)) / 2)


def test_rasgan_compares_with_the_other_batch_mean():
    real, fake = torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0], [0.5]])  # means 1.5 and 0.25
    rasgan = loss("rsgan", average=True)
    d = (sp(0.25 - 1) + sp(0.25 - 2)) / 2 + (sp(0 - 1.5) + sp(0.5 - 1.5)) / 2
    g = (sp(1.5 - 0) + sp(1.5 - 0.5)) / 2 + (sp(1 - 0.25) + sp(2 - 0.25)) / 2
    assert rasgan.discriminator_loss(column_sum, real, fake).item() == pytest.approx(d)
    assert rasgan.generator_loss(column_sum, real, fake).item() == pytest.approx(g)


logits = st.lists(st.floats(-20, 20), min_size=1, max_size=8)


@settings(max_examples=50, deadline=None)
@given(real=logits, shift=st.floats(-50, 50), average=st.booleans())
def test_relativistic_losses_see_only_differences(real, shift, average):
    r = torch.tensor(real, dtype=torch.float64).unsqueeze(1)
    f = r.flip(0) * 0.5
    rsgan = loss("rsgan", average=average)
    for method in (rsgan.discriminator_loss, rsgan.generator_loss):
        assert method(column_sum, r + shift, f + shift).item() == pytest.approx(method(column_sum, r, f).item(), abs=1e-9)
    if not average:  # a critic that cannot tell them apart: -log(1/2)
        assert rsgan.discriminator_loss(column_sum, r, r).item() == pytest.approx(math.log(2))


# --- every loss pushes the right way ------------------------------------------------------------

ALL = [("wgan-gp", {}), ("hinge", {}), ("r1", {}), ("rsgan", {}), ("rsgan", {"average": True})]


@pytest.mark.parametrize(("name", "options"), ALL)
def test_descent_separates_real_from_fake_and_moves_fake_towards_real(name, options):
    """A few gradient steps on D score real above fake; a step on the fakes moves them towards real."""
    torch.manual_seed(0)
    objective = loss(name, **options)
    real = 1 + 0.1 * torch.randn(16, 1)
    fake = -1 + 0.1 * torch.randn(16, 1)
    D = nn.Linear(1, 1)
    nn.init.zeros_(D.weight), nn.init.zeros_(D.bias)
    opt = torch.optim.SGD(D.parameters(), lr=0.05)
    for _ in range(5):
        opt.zero_grad()
        objective.discriminator_loss(D, real, fake).backward()
        opt.step()
    assert D(real).mean() > D(fake).mean()
    moving = fake.clone().requires_grad_(True)
    D.requires_grad_(False)
    objective.generator_loss(D, real, moving).backward()
    assert (moving.grad < 0).all()  # descent adds -grad: every fake moves up, towards the real data at +1


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("wgan-gp", {"weight": -1}, "weight must be a number >= 0"),
        ("wgan-gp", {"weight": float("nan")}, "weight must be a number >= 0"),
        ("r1", {"gamma": "big"}, "gamma must be a number >= 0"),
        ("rsgan", {"average": 1}, "average must be true or false"),
        ("hinge", {"margin": 2}, "does not accept option margin"),
    ],
)
def test_bad_options_are_one_line_errors(name, options, message):
    with pytest.raises(GantoolError, match=message) as info:
        loss(name, **options)
    assert "\n" not in str(info.value)
