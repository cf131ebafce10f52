"""plugins.networks: the labelled call, and G on numpy arrays as every torch sampler runs it."""

import numpy as np
import torch
from torch import nn

from gantool.plugins.networks import call, generate


class Labelled(nn.Module):
    """A conditional G with BatchNorm and dropout: y shifts the output, so a label that goes astray shows."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Linear(4, 2))

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        out = self.body(z)
        return out if y is None else out + 100 * y[:, None].to(out.dtype)


def test_call_passes_labels_only_when_given():
    G = Labelled().eval()
    z = torch.randn(5, 3)
    assert torch.equal(call(G, z), G(z))
    y = torch.arange(5)
    assert torch.equal(call(G, z, y), G(z, y))


def test_generate_runs_in_eval_mode_in_batches_and_restores_the_mode():
    torch.manual_seed(0)
    G = Labelled().train()
    G(torch.randn(64, 3))  # running statistics that differ from a batch's own
    z = np.random.default_rng(0).standard_normal((10, 3)).astype(np.float64)  # converted to float32 as samplers do
    y = np.arange(10) % 3
    whole = generate(G, z, y, batch_size=10)
    assert G.training  # put back as it was
    assert whole.dtype == np.float32 and whole.shape == (10, 2)
    np.testing.assert_allclose(generate(G, z, y, batch_size=3), whole, rtol=1e-6)  # eval mode: a sample ignores its batch
    with torch.no_grad():
        expected = G.eval()(torch.from_numpy(z.astype(np.float32)), torch.from_numpy(y)).numpy()
    assert np.array_equal(whole, expected)
    assert generate(G, z[:0], None).shape == (0,)
