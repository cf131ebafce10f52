"""Runs that survive faults, tested with real processes, real signals and real files.

Exact resume through the CLI, Ctrl-C, SIGKILL at random moments, two writers on one
run folder, and a loss that diverges. The models are tiny and the data is the ring,
so each process spends its time starting up, not training.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gantool.core.errors import GantoolError
from gantool.store import tensors as ckpt
from gantool.store.layout import CHECKPOINT, LOCK
from gantool.store.lock import FolderLock
from gantool.store.runs import trim_metrics
from tests.conftest import GANTOOL, assert_same_run, make_distribution, run_cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

# Tiny models on a busy 2-core runner: more than one thread per process only contends.
ENV = {"OMP_NUM_THREADS": "1"}
RING = ("--data", "ring", "--data-opt", "n=256", "--batch-size", "32", "--device", "cpu")
TINY = (*RING, "--gen-opt", "hidden=16", "--disc-opt", "hidden=16")


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, env={**ENV, **(env or {})})


class Background:
    """A real process in the background; stderr goes to a file, so a full pipe can never stall it."""

    def __init__(self, *command: str, cwd: Path) -> None:
        self.log = cwd / f"stderr-{time.monotonic_ns()}.txt"
        env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **ENV}
        with self.log.open("wb") as fh:
            self.proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=fh)

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, condition: Callable[[], bool], timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.proc.poll() is None, f"exited with {self.proc.returncode} too early: {self.stderr()[-2000:]}"
            assert time.monotonic() < deadline, "timed out waiting for the process to make progress"
            time.sleep(0.02)


def start(*args: str, cwd: Path) -> Background:
    return Background(GANTOOL, *args, cwd=cwd)


def checkpoint_step(run: Path) -> int | None:
    try:
        return json.loads(ckpt.read_metadata(run / CHECKPOINT)["step"])
    except GantoolError:
        return None


def metric_steps(run: Path) -> list[int]:
    path = run / "metrics.jsonl"
    whole_lines = path.read_text().split("\n")[:-1] if path.exists() else []  # a row being written is not one yet
    return [json.loads(line)["step"] for line in whole_lines]


# --- Ctrl-C ---------------------------------------------------------------------------------------


def test_ctrl_c_saves_exits_130_and_the_run_resumes_exactly(tmp_path):
    base = ("train", *TINY, "--log-every", "1")  # default --ckpt-every 1000: only the interrupt saves here
    run = tmp_path / "r"
    bg = start(*base, "--steps", "100000", "--run-dir", "r", cwd=tmp_path)
    bg.wait_for(lambda: len(metric_steps(run)) >= 5)
    bg.proc.send_signal(signal.SIGINT)
    assert bg.proc.wait(timeout=120) == 130, bg.stderr()
    step = checkpoint_step(run)
    assert step is not None and step >= 5
    assert f"interrupted: saved step {step} in r; continue with: gantool train --resume r" in bg.stderr()
    assert metric_steps(run) == list(range(1, step + 1))
    assert json.loads(ckpt.read_metadata(run / "G.safetensors")["step"]) == step

    resumed = cli("train", "--resume", "r", "--steps", str(step + 10), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert cli(*base, "--steps", str(step + 10), "--run-dir", "straight", cwd=tmp_path).returncode == 0
    assert_same_run(tmp_path / "straight", run)


# --- SIGKILL --------------------------------------------------------------------------------------

WRITER = """
import hashlib, sys
from gantool.store.tensors import atomic_write

i = 0
while True:  # self-checking payloads: sha256 of the body, then 2 MiB of one byte value
    body = bytes([i % 251]) * (2 << 20)
    atomic_write(sys.argv[1], hashlib.sha256(body).digest() + body)
    i += 1
