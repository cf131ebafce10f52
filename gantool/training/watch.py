"""D as the losses see it in a step: labels bound, logits kept for the logs, real and fake judged in one pass.

One pass of D over the real and the fake batch together (``judges_per_sample``) does the same
arithmetic as two, in half the kernels and with matrices twice as tall, which the CPU's matrix
product runs faster: measured in benchmarks/results/throughput-cpu.md. It is only done where it
gives the same result: when every layer of D treats each sample on its own. BatchNorm normalises
over the batch, so a D with it would see other statistics; a layer gantool does not know (a
minibatch standard deviation, a packed D) might mix samples too, so D keeps two calls unless the
layer's class says ``per_sample = True``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gantool.plugins import networks

# layers that compute each sample's output from that sample alone (and their parameters)
PER_SAMPLE_LAYERS: tuple[type[nn.Module], ...] = (
    nn.Sequential,
    nn.ModuleList,
    nn.ModuleDict,
    nn.Identity,
    nn.Flatten,
    nn.Unflatten,
    nn.Linear,
    nn.Bilinear,
    nn.Embedding,
    nn.modules.conv._ConvNd,
    nn.modules.dropout._DropoutNd,
    nn.modules.pooling._MaxPoolNd,
    nn.modules.pooling._AvgPoolNd,
    nn.modules.pooling._AdaptiveAvgPoolNd,
    nn.modules.pooling._AdaptiveMaxPoolNd,
    nn.modules.padding._ConstantPadNd,
    nn.modules.padding._ReflectionPadNd,
    nn.modules.padding._ReplicationPadNd,
    nn.Upsample,
    nn.PixelShuffle,
    nn.PixelUnshuffle,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.modules.instancenorm._InstanceNorm,
    nn.ReLU,
    nn.LeakyReLU,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardtanh,
    nn.Softplus,
    nn.PReLU,
)


def judges_per_sample(D: nn.Module) -> bool:
    """True when every module of D is a layer known to treat samples apart, or says so with ``per_sample = True``."""
    return all(_per_sample(m) for m in D.modules())


def _per_sample(m: nn.Module) -> bool:
    if getattr(type(m), "per_sample", False) is True:
        return True
    # torch's own classes only: a subclass may have a forward of its own that mixes samples
    return isinstance(m, PER_SAMPLE_LAYERS) and type(m).__module__.startswith("torch.nn.")


class Watch:
    """D as a loss sees it: called like D itself, with the batch's labels bound in a conditional run.

    It keeps D's logits on the real and the fake batch, so D(x) and D(G(z)) come for the logs
    without a second forward pass and without reading anything back to the host. In a conditional
    run every call is D(x, y) with the step's labels, so a loss written for unconditional D works
    unchanged. An AC-GAN discriminator returns 1 + K columns: the loss sees the first, and
    ``class_loss`` is the cross-entropy of the K class logits (computed from logits: no softmax
    before it). Calls go through ``call`` (D's DistributedDataParallel wrapper in a distributed run,
    or D frozen in G's step); attributes come from D itself.

    With ``together``, the first call on the real or the fake batch runs D once over both, and each
    half answers one call on its batch; any other call (a gradient penalty's, a second call on a
    batch) runs D on its own.
    """

    def __init__(self, D: nn.Module, call: Callable[..., torch.Tensor] | None = None, together: bool = False) -> None:
        self.D, self.call, self.together = D, call if call is not None else D, together
        self.real: torch.Tensor | None = None
        self.fake: torch.Tensor | None = None
        self.labels: torch.Tensor | None = None
        self.real_logits: torch.Tensor | None = None
        self.fake_logits: torch.Tensor | None = None
        self.class_logits: dict[int, torch.Tensor] = {}  # id(real or fake) -> AC-GAN class logits
        self.pending: dict[str, torch.Tensor] | None = None  # the halves of the one pass not yet handed out

    def watch(self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None) -> None:
        self.real, self.fake, self.labels = real, fake, labels
        self.class_logits.clear()
        self.pending = None

    def judged(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """D(x) through ``call``, or D(x, labels) in a conditional run."""
        return networks.call(self.call, x, labels)

    def judged_together(self, which: str) -> torch.Tensor | None:
        """The ``which`` half of one pass of D over real and fake (run at the first call), or None once handed out."""
        assert self.real is not None and self.fake is not None
        if self.pending is None:
            n = len(self.real)
            both = torch.cat([self.real, self.fake])
            out = self.judged(both, None if self.labels is None else self.labels.repeat(2))
            self.pending = {"real": out[:n], "fake": out[n:]}
        return self.pending.pop(which, None)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        which = "real" if x is self.real else "fake" if x is self.fake else ""
        out = self.judged_together(which) if which and self.together else None
        if out is None:
            out = self.judged(x, self.labels)
        if out.ndim == 2 and out.shape[1] > 1:  # AC-GAN: the logit, then class logits
            if which:
                self.class_logits[id(x)] = out[:, 1:]
            out = out[:, :1]
        if which == "real":
            self.real_logits = out.detach().reshape(-1)
        elif which == "fake":
            self.fake_logits = out.detach().reshape(-1)
        return out

    def class_loss(self, *judged: torch.Tensor) -> torch.Tensor | float:
        """AC-GAN's class term on the given batches D judged this step: cross-entropy of logits against the labels."""
        labels = self.labels
        if labels is None:
            return 0.0
        terms = [F.cross_entropy(self.class_logits[id(x)].float(), labels) for x in judged if id(x) in self.class_logits]
        return sum(terms) if terms else 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.D, name)

    def figures(self) -> list[torch.Tensor]:
        """D(x), D(G(z)) and the two halves of the cross-entropy, NaN where the loss never called D."""
        nan = torch.tensor(float("nan"))
        r, f = self.real_logits, self.fake_logits
        return [
            torch.sigmoid(r).mean() if r is not None else nan,
            torch.sigmoid(f).mean() if f is not None else nan,
            F.softplus(-r).mean() if r is not None else nan,
            F.softplus(f).mean() if f is not None else nan,
        ]
