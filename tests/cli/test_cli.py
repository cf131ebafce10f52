"""The CLI through its entry function, and a few smoke tests through the real console script in real processes:
what only a process shows (its imports, its exit code, plugin discovery in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import run_cli, spawn_cli


def imported_modules(*args: str) -> str:
    """What ``python -X importtime -m gantool ARGS`` imported (stderr lists every module)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "gantool", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stderr


@pytest.mark.parametrize("args", [("--help",), ("plugins",), ("train", "--help")])
def test_fast_commands_never_import_torch(args):
    modules = {line.rsplit("|", 1)[-1].strip() for line in imported_modules(*args).splitlines() if "|" in line}
    assert "torch" not in modules
    assert "gantool.cli.app" in modules


def test_version():
    proc = spawn_cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("gantool ")


def test_plugins_lists_builtins_and_the_installed_test_plugin():
    proc = spawn_cli("plugins")
    assert proc.returncode == 0, proc.stderr
    for text in (
        "gantool.plugins.builtin.models",
        "gantool.plugins.builtin.losses",
        "gantool.plugins.builtin.datasets",
        "built-in",
        "mlp-deep",
        "nonsat",
        "digits",
        "gantool-testplugin",
        "0.3.1",
        "test-linear",
    ):
        assert text in proc.stdout


def test_train_end_to_end(tmp_path):
    proc = run_cli(
        "train", "--data", "ring", "--data-opt", "n=1000", "--steps", "40", "--batch-size", "50", "--log-every", "20", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    latest = tmp_path / "runs" / "latest"
    assert latest.is_symlink() and (latest / "G.safetensors").is_file()
    assert "trained 40 steps" in proc.stderr
    # a second run moves runs/latest
    proc = run_cli("train", "--data", "ring", "--data-opt", "n=1000", "--steps", "10", "--batch-size", "50", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len([p for p in (tmp_path / "runs").iterdir() if not p.is_symlink()]) == 2
    assert "steps = 10" in (latest / "config.toml").read_text()


def test_config_file_and_flags(tmp_path):
    (tmp_path / "c.toml").write_text('data = "ring"\nsteps = 15\nbatch-size = 20\n[data_opt]\nn = 500\n')
    proc = run_cli("train", "--config", "c.toml", "--steps", "12", "--run-dir", "r", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    config = (tmp_path / "r" / "config.toml").read_text()
    assert "steps = 12" in config and "batch_size = 20" in config and 'data = "ring"' in config


def test_resume_from_the_cli(tmp_path):
    args = ("--data", "ring", "--data-opt", "n=500", "--batch-size", "20")
    assert run_cli("train", *args, "--steps", "10", "--run-dir", "r", cwd=tmp_path).returncode == 0
    proc = run_cli("train", "--resume", "r", "--steps", "20", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len((tmp_path / "r" / "metrics.jsonl").read_text().splitlines()) == 20


BAD = [
    (("train", "--gen", "nope"), "unknown generator 'nope'; choose one of:"),
    (("train", "--loss", "nope"), "unknown loss 'nope'"),
    (("train", "--data", "nope"), "unknown dataset 'nope'"),
    (("train", "--gen-opt", "width=3"), "does not accept option width; it takes: hidden"),
    (("train", "--gen-opt", "hidden"), "--gen-opt expects KEY=VALUE"),
    (("train", "--gen-opt", "hidden=-3"), "hidden must be a positive integer"),
    (("train", "--data", "digits", "--conditional", "--gen-opt", "num_classes=3"), "num_classes is not an option of --gen-opt"),
    (("train", "--disc-opt", "num_classes=3"), "num_classes is not an option of --disc-opt: --conditional sets it"),
    (("train", "--steps", "0"), "--steps must be greater than 0"),
    (("train", "--batch-size", "-5"), "--batch-size must be greater than 0"),
    (("train", "--lr", "nan"), "--lr must be greater than 0"),
    (("train", "--beta1", "1.5"), "--beta1 must be in [0, 1)"),
    (("train", "--latent", "cauchy"), "--latent must be normal or uniform"),
    (("train", "--device", "tpu"), "--device must be auto, cpu, cuda or cuda:N, got 'tpu'"),
    (("train", "--steps", "ten"), "Invalid value for '--steps'"),
    (("train", "--config", "missing.toml"), "config file missing.toml does not exist"),
    (("train", "--resume", "runs/none"), "run runs/none does not exist"),
    (("train", "--steps", "5", "--epochs", "1"), "give --steps or --epochs, not both"),
    (("train", "--data", "ring", "--batch-size", "200000"), "larger than the dataset"),
    (("train", "--data", "image-folder", "--data-opt", "path=nowhere"), "image folder nowhere does not exist"),
    (("train", "--bogus"), "No such option"),
    (("frobnicate",), "No such command"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "runs").exists()  # nothing half-made is left behind


def test_the_console_script_turns_a_mistake_into_one_line_and_exit_2(tmp_path):
    proc = spawn_cli("train", "--gen", "nope", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith("error: unknown generator 'nope'") and not (tmp_path / "runs").exists()


def test_bad_config_file(tmp_path):
    (tmp_path / "bad.toml").write_text("steps = = 3")
    proc = run_cli("train", "--config", "bad.toml", cwd=tmp_path)
    assert proc.returncode == 2 and "is not valid TOML" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_debug_shows_the_traceback(tmp_path):
    proc = run_cli("--debug", "train", "--gen", "nope", cwd=tmp_path)
    assert proc.returncode != 0 and "Traceback" in proc.stderr