"""


@pytest.mark.slow  # kill -9 of real writers, 30 times
def test_atomic_write_killed_at_random_moments_leaves_the_old_file_or_the_new(tmp_path):
    target, rng, torn_writes = tmp_path / "file.bin", random.Random(), 0
    for _ in range(30):
        before = target.stat().st_mtime_ns if target.exists() else None
        bg = Background(sys.executable, "-c", WRITER, str(target), cwd=tmp_path)
        bg.wait_for(lambda b=before: target.exists() and target.stat().st_mtime_ns != b, timeout=60)
        time.sleep(rng.uniform(0, 0.05))
        bg.proc.kill()
        bg.proc.wait()
        data = target.read_bytes()
        assert len(data) == 32 + (2 << 20) and hashlib.sha256(data[32:]).digest() == data[:32], "a torn file"
        leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".file.bin.")]
        torn_writes += bool(leftovers)
        for path in leftovers:
            path.unlink()
    assert torn_writes, "no kill landed mid-write: the test proved nothing"  # the writer spends most of its time there


@pytest.mark.slow  # kill -9 of real training processes
def test_sigkill_at_random_moments_never_leaves_an_unreadable_checkpoint(tmp_path):
    """Kill a run many times, resuming it each time (the lock of a killed run never blocks); every
    checkpoint left behind loads, and the run that finally completes equals one that was never killed."""
    run, rng, steps = tmp_path / "r", random.Random(), 0
    args = ("train", *TINY, "--ckpt-every", "1", "--log-every", "1", "--steps", "100000", "--run-dir", "r")
    for life in range(7):
        bg = start(*(args if life == 0 else ("train", "--resume", "r")), cwd=tmp_path)
        bg.wait_for(lambda s=steps: (checkpoint_step(run) or 0) > s)  # this life has saved at least once
        time.sleep(rng.uniform(0, 0.3))
        bg.proc.kill()
        assert bg.proc.wait() == -signal.SIGKILL, bg.stderr()
        tensors, meta = ckpt.load_tensors(run / CHECKPOINT)  # the newest checkpoint is whole
        assert json.loads(meta["step"]) > steps and all(t.isfinite().all() for t in tensors.values() if t.is_floating_point())
        steps = json.loads(meta["step"])
        ckpt.load_tensors(run / "G.safetensors")
        ckpt.load_tensors(run / "D.safetensors")
    assert (run / LOCK).exists()  # the lock file stays: the OS lock died with its process
    final = cli("train", "--resume", "r", "--steps", str(steps + 5), cwd=tmp_path)
    assert final.returncode == 0, final.stderr
    assert not [p.name for p in run.iterdir() if p.name.endswith(ckpt.TEMP_SUFFIX)]  # killed writers' temp files are gone
    assert metric_steps(run) == list(range(1, steps + 6))  # every step logged exactly once
    assert cli("train", *TINY, "--ckpt-every", "1", "--steps", str(steps + 5), "--run-dir", "straight", cwd=tmp_path).returncode == 0
    assert_same_run(tmp_path / "straight", run)


# --- one writer per run folder --------------------------------------------------------------------


def test_a_second_writer_is_refused(tmp_path):
    """Two real processes on one run folder; that a killed writer's lock never blocks is shown by the SIGKILL test."""
    run = tmp_path / "r"
    first = start("train", *TINY, "--ckpt-every", "1", "--steps", "100000", "--run-dir", "r", cwd=tmp_path)
    first.wait_for(lambda: checkpoint_step(run) is not None)
    for args, advice in ((("--resume", "r"), "wait for it to finish"), ((*TINY, "--run-dir", "r"), "pick another --run-dir")):
        proc = cli("train", *args, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert lines[0].startswith(f"error: r is being written by another gantool process (pid {first.proc.pid}): ")
        assert advice in lines[0]
    assert first.proc.poll() is None  # the refused processes left the writer alone
    first.proc.kill()
    first.proc.wait()


def test_the_lock_is_per_open_file_and_released_however_train_ends(tmp_path):
    from gantool.training.config import build_config, resolve_config
    from gantool.training.run import train

    busy = rf"being written by another gantool process \(pid {os.getpid()}\): pick another"
    with FolderLock(tmp_path, "pick another"), pytest.raises(GantoolError, match=busy):
        FolderLock(tmp_path, "pick another")
    FolderLock(tmp_path, "free again").release()

    settings = {"data": "ring", "data_opt": {"n": 256}, "batch_size": 32, "device": "cpu", "steps": 3, "gen_opt": {"hidden": 8}}
    run = train(build_config(settings), run_dir=tmp_path / "run")
    with pytest.raises(GantoolError, match="already at step 3"):  # fails after claiming the folder
        train(resolve_config(resume=run), resume=run)
    with FolderLock(run, "x"), pytest.raises(GantoolError, match="being written by another gantool process"):  # ... and released it
        train(resolve_config({"steps": 5}, resume=run), resume=run)
    with pytest.raises(GantoolError, match="already holds a run"):
        train(build_config(settings), run_dir=run)


def test_resuming_runs_latest_keeps_it_pointing_at_the_run(tmp_path, monkeypatch):
    """The README's `gantool train --resume runs/latest` once turned runs/latest into a link to itself."""
    from gantool.store.runs import LATEST, resolve_run
    from gantool.training.config import build_config, resolve_config
    from gantool.training.run import train

    monkeypatch.chdir(tmp_path)
    settings = {"data": "ring", "data_opt": {"n": 256}, "batch_size": 32, "device": "cpu", "steps": 2, "gen_opt": {"hidden": 8}}
    run = train(build_config(settings))
    for steps in (4, 6):
        latest = resolve_run("runs/latest")
        train(resolve_config({"steps": steps}, resume=latest), resume=latest)
        assert LATEST.resolve() == run.resolve()
    assert metric_steps(run) == list(range(1, 7))


def test_trim_metrics_drops_rows_past_the_checkpoint_and_a_torn_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps({"step": s, "d_loss": 0.5}) + "\n" for s in range(1, 8)) + '{"step": 8, "d_lo')
    trim_metrics(path, 5)
    assert [json.loads(line)["step"] for line in path.read_text().splitlines()] == [1, 2, 3, 4, 5]
    before = path.stat().st_mtime_ns
    trim_metrics(path, 5)
    assert path.stat().st_mtime_ns == before  # nothing to drop: the file is not rewritten


