"""Distributed training with real processes: torchrun and ``gantool train --nproc`` on gloo, two ranks on the CPU.

The runs are small (a 2-D ring, MLPs of 32 units, a few steps) so the file costs about a
minute on two cores; everything that crosses a process boundary is the real thing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gantool.core.errors import GantoolError, RankFailedError
from gantool.store import tensors as ckpt
from gantool.store.layout import CHECKPOINT
from gantool.training.distributed import shard
from gantool.training.launch import first_failure, note_failure, worker_argv
from gantool.training.ranks import Ranks, SeedOffset, rank_seed
from tests.conftest import make_distribution, process_env, spawn_cli

WORKER = str(Path(__file__).with_name("distributed_worker.py"))
ONE_THREAD = {"OMP_NUM_THREADS": "1"}  # two ranks on two cores: one thread each

# A plugin that keeps what the registry builds (so each rank's networks can be compared after
# train() returns) and records each loss it computes; and a loss that fails on rank 1.
OBSERVED = """
import functools
import os

from gantool import hookimpl
from gantool.plugins.builtin.losses import NonSaturating
from gantool.plugins.builtin.models import mlp_discriminator, mlp_generator

MADE = {}
LOSSES = []


def keep(kind, factory):
    @functools.wraps(factory)  # gantool checks options against the factory's signature
    def make(*args, **options):
        MADE[kind] = module = factory(*args, **options)
        return module

    return make


class Recorded(NonSaturating):
    def discriminator_loss(self, D, real, fake):
        value = super().discriminator_loss(D, real, fake)
        LOSSES.append(["d", value.item()])
        LOSSES.append(["real", real[:, 0].mul(100).round().int().tolist()])  # which samples (see Points)
        return value

    def generator_loss(self, D, real, fake):
        value = super().generator_loss(D, real, fake)
        LOSSES.append(["g", value.item()])
        return value


def flaky_generator(latent_dim, data_shape, hidden=256):
    # an ordinary generator that raises in its 5th training forward pass (step 3) on rank 1
    net, calls = mlp_generator(latent_dim, data_shape, hidden), []

    def fail(module, args):
        if module.training and os.environ.get("RANK") == "1":
            calls.append(1)
            if len(calls) == 5:
                raise RuntimeError("rank 1 gave up at step 3")

    net.register_forward_pre_hook(fail)
    return net


class FailsOnRank1(NonSaturating):
    calls = 0

    def generator_loss(self, D, real, fake):
        self.calls += 1
        if os.environ.get("RANK") == "1" and self.calls == 3:
            raise RuntimeError("rank 1 gave up at step 3")
        return super().generator_loss(D, real, fake)


class Points:
    # a map-style dataset (so streamed through a DataLoader): sample i is the point (i / 100, 0)

    def __init__(self, n=100):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        import torch

        return torch.tensor([i / 100, 0.0])


@hookimpl
def register_datasets(register):
    register("points", Points)


@hookimpl
def register_generators(register):
    register("observed", keep("generator", mlp_generator))
    register("flaky", flaky_generator)


@hookimpl
def register_discriminators(register):
    register("observed", keep("discriminator", mlp_discriminator))
    register("flaky", mlp_discriminator)


@hookimpl
def register_losses(register):
    register("recorded", Recorded)
    register("fails-on-rank-1", FailsOnRank1)
