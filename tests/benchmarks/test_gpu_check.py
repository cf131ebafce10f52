"""The benchmark scripts run: gpu_check.sh's dry run on the CPU, its refusal without a GPU, and tiny runs of the others."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / "benchmarks"
GPU_CHECK = BENCHMARKS / "gpu_check.sh"


def run(cmd: list[str], timeout: float, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHON": sys.executable, "COLUMNS": "200", "NO_COLOR": "1", **env}
    return subprocess.run(cmd, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout)


def table_rows(stdout: str) -> list[list[str]]:
    rows = [line.strip().strip("|").split(" | ") for line in stdout.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row] for row in rows]


@pytest.mark.slow  # gpu_check.sh's whole dry run
def test_dry_run_prints_one_table_with_every_step(tmp_path: Path) -> None:
    done = run(["bash", str(GPU_CHECK), "--dry-run"], timeout=600, TMPDIR=str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    rows = table_rows(done.stdout)
    assert rows[0] == ["step", "figure", "value", "target", "status"]
    steps = {row[0] for row in rows[2:]}
    assert steps == {"gantool info", "data", "train throughput", "onnx sampling", "processes", "total"}
    by_figure = {row[1]: row for row in rows[2:]}
    assert by_figure["torch"][2].startswith("2.")  # gantool info's own lines are rows
    assert "images/s (range" in by_figure["`gantool train`, in the loop"][2]
    assert "images/s (range" in by_figure["seed 001's loop, in the loop"][2]
    assert "n/a on the CPU" in by_figure["gantool / seed 001's loop, in the loop"][4]
    assert "GFLOP/s" in by_figure["matmul ceiling (2048×2048 float32)"][2]
    assert "`gantool train --amp bf16`, in the loop" in by_figure
    assert by_figure["`gantool train --compile` (CUDA graphs)"][4].startswith("skipped: dry run")
    diff = next(row for row in rows if row[1].startswith("largest abs(onnx - torch)"))
    assert float(diff[2]) <= 1e-4 and diff[4] == "met"
    assert any("CPUExecutionProvider" in row[1] and "samples/s" in row[2] for row in rows)
    assert by_figure["`gantool train --nproc 2 --device cpu` (gloo)"][4] == "ok (dry run)"
    assert by_figure["NCCL (two processes, or a one-process group)"][4] == "skipped: dry run: NCCL needs CUDA"
    assert "DRY RUN" in done.stdout and "gpu_check: dry run: every step ran" in done.stdout
    assert not list(tmp_path.glob("gpu_check.*")), "the work folder is removed"


def test_without_a_gpu_it_refuses_in_one_line() -> None:
    # CUDA_VISIBLE_DEVICES="" hides any GPU from torch, so this holds on a GPU machine too
    done = run(["bash", str(GPU_CHECK)], timeout=120, CUDA_VISIBLE_DEVICES="")
    assert done.returncode == 3
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpu_check: no usable NVIDIA GPU here (")
    assert "--dry-run" in lines[0]


@pytest.mark.slow  # gpu_check.sh's dry run up to its data step
def test_a_failing_step_stops_it_with_the_step_named(tmp_path: Path) -> None:
    done = run(["bash", str(GPU_CHECK), "--dry-run", "--root", str(tmp_path / "nowhere")], timeout=120)
    assert done.returncode != 0
    assert "holds no MNIST/raw" in done.stderr
    assert "FAILED in step 'data'" in done.stderr
    assert "| gantool info | gantool |" in done.stderr  # the rows measured before it


def test_unknown_argument_is_refused() -> None:
    done = run(["bash", str(GPU_CHECK), "--bogus"], timeout=30)
    assert done.returncode == 2 and "unknown argument '--bogus'" in done.stderr


@pytest.fixture(scope="module")
def mnist_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import mnist_files
    finally:
        sys.path.remove(str(BENCHMARKS))
    return mnist_files.write(tmp_path_factory.mktemp("mnist"), train=2000, test=500)


def test_mnist_files_are_what_torchvision_reads(mnist_files: Path) -> None:
    from torchvision.datasets import MNIST

    train, test = MNIST(str(mnist_files), train=True, download=False), MNIST(str(mnist_files), train=False, download=False)
    assert (len(train), len(test)) == (2000, 500)
    assert tuple(train.data.shape[1:]) == (28, 28) and int(train.data.max()) > 200
    assert set(train.targets.tolist()) == set(range(10))


@pytest.mark.slow  # the benchmark script trains gantool and seed 001's loop
def test_train_throughput_smoke(mnist_files: Path, tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    cmd = [sys.executable, str(BENCHMARKS / "train_throughput.py"), "--root", str(mnist_files), "--device", "cpu"]
    done = run([*cmd, "--steps", "20", "--repeats", "1", "--parts", "loop", "--json", str(out)], timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    for line in ("date: ", "machine: ", "software: ", "command: python benchmarks/train_throughput.py", "| figure | median |"):
        assert line in done.stdout
    assert "a smoke run, not figures to quote" in done.stdout
    figures = {f["name"]: f for f in json.loads(out.read_text())["figures"]}
    ratio = figures["gantool / seed 001's loop, in the loop"]
    assert len(ratio["values"]) == 1 and ratio["median"] > 0
    assert figures["gantool's share of the matmul ceiling"]["median"] > 0


def test_train_throughput_needs_mnist(tmp_path: Path) -> None:
    done = run([sys.executable, str(BENCHMARKS / "train_throughput.py"), "--root", str(tmp_path)], timeout=120)
    assert done.returncode != 0 and "MNIST is not under" in done.stderr


@pytest.mark.slow  # the benchmark script trains and evaluates a recipe
def test_recipes_smoke(tmp_path: Path) -> None:
    out = tmp_path / "recipes.json"
    cmd = [sys.executable, str(BENCHMARKS / "recipes.py"), "--only", "ring", "--seeds", "0", "--steps", "50", "--device", "cpu"]
    done = run([*cmd, "--out-dir", str(tmp_path / "runs"), "--json", str(out)], timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = table_rows(done.stdout)
    assert rows[0] == ["recipe", "figure", "median", "range (min – max)", "seeds", "per seed"]
    figures = {row[1] for row in rows[2:]}
    assert {"modes captured (of 8)", "high-quality samples (share)", "reverse KL (lower is better)"} <= figures
    assert {"`gantool train` wall time", "`gantool eval` wall time"} <= figures
    report = json.loads(out.read_text())
    assert [r["seed"] for r in report["runs"]] == [0]
    assert (tmp_path / "runs" / "ring-seed0" / "eval.json").exists()


def test_recipes_mnist_needs_a_root(tmp_path: Path) -> None:
    done = run([sys.executable, str(BENCHMARKS / "recipes.py"), "--only", "mnist", "--out-dir", str(tmp_path)], timeout=60)
    assert done.returncode == 2 and "pass --root DIR holding MNIST/raw" in done.stderr


@pytest.mark.slow  # the benchmark script trains the DCGAN pair four times, in two loops
def test_dcgan_speed_smoke(mnist_root: Path) -> None:
    cmd = [sys.executable, str(BENCHMARKS / "dcgan_speed.py"), "--root", str(mnist_root), "--steps", "8", "--repeats", "1"]
    done = run(cmd, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {row[0]: row for row in table_rows(done.stdout)[2:]}
    assert {"plain PyTorch DCGAN loop (pytorch/examples' structure)", "`gantool train`", "gantool / plain loop"} <= set(rows)
    assert rows["gantool / plain loop"][4] == "≥ 1.5×" and rows["`gantool train`"][1].endswith("images/s")
    assert "only 1 round(s): a smoke run" in done.stdout
