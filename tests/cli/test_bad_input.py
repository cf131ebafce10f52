"""Every command, fed bad input: exit code 2, one line that says what to do, no traceback, and
nothing on disk changed. One row per mistake; tests/test_cli.py's BAD table holds more for train.

A row is one line: the arguments, a fragment of the expected message and, where the mistake
needs files, a setup that makes them in the row's empty working folder.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from gantool.store.layout import CHECKPOINT, LOCK
from tests.conftest import make_distribution, run_cli

Setup = Callable[[Path, Path], "dict[str, str] | None"]  # (working folder, a trained run to copy) -> extra environment


@dataclass(frozen=True)
class Bad:
    args: tuple[str, ...]
    message: str
    setup: Setup | None = None
    fails_mid_run: bool = False  # the run folder is made before the failing step: only it may appear, without weights


# --- setups ---------------------------------------------------------------------------------------


def write(name: str, content: str | bytes = "") -> Setup:
    def setup(cwd: Path, template: Path) -> None:
        path = cwd / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())

    return setup


def toml(text: str) -> Setup:
    return write("c.toml", text + "\n")


def folder(name: str) -> Setup:
    return lambda cwd, template: (cwd / name).mkdir(parents=True) and None


def trained(name: str, then: Callable[[Path], object] = lambda run: None) -> Setup:
    """A copy of a finished 10-step run (mlp, hidden 16, on the ring), then optionally damaged."""

    def setup(cwd: Path, template: Path) -> None:
        shutil.copytree(template, cwd / name)
        then(cwd / name)

    return setup


def truncate(run: Path) -> None:
    data = (run / CHECKPOINT).read_bytes()
    (run / CHECKPOINT).write_bytes(data[: len(data) // 2])


def truncate_file(name: str) -> Callable[[Path], object]:
    return lambda run: (run / name).write_bytes((run / name).read_bytes()[:5])


def config_says(text: str) -> Callable[[Path], object]:
    return lambda run: (run / "config.toml").write_text(text)


def unwritable_runs(cwd: Path, template: Path) -> None:
    runs = cwd / "runs"
    if sys.platform == "win32":
        pytest.skip("folder permissions are ACLs on Windows")
    if os.geteuid() != 0:
        runs.mkdir()
        runs.chmod(0o555)
    elif Path("/sys/kernel").is_dir():  # root writes anywhere permissions allow nothing, but not into sysfs
        runs.symlink_to("/sys/kernel", target_is_directory=True)
    else:
        pytest.skip("no folder is unwritable to root here")


BROKEN_PLUGIN = """
from gantool import hookimpl


def exploding_generator(latent_dim, data_shape):
    raise RuntimeError("boom in the factory")


def fixed_generator(latent_dim, data_shape):
    from torch import nn
    return nn.Linear(latent_dim, 3)  # ignores data_shape


def narrow_discriminator(data_shape):
    from torch import nn
    return nn.Linear(3, 1)  # takes 3 features, whatever the data


class RaisingLoss:
    def discriminator_loss(self, D, real, fake):
        return 1 / 0

    generator_loss = discriminator_loss


class FloatLoss:
    def discriminator_loss(self, D, real, fake):
        return 0.5

    generator_loss = discriminator_loss


@hookimpl
def register_generators(register):
    register("bad-exploding", exploding_generator)
    register("bad-fixed", fixed_generator)


@hookimpl
def register_discriminators(register):
    register("bad-narrow", narrow_discriminator)


@hookimpl
def register_losses(register):
    register("bad-raising", RaisingLoss)
    register("bad-float", FloatLoss)


@hookimpl
def register_datasets(register):
    register("bad-number", lambda: 42)
