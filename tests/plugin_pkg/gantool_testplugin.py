"""A third-party plugin as a user would write one: a linear generator, a linear critic,
a hinge loss and two tiny datasets, registered through gantool's hooks only."""

import math

from gantool import Data, Modes, hookimpl

SQUARE = [(-0.5, -0.5), (-0.5, 0.5), (0.5, -0.5), (0.5, 0.5)]
SQUARE_SIGMA = 0.02


def linear_generator(latent_dim, data_shape, scale=1.0):
    from torch import nn

    return nn.Sequential(nn.Linear(latent_dim, math.prod(data_shape)), nn.Tanh(), nn.Unflatten(1, tuple(data_shape)))


def linear_discriminator(data_shape):
    from torch import nn

    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(data_shape), 1))


class Hinge:
    def __init__(self, margin=1.0):
        self.margin = margin

    def discriminator_loss(self, D, real, fake):
        import torch.nn.functional as F

        return F.relu(self.margin - D(real)).mean() + F.relu(self.margin + D(fake)).mean()

    def generator_loss(self, D, real, fake):
        return -D(fake).mean()


def line(n=512):
    """Points on the diagonal segment from (-0.5, -0.5) to (0.5, 0.5)."""
    import torch

    t = torch.linspace(-0.5, 0.5, n)
    return torch.stack([t, t], dim=1)


def square(n=2000, seed=0):
    """4 Gaussians on the corners of a square, telling gantool eval its modes and giving it a fresh draw as held-out data."""

    def draw(seed):
        import torch

        g = torch.Generator().manual_seed(seed)
        centres = torch.tensor(SQUARE)
        return centres[torch.randint(len(SQUARE), (n,), generator=g)] + SQUARE_SIGMA * torch.randn(n, 2, generator=g)

    return Data(train=draw(seed), held_out=lambda: draw(seed + 1), modes=Modes(SQUARE, SQUARE_SIGMA))


@hookimpl
def register_generators(register):
    register("test-linear", linear_generator)


@hookimpl
def register_discriminators(register):
    register("test-linear", linear_discriminator)


@hookimpl
def register_losses(register):
    register("test-hinge", Hinge)


@hookimpl
def register_datasets(register):
    register("test-line", line)
    register("test-square", square)
