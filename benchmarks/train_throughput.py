"""How fast gantool trains and samples, next to the seeds' loop and the hardware's ceiling.

    python benchmarks/train_throughput.py [--device cpu|cuda] [--steps 600] [--root ../shared/data] [--variants]

In one process, on one device:
1. seed 001's loop as it stands (benchmarks/seed001_reference.py: DataLoader, ToTensor and
   Normalize per image, sigmoid + BCELoss, batch 100, Adam 2e-4);
2. ``gantool train`` with the same architecture (``mlp``), batch size, loss and steps;
3. a plain float32 matrix product, the ceiling;
then ``gantool sample -n 10000`` through onnx and torch (samples/s, in process) and the
whole-process wall time of ``gantool sample -n 64`` through each (cold start).

Throughput is measured as a difference of two runs (``steps`` and ``2 * steps``), so
fixed costs such as start-up, building the models and the last checkpoint cancel out.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from gantool.training.config import build_config  # noqa: E402
from gantool.training.loop import train  # noqa: E402

BATCH = 100


def reference_images_per_second(root: Path, steps: int, device: str) -> float:
    from seed001_reference import train_reference

    train_reference(root, steps=20, device=device)  # warm-up: first-touch allocations, cuDNN/cuBLAS handles
    short = train_reference(root, steps=steps, device=device)
    long = train_reference(root, steps=2 * steps, device=device)
    return steps * BATCH / (long.seconds - short.seconds)


def gantool_settings(root: Path | None, steps: int, device: str, **extra: object) -> dict:
    data = {"data": "mnist", "data_opt": {"root": str(root), "download": False}} if root else {"data": "digits"}
    return {
        "gen": "mlp",
        "loss": "nonsat",
        "batch_size": BATCH,
        "lr": 2e-4,
        "steps": steps,
        "device": device,
        "log_every": 100,
        "sample_every": 10 * steps,
        "ckpt_every": 10 * steps,
        **data,
        **extra,
    }


def gantool_seconds(root: Path | None, steps: int, device: str, work: Path, **extra: object) -> float:
    cfg = build_config(gantool_settings(root, steps, device, **extra))
    started = time.perf_counter()
    train(cfg, run_dir=work / f"run-{steps}-{time.monotonic_ns()}")
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - started


def gantool_images_per_second(root: Path | None, steps: int, device: str, work: Path, **extra: object) -> float:
    gantool_seconds(root, 20, device, work, **extra)  # warm-up (and compilation, where asked for)
    short = gantool_seconds(root, steps, device, work, **extra)
    long = gantool_seconds(root, 2 * steps, device, work, **extra)
    return steps * BATCH / (long - short)


def flops_per_step(root: Path | None, device: str, work: Path) -> float:
    """FLOPs of one training step, counted by PyTorch as two runs' difference (1 and 2 steps)."""
    counts = []
    for steps in (1, 2):
        with FlopCounterMode(display=False) as counter:
            gantool_seconds(root, steps, device, work)
        counts.append(counter.get_total_flops())
    return counts[1] - counts[0]


def matmul_gflops(device: str, n: int = 2048, repeat: int = 20) -> float:
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    for _ in range(3):
        a @ b
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(repeat):
        a @ b
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return 2 * n**3 * repeat / (time.perf_counter() - started) / 1e9


def sampling(work: Path, device: str) -> dict[str, float]:
    """Samples per second in process, and the cold-start wall time of a whole `gantool sample -n 64`."""
    from gantool.core import latents
    from gantool.inference.export import export_onnx
    from gantool.inference.sampling import open_generator

    run = work / "sample-run"
    train(build_config(gantool_settings(None, 200, device)), run_dir=run)
    export_onnx(run, run / "G.onnx")
    figures: dict[str, float] = {}
    for runtime, model in (("onnx", run / "G.onnx"), ("torch", run)):
        generator = open_generator(runtime, model, device)
        z = latents.draw(10_000, generator.info.latent_dim, generator.info.latent, 0)
        generator(z[:256], 256)
        times = []
        for _ in range(3):
            started = time.perf_counter()
            generator(z, 256)
            times.append(time.perf_counter() - started)
        figures[f"{runtime} samples/s"] = 10_000 / min(times)
        walls = []
        for _ in range(3):
            started = time.perf_counter()
            cmd = [str(Path(sys.executable).parent / "gantool"), "sample", "--runtime", runtime, "--model", str(model), "-n", "64"]
            cmd += ["--device", device, "--out", str(work / f"cold-{runtime}.png"), "--seed", "1"]
            subprocess.run(cmd, check=True, capture_output=True)
            walls.append(time.perf_counter() - started)
        figures[f"{runtime} cold start s"] = statistics.median(walls)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=None, help="steps per timed run (default: 600 on CPU, 3000 on CUDA)")
    parser.add_argument("--root", type=Path, default=HERE.parent.parent / "shared" / "data", help="folder with MNIST/raw")
    parser.add_argument("--skip-sampling", action="store_true")
    parser.add_argument("--variants", action="store_true", help="also time --amp bf16 and --compile (how the defaults were chosen)")
    args = parser.parse_args()
    steps = args.steps or (3000 if args.device.startswith("cuda") else 600)
    root = args.root if (args.root / "MNIST" / "raw" / "train-images-idx3-ubyte").exists() else None
    if root is None:
        sys.exit(f"MNIST is not under {args.root}; pass --root DIR holding MNIST/raw (the reference loop needs torchvision's MNIST)")
    cpu = f"CPU, {os.cpu_count()} cores, {torch.get_num_threads()} threads"
    device_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else cpu
    print(f"device: {device_name}; torch {torch.__version__}; batch {BATCH}; {steps} steps per timed run")

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ref = reference_images_per_second(root, steps, args.device)
        ours = gantool_images_per_second(root, steps, args.device, work)
        flops = flops_per_step(root, args.device, work)
        ceiling = matmul_gflops(args.device)
        effective = flops * ours / BATCH / 1e9
        print(f"seed 001 reference loop : {ref:12,.0f} images/s")
        print(f"gantool train           : {ours:12,.0f} images/s   ({ours / ref:.1f}x the reference)")
        print(f"  {flops / 1e6:.0f} MFLOP per step -> {effective:.1f} GFLOP/s = {effective / ceiling:.0%} of the matmul ceiling")
        print(f"matmul ceiling          : {ceiling:12.1f} GFLOP/s (2048x2048 float32)")
        if args.variants:
            for flag, extra in (("--amp bf16", {"amp": "bf16"}), ("--compile", {"compile": True})):
                fast = gantool_images_per_second(root, steps, args.device, work, **extra)
                print(f"gantool train {flag:10}: {fast:12,.0f} images/s   ({fast / ours:.2f}x the default)")
        if not args.skip_sampling:
            figures = sampling(work, args.device)
            for key, value in figures.items():
                print(f"sample {key:18}: {value:12,.2f}")
            ratio = figures["onnx cold start s"] / figures["torch cold start s"]
            print(f"onnx cold start / torch cold start: {ratio:.2f}")


if __name__ == "__main__":
    main()
