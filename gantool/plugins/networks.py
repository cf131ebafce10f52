"""How gantool calls the networks plugins make: the one place that knows the labelled call, and G on numpy arrays.

The hookspecs say a conditional run calls G(z, y) and D(x, y); ``call`` is that rule, for training,
the contract check, sampling, evaluation and export alike. ``generate`` is a torch generator with the
call of ``inference.onnx_runtime.OnnxGenerator``: numpy latents in, numpy data out.
Torch is imported inside the functions: the plugins layer starts without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import torch


def call(net: Any, x: torch.Tensor, labels: torch.Tensor | None = None) -> Any:
    """``net(x)``, or ``net(x, labels)`` for a conditional network (G(z, y), D(x, y); labels int64 (N,))."""
    return net(x) if labels is None else net(x, labels)


def generate(G: torch.nn.Module, z: np.ndarray, labels: np.ndarray | None = None, batch_size: int = 256) -> np.ndarray:
    """G's data (N, *data_shape) float32 for latents ``z`` (N, latent_dim) and, when G is conditional, one label per latent.

    Batches of ``batch_size`` run on G's device in eval mode (BatchNorm's running statistics, no dropout,
    so a sample does not depend on the rest of its batch) without autograd; G's mode is restored afterwards.
    On a GPU the batch size can change the last bits, so callers keep theirs.
    """
    import numpy as np
    import torch

    device = next(iter(G.parameters()), torch.empty(0)).device
    y = None if labels is None else np.ascontiguousarray(labels, dtype=np.int64)
    parts = []
    was_training = G.training
    G.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(z), batch_size):
                chunk = torch.from_numpy(np.ascontiguousarray(z[start : start + batch_size], dtype=np.float32)).to(device)
                given = None if y is None else torch.from_numpy(y[start : start + batch_size]).to(device)
                parts.append(call(G, chunk, given).float().cpu().numpy())
    finally:
        G.train(was_training)
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.float32)
