"""The plugin contract: every component kind is added through one of these hooks.

Each hook receives ``register(name, factory)``. Factories are called later,
only when a component is used, so a plugin module can register names without
importing torch.
"""

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("gantool")
hookimpl = pluggy.HookimplMarker("gantool")  # what plugins decorate their hooks with; re-exported as gantool.hookimpl

Register = Callable[[str, Callable[..., Any]], None]


@hookspec
def register_generators(register: Register) -> None:
    """``factory(latent_dim, data_shape, **options) -> nn.Module``: (N, latent_dim) -> (N, *data_shape) in [-1, 1].

    A conditional run also passes ``num_classes=K`` and calls the network G(z, y), y int64 (N,)."""


@hookspec
def register_discriminators(register: Register) -> None:
    """``factory(data_shape, **options) -> nn.Module``: (N, *data_shape) -> logits (N,) or (N, 1).

    A conditional run also passes ``num_classes=K`` and calls it D(x, y); it may return (N, 1 + K) (AC-GAN)."""


@hookspec
def register_losses(register: Register) -> None:
    """``factory(**options)`` -> object with ``discriminator_loss(D, real, fake)`` and ``generator_loss(D, real, fake)``."""


@hookspec
def register_datasets(register: Register) -> None:
    """``factory(**options)`` -> tensor (N, *data_shape) in [-1, 1] (or uint8 in [0, 255]), or a map-style Dataset,
    or either wrapped in ``gantool.Data`` with held-out samples, modes, labels and class names."""


@hookspec
def register_metrics(register: Register) -> None:
    """``factory(**options)`` -> evaluator; see docs/plugins.md for its interface."""


@hookspec
def register_augmentations(register: Register) -> None:
    """``factory(data_shape, **options) -> augment``, ``augment(x, generator) -> tensor``: a random, differentiable transform
    of a batch (N, *data_shape), drawn independently per sample from the torch.Generator training owns (so a resume is exact),
    applied to every batch D sees, real and fake alike (``--augment NAME,...``)."""


@hookspec
def register_models(register: Callable[[str, Any], None]) -> None:
    """``register(name, path)``: a pretrained generator, an ONNX file written by ``gantool export`` (a str or a Path),
    listed by ``gantool models`` and sampled with ``gantool sample --model NAME`` or ``gantool.load(NAME)``."""
