"""The losses. Each is ``discriminator_loss(D, real, fake)`` and ``generator_loss(D, real, fake)``, on raw logits.

torch is imported inside the methods, so registering the classes stays free.
"""

from __future__ import annotations

import math
from typing import Any


def _logits(D: Any, x: Any) -> Any:
    return D(x).reshape(-1)


def _weight(value: float, option: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{option} must be a number >= 0, got {value!r}")
    return float(value)


class WassersteinGP:
    """WGAN-GP (Gulrajani et al. 2017): D is a critic whose scores estimate the Wasserstein-1 distance;
    a penalty keeps its gradient norm near 1 between real and fake samples instead of clipping weights.

    The penalty is per sample, so the critic should not use BatchNorm (the paper uses none or LayerNorm);
    the paper trains D 5 times per G step (``--d-steps 5``) with Adam betas (0, 0.9).
    """

    def __init__(self, weight: float = 10.0) -> None:
        self.weight = _weight(weight, "weight")

    def discriminator_loss(self, D: Any, real: Any, fake: Any) -> Any:
        from gantool_losses.penalties import gradient_penalty

        loss = _logits(D, fake).mean() - _logits(D, real).mean()
        return loss + self.weight * gradient_penalty(D, real, fake) if self.weight else loss

    def generator_loss(self, D: Any, real: Any, fake: Any) -> Any:
        return -_logits(D, fake).mean()


class Hinge:
    """The hinge loss (Lim and Ye 2017; Miyato et al. 2018): D only learns from samples inside the margin of 1."""

    def discriminator_loss(self, D: Any, real: Any, fake: Any) -> Any:
        import torch.nn.functional as F

        return F.relu(1 - _logits(D, real)).mean() + F.relu(1 + _logits(D, fake)).mean()

    def generator_loss(self, D: Any, real: Any, fake: Any) -> Any:
        return -_logits(D, fake).mean()


class R1:
    """The non-saturating loss with an R1 penalty (Mescheder et al. 2018): gamma/2 * E||grad D(x_real)||^2
    makes D flat on the data, which lets training converge where the plain game oscillates.

    The penalty takes its own forward pass over the real batch (a double backward), so a D step costs about
    twice as much as with ``nonsat``.
    """

    def __init__(self, gamma: float = 10.0) -> None:
        self.gamma = _weight(gamma, "gamma")

    def discriminator_loss(self, D: Any, real: Any, fake: Any) -> Any:
        import torch.nn.functional as F

        from gantool_losses.penalties import r1_penalty

        loss = F.softplus(-_logits(D, real)).mean() + F.softplus(_logits(D, fake)).mean()
        return loss + 0.5 * self.gamma * r1_penalty(D, real) if self.gamma else loss

    def generator_loss(self, D: Any, real: Any, fake: Any) -> Any:
        import torch.nn.functional as F

        return F.softplus(-_logits(D, fake)).mean()


class Relativistic:
    """The relativistic standard GAN (Jolicoeur-Martineau 2018): D estimates how much more real a real sample
    is than a fake one, sigmoid(C(x_r) - C(x_f)), and G is trained to swap the two.

    ``average=true`` gives RaSGAN: each sample is compared with the mean critic score of the other batch.
    """

    def __init__(self, average: bool = False) -> None:
        if not isinstance(average, bool):
            raise ValueError(f"average must be true or false, got {average!r}")
        self.average = average

    def _loss(self, better: Any, worse: Any) -> Any:
        """-log sigmoid of how much ``better`` beats ``worse`` (paired, or against the other batch's mean)."""
        import torch.nn.functional as F

        if not self.average:
            return F.softplus(worse - better).mean()
        return F.softplus(worse.mean() - better).mean() + F.softplus(worse - better.mean()).mean()

    def discriminator_loss(self, D: Any, real: Any, fake: Any) -> Any:
        return self._loss(_logits(D, real), _logits(D, fake))

    def generator_loss(self, D: Any, real: Any, fake: Any) -> Any:
        return self._loss(_logits(D, fake), _logits(D, real))