"""

SETTINGS = {
    "gen": "observed",
    "gen_opt": {"hidden": 32},
    "disc_opt": {"hidden": 32},
    "loss": "recorded",
    "data": "ring",
    "data_opt": {"n": 1000},
    "batch_size": 25,
    "log_every": 3,
    "ckpt_every": 4,
    "sample_every": 4,
    "ema": 0.9,
    "device": "cpu",
}
FLAGS = [
    *("--gen", "observed", "--gen-opt", "hidden=32", "--disc-opt", "hidden=32", "--loss", "recorded"),
    *("--data", "ring", "--data-opt", "n=1000", "--batch-size", "25", "--log-every", "3", "--ckpt-every", "4", "--sample-every", "4"),
    *("--ema", "0.9", "--device", "cpu"),
]


def torchrun(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real torchrun (python -m torch.distributed.run), two processes, a rendezvous on a free local port."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", *args]
    return subprocess.run(command, cwd=cwd, env=process_env({**ONE_THREAD, **env}), capture_output=True, text=True, timeout=300)


def weights(path: Path) -> dict[str, torch.Tensor]:
    return ckpt.load_tensors(path)[0]


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    site = tmp_path_factory.mktemp("site")
    make_distribution(site, "gantool-observed", "observed", OBSERVED)
    return {"PYTHONPATH": str(site)}


@pytest.fixture(scope="module")
def straight(tmp_path_factory: pytest.TempPathFactory, plugin_env: dict[str, str]) -> Path:
    """Eight steps on two ranks through train() itself; each rank leaves its networks and losses in the folder."""
    home = tmp_path_factory.mktemp("straight")
    proc = torchrun(WORKER, "train", str(home), json.dumps({**SETTINGS, "steps": 8}), str(home / "run"), cwd=home, env=plugin_env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return home


@pytest.fixture(scope="module")
def resumed(tmp_path_factory: pytest.TempPathFactory, plugin_env: dict[str, str]) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Four steps with `gantool train --nproc 2`, then four more with `torchrun -m gantool train --resume`."""
    home = tmp_path_factory.mktemp("resumed")
    first = spawn_cli("train", *FLAGS, "--steps", "4", "--nproc", "2", "--run-dir", "run", cwd=home, env={**plugin_env, **ONE_THREAD})
    assert first.returncode == 0, first.stderr[-4000:]
    second = torchrun("-m", "gantool", "train", "--resume", "run", "--steps", "8", cwd=home, env=plugin_env)
    assert second.returncode == 0, second.stderr[-4000:]
    return home / "run", first


@pytest.mark.slow  # torchrun: two real processes on gloo
def test_ddp_gradients_are_the_mean_of_every_ranks_gradients(tmp_path):
    """Every loss, the gradient penalties included: two forwards of D before one backward, and G's step through frozen D."""
    proc = torchrun(WORKER, "grads", str(tmp_path), cwd=tmp_path, env={"PYTHONPATH": str(Path(__file__).parents[2])})
    assert proc.returncode == 0, proc.stderr[-4000:]
    for rank in (0, 1):
        report = json.loads((tmp_path / f"grads-rank{rank}.json").read_text())
        assert set(report) == {"nonsat", "minimax", "lsgan", "wgan-gp", "r1", "hinge", "rsgan"}
        for name, rows in report.items():
            for row in rows:
                assert row["max_error"] <= 1e-5 * max(1.0, row["scale"]), (name, rank, row)
                assert row["own_differs_by"] > 1e-3, (name, rank, row)  # the mean is not what this rank alone computed


@pytest.mark.slow  # torchrun: two real processes on gloo
def test_every_rank_ends_with_the_same_weights(straight):
    for name in ("G", "D"):
        rank0, rank1 = weights(straight / f"rank0-{name}.safetensors"), weights(straight / f"rank1-{name}.safetensors")
        saved = weights(straight / "run" / f"{name}.safetensors")
        assert rank0.keys() == rank1.keys() == saved.keys()
        for key in rank0:
            assert torch.equal(rank0[key], rank1[key]), f"{name}.{key}"
            assert torch.equal(rank0[key], saved[key]), f"{name}.{key}"


