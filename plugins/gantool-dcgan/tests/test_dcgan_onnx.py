"""The DCGAN generator exports to ONNX with a dynamic batch, and onnxruntime reproduces it.

This is the exporter path ``gantool export`` takes; checking it here keeps the plugin honest on its own.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch
from torch import nn

from gantool.plugins.registry import get_registry

LATENT = 16


def trained_looking_generator(data_shape):
    """Weights wide enough that the outputs spread over (-1, 1), and BatchNorm statistics that are not the defaults."""
    torch.manual_seed(0)
    G = get_registry().create("generator", "dcgan", LATENT, data_shape, width=8)
    with torch.no_grad():
        for m in G.modules():
            if isinstance(m, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
                m.weight.normal_(0, 0.2)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.normal_(1, 0.2), m.bias.normal_(0, 0.2)
        for _ in range(3):
            G(2 * torch.randn(16, LATENT))  # train mode: moves the running statistics
    return G.eval()


@pytest.mark.parametrize("data_shape", [(1, 28, 28), (3, 32, 32)])
def test_onnx_export_matches_torch(tmp_path, data_shape):
    G = trained_looking_generator(data_shape)
    batch = torch.export.Dim("batch", min=1, max=4096)
    program = torch.onnx.export(
        G, (torch.randn(2, LATENT),), dynamo=True, input_names=["z"], output_names=["x"], dynamic_shapes=({0: batch},), opset_version=20
    )
    path = tmp_path / "G.onnx"
    program.save(str(path), external_data=False)
    assert not list(tmp_path.glob("*.data"))  # one self-contained file
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["z"]
    for n in (1, 5):
        z = torch.randn(n, LATENT)
        with torch.no_grad():
            expected = G(z).numpy()
        assert expected.std() > 0.2  # a comparison of near-constant outputs would prove nothing
        (got,) = session.run(["x"], {"z": z.numpy()})
        assert got.shape == (n, *data_shape)
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)
