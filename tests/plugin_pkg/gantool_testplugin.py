"""A third-party plugin as a user would write one: a linear generator, a linear critic,
a hinge loss, tiny datasets and a conditional pair, registered through gantool's hooks only
and written to the contract in docs/plugins.md alone."""

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


def labelled_square(n=2000, seed=0):
    """The square's 4 Gaussians with the corner each point came from as its label."""
    import torch

    g = torch.Generator().manual_seed(seed)
    corner = torch.randint(len(SQUARE), (n,), generator=g)
    points = torch.tensor(SQUARE)[corner] + SQUARE_SIGMA * torch.randn(n, 2, generator=g)
    return Data(train=points, labels=corner, classes=["sw", "nw", "se", "ne"], modes=Modes(SQUARE, SQUARE_SIGMA))


def conditional_generator(latent_dim, data_shape, num_classes=0, hidden=32):
    """G(z, y) once gantool passes num_classes: a one-hot label beside z."""
    import torch
    from torch import nn

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.num_classes = num_classes
            self.net = nn.Sequential(
                nn.Linear(latent_dim + num_classes, hidden), nn.ReLU(), nn.Linear(hidden, math.prod(data_shape)), nn.Tanh()
            )

        def forward(self, z, y=None):
            if self.num_classes:
                z = torch.cat([z, nn.functional.one_hot(y, self.num_classes).to(z.dtype)], dim=1)
            return self.net(z).unflatten(1, tuple(data_shape))

    return Generator()


def conditional_discriminator(data_shape, num_classes=0, hidden=32):
    """D(x, y): a projection of the label onto D's features, added to the logit."""
    from torch import nn

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(data_shape), hidden), nn.LeakyReLU(0.2))
            self.logit = nn.Linear(hidden, 1)
            self.embed = nn.Embedding(max(num_classes, 1), hidden)

        def forward(self, x, y=None):
            h = self.features(x)
            return self.logit(h) if y is None else self.logit(h) + (self.embed(y) * h).sum(1, keepdim=True)

    return Discriminator()


@hookimpl
def register_generators(register):
    register("test-linear", linear_generator)
    register("test-cond", conditional_generator)


@hookimpl
def register_discriminators(register):
    register("test-linear", linear_discriminator)
    register("test-cond", conditional_discriminator)


@hookimpl
def register_losses(register):
    register("test-hinge", Hinge)


@hookimpl
def register_datasets(register):
    register("test-line", line)
    register("test-square", square)
    register("test-labelled-square", labelled_square)
