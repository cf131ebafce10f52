"""ONNX export: the file, its metadata, its checks, through the Python API and the real CLI."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from datetime import UTC, datetime

import numpy as np
import onnx
import pytest
import torch

from gantool import __version__
from gantool.core import latents
from gantool.core.errors import GantoolError
from gantool.core.runmeta import Provenance
from gantool.inference.export import export_onnx, verify
from gantool.inference.onnx_runtime import OnnxGenerator
from gantool.plugins.registry import get_registry
from gantool.store import tensors as ckpt
from tests.conftest import run_cli


def torch_generator(path):
    """G rebuilt here from its safetensors file, independently of gantool.inference.loading, in eval mode."""
    tensors, meta = ckpt.load_tensors(path)
    G = get_registry().create("generator", meta["component"], int(meta["latent_dim"]), tuple(json.loads(meta["data_shape"])))
    G.load_state_dict(tensors)
    return G.eval()


def test_export_writes_a_checked_model_with_what_a_sampler_needs(ring_export):
    model = onnx.load(str(ring_export.onnx))
    onnx.checker.check_model(model, full_check=True)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["format"] == "gantool" and meta["kind"] == "generator"
    assert (meta["latent_dim"], meta["latent"], json.loads(meta["data_shape"])) == ("8", "uniform", [2])
    assert json.loads(meta["output_range"]) == [-1.0, 1.0]
    assert (meta["component"], json.loads(meta["options"]), meta["data"]) == ("mlp-small", {}, "ring")
    assert meta["gantool_version"] == __version__ and "ema" not in meta and json.loads(meta["step"]) == 20
    # 2-D data carries the first real points, so a sampler without torch can draw samples over the data
    reference = np.array(json.loads(meta["reference"]))
    real = get_registry().create("dataset", "ring", n=2000).train[:1000].numpy()
    assert reference.shape == (1000, 2) and np.abs(reference - real).max() < 1e-4
    # one input z (batch, 8), the batch axis free
    (z,) = model.graph.input
    dims = z.type.tensor_type.shape.dim
    assert z.name == "z" and dims[0].dim_param and not dims[0].HasField("dim_value") and dims[1].dim_value == 8
    assert [o.name for o in model.graph.output] == ["x"]
    assert model.opset_import[0].version == 20
    report = ring_export.report
    assert report.path == ring_export.onnx and report.opset == 20 and report.checked == 72
    assert 0 <= report.max_diff <= 1e-4


def test_onnx_matches_torch_at_any_batch_size(ring_export):
    G = torch_generator(ring_export.run / "G.safetensors")
    onnx_g = OnnxGenerator(ring_export.onnx, device="cpu")
    for n in (1, 3, 100):
        z = latents.draw(n, 8, "uniform", seed=n)
        with torch.no_grad():
            expected = G(torch.from_numpy(z)).numpy()
        got = onnx_g(z, batch_size=n)
        assert got.shape == (n, 2)
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_batchnorm_and_dropout_export_in_inference_mode(digits_export):
    model = onnx.load(str(digits_export.onnx))
    ops = {node.op_type for node in model.graph.node}
    assert "Dropout" not in ops
    assert all(a.i == 0 for n in model.graph.node if n.op_type == "BatchNormalization" for a in n.attribute if a.name == "training_mode")
    G = torch_generator(digits_export.run / "G.safetensors")
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in G.modules()) == 7  # the run really has BatchNorm and dropout
    onnx_g = OnnxGenerator(digits_export.onnx, device="cpu")
    z = latents.draw(16, 64, "normal", seed=5)
    with torch.no_grad():
        expected = G(torch.from_numpy(z)).numpy()
    together = onnx_g(z, batch_size=16)
    np.testing.assert_allclose(together, expected, atol=1e-5)
    # a sample does not depend on the rest of its batch (training-mode BatchNorm would make it so)
    np.testing.assert_array_equal(onnx_g(z, batch_size=1), onnx_g(z, batch_size=16))
    assert together.shape == (16, 1, 28, 28)


def test_the_parity_check_catches_a_model_that_disagrees(ring_export):
    """verify() is what stands between a wrong export and the disk: a different network must fail it."""
    other = get_registry().create("generator", "mlp-small", 8, (2,)).eval()
    info = OnnxGenerator(ring_export.onnx, device="cpu").info
    with pytest.raises(GantoolError, match=r"ONNX and PyTorch outputs differ by up to .* so the export was not kept"):
        verify(ring_export.onnx, other, info, 1e-4)
    assert verify(ring_export.onnx, torch_generator(ring_export.run / "G.safetensors"), info, 1e-4)[1] == 72


def test_ema_exports_the_averaged_weights(ring_export, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(ring_export.run, run)
    tensors, meta = ckpt.load_tensors(run / "G.safetensors")
    averaged = {k: v * 0.5 if v.is_floating_point() else v for k, v in tensors.items()}
    ckpt.save_tensors(run / "G_ema.safetensors", averaged, meta | {"ema": "0.9"})
    report = export_onnx(run)  # a run with an average means its average
    assert report.path == run / "G.onnx" and report.source == run / "G_ema.safetensors"
    onnx_g = OnnxGenerator(report.path, device="cpu")
    assert onnx_g.info.ema == 0.9
    raw = export_onnx(run, tmp_path / "raw.onnx", ema=False)  # --no-ema: the raw G
    assert raw.source == run / "G.safetensors" and OnnxGenerator(raw.path, device="cpu").info.ema is None
    z = latents.draw(10, 8, "uniform", seed=1)
    with torch.no_grad():
        ema_out = torch_generator(run / "G_ema.safetensors")(torch.from_numpy(z)).numpy()
        plain_out = torch_generator(run / "G.safetensors")(torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(onnx_g(z), ema_out, atol=1e-5)
    assert np.abs(ema_out - plain_out).max() > 1e-2


def test_a_run_with_default_settings_exports_its_average(tmp_path):
    """G_ema.safetensors is on by default (--ema 0.999), so the file export writes holds the averaged weights."""
    run = tmp_path / "run"
    proc = run_cli("train", "--data", "ring", "--data-opt", "n=500", "--gen", "mlp-small", "--steps", "20", "--batch-size", "32",
                   "--device", "cpu", "--run-dir", str(run))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (run / "G_ema.safetensors").is_file()
    proc = run_cli("export", str(run))
    assert proc.returncode == 0, proc.stderr
    info = OnnxGenerator(run / "G.onnx", device="cpu").info
    assert info.ema == 0.999 and json.loads(metadata(run / "G.onnx")["settings"])["ema"] == 0.999
    z = latents.draw(10, info.latent_dim, info.latent, seed=2)
    with torch.no_grad():
        averaged = torch_generator(run / "G_ema.safetensors")(torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(OnnxGenerator(run / "G.onnx", device="cpu")(z), averaged, atol=1e-5)


def test_export_from_the_cli(ring_export, tmp_path):
    shutil.copytree(ring_export.home / "runs" / "first", tmp_path / "runs" / "r", symlinks=True)
    (tmp_path / "runs" / "latest").symlink_to("r")
    (tmp_path / "runs" / "r" / "G.onnx").unlink()
    proc = run_cli("export", "--opset", "18", cwd=tmp_path)  # runs/latest -> runs/latest/G.onnx
    assert proc.returncode == 0, proc.stderr
    assert onnx.load(str(tmp_path / "runs" / "r" / "G.onnx")).opset_import[0].version == 18
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "onnx.checker passed" in lines[0]
    worst = float(re.search(r"largest \|onnx - torch\| on 72 latents: ([^\s;]+)", lines[0]).group(1))
    assert worst <= 1e-4
    assert not list((tmp_path / "runs" / "r").glob(".*.tmp"))  # the file checked before it took its name leaves nothing behind


def test_export_to_a_chosen_path(ring_export, tmp_path):
    report = export_onnx(ring_export.run, tmp_path / "elsewhere.onnx")
    assert report.path.is_file() and OnnxGenerator(report.path, device="cpu").info == ring_export.report.info


BAD = [
    (("export",), "there is no run yet"),
    (("export", "runs/none"), "run runs/none does not exist"),
    (
        ("export", "--ema"),
        "has no averaged weights (G_ema.safetensors): it was trained without a weight average (--ema 0); leave out --ema",
    ),
    (("export", "--opset", "5"), "--opset must be between 18 and"),
    (("export", "--onnx", "G.txt"), "--onnx G.txt should end in .onnx"),
    (("export", "--onnx", "no/such/folder/G.onnx"), "the folder no/such/folder does not exist"),
    (("export", "--opset", "twenty"), "Invalid value for '--opset'"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_export_input_is_one_line_and_exit_2(ring_export, tmp_path, args, message):
    if "no run yet" not in message:
        shutil.copytree(ring_export.home / "runs", tmp_path / "runs", symlinks=True)
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr


def metadata(path) -> dict[str, str]:
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


def test_export_records_where_the_generator_came_from(ring_export, tmp_path):
    """The run's settings, its recipe, the date and the headline of a real `gantool eval` travel inside the file."""
    run = tmp_path / "run"
    shutil.copytree(ring_export.run, run)
    config = run / "config.toml"
    config.write_text("# recipe: recipes/ring.toml\n" + config.read_text())  # the line training writes for --config
    proc = run_cli("eval", str(run), "-n", "300", "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    evaluated = json.loads((run / "eval.json").read_text())
    before = datetime.now(UTC).replace(microsecond=0)
    report = export_onnx(run, tmp_path / "G.onnx")
    assert "eval figures of step 20 recorded" in report.summary()
    meta = metadata(report.path)
    assert meta["recipe"] == "recipes/ring.toml"
    assert json.loads(meta["settings"]) == tomllib.loads(config.read_text())
    assert json.loads(meta["settings"])["data"] == "ring" and json.loads(meta["step"]) == 20
    assert before <= datetime.fromisoformat(meta["exported"]) <= datetime.now(UTC)
    headline = json.loads(meta["eval"])
    assert (headline["step"], headline["n"], headline["seed"]) == (20, 300, 3)
    figures = evaluated["figures"]
    assert set(headline["figures"]) == {k: v for k, v in figures.items() if isinstance(v, int | float) and not isinstance(v, bool)}.keys()
    assert headline["figures"]["modes_total"] == 8 and "metrics" not in headline["figures"]  # lists stay in eval.json
    assert headline["figures"]["high_quality"] == pytest.approx(figures["high_quality"], rel=1e-3)
    assert Provenance.from_metadata(meta) == report.provenance
    # --recipe names the recipe when the config does not
    config.write_text(config.read_text().split("\n", 1)[1])
    proc = run_cli("export", str(run), "--onnx", str(tmp_path / "named.onnx"), "--recipe", "ring")
    assert proc.returncode == 0, proc.stderr
    assert metadata(tmp_path / "named.onnx")["recipe"] == "ring"


def test_export_names_the_recipe_training_recorded(tmp_path):
    """A run started with --config myrecipe.toml, and resumed, exports a file that names myrecipe without --recipe."""
    (tmp_path / "myrecipe.toml").write_text('gen = "mlp-small"\nbatch-size = 32\ndevice = "cpu"\n\n[data_opt]\nn = 500\n')
    run = tmp_path / "run"
    for args in (
        ("--config", "myrecipe.toml", "--data", "ring", "--steps", "20", "--run-dir", str(run)),
        ("--resume", str(run), "--steps", "30"),
    ):
        proc = run_cli("train", *args, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    proc = run_cli("export", str(run), "--onnx", str(tmp_path / "G.onnx"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    made = Provenance.from_metadata(metadata(tmp_path / "G.onnx"))
    assert made.recipe == "myrecipe" and made.settings is not None
    assert (made.settings["data"], made.settings["gen"], made.settings["steps"]) == ("ring", "mlp-small", 30)
    # --recipe still wins over what the run recorded
    report = export_onnx(run, tmp_path / "named.onnx", recipe="ring")
    assert report.provenance.recipe == metadata(tmp_path / "named.onnx")["recipe"] == "ring"


def test_eval_figures_of_other_weights_are_left_out(ring_export, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(ring_export.run, run)
    (run / "eval.json").write_text(json.dumps({"generator": str(run / "G.safetensors"), "step": 5, "n": 10, "figures": {"fid": 1.0}}))
    report = export_onnx(run, tmp_path / "G.onnx")
    assert "eval.json is of G.safetensors at step 5, not this generator: its figures were left out" in report.summary()
    meta = metadata(report.path)
    assert "eval" not in meta and "recipe" not in meta and json.loads(meta["settings"])["steps"] == 20
    (run / "eval.json").write_text("{not json")
    report = export_onnx(run, tmp_path / "G.onnx")
    assert "no eval figures recorded" in report.summary() and "eval" not in metadata(report.path)


def test_files_without_provenance_still_read_and_sample(ring_export, tmp_path):
    """Files exported before provenance was recorded, or with it mangled, sample as before; what is missing reads as None."""
    model = onnx.load(str(ring_export.onnx))
    kept = [(p.key, p.value) for p in model.metadata_props if p.key not in ("recipe", "settings", "exported", "eval")]
    del model.metadata_props[:]
    for key, value in [*kept, ("settings", "{broken"), ("eval", "[1, 2]")]:
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    old = tmp_path / "old.onnx"
    onnx.save(model, str(old))
    assert Provenance.from_metadata(metadata(old)) == Provenance()
    assert OnnxGenerator(old, device="cpu").info == ring_export.report.info
    proc = run_cli("sample", "--model", str(old), "-n", "5", "--out", str(tmp_path / "x.npy"))
    assert proc.returncode == 0, proc.stderr