# --- a diverging loss -----------------------------------------------------------------------------

NAN_LOSS = """
from gantool import hookimpl
from gantool.plugins.builtin.losses import NonSaturating


class NanAfter(NonSaturating):
    '''The non-saturating loss for `after` generator steps, then NaN (mode=loss), or a finite
    value whose gradient is infinite (mode=grad), which turns G's weights to NaN.'''

    def __init__(self, after=5, mode="loss"):
        super().__init__()
        self.after, self.mode, self.calls = after, mode, 0

    def generator_loss(self, D, real, fake):
        import torch

        self.calls += 1
        loss = super().generator_loss(D, real, fake)
        if self.calls <= self.after:
            return loss
        if self.mode == "loss":
            return loss * float("nan")
        return loss + torch.sqrt(loss - loss.detach())  # sqrt(0) = 0, its derivative is infinite


@hookimpl
def register_losses(register):
    register("nan-after", NanAfter)
"""


@pytest.mark.parametrize(
    "mode,what", [("loss", "(D) / nan (G)"), ("grad", "became NaN or infinite")], ids=["nan-loss", "finite-loss-nan-weights"]
)
def test_a_diverging_run_stops_and_keeps_the_last_good_checkpoint(tmp_path, site, site_env, mode, what):
    make_distribution(site, "gantool-nanloss", "nanloss", NAN_LOSS)
    args = ("train", *TINY, "--loss", "nan-after", "--loss-opt", "after=5", "--loss-opt", f"mode={mode}")
    proc = cli(*args, "--ckpt-every", "1", "--log-every", "100", "--steps", "50", "--run-dir", "r", cwd=tmp_path, env=site_env)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr  # the error alone: the progress bar is cleared
    assert what in lines[0] and "at step 6;" in lines[0], lines[0]
    assert "the checkpoint of step 5 is kept: resume with a lower learning rate (gantool train --resume r --lr ...)" in lines[0]
    run = tmp_path / "r"
    assert checkpoint_step(run) == 5
    for name in (CHECKPOINT, "G.safetensors", "D.safetensors"):
        tensors, meta = ckpt.load_tensors(run / name)
        assert json.loads(meta["step"]) == 5
        assert all(t.isfinite().all() for t in tensors.values() if t.is_floating_point()), name
    if mode == "loss":  # the advice works: the resumed run takes the new learning rate
        proc = cli("train", "--resume", "r", "--lr", "1e-4", "--steps", "8", cwd=tmp_path, env=site_env)
        assert proc.returncode == 0, proc.stderr
        groups = json.loads(ckpt.read_metadata(run / CHECKPOINT)["opt_g"])["param_groups"]
        assert [g["lr"] for g in groups] == [1e-4]
