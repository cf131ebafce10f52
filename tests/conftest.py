"""Shared helpers: the real ``gantool`` executable, real files, real plugin distributions."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
GANTOOL = str(BIN / "gantool")


def _shared_mnist() -> Path:
    """Real MNIST for tests: $GANTOOL_TEST_MNIST, else the workplace's ../shared/data beside the clone."""
    if os.environ.get("GANTOOL_TEST_MNIST"):
        return Path(os.environ["GANTOOL_TEST_MNIST"])
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "shared" / "data"
        if (candidate / "MNIST" / "raw").is_dir():
            return candidate
    return here.parents[2] / "shared" / "data"


SHARED_MNIST = _shared_mnist()


def spawn_cli(
    *args: str, cwd: Path | str | None = None, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script in a real process, as a user would: for what only a process shows
    (its imports, signals, exit on a crash, a fresh interpreter's plugin discovery)."""
    return subprocess.run([GANTOOL, *args], cwd=cwd, env=process_env(env), capture_output=True, text=True, timeout=timeout)


def process_env(env: dict[str, str] | None) -> dict[str, str]:
    """The environment of a process a test starts: this one's, a 200-column colourless terminal, then the test's
    own variables, a PYTHONPATH among them kept before the caller's."""
    full_env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    if env and "PYTHONPATH" in env and os.environ.get("PYTHONPATH"):
        full_env["PYTHONPATH"] = env["PYTHONPATH"] + os.pathsep + os.environ["PYTHONPATH"]
    return full_env


def run_cli(
    *args: str, cwd: Path | str | None = None, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run ``gantool ARGS`` in this process through the console script's own entry function (``cli.app.main``),
    with its output captured and its exit code returned as a process would give them, but without a second's
    interpreter start and torch import each time. ``env`` is set for the call; a ``PYTHONPATH`` in it is put
    first on sys.path and the plugin registry rebuilt, so installed test distributions are found as in a process."""
    del timeout  # the in-process call has none; spawn_cli's signature, so a test can switch between the two
    from gantool.cli import console
    from gantool.cli.app import main
    from gantool.plugins import registry

    env = dict(env or {})
    extra_path = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if extra_path and os.environ.get("PYTHONPATH"):  # processes it starts (--nproc) see the caller's path after the test's own
        env["PYTHONPATH"] += os.pathsep + os.environ["PYTHONPATH"]
    saved_env = {key: os.environ.get(key) for key in env}
    saved_cwd, saved_path, saved_modules = Path.cwd(), list(sys.path), set(sys.modules)
    saved_widths = {c: c._width for c in (console.out, console.err)}
    stdout, stderr = io.StringIO(), io.StringIO()
    os.environ.update(env)
    if "COLUMNS" in env:
        for c in saved_widths:
            c.width = int(env["COLUMNS"])
    sys.path[:0] = extra_path
    registry._registry = None
    code = 0
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except Exception:  # what the interpreter does with an uncaught exception: the traceback, exit code 1
                traceback.print_exc()
                code = 1
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        for c, width in saved_widths.items():
            c._width = width
        if extra_path:  # forget the test distributions' modules and the registry that holds them
            for name in set(sys.modules) - saved_modules:
                module_file = getattr(sys.modules[name], "__file__", None) or ""
                if any(module_file.startswith(p) for p in extra_path):
                    del sys.modules[name]
            registry._registry = None
    return subprocess.CompletedProcess(["gantool", *args], code, stdout.getvalue(), stderr.getvalue())


def make_distribution(site: Path, name: str, module: str, source: str, version: str = "1.0", ep_name: str | None = None) -> None:
    """Write a real installed distribution (dist-info with an entry point) into ``site``.

    importlib.metadata finds it on PYTHONPATH exactly as it finds a pip-installed
    package; nothing about entry-point discovery is faked.
    """
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[gantool]\n{ep_name or module} = {module}\n")


def by_tier(fast: int, full: int) -> int:
    """How many examples a hypothesis test draws: a fixed few in the fast tier (derandomized), many random ones
    with ``--full`` (the profiles are in the root conftest.py)."""
    from hypothesis import settings

    return full if settings.get_current_profile_name() == "full" else fast


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return tmp_path / "site"


@pytest.fixture
def site_env(site: Path) -> dict[str, str]:
    return {"PYTHONPATH": str(site)}


@pytest.fixture
def mnist_root() -> Path:
    if not (SHARED_MNIST / "MNIST" / "raw" / "train-images-idx3-ubyte").exists():
        pytest.skip("real MNIST is not in ../shared/data on this machine")
    return SHARED_MNIST


class Exported:
    """A trained run with its ONNX export, inside ``home`` (a working directory whose runs/latest points at it)."""

    def __init__(self, home: Path, settings: dict) -> None:
        from gantool.inference.export import export_onnx
        from gantool.training.config import build_config
        from gantool.training.run import train

        self.home = home
        # ema 0: the tests that share these runs hold the export to the raw G.safetensors
        settings = {"device": "cpu", "log_every": 10, "sample_every": settings["steps"], "ema": 0, **settings}
        self.run = train(build_config(settings), run_dir=home / "runs" / "first")
        (home / "runs" / "latest").symlink_to("first", target_is_directory=True)
        self.report = export_onnx(self.run)
        self.onnx = self.run / "G.onnx"


@pytest.fixture(scope="session")
def ring_export(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """2-D points from a uniform prior of 8 dimensions (seed 004's prior, a small MLP)."""
    settings = {"data": "ring", "data_opt": {"n": 2000}, "gen": "mlp-small", "latent": "uniform", "latent_dim": 8, "steps": 20}
    return Exported(tmp_path_factory.mktemp("ring"), {**settings, "batch_size": 32})


@pytest.fixture(scope="session")
def digits_export(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """28x28 digits from the normal prior through the deep MLP, whose BatchNorm and dropout must export in inference mode."""
    settings = {"data": "digits", "gen": "mlp-deep", "latent_dim": 64, "steps": 3, "batch_size": 16}
    return Exported(tmp_path_factory.mktemp("digits"), settings)


def assert_same_run(a: Path, b: Path, metrics: bool = True) -> None:
    """Bit-identical checkpoints (networks, optimizers, RNG and data order), weights and (unless told) per-step metrics."""
    import torch

    from gantool.store import tensors as ckpt
    from gantool.store.layout import CHECKPOINT

    for name in (CHECKPOINT, "G.safetensors", "D.safetensors", "G_ema.safetensors"):
        assert (a / name).is_file() == (b / name).is_file(), name
        if not (a / name).is_file():
            continue
        ta, _ = ckpt.load_tensors(a / name)
        tb, _ = ckpt.load_tensors(b / name)
        assert ta.keys() == tb.keys(), name
        for key in ta:
            assert torch.equal(ta[key], tb[key]), f"{name}: {key} differs"
    if metrics:
        assert (a / "metrics.jsonl").read_text() == (b / "metrics.jsonl").read_text()
