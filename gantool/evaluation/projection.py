"""Real images projected into a generator's latent space: the latent (and class) whose sample is closest.

The optimisation of stylegan2-ada-pytorch's projector, on z: Adam at lr 0.1, ramped up over the first 5% of the
steps and down on a cosine over the last 25%, with noise added to the latent that decays to nothing by three
quarters of the way. Every image starts from several latents (the prior's mean, then draws from the prior) and,
for a conditional generator without a given class, from every class; after a quarter of the steps only the
``restarts`` best candidates of each image go on, and the best at the end is kept. The loss is the pixel MSE plus,
where the data has a feature network (the digit classifier for digit-shaped images), the distance between the
features of the image and of its reconstruction.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gantool.core.runmeta import ModelInfo
from gantool.plugins.networks import call

if TYPE_CHECKING:
    import torch

LR = 0.1
RAMP_UP = 0.05  # of the steps: the learning rate rises linearly
RAMP_DOWN = 0.25  # of the steps, the last: it falls on a cosine to 0
NOISE = 0.05  # the latent noise at the start, in prior standard deviations
NOISE_RAMP = 0.75  # of the steps: the noise falls quadratically to 0
PRUNE_AT = 0.25  # of the steps: candidates beyond the best ``restarts`` of each image stop here
BETAS = (0.9, 0.999)
PERCEPTUAL_WEIGHT = 0.1  # the feature distance's share beside the pixel MSE
CANDIDATES_PER_PASS = 2048  # candidates optimised together: bounds memory, not results
# Below this many candidates in a pass, a CPU runs the optimisation on one thread: matrices this small gain
# nothing from a second one, and lose up to 100x when the cores are shared (42 s against 0.3 s for one digit,
# 100 steps, on the 2-core machine with other jobs running).
ONE_THREAD_BELOW = 256

Features = Callable[["torch.Tensor"], "torch.Tensor"]


@dataclass
class Projection:
    """Per image: its latent, class (conditional models), reconstruction (in the model's output range) and errors."""

    z: np.ndarray  # (N, latent_dim) float32
    labels: np.ndarray | None  # (N,) int64
    reconstructions: np.ndarray  # (N, *data_shape) float32
    mse: np.ndarray  # (N,) pixel MSE on the [-1, 1] scale
    loss: np.ndarray  # (N,) the loss minimised: mse plus the perceptual term where there is one


def learning_rate(t: float) -> float:
    """The learning rate at fraction ``t`` of the steps."""
    down = min(1.0, (1.0 - t) / RAMP_DOWN)
    return LR * min(1.0, t / RAMP_UP) * (0.5 - 0.5 * math.cos(down * math.pi))


def noise_scale(t: float) -> float:
    """The latent noise at fraction ``t`` of the steps, in prior standard deviations."""
    return NOISE * max(0.0, 1.0 - t / NOISE_RAMP) ** 2


def optimise(
    G: torch.nn.Module,
    info: ModelInfo,
    images: np.ndarray,
    *,
    labels: np.ndarray | None = None,
    steps: int = 200,
    restarts: int = 2,
    seed: int = 0,
    features: Features | None = None,
) -> Projection:
    """Project ``images`` (N, *data_shape) on the [-1, 1] scale through G (inference mode). ``labels``: one class per
    image for a conditional G (None: every class is tried). Deterministic for a seed and the order of the images."""
    per_image = max(1, restarts * (len(info.classes) if info.classes is not None and labels is None else 1))
    chunk = max(1, CANDIDATES_PER_PASS // per_image)
    with _threads(G, min(len(images), chunk) * per_image):
        parts = [
            _project_chunk(
                G, info, images[s : s + chunk], None if labels is None else labels[s : s + chunk], steps, restarts, seed + s, features
            )
            for s in range(0, len(images), chunk)
        ]
    cat = np.concatenate
    return Projection(
        cat([p.z for p in parts]),
        None if info.classes is None else cat([p.labels for p in parts]),  # type: ignore[misc]
        cat([p.reconstructions for p in parts]),
        cat([p.mse for p in parts]),
        cat([p.loss for p in parts]),
    )


@contextlib.contextmanager
def _threads(G: Any, candidates: int) -> Iterator[None]:
    """One torch thread for a small optimisation on the CPU (ONE_THREAD_BELOW), the caller's setting restored after."""
    import torch

    on_cpu = next(iter(G.parameters()), torch.empty(0)).device.type == "cpu"
    before = torch.get_num_threads()
    if on_cpu and candidates < ONE_THREAD_BELOW:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _Candidates:
    """The latents being optimised, their image, class and Adam moments: one row each."""

    def __init__(self, z: torch.Tensor, owner: torch.Tensor, labels: torch.Tensor | None) -> None:
        import torch

        self.z, self.owner, self.labels = z, owner, labels
        self.m, self.v = torch.zeros_like(z), torch.zeros_like(z)

    def keep(self, rows: torch.Tensor) -> None:
        self.z, self.owner, self.m, self.v = self.z[rows], self.owner[rows], self.m[rows], self.v[rows]
        self.labels = None if self.labels is None else self.labels[rows]


def _start(info: ModelInfo, n: int, labels: np.ndarray | None, restarts: int, seed: int, device: Any) -> _Candidates:
    """Every image's candidates: each class (or its given one) times each restart, from the prior's mean, then draws."""
    import torch

    from gantool.core.latents import draw

    classes = [None] if info.classes is None else (list(range(len(info.classes))) if labels is None else [None])
    per_image = len(classes) * restarts
    starts = draw(n * per_image, info.latent_dim, info.latent, seed).reshape(n, len(classes), restarts, info.latent_dim)
    starts[:, :, 0] = 0.0  # the first start of each is the prior's mean, as stylegan's projector starts from the mean w
    z = torch.from_numpy(starts.reshape(-1, info.latent_dim).astype(np.float32)).to(device)
    owner = torch.arange(n, device=device).repeat_interleave(per_image)
    if info.classes is None:
        return _Candidates(z, owner, None)
    if labels is None:
        y = torch.arange(len(info.classes), device=device).repeat_interleave(restarts).repeat(n)
    else:
        y = torch.from_numpy(np.asarray(labels, dtype=np.int64)).to(device).repeat_interleave(restarts)
    return _Candidates(z, owner, y)


def _losses(
    G: Any,
    c: _Candidates,
    z: torch.Tensor,
    target: torch.Tensor,
    target_features: torch.Tensor | None,
    info: ModelInfo,
    features: Features | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, pixel MSE) of each candidate, on the [-1, 1] scale."""
    low, high = info.output_range
    x = (call(G, z, c.labels) - low) / (high - low) * 2 - 1
    goal = target[c.owner]
    mse = (x - goal).pow(2).flatten(1).mean(1)
    if features is None or target_features is None:
        return mse, mse
    return mse + PERCEPTUAL_WEIGHT * (features(x) - target_features[c.owner]).pow(2).mean(1), mse


def _project_chunk(
    G: Any, info: ModelInfo, images: np.ndarray, labels: np.ndarray | None, steps: int, restarts: int, seed: int, features: Features | None
) -> Projection:
    import torch

    device = next(iter(G.parameters()), torch.empty(0)).device
    target = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).to(device)
    with torch.no_grad():
        target_features = None if features is None else features(target)
    c = _start(info, len(images), labels, restarts, seed, device)
    noise = torch.Generator(device=device).manual_seed(seed)
    std = 1.0 if info.latent == "normal" else 1 / math.sqrt(3)
    prune = int(PRUNE_AT * steps)
    for step in range(steps):
        t = step / steps
        if step == prune and len(c.z) > restarts * len(images):
            with torch.no_grad():
                loss, _ = _losses(G, c, c.z, target, target_features, info, features)
            c.keep(_best(loss, c.owner, len(images), restarts))
        z = c.z.detach().requires_grad_(True)
        jitter = torch.randn(z.shape, generator=noise, device=device) * (std * noise_scale(t))
        loss, _ = _losses(G, c, z + jitter, target, target_features, info, features)
        (grad,) = torch.autograd.grad(loss.sum(), z)  # a sum: each candidate's step depends on its own loss alone
        c.m.mul_(BETAS[0]).add_(grad, alpha=1 - BETAS[0])
        c.v.mul_(BETAS[1]).addcmul_(grad, grad, value=1 - BETAS[1])
        m_hat, v_hat = c.m / (1 - BETAS[0] ** (step + 1)), c.v / (1 - BETAS[1] ** (step + 1))
        c.z = c.z - learning_rate(t) * m_hat / (v_hat.sqrt() + 1e-8)
        if info.latent == "uniform":
            c.z = c.z.clamp(-1.0, 1.0)
    with torch.no_grad():
        loss, mse = _losses(G, c, c.z, target, target_features, info, features)
        c.keep(_best(loss, c.owner, len(images), 1))
        loss, mse = _losses(G, c, c.z, target, target_features, info, features)
        recon = call(G, c.z, c.labels)
    return Projection(
        c.z.cpu().numpy().astype(np.float32),
        None if c.labels is None else c.labels.cpu().numpy().astype(np.int64),
        recon.float().cpu().numpy(),
        mse.cpu().numpy().astype(np.float64),
        loss.cpu().numpy().astype(np.float64),
    )


def _best(loss: torch.Tensor, owner: torch.Tensor, n: int, keep: int) -> torch.Tensor:
    """The rows of the ``keep`` lowest losses of each image, in image order (ties: the earlier row)."""
    import torch

    rows = []
    for i in range(n):
        mine = torch.nonzero(owner == i).flatten()
        order = torch.argsort(loss[mine], stable=True)[:keep]
        rows.append(mine[order])
    return torch.cat(rows)
