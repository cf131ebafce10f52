"""Class conditioning for the built-in networks: a label embedding for G, three ways for D to use the label.

- G(z, y): the label's embedding is concatenated with z (Mirza & Osindero's conditional GAN).
- D(x, y) with ``cond=concat``: the embedding is concatenated with the flattened x at D's input.
- ``cond=projection`` (Miyato & Koyama, 2018): logit = w·φ(x) + b + embed(y)·φ(x), φ being D's last hidden layer.
- ``cond=acgan`` (Odena et al., 2017): D ignores y and returns 1 + K columns, the real/fake logit and K class
  logits; training adds the cross-entropy of those logits (no softmax before it) to both losses.

Each builder is given a function that makes the unconditional body for a given input width, so one
mechanism serves every built-in pair. torch is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

CONDITIONING = ("concat", "projection", "acgan")


def check_classes(num_classes: int) -> int:
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 0 or num_classes == 1:
        raise ValueError(f"num_classes must be 0 (unconditional) or at least 2, got {num_classes!r}")
    return num_classes


def generator(body: Callable[[int], nn.Module], latent_dim: int, num_classes: int) -> nn.Module:
    """``body(input_width)`` as it is, or fed ``[z, embed(y)]`` when there are classes."""
    from torch import nn

    if not check_classes(num_classes):
        return body(latent_dim)

    class LabelledGenerator(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(num_classes, num_classes)
            self.body = body(latent_dim + num_classes)

        def forward(self, z: Any, y: Any) -> Any:
            return self.body(torch_cat(z, self.embed(y)))

    return LabelledGenerator()


def discriminator(
    plain: Callable[[int], nn.Module],
    features: Callable[[int], tuple[nn.Module, int]],
    dims: int,
    num_classes: int,
    cond: str,
) -> nn.Module:
    """An unconditional D from ``plain(input_width)``, or a conditional one in the ``cond`` way.

    ``features(input_width)`` makes D's body without its last layer, returning it and its output width.
    """

    if cond and cond not in CONDITIONING:
        raise ValueError(f"cond must be one of {', '.join(CONDITIONING)}, got {cond!r}")
    if not check_classes(num_classes):
        if cond:  # a label option on an unconditional run would be silently ignored
            raise ValueError(f"cond={cond} conditions D on labels: train with --conditional, or leave out cond")
        return plain(dims)
    cond = cond or "projection"  # the default: Miyato & Koyama's, the strongest of the three in their study
    if cond == "concat":
        return _concat(plain(dims + num_classes), num_classes)
    body, width = features(dims)
    if cond == "projection":
        return _projection(body, width, num_classes)
    return _auxiliary_classifier(body, width, num_classes)


def torch_cat(x: Any, e: Any) -> Any:
    import torch

    return torch.cat([x.flatten(1), e.to(x.dtype)], dim=1)


def _concat(net: nn.Module, num_classes: int) -> nn.Module:
    from torch import nn

    class Concat(nn.Module):
        per_sample = True  # samples never mix: the loop may judge real and fake in one pass

        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(num_classes, num_classes)
            self.net = net

        def forward(self, x: Any, y: Any) -> Any:
            return self.net(torch_cat(x, self.embed(y)))

    return Concat()


def _projection(body: nn.Module, width: int, num_classes: int) -> nn.Module:
    from torch import nn

    class Projection(nn.Module):
        per_sample = True  # samples never mix: the loop may judge real and fake in one pass

        def __init__(self) -> None:
            super().__init__()
            self.body = body
            self.linear = nn.Linear(width, 1)
            self.embed = nn.Embedding(num_classes, width)

        def forward(self, x: Any, y: Any) -> Any:
            h = self.body(x)
            return self.linear(h) + (self.embed(y) * h).sum(dim=1, keepdim=True)

    return Projection()


def _auxiliary_classifier(body: nn.Module, width: int, num_classes: int) -> nn.Module:
    from torch import nn

    class AuxiliaryClassifier(nn.Module):
        """AC-GAN's D: the label is not an input; D learns to tell it, from its last hidden layer."""

        per_sample = True  # samples never mix: the loop may judge real and fake in one pass

        def __init__(self) -> None:
            super().__init__()
            self.body = body
            self.head = nn.Linear(width, 1 + num_classes)

        def forward(self, x: Any, y: Any = None) -> Any:
            return self.head(self.body(x))

    return AuxiliaryClassifier()