@pytest.mark.slow  # torchrun and torch.compile
def test_compiled_ddp_in_bfloat16_keeps_the_ranks_in_step(tmp_path, plugin_env):
    """--compile compiles the DDP wrappers whole (DDP's graph breaks at its buckets); --amp bf16 autocasts inside them."""
    settings = json.dumps({**SETTINGS, "compile": True, "amp": "bf16", "steps": 4})
    proc = torchrun(WORKER, "train", str(tmp_path), settings, str(tmp_path / "run"), cwd=tmp_path, env=plugin_env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    for name in ("G", "D"):
        rank0, rank1 = weights(tmp_path / f"rank0-{name}.safetensors"), weights(tmp_path / f"rank1-{name}.safetensors")
        saved = weights(tmp_path / "run" / f"{name}.safetensors")
        assert rank0.keys() == rank1.keys() == saved.keys()  # plain names: no "_orig_mod." or "module." prefixes
        for key in rank0:
            assert rank0[key].dtype == torch.float32
            assert torch.equal(rank0[key], rank1[key]) and torch.equal(rank0[key], saved[key]), f"{name}.{key}"


@pytest.mark.slow  # torchrun: two real processes on gloo
def test_reused_fakes_keep_the_ranks_in_step(tmp_path, plugin_env):
    """--reuse-fakes: G's DDP wrapper runs forward in D's step and backward in G's step, and the ranks still agree."""
    settings = json.dumps({**SETTINGS, "reuse_fakes": True, "steps": 4})
    proc = torchrun(WORKER, "train", str(tmp_path), settings, str(tmp_path / "run"), cwd=tmp_path, env=plugin_env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    for name in ("G", "D"):
        rank0, rank1 = weights(tmp_path / f"rank0-{name}.safetensors"), weights(tmp_path / f"rank1-{name}.safetensors")
        assert all(torch.equal(rank0[key], rank1[key]) for key in rank0), name


@pytest.mark.slow  # torchrun: two real processes on gloo
def test_metrics_are_the_mean_over_ranks_and_ranks_see_different_data(straight):
    losses = [json.loads((straight / f"losses-rank{r}.json").read_text()) for r in (0, 1)]
    d = [[v for kind, v in rows if kind == "d"] for rows in losses]
    g = [[v for kind, v in rows if kind == "g"] for rows in losses]
    rows = [json.loads(line) for line in (straight / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 9))  # one row a step, written once
    for step, row in enumerate(rows):
        assert row["d_loss"] == pytest.approx((d[0][step] + d[1][step]) / 2, rel=1e-5)
        assert row["g_loss"] == pytest.approx((g[0][step] + g[1][step]) / 2, rel=1e-5)
    # different shards and latents, so different losses (the mean would match trivially otherwise)
    assert all(a != b for a, b in zip(d[0] + g[0], d[1] + g[1])) and max(abs(a - b) for a, b in zip(d[0], d[1])) > 1e-3


@pytest.mark.slow  # torchrun: two real processes on gloo
def test_the_checkpoint_holds_every_ranks_state(straight):
    tensors, meta = ckpt.load_tensors(straight / "run" / CHECKPOINT)
    assert json.loads(meta["world_size"]) == 2 and json.loads(meta["step"]) == 8
    for name in ("rng.torch", "rng.data", "rng.latent", "data.perm"):
        assert name in tensors and f"rank1.{name}" in tensors
        assert not torch.equal(tensors[name], tensors[f"rank1.{name}"]), name
    for name in ("data.perm", "rank1.data.perm"):  # each rank shuffles its own 500 samples
        assert torch.equal(tensors[name].sort().values, torch.arange(500))
    assert not any(key.startswith("rank0.") or key.startswith("rank2.") for key in tensors)
    assert len(list((straight / "run" / "samples").glob("step_*.png"))) == 2
    files = sorted(p.name for p in (straight / "run").iterdir())  # one checkpoint, no per-rank files, no leftovers
    written = [
        "D.safetensors",
        "G.safetensors",
        "G_ema.safetensors",
        "checkpoint.safetensors",
        "config.toml",
        "metrics.jsonl",
        "samples",
        "samples.png",
    ]
    assert files == [".gantool.store.lock", *written]


@pytest.mark.slow  # torchrun and --nproc 2: real processes
def test_resume_continues_a_distributed_run_exactly(straight, resumed):
    """4 steps with --nproc 2 and 4 more with torchrun end where 8 straight steps through train() do: the same run."""
    run, first = resumed
    for name in ("G", "D", "G_ema"):
        a, b = weights(straight / "run" / f"{name}.safetensors"), weights(run / f"{name}.safetensors")
        for key in a:
            assert torch.equal(a[key], b[key]), f"{name}.{key}"
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()] == list(range(1, 9))
    assert first.stderr.count("trained 4 steps in 2 processes") == 1  # rank 0 alone talks


@pytest.mark.slow  # torchrun and --nproc 2: real processes
def test_resuming_with_another_world_size_is_a_one_line_error(resumed, plugin_env):
    run, _ = resumed
    proc = spawn_cli("train", "--resume", str(run), "--steps", "12", env=plugin_env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "written by a run on 2 process(es)" in lines[0] and "--nproc 2" in lines[0], proc.stderr


@pytest.mark.slow  # --nproc 2: real processes
@pytest.mark.parametrize(
    ("flags", "code", "message"),
    [
        (("--gen", "flaky"), 1, "error: rank 1 failed (RuntimeError: rank 1 gave up at step 3); every process of the run was stopped"),
        (
            ("--loss", "fails-on-rank-1"),
            2,  # gantool holds loss plugins to their contract: what one raises is reported as the plugin's error
            "error: loss 'fails-on-rank-1' (from gantool-observed) raised RuntimeError in generator_loss: rank 1 gave up at step 3; "
            "report it to the plugin's authors ('gantool --debug' shows the traceback)",
        ),
    ],
    ids=["a-crash", "a-plugin-error"],
)
def test_a_failing_rank_stops_the_whole_job_with_its_error(tmp_path, plugin_env, flags, code, message):
    """Rank 1 fails at step 3 while rank 0 waits for it in an all-reduce: the job ends at once, with rank 1's error."""
    started = time.monotonic()
    proc = spawn_cli("train", *FLAGS, *flags, "--steps", "200", "--nproc", "2", cwd=tmp_path, env={**plugin_env, **ONE_THREAD})
    assert time.monotonic() - started < 120  # rank 0 was stopped, not left hanging
    assert proc.returncode == code, proc.stderr[-4000:]
    assert proc.stderr.strip().splitlines()[-1] == message, proc.stderr
    if code == 1:
        assert "Traceback" in proc.stderr  # the failing rank's own traceback, above
    else:
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "trained" not in proc.stderr


@pytest.mark.slow  # --nproc 2: real processes
@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--data-opt", "n=40", "--batch-size", "25"), "2 processes share the 40 samples, 20 each, fewer than a batch of 25"),
        (("--gen", "mlp-bn", "--sync-bn"), "--sync-bn needs CUDA GPUs"),
    ],
    ids=["shard-smaller-than-a-batch", "sync-bn-on-cpu"],
)
def test_bad_input_found_on_every_rank_is_one_line_and_exit_2(tmp_path, flags, message):
    base = ("--data", "ring", "--data-opt", "n=1000", "--steps", "3", "--device", "cpu", "--nproc", "2")
    proc = spawn_cli("train", *base, *flags, cwd=tmp_path, env=ONE_THREAD)
    assert proc.returncode == 2, proc.stderr[-4000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr


@pytest.mark.slow  # torchrun: two real processes on gloo
def test_a_streamed_dataset_is_split_between_ranks(tmp_path, plugin_env):
    """A dataset that is not a tensor goes through a DistributedSampler: each epoch, each rank reads its own half."""
    settings = json.dumps({**SETTINGS, "data": "points", "data_opt": {}, "batch_size": 10, "steps": 10})
    proc = torchrun(WORKER, "train", str(tmp_path), settings, str(tmp_path / "run"), cwd=tmp_path, env=plugin_env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    logs = [json.loads((tmp_path / f"losses-rank{r}.json").read_text()) for r in (0, 1)]
    seen = [[i for kind, batch in log if kind == "real" for i in batch] for log in logs]
    for epoch in range(2):  # 100 samples, 50 a rank, 5 batches of 10: steps 1-5 are the first epoch
        first, second = (set(s[epoch * 50 : (epoch + 1) * 50]) for s in seen)
        assert len(first) == len(second) == 50 and not first & second and first | second == set(range(100))
    assert seen[0][:50] != seen[0][50:]  # a new shuffle each epoch


@pytest.mark.slow  # --nproc 2 and a signal to the process group
def test_ctrl_c_stops_every_process_and_keeps_the_checkpoint(tmp_path):
    args = ("train", "--data", "ring", "--data-opt", "n=1000", "--steps", "100000", "--ckpt-every", "50", "--device", "cpu")
    env = {**os.environ, **ONE_THREAD, "COLUMNS": "200", "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gantool", *args, "--nproc", "2", "--run-dir", "run"],
        cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    checkpoint = tmp_path / "run" / CHECKPOINT
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the launcher and its workers get it
    stopped = time.monotonic()
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-4000:]
    assert time.monotonic() - stopped < 60
    assert "interrupted: every process was stopped" in stderr and "--resume RUN --nproc 2" in stderr
    _, meta = ckpt.load_tensors(checkpoint)
    assert json.loads(meta["world_size"]) == 2 and json.loads(meta["step"]) % 50 == 0


def test_nproc_under_torchrun_is_refused(tmp_path):
    proc = spawn_cli("train", "--nproc", "2", "--steps", "1", cwd=tmp_path, env={"TORCHELASTIC_RUN_ID": "x", "RANK": "0"})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: --nproc starts its own processes: under torchrun leave it out (torchrun's --nproc-per-node sets the count)"
    ]


# --- the pieces, in one process ------------------------------------------------------------------


def test_shards_are_disjoint_strided_and_equal():
    data = torch.arange(11).unsqueeze(1)
    parts = [shard(data, Ranks(rank, 3, rank, 3), batch_size=3).flatten().tolist() for rank in range(3)]
    assert parts == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]  # every third sample; the last 11 % 3 left out
    assert shard(data, Ranks(), batch_size=3) is data
    with pytest.raises(GantoolError, match="--batch-size is per process: 3 processes share the 11 samples, 3 each"):
        shard(data, Ranks(0, 3, 0, 3), batch_size=4)


