"""Built-in losses: the paper's minimax game, its non-saturating variant, and least squares.

All work on logits, never on sigmoid outputs, so they stay finite when D is sure.
``label_smoothing`` lowers the real target to ``1 - label_smoothing`` for D only
(one-sided, as seed 004 does with 0.1).
"""

from __future__ import annotations

from typing import Any

from gantool.plugins.hookspecs import hookimpl


def _logits(D: Any, x: Any) -> Any:
    return D(x).reshape(-1)


def _check_smoothing(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ValueError(f"label_smoothing must be a number in [0, 1), got {value!r}")
    return float(value)


class _BCELoss:
    def __init__(self, label_smoothing: float = 0.0) -> None:
        self.real_target = 1.0 - _check_smoothing(label_smoothing)

    def discriminator_loss(self, D: Any, real: Any, fake: Any) -> Any:
        """-[log D(x) + log(1 - D(G(z)))], the cross-entropy of both halves summed."""
        import torch
        import torch.nn.functional as F

        real_logits, fake_logits = _logits(D, real), _logits(D, fake)
        real_loss = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, self.real_target))
        fake_loss = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        return real_loss + fake_loss


class Minimax(_BCELoss):
    """Goodfellow et al.'s saturating game: G minimises log(1 - D(G(z)))."""

    def generator_loss(self, D: Any, real: Any, fake: Any) -> Any:
        import torch.nn.functional as F

        # log(1 - sigmoid(l)) == -softplus(l), computed without rounding sigmoid to 1
        return -F.softplus(_logits(D, fake)).mean()


class NonSaturating(_BCELoss):
    """The paper's heuristic: G maximises log D(G(z)), strong gradients while D wins."""

    def generator_loss(self, D: Any, real: Any, fake: Any) -> Any:
        import torch.nn.functional as F

        return F.softplus(-_logits(D, fake)).mean()  # == BCE(D(G(z)), 1)


class LeastSquares:
    """Least-squares GAN (Mao et al. 2017; seed 002's MSE loss): D's raw output is pulled to 1 or 0."""

    def __init__(self, label_smoothing: float = 0.0) -> None:
        self.real_target = 1.0 - _check_smoothing(label_smoothing)

    def discriminator_loss(self, D: Any, real: Any, fake: Any) -> Any:
        return 0.5 * ((_logits(D, real) - self.real_target).square().mean() + _logits(D, fake).square().mean())

    def generator_loss(self, D: Any, real: Any, fake: Any) -> Any:
        return 0.5 * (_logits(D, fake) - 1.0).square().mean()


@hookimpl
def register_losses(register):
    register("minimax", Minimax)
    register("nonsat", NonSaturating)
    register("lsgan", LeastSquares)