"""


def broken_plugin(cwd: Path, template: Path) -> dict[str, str]:
    make_distribution(cwd / "site", "gantool-broken", "brokenplugin", BROKEN_PLUGIN)
    return {"PYTHONPATH": str(cwd / "site")}


RING = ("--data", "ring", "--data-opt", "n=256", "--batch-size", "32", "--device", "cpu")

# --- the table ------------------------------------------------------------------------------------

ROWS = [
    # the command line itself
    Bad(("trian",), "No such command 'trian'. Did you mean 'train'? (see 'gantool --help')"),
    Bad(("--bogus",), "No such option: --bogus (see 'gantool --help')"),
    Bad(("plugins", "--bogus"), "No such option: --bogus"),
    Bad(("plugins", "extra"), "No such command 'extra'"),
    Bad(("train", "--gen"), "Option '--gen' requires an argument"),
    Bad(("train", "--batch-size", "abc"), "Invalid value for '--batch-size'"),
    # train: unknown names and options
    Bad(("train", "--disc", "nope"), "unknown discriminator 'nope'; choose one of: "),
    Bad(("train", "--gen", "mlp-deep", "--gen-opt", "hidden=3"), "does not accept option hidden; it takes: widths, dropout"),
    Bad(("train", "--loss-opt", "margin=1"), "loss 'nonsat' does not accept option margin; it takes: label_smoothing"),
    Bad(("train", "--data", "ring", "--data-opt", "size=3"), "dataset 'ring' does not accept option size; it takes: n, seed"),
    Bad(("train", "--data-opt", "=3"), "--data-opt expects KEY=VALUE, got '=3'"),
    # train: zero, negative and nonsense numbers
    Bad(("train", "--latent-dim", "0"), "--latent-dim must be greater than 0, got 0"),
    Bad(("train", "--amp", "fp8"), "--amp must be none or bf16"),
    Bad(("train", "--d-steps", "0"), "--d-steps must be greater than 0"),
    Bad(("train", "--log-every", "-1"), "--log-every must be greater than 0"),
    Bad(("train", "--ckpt-every", "0"), "--ckpt-every must be greater than 0"),
    Bad(("train", "--sample-every", "0"), "--sample-every must be greater than 0"),
    Bad(("train", "--epochs", "-2"), "--epochs must be greater than 0"),
    Bad(("train", "--epochs", "inf"), "--epochs must be greater than 0 and finite, got inf"),
    Bad(("train", "--lr", "0"), "--lr must be greater than 0"),
    Bad(("train", "--beta2", "1"), "--beta2 must be in [0, 1)"),
    Bad(("train", "--lr-decay", "1.5"), "--lr-decay must be a fraction of the run in [0, 1]"),
    Bad(("train", "--seed", "-1"), "--seed must be a whole number from 0 to 9223372036854775807"),
    Bad(("train", "--seed", "99999999999999999999"), "--seed must be a whole number from 0 to"),
    Bad(("train", "--device", "cuda:x"), "--device must be auto, cpu, cuda or cuda:N, got 'cuda:x'"),
    Bad(("train", "--loss-opt", "label_smoothing=1.5"), "label_smoothing must be a number in [0, 1)"),
    Bad(("train", *RING[:2], "--data-opt", "n=0"), "n must be a positive number of samples"),
    # train: config files
    Bad(("train", "--config", "c.toml"), "c.toml: --steps must be a whole number, got 'ten'", toml('steps = "ten"')),
    Bad(("train", "--config", "c.toml"), "c.toml: --gen must be a name (text), got 5", toml("gen = 5")),
    Bad(("train", "--config", "c.toml"), "c.toml: --lr must be greater than 0 and finite, got inf", toml("lr = inf")),
    Bad(("train", "--config", "c.toml"), "gen_opt must be a table like [gen_opt]", toml("gen_opt = 3")),
    Bad(("train", "--config", "c.toml"), "hidden must be a number, true/false or text", toml("[gen_opt]\nhidden = [1]")),
    Bad(("train", "--config", "c.toml"), "cannot read config file c.toml", write("c.toml", b"\xff\xfe\x00garbage")),
    Bad(("train", "--config", "conf"), "config file conf is a folder: name a TOML file", folder("conf")),
    # train: data
    Bad(("train", "--data", "image-folder", "--data-opt", "path=imgs"), "no images", folder("imgs")),
    # train: run folders
    Bad(("train", *RING, "--run-dir", "afile"), "afile is a file, not a run folder: pick another --run-dir", write("afile")),
    Bad(("train", *RING, "--run-dir", "afile/run"), "cannot create run folder afile/run", write("afile")),
    Bad(("train", *RING), "cannot create run folder runs/", unwritable_runs),
    Bad(("train", *RING, "--run-dir", "done"), "done already holds a run (checkpoint.safetensors): continue it with", trained("done")),
    # train --resume
    Bad(("train", "--resume", "empty"), "empty is not a gantool run (it has no config.toml)", folder("empty")),
    Bad(("train", "--resume", "r"), "r has no checkpoint.safetensors to resume from", trained("r", lambda r: (r / CHECKPOINT).unlink())),
    Bad(("train", "--resume", "afile"), "afile is not a run folder", write("afile")),
    Bad(("train", "--resume", "r", "--run-dir", "s"), "--resume continues a run in its own folder: leave out --run-dir", trained("r")),
    Bad(("train", "--resume", "r", "--steps", "5"), "run r is already at step 10: pass --steps larger than 10", trained("r")),
    Bad(("train", "--resume", "r", "--gen-opt", "hidden=8"), "does not fit the network it describes", trained("r")),
    Bad(("train", "--resume", "r"), "r/checkpoint.safetensors is", trained("r", truncate)),
    Bad(("train", "--resume", "r"), "r/config.toml: --steps must be a whole number", trained("r", config_says('steps = "ten"'))),
    # plugins that raise or break the contract
    Bad(("train", *RING, "--gen", "bad-exploding", "--disc", "mlp"), "could not be built: RuntimeError: boom in", broken_plugin),
    Bad(("train", *RING, "--gen", "bad-fixed", "--disc", "mlp"), "generator 'bad-fixed' returned shape (2, 3)", broken_plugin),
    Bad(("train", *RING, "--disc", "bad-narrow"), "discriminator 'bad-narrow' failed on 2 samples of shape (2,)", broken_plugin),
    Bad(("train", "--data", "bad-number"), "dataset 'bad-number' returned an object of type int, not data", broken_plugin),
    Bad(("train", *RING, "--loss", "bad-raising"), "raised ZeroDivisionError in discriminator_loss", broken_plugin, fails_mid_run=True),
    Bad(("train", *RING, "--loss", "bad-float"), "returned float from discriminator_loss", broken_plugin, fails_mid_run=True),
    # export, sample, info, plugins new (pickles handed to sample: tests/test_untrusted_files.py); eval: add its rows here
    Bad(("export", "runs/none"), "run runs/none does not exist: check the path"),
    Bad(("export",), "there is no run yet (runs/latest is missing): train one with 'gantool train'"),
    Bad(("export", "--opset", "3"), "--opset must be between 18 and"),
    Bad(("sample", "-n", "0"), "-n must be a whole number of at least 1, got 0"),
    Bad(("sample", "--batch-size", "0"), "--batch-size must be a whole number of at least 1"),
    Bad(("sample", "--runtime", "tensorflow"), "--runtime must be onnx or torch, got 'tensorflow'"),
    Bad(("sample", "--device", "tpu"), "--device must be auto, cpu, cuda or cuda:N, got 'tpu'"),
    Bad(
        ("sample", "--out", "x.jpg"), "--out x.jpg must end in .png (a picture), .npy (the raw array), or .gif or .webp (an animated walk)"
    ),
    Bad(("sample", "--model", "missing.onnx", "--device", "cpu"), "missing.onnx does not exist: export a run with 'gantool export'"),
    Bad(("sample", "--model", "G.onnx", "--device", "cpu"), "G.onnx is not an ONNX model onnxruntime can", write("G.onnx", b"\x08junk")),
    Bad(
        ("sample", "--runtime", "torch", "--model", "r"),
        "r/G_ema.safetensors is not a readable safetensors file",
        trained("r", truncate_file("G_ema.safetensors")),
    ),
    Bad(
        ("sample", "--runtime", "torch", "--model", "r", "--no-ema"),
        "r/G.safetensors is not a readable safetensors file",
        trained("r", truncate_file("G.safetensors")),
    ),
    # animated walks (gantool sample --out walk.gif), the web page (export --web) and its server (serve)
    Bad(("sample", "--model", "digits", "--interpolate", "4", "--out", "w.gif", "--fps", "0"), "--fps must be greater than 0, got 0"),
    Bad(("sample", "--model", "digits", "--interpolate", "4", "--out", "w.gif", "--fps", "-2"), "--fps must be greater than 0, got -2"),
    Bad(("sample", "--model", "digits", "--interpolate", "4", "--out", "w.gif", "--fps", "60"), "--fps must be at most 50"),
    Bad(("sample", "--model", "digits", "--interpolate", "4", "--out", "w.gif", "--frames", "4"), "--frames 4 is at most one leg"),
    Bad(("sample", "--model", "digits", "--out", "w.webp"), "--out w.webp is an animated latent walk: add --interpolate K"),
    Bad(("sample", "--model", "digits", "--fps", "10"), "--frames and --fps shape an animation: write --out FILE.gif"),
    Bad(("sample", "--model", "digits", "--label", "3:8"), "--label 3:8 walks between two classes, which only an animation shows"),
    Bad(
        ("sample", "--model", "digits", "--label", "3:x", "--interpolate", "4", "--out", "w.gif"), "--label x is not a class of this model"
    ),
    Bad(("sample", "--model", "digits", "--label", "3:", "--interpolate", "4", "--out", "w.gif"), "a walk between classes is A:B"),
    Bad(("sample", "--model", "ring", "--label", "1:2", "--interpolate", "4", "--out", "w.gif"), "--label needs a conditional model"),
    Bad(("export", "digits", "--web", "page"), "--web page exists and is not empty: name a new or empty folder", write("page/x")),
    Bad(("export", "digits", "--web", "page"), "--web page is a file: name a new folder", write("page")),
    Bad(("export", "digits", "--web", "page", "--ort", "."), "--ort . lacks ort.wasm.min.js"),
    Bad(("export", "--ort", "."), "--ort is where the --web page loads onnxruntime-web from: add --web DIR"),
    Bad(("serve", "empty"), "empty has no index.html: make a page with 'gantool export RUN --web empty'", folder("empty")),
    Bad(("serve", "page", "--port", "70000"), "--port must be a whole number from 0", write("page/index.html")),
    Bad(("info", "--bogus"), "No such option: --bogus (see 'gantool info --help')"),
    Bad(("plugins", "new", "Bad_Name"), "plugin name 'Bad_Name' is not allowed: use lowercase letters"),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    from rich.console import Console

    from gantool.training.config import build_config
    from gantool.training.run import train

    cfg = build_config({"data": "ring", "data_opt": {"n": 256}, "batch_size": 32, "device": "cpu", "steps": 10, "gen_opt": {"hidden": 16}})
    return train(cfg, run_dir=tmp_path_factory.mktemp("template") / "run", console=Console(quiet=True))


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every file and link under root, with its content: what a failing command must leave as it was."""
    found: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            key = str(path.relative_to(root))
            if path.is_symlink():
                found[key] = f"-> {os.readlink(path)}"
            elif path.is_file() and name != LOCK:
                found[key] = path.read_bytes()
            elif path.is_dir():
                found[key] = "<dir>"
    return found