def test_rank_seeds_differ_and_rank_0_keeps_the_seed():
    seeds = [rank_seed(5, Ranks(rank, 64, 0, 1)) for rank in range(64)]
    assert seeds[0] == rank_seed(5, Ranks()) == 5
    streams = [{seed + offset for offset in SeedOffset} for seed in seeds]  # the global, data, latent, grid and augment streams
    assert len(set().union(*streams)) == len(set(SeedOffset)) * 64 == 5 * 64  # no rank draws from another's


def test_a_stray_world_size_is_a_one_line_error(monkeypatch):
    from gantool.core.devices import torch_device as resolve_device
    from gantool.training.distributed import process_group

    for name in ("MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WORLD_SIZE", "2")
    stray = pytest.raises(GantoolError, match="WORLD_SIZE=2 is set but MASTER_ADDR and MASTER_PORT not: start distributed runs")
    with stray, process_group("cpu", resolve_device):
        pass


def test_the_launcher_hands_workers_its_command_without_nproc():
    argv = ["--debug", "train", "--nproc", "4", "--steps", "3", "--nproc=2", "--run-dir", "r"]
    assert worker_argv(argv) == ["--debug", "train", "--steps", "3", "--run-dir", "r"]


def test_the_first_noted_failure_is_reported(tmp_path, monkeypatch):
    """Error files as workers write them, read back by torchelastic's own ProcessFailure."""
    from torch.distributed.elastic.multiprocessing.errors import ProcessFailure

    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "test")

    def noted(rank: int, exc: Exception) -> str:
        path = tmp_path / f"error-{rank}.json"
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("TORCHELASTIC_ERROR_FILE", str(path))
        try:
            raise exc
        except Exception as caught:
            note_failure(caught)
        return str(path)

    first = noted(1, RuntimeError("boom"))
    later = noted(0, RuntimeError("Connection closed by peer"))  # what a rank sees when its peer is gone
    killed = ProcessFailure(local_rank=2, pid=1, exitcode=-15, error_file=str(tmp_path / "none.json"))
    failures = {0: ProcessFailure(0, 1, 1, later), 1: ProcessFailure(1, 2, 1, first), 2: killed}
    error = first_failure(failures)
    assert isinstance(error, RankFailedError)
    assert str(error) == "rank 1 failed (RuntimeError: boom); every process of the run was stopped"

    bad = noted(0, GantoolError("--batch-size is per process: lower it"))
    error = first_failure({0: ProcessFailure(0, 1, 2, bad), 2: killed})
    assert isinstance(error, GantoolError) and str(error) == "--batch-size is per process: lower it"
    assert str(first_failure({2: killed})) == "rank 2 failed (killed by SIGTERM); every process of the run was stopped"


