"""D's one pass over real and fake (training.watch): taken only where samples never mix, and the same losses and
gradients as two passes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gantool.plugins.builtin import losses, models
from gantool.training.watch import Watch, judges_per_sample

SHAPE = (1, 8, 8)


class Counting(nn.Module):
    """D with a count of its calls and the batch sizes it saw."""

    per_sample = True

    def __init__(self, D: nn.Module) -> None:
        super().__init__()
        self.D, self.sizes = D, []

    def forward(self, x, y=None):  # type: ignore[no-untyped-def]
        self.sizes.append(len(x))
        return self.D(x) if y is None else self.D(x, y)


class MinibatchStd(nn.Module):
    """A layer that mixes samples (ProGAN's minibatch standard deviation), unknown to gantool."""

    def forward(self, x):  # type: ignore[no-untyped-def]
        return torch.cat([x, x.std(0).mean().expand(len(x), 1)], dim=1)


class Marked(MinibatchStd):
    per_sample = True  # a claim, taken at its word


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: models.mlp_discriminator(SHAPE, hidden=16), True),
        (lambda: models.deep_discriminator(SHAPE), True),
        (lambda: models.mlp_discriminator(SHAPE, hidden=16, num_classes=3, cond="projection"), True),
        (lambda: models.mlp_discriminator(SHAPE, hidden=16, num_classes=3, cond="concat"), True),
        (lambda: models.mlp_discriminator(SHAPE, hidden=16, num_classes=3, cond="acgan"), True),
        (lambda: models.mlp_discriminator(SHAPE, hidden=16, pack=2), False),  # a packed group could hold real and fake
        (lambda: models.bn_discriminator(SHAPE, logit_bn=True), False),  # BatchNorm: statistics over the batch
        (lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 4), MinibatchStd()), False),
        (lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 4), Marked()), True),
    ],
)
def test_one_pass_is_taken_only_where_every_layer_treats_samples_apart(build, expected):
    assert judges_per_sample(build()) is expected


def loss_and_grads(D: nn.Module, together: bool, real, fake, labels=None):  # type: ignore[no-untyped-def]
    watch = Watch(D, together=together)
    watch.watch(real, fake, labels)
    D.zero_grad(set_to_none=True)
    loss = losses.NonSaturating().discriminator_loss(watch, real, fake) + watch.class_loss(real, fake)
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in D.parameters()], [f.item() for f in watch.figures()]


@pytest.mark.parametrize("cond", ["", "projection", "concat", "acgan"])
def test_one_pass_gives_the_losses_gradients_and_figures_of_two(cond):
    torch.manual_seed(0)
    classes = 3 if cond else 0
    D = Counting(models.mlp_discriminator(SHAPE, hidden=16, num_classes=classes, cond=cond))
    real, fake = torch.randn(6, *SHAPE), torch.randn(6, *SHAPE)
    labels = torch.tensor([0, 1, 2, 0, 1, 2]) if cond else None
    apart = loss_and_grads(D, False, real, fake, labels)
    assert D.sizes == [6, 6]
    D.sizes.clear()
    together = loss_and_grads(D, True, real, fake, labels)
    assert D.sizes == [12]  # one call, both batches
    torch.testing.assert_close(together[0], apart[0])
    for a, b in zip(together[1], apart[1], strict=True):
        torch.testing.assert_close(a, b)
    assert together[2] == pytest.approx(apart[2])


def test_other_calls_run_d_on_their_own():
    """A gradient penalty's batch, or a second call on the real batch, is not served from the one pass."""
    D = Counting(models.mlp_discriminator(SHAPE, hidden=16))
    real, fake = torch.randn(4, *SHAPE), torch.randn(4, *SHAPE)
    watch = Watch(D, together=True)
    watch.watch(real, fake, None)
    first = watch(real)
    watch(fake)
    assert D.sizes == [8]
    again = watch(real)  # the half was handed out once: a second call is a second pass
    mixed = watch(0.5 * real + 0.5 * fake)
    assert D.sizes == [8, 4, 4]
    torch.testing.assert_close(again, first)
    assert mixed.shape == (4, 1)
    watch.watch(real, fake, None)  # the next step's batches: a fresh pass
    watch(fake)
    assert D.sizes == [8, 4, 4, 8]
