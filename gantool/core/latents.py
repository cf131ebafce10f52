"""The latent priors, each defined once here: drawn by numpy for sampling, by torch for training.

Both samplers draw with numpy (``draw``), never in torch or onnxruntime, so one ``--seed``
gives the same latents, and hence the same samples, through either runtime. Training draws
the same distributions in torch on its own device (``draw_torch``), where a host round trip
per step would cost more than the step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gantool.core.errors import GantoolError

if TYPE_CHECKING:
    import numpy as np
    import torch

PRIORS = ("normal", "uniform")  # the one list: --latent and the metadata reader (core.runmeta) check against it


def draw(n: int, dim: int, prior: str, seed: int, truncation: float | None = None) -> np.ndarray:
    """``n`` latents of size ``dim`` as float32: N(0, I) for ``normal``, U(-1, 1) for ``uniform``.

    ``truncation`` (psi, normal prior only): every entry beyond psi standard deviations is drawn
    again, from the same stream, until none is (BigGAN's truncation trick; see ``check_truncation``).
    """
    import numpy as np

    check_truncation(truncation, prior)
    rng = np.random.default_rng(seed)
    if prior == "normal":
        z = rng.standard_normal((n, dim), dtype=np.float32)
        if truncation is not None:
            psi = np.float32(truncation)
            outside = np.abs(z) > psi
            while outside.any():
                z[outside] = rng.standard_normal(int(outside.sum()), dtype=np.float32)
                outside = np.abs(z) > psi
        return z
    if prior == "uniform":
        return rng.random((n, dim), dtype=np.float32) * np.float32(2) - np.float32(1)
    raise unknown_prior(prior)


def check_truncation(truncation: float | None, prior: str) -> None:
    """A truncation psi must be a number in (0, 1] and the prior normal; a one-line error otherwise."""
    if truncation is None:
        return
    if isinstance(truncation, bool) or not isinstance(truncation, int | float) or not 0 < truncation <= 1:
        raise GantoolError(f"--truncation must be a number in (0, 1] (standard deviations kept), got {truncation!r}")
    if prior != "normal":
        raise GantoolError(f"--truncation applies to the normal prior; this model draws from the {prior} prior: leave out --truncation")


def draw_labels(n: int, num_classes: int, seed: int) -> np.ndarray:
    """``n`` labels drawn uniformly from ``num_classes`` (int64), from a stream of ``seed`` of their own,
    so a conditional generator's latents are the ones an unconditional one would draw."""
    import numpy as np

    return np.random.default_rng([seed, 1]).integers(0, num_classes, n, dtype=np.int64)


def draw_torch(n: int, dim: int, prior: str, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """The same priors in torch, on the training device: N(0, I), or U(-1, 1) as seed 004 draws it."""
    import torch

    if prior == "normal":
        return torch.randn(n, dim, generator=generator, device=device)
    if prior == "uniform":
        return torch.rand(n, dim, generator=generator, device=device).mul_(2).sub_(1)
    raise unknown_prior(prior)


def unknown_prior(prior: str) -> GantoolError:
    return GantoolError(f"unknown latent prior {prior!r}: gantool draws from {' or '.join(PRIORS)}")


def walks(count: int, steps: int, dim: int, prior: str, seed: int, truncation: float | None = None) -> np.ndarray:
    """``count`` straight walks of ``steps`` points between pairs of random latents, shaped (count, steps, dim).

    Under a normal prior the walk follows the great circle (slerp): a straight
    line between two typical Gaussian latents passes through the low-norm middle
    of the ball, where the generator never saw a latent. A uniform prior fills
    its cube, so a straight line stays in it. ``truncation`` truncates the walks' ends (see ``draw``).
    """
    import numpy as np

    ends = draw(2 * count, dim, prior, seed, truncation).astype(np.float64)
    return between(ends[:count, None, :], ends[count:, None, :], np.linspace(0.0, 1.0, steps)[None, :, None], prior)


def loop(count: int, points: int, steps: int, dim: int, prior: str, seed: int, truncation: float | None = None) -> np.ndarray:
    """``count`` closed walks through ``points`` random latents each, ``steps`` per leg, shaped (count, points * steps, dim).

    Each leg leaves its latent at t = 0 and stops one step short of the next, and the last leg
    returns to the first latent: played on repeat, the walk has no seam and no repeated frame.
    """
    import numpy as np

    ends = draw(points * count, dim, prior, seed, truncation).astype(np.float64).reshape(points, count, 1, dim)
    t = (np.arange(steps, dtype=np.float64) / steps)[None, :, None]
    legs = [between(ends[i], ends[(i + 1) % points], t, prior) for i in range(points)]
    return np.concatenate(legs, axis=1)


def between(a: np.ndarray, b: np.ndarray, t: np.ndarray, prior: str) -> np.ndarray:
    """Points at ``t`` on the way from latents ``a`` to ``b`` (float64, broadcast), as float32: see ``walks`` for the path."""
    import numpy as np

    lerp = (1 - t) * a + t * b
    if prior != "normal":
        return lerp.astype(np.float32)
    cos = np.sum(a * b, axis=-1, keepdims=True) / (np.linalg.norm(a, axis=-1, keepdims=True) * np.linalg.norm(b, axis=-1, keepdims=True))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    sin = np.sin(omega)
    safe = np.where(sin < 1e-6, 1.0, sin)
    slerp = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / safe
    return np.where(sin < 1e-6, lerp, slerp).astype(np.float32)
