"""The light pieces both samplers share: numpy latents, latent walks, and gantool's model metadata."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gantool.core import latents
from gantool.core.errors import GantoolError
from gantool.core.runmeta import ModelInfo
from tests.conftest import by_tier


def test_draw_follows_the_prior_and_the_seed():
    z = latents.draw(20_000, 8, "normal", seed=1)
    assert z.shape == (20_000, 8) and z.dtype == np.float32
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02
    u = latents.draw(20_000, 8, "uniform", seed=1)
    assert u.dtype == np.float32 and u.min() >= -1 and u.max() < 1 and abs(u.mean()) < 0.02 and u.min() < -0.99 and u.max() > 0.99
    np.testing.assert_array_equal(latents.draw(5, 8, "normal", seed=1), z[:5])  # a prefix: n does not reshuffle the draw
    assert not np.array_equal(latents.draw(5, 8, "normal", seed=2), z[:5])
    with pytest.raises(GantoolError, match="unknown latent prior 'cauchy'"):
        latents.draw(1, 8, "cauchy", seed=0)


@given(count=st.integers(1, 4), steps=st.integers(2, 9), dim=st.integers(1, 16), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=by_tier(40, 400))
def test_walks_start_and_end_at_random_latents(count, steps, dim, seed):
    for prior in ("normal", "uniform"):
        walk = latents.walks(count, steps, dim, prior, seed)
        ends = latents.draw(2 * count, dim, prior, seed)
        assert walk.shape == (count, steps, dim) and walk.dtype == np.float32
        np.testing.assert_allclose(walk[:, 0], ends[:count], atol=1e-5)
        np.testing.assert_allclose(walk[:, -1], ends[count:], atol=1e-5)
        assert np.isfinite(walk).all()
        if prior == "uniform":  # straight lines stay in the cube
            assert walk.min() >= -1 and walk.max() <= 1


def test_normal_walks_keep_a_typical_norm():
    """Slerp stays near the shell where Gaussian latents live; a straight line would sag towards the origin."""
    dim = 64
    walk = latents.walks(50, 9, dim, "normal", seed=0)
    middle = np.linalg.norm(walk[:, 4], axis=-1)
    ends = latents.draw(100, dim, "normal", seed=0)
    straight_middle = np.linalg.norm((ends[:50] + ends[50:]) / 2, axis=-1)
    assert middle.mean() > 0.9 * np.sqrt(dim) > straight_middle.mean() * 1.2


infos = st.builds(
    ModelInfo,
    latent_dim=st.integers(1, 512),
    latent=st.sampled_from(["normal", "uniform"]),
    data_shape=st.lists(st.integers(1, 64), min_size=1, max_size=4).map(tuple),
    output_range=st.sampled_from([(-1.0, 1.0), (0.0, 1.0), (-0.5, 2.5)]),
    component=st.text(min_size=1, max_size=12),
    options=st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.booleans(), st.text(max_size=8)), max_size=3),
    data=st.text(max_size=12),
    gantool_version=st.just("1.2.3"),
    step=st.one_of(st.none(), st.integers(0, 10**6)),
    ema=st.one_of(st.none(), st.floats(0.001, 0.999)),
    reference=st.one_of(st.none(), st.lists(st.lists(st.floats(-1, 1), min_size=2, max_size=2), min_size=1, max_size=5)),
)


@given(infos)
def test_metadata_round_trips_through_strings(info):
    meta = info.to_metadata()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
    assert ModelInfo.from_metadata(meta, "m.onnx", "fix it") == info


def test_the_safetensors_metadata_of_a_run_reads_too():
    """What gantool train writes into G.safetensors (see train.network_metadata) is enough for a sampler."""
    meta = {
        "format": "gantool",
        "gantool_version": "0.1.0",
        "kind": "generator",
        "component": "mlp",
        "options": '{"hidden": 32}',
        "latent_dim": "64",
        "latent": "normal",
        "data": "digits",
        "data_shape": "[1, 28, 28]",
        "output_range": "[-1.0, 1.0]",
        "step": "30",
    }
    info = ModelInfo.from_metadata(meta, "G.safetensors", "fix it")
    assert (info.latent_dim, info.data_shape, info.options, info.step, info.ema) == (64, (1, 28, 28), {"hidden": 32}, 30, None)


GOOD = {"format": "gantool", "kind": "generator", "latent_dim": "4", "latent": "normal", "data_shape": "[2]"}


@pytest.mark.parametrize(
    "change,message",
    [
        ({"format": None}, "m.onnx carries no gantool metadata: fix it"),
        ({"kind": "discriminator"}, "m.onnx holds a discriminator, not a generator: fix it"),
        ({"latent_dim": None}, "(latent_dim is missing)"),
        ({"latent_dim": "0"}, "(latent_dim must be a positive whole number, got 0)"),
        ({"latent_dim": "2.5"}, "(latent_dim must be a positive whole number, got 2.5)"),
        ({"latent": "cauchy"}, "(latent must be one of normal, uniform, got 'cauchy')"),
        ({"data_shape": "[]"}, "(data_shape must be a list of positive whole numbers, got [])"),
        ({"data_shape": "[2, -1]"}, "(data_shape must be a list of positive whole numbers"),
        ({"data_shape": "2,"}, "(data_shape is not JSON: '2,')"),
        ({"output_range": "[1, -1]"}, "(output_range must be [low, high] with low < high"),
        ({"options": "[1]"}, "(options must be a JSON object"),
        ({"reference": "[[1, 2, 3]]"}, "(reference must be a list of [x, y] points)"),
    ],
)
def test_bad_metadata_is_one_clear_error(change, message):
    meta = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with pytest.raises(GantoolError) as caught:
        ModelInfo.from_metadata(meta, "m.onnx", "fix it")
    assert message in str(caught.value) and "\n" not in str(caught.value)