@pytest.mark.parametrize("row", ROWS, ids=[" ".join(r.args) + (f" [{r.message[:30]}]" if r.setup else "") for r in ROWS])
def test_bad_input(tmp_path, template, row):
    env = (row.setup(tmp_path, template) if row.setup else None) or {}
    before = snapshot(tmp_path)
    proc = run_cli(*row.args, cwd=tmp_path, env={"OMP_NUM_THREADS": "1", **env})
    try:
        assert proc.returncode == 2, (proc.stdout, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
        assert row.message in lines[0]
        assert "Traceback" not in proc.stderr
        after = snapshot(tmp_path)
        if row.fails_mid_run:  # the run began: its folder holds settings and metrics, never weights
            made = {k for k in after.keys() - before.keys() if not k.startswith("runs")}
            assert not made and not any(k.endswith(".safetensors") for k in after), sorted(after)
        else:
            assert after == before, "a failing command changed files"
    finally:
        if (tmp_path / "runs").exists() and not (tmp_path / "runs").is_symlink():
            (tmp_path / "runs").chmod(0o755)


def test_the_table_covers_at_least_30_mistakes_across_commands():
    assert len(ROWS) >= 30
    assert {r.args[0] for r in ROWS} >= {"train", "plugins", "export", "sample", "serve", "info"}


def test_bare_gantool_answers_with_its_help_alone():
    proc = run_cli()
    assert proc.returncode == 2
    assert "Usage: gantool" in proc.stdout + proc.stderr and "train" in proc.stdout + proc.stderr
    assert "error" not in proc.stderr  # not the empty 'error:  (see ...)' line it printed before
