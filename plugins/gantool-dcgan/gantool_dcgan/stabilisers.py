"""D's two stabilisers: spectral normalisation (``sn=true``) and PacGAN packing (``pack=N``).

- Spectral normalisation (Miyato et al., 2018) divides each weight by its largest singular value,
  estimated by one power iteration per forward pass in training mode, so every layer is 1-Lipschitz.
  It applies to every convolution and linear layer of D and, in a projection D, to the label
  embedding (as in Miyato & Koyama's projection D); a concat D's label embedding is an input, left as
  it is. SNGAN's D has no BatchNorm, so D drops it with ``sn`` (and its convolutions get biases back).
- Packing (Lin et al., 2018) shows D ``pack`` samples of one kind at once, concatenated along the
  channels, and gives the group one logit, repeated for each member: the losses stay per-sample, and
  a generator that repeats itself is easy to spot in a group. Training batches must divide into
  groups: the one-line error comes from D's first call in training mode, which gantool makes on one
  whole batch before the run folder exists.
"""

from __future__ import annotations

import torch
from torch import nn

from gantool import GantoolError


def check(sn: bool, pack: int, num_classes: int) -> tuple[bool, int]:
    """The options as given, or a one-line error: ``sn`` is true or false, ``pack`` a positive integer, alone."""
    if not isinstance(sn, bool):
        raise ValueError(f"sn must be true or false, got {sn!r}")
    if isinstance(pack, bool) or not isinstance(pack, int) or pack < 1:
        raise ValueError(f"pack must be a positive integer, got {pack!r}")
    if pack > 1 and num_classes:
        raise ValueError(f"pack={pack} does not combine with conditioning on labels: leave it out with --conditional")
    return sn, pack


def spectral(model: nn.Module, *also: nn.Module) -> nn.Module:
    """``model`` with every convolution and linear layer, and each module in ``also``, spectrally normalised."""
    from torch.nn.utils.parametrizations import spectral_norm

    layers = [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    for layer in (*layers, *also):
        spectral_norm(layer)
    return model


class PackedDiscriminator(nn.Module):
    """D over groups of ``pack`` consecutive samples, stacked along the channels: (N, C, H, W) -> (N / pack, pack * C, H, W)."""

    def __init__(self, net: nn.Module, pack: int) -> None:
        super().__init__()
        self.pack, self.net = pack, net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        if n % self.pack:
            if self.training:
                raise GantoolError(
                    f"discriminator 'dcgan' with pack={self.pack} judges groups of {self.pack} samples, got a batch of {n}: "
                    f"make --batch-size a multiple of {self.pack}, or change pack"
                )
            # judging outside training (gantool's shape check on 2 samples): fill the last group with the first samples
            x = x[torch.arange(-(-n // self.pack) * self.pack, device=x.device) % n]
        packed = x.reshape(-1, self.pack * x.shape[1], *x.shape[2:])
        return self.net(packed).repeat_interleave(self.pack, dim=0)[:n]
