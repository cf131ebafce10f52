"""gantool-losses: GAN losses that need the discriminator and the samples, not only D's outputs.

gantool imports this module to list plugins; the loss classes import torch only
when they compute something.
"""

from __future__ import annotations

from gantool import hookimpl
from gantool_losses.losses import R1, Hinge, Relativistic, WassersteinGP

__all__ = ["R1", "Hinge", "Relativistic", "WassersteinGP"]


@hookimpl
def register_losses(register):
    register("wgan-gp", WassersteinGP)
    register("hinge", Hinge)
    register("r1", R1)
    register("rsgan", Relativistic)
