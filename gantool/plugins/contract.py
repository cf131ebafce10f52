"""Plugins held to their contract: a plugin's failure becomes a one-line error that names it.

Plugins are other people's code. Their networks are tried once before the first step,
their losses are checked on every call, and what they raise is reported with the
plugin's name instead of a traceback ('gantool --debug' still shows one).
"""

from __future__ import annotations

from typing import Any

import torch

from gantool.core.errors import GantoolError, first_line
from gantool.plugins.networks import call


class CheckedLoss:
    """A loss plugin held to its contract: a scalar tensor that depends on the networks, or a one-line error naming it."""

    def __init__(self, loss: Any, name: str, plugin: str) -> None:
        self.loss, self.what = loss, f"loss {name!r} (from {plugin})"

    def discriminator_loss(self, D: Any, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return self._call("discriminator_loss", D, real, fake)

    def generator_loss(self, D: Any, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return self._call("generator_loss", D, real, fake)

    def _call(self, method: str, *args: Any) -> torch.Tensor:
        try:
            out = getattr(self.loss, method)(*args)
        except (GantoolError, torch.OutOfMemoryError):
            raise
        except Exception as exc:
            raise GantoolError(
                f"{self.what} raised {type(exc).__name__} in {method}: {first_line(exc)}; "
                "report it to the plugin's authors ('gantool --debug' shows the traceback)"
            ) from exc
        if not isinstance(out, torch.Tensor) or out.numel() != 1 or not out.requires_grad:
            got = f"a tensor of shape {tuple(out.shape)}" if isinstance(out, torch.Tensor) else type(out).__name__
            raise GantoolError(
                f"{self.what} returned {got}{' without a gradient' if isinstance(out, torch.Tensor) else ''} from {method}; "
                "it must return one number computed from D's output (a scalar tensor)"
            )
        return out.reshape(())


def forward(net: torch.nn.Module, x: torch.Tensor, what: str, given: str, labels: torch.Tensor | None = None) -> torch.Tensor:
    """One forward pass of a plugin's network (with labels: a conditional one), a failure named after it."""
    try:
        out = call(net, x, labels)
    except (GantoolError, torch.OutOfMemoryError):
        raise
    except Exception as exc:
        raise GantoolError(f"{what} failed on {given}: {type(exc).__name__}: {first_line(exc)}; pick one that fits this data") from exc
    if not isinstance(out, torch.Tensor):
        raise GantoolError(f"{what} returned {type(out).__name__}, not a tensor; pick one that fits this data")
    return out


def dataset_shape(data: Any, name: str) -> tuple[int, ...]:
    """The shape of one sample of a map-style dataset, or a one-line error when it is not one."""
    try:
        item = data[0]
        first = item[0] if isinstance(item, list | tuple) else item
        shape = tuple(first.shape)
        if len(data) == 0:
            raise ValueError("it is empty")
    except Exception as exc:
        raise GantoolError(
            f"dataset {name!r} returned an object of type {type(data).__name__}, not data ({type(exc).__name__}: {first_line(exc)}); "
            "a dataset must be a tensor (N, *data_shape) or a map-style Dataset of such tensors"
        ) from None
    return shape
