"""Gradient penalties: how steep D is at given points, as a differentiable scalar.

``create_graph=True`` keeps the input gradient in the graph, so ``loss.backward()``
reaches D's weights through the penalty (a double backward).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Critic = Callable[[torch.Tensor], torch.Tensor]


def input_gradients(D: Critic, x: torch.Tensor) -> torch.Tensor:
    """dD(x_i)/dx_i for every sample, flattened to (N, features); samples do not mix unless D mixes them."""
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    return grad.flatten(1)


def gradient_penalty(D: Critic, real: torch.Tensor, fake: torch.Tensor, mix: torch.Tensor | None = None) -> torch.Tensor:
    """Gulrajani et al. (2017): mean (||grad D(x_hat)|| - 1)^2 at x_hat = mix * real + (1 - mix) * fake.

    ``mix`` is one number per sample, drawn from U(0, 1) when not given.
    """
    if real.shape != fake.shape:
        raise ValueError(f"the gradient penalty pairs real and fake samples: shapes {tuple(real.shape)} and {tuple(fake.shape)} differ")
    if mix is None:
        mix = torch.rand(real.shape[0], device=real.device, dtype=real.dtype)
    mix = mix.reshape(-1, *([1] * (real.ndim - 1)))
    between = mix * real.detach() + (1 - mix) * fake.detach()
    return (input_gradients(D, between).norm(dim=1) - 1).square().mean()


def r1_penalty(D: Critic, real: torch.Tensor) -> torch.Tensor:
    """Mescheder et al. (2018): mean ||grad D(x)||^2 over real samples."""
    return input_gradients(D, real).square().sum(dim=1).mean()