@pytest.mark.slow  # --nproc 2: real processes
def test_a_conditional_run_on_two_processes_shards_labels_with_their_images_and_resumes_exactly(tmp_path):
    """--conditional under DDP on gloo: each rank's shard carries its labels, and a resumed run matches a straight one."""
    base = ("--gen", "test-cond", "--data", "test-labelled-square", "--conditional", "--batch-size", "16", "--device", "cpu")
    base += ("--ckpt-every", "3", "--log-every", "3", "--nproc", "2")
    straight = spawn_cli("train", *base, "--steps", "6", "--run-dir", "straight", cwd=tmp_path, env=ONE_THREAD)
    assert straight.returncode == 0, straight.stderr[-4000:]
    half = spawn_cli("train", *base, "--steps", "3", "--run-dir", "half", cwd=tmp_path, env=ONE_THREAD)
    assert half.returncode == 0, half.stderr[-4000:]
    resumed = spawn_cli("train", "--resume", "half", "--steps", "6", "--nproc", "2", cwd=tmp_path, env=ONE_THREAD)
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    assert json.loads(ckpt.read_metadata(tmp_path / "half" / CHECKPOINT)["world_size"]) == 2
    for name in ("G", "D"):
        a, b = weights(tmp_path / "straight" / f"{name}.safetensors"), weights(tmp_path / "half" / f"{name}.safetensors")
        assert all(torch.equal(a[k], b[k]) for k in a), name
    shards = [shard(torch.arange(10) * 10, Ranks(r, 2, r, 2), 2) for r in (0, 1)]
    labels = [shard(torch.arange(10), Ranks(r, 2, r, 2), 2) for r in (0, 1)]
    assert all(torch.equal(s, lab * 10) for s, lab in zip(shards, labels))  # the same stride for images and labels
