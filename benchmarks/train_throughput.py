"""How fast gantool trains and samples, next to seed 001's loop and the hardware's ceiling: median and range over repeats.

    python benchmarks/train_throughput.py --root DIR [--device cpu|cuda] [--steps 3000] [--repeats 5]
        [--parts loop,whole,sampling] [--variants [bf16,compile,reuse]] [--json figures.json]

DIR holds MNIST/raw (torchvision's layout). Every measurement runs ``--repeats`` times (at least 5
for a figure worth quoting), seed 001's loop and gantool taking turns (seed, gantool, seed,
gantool, ...), so a machine that gets busier or quieter weighs on both alike. Each figure is
printed as the median and the range (min – max) over the repeats, in a markdown table, with the
date, the machine, the software and this command.

Parts (``--parts``, all by default):

loop
    Throughput inside the training loop, in one process: seed 001's loop as it stands
    (benchmarks/seed001_reference.py: DataLoader, ToTensor and Normalize per image, sigmoid +
    BCELoss, batch 100, Adam 2e-4) and ``gantool.train`` with the same architecture (``mlp``),
    batch size, loss, learning rate and betas; their ratio; the ceiling (a 2048x2048 float32
    matrix product, timed in the same round) and gantool's share of it (FLOPs of a step counted
    by PyTorch). Throughput is the difference of two runs, ``--steps / 2`` and ``--steps`` steps
    long, so fixed costs (start-up, building the models, loading the data, the last checkpoint)
    cancel out and what remains is the steady loop over the run's second half.
    ``--variants`` adds ``--amp bf16``, ``--compile`` and ``--reuse-fakes`` runs of gantool to each round.
whole
    Whole-process wall time: ``python benchmarks/seed001_reference.py --steps N --out DIR``
    against ``gantool train --data mnist --batch-size 100 --steps N --gen mlp --lr 2e-4 ...``
    with gantool's default checkpoint, sample and log intervals, each as a subprocess, timed
    from start to exit (interpreter start, imports, data loading and writing the run included).
sampling
    ``gantool`` sampling through onnxruntime and through torch: samples/s in process
    (10,000 samples) and the whole-process wall time of ``gantool sample -n 64`` (cold start).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402
from report import Figure, figures_table, header, run_line, timed  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import gantool  # noqa: E402
from gantool.training.config import build_config  # noqa: E402

BATCH = 100
PARTS = ("loop", "whole", "sampling")
VARIANTS = {"--amp bf16": {"amp": "bf16"}, "--compile": {"compile": True}, "--reuse-fakes": {"reuse_fakes": True}}
VARIANT_NAMES = {"bf16": "--amp bf16", "compile": "--compile", "reuse": "--reuse-fakes"}
GANTOOL = str(Path(sys.executable).parent / "gantool")


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


# --- inside the loop --------------------------------------------------------------------------------------------


def reference_seconds(root: Path, steps: int, device: str) -> float:
    """Seconds of seed 001's loop alone (its own timer: data loading included, set-up not)."""
    from seed001_reference import train_reference

    return train_reference(root, steps=steps, device=device).seconds


def gantool_settings(root: Path | None, steps: int, device: str, **extra: object) -> dict:
    data = {"data": "mnist", "data_opt": {"root": str(root), "download": False}} if root else {"data": "digits"}
    return {
        "gen": "mlp",
        "loss": "nonsat",
        "batch_size": BATCH,
        "lr": 2e-4,
        "beta1": 0.9,  # seed 001's Adam: torch's default betas
        "ema": 0.0,  # the seed keeps no weight average: inside the loop both do the same work
        "steps": steps,
        "device": device,
        "log_every": 100,
        "sample_every": 10 * steps,  # no sample grid inside the timed loop
        "ckpt_every": 10 * steps,  # nor checkpoints: only the one at the end, which cancels out
        **data,
        **extra,
    }


def gantool_seconds(root: Path | None, steps: int, device: str, work: Path, **extra: object) -> float:
    cfg = build_config(gantool_settings(root, steps, device, **extra))
    started = time.perf_counter()
    gantool.train(cfg, run_dir=work / f"run-{steps}-{time.monotonic_ns()}")
    sync(device)
    return time.perf_counter() - started


def images_per_second(timer, steps: int) -> float:  # type: ignore[no-untyped-def]
    """Throughput over the second half of a ``steps``-step run: the difference of a half run and a whole one."""
    return BATCH / run_line(timer, steps)[1]


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
    sync(device)
    started = time.perf_counter()
    for _ in range(repeat):
        a @ b
    sync(device)
    return 2 * n**3 * repeat / (time.perf_counter() - started) / 1e9


def loop_part(root: Path, steps: int, repeats: int, device: str, work: Path, variants: list[str]) -> list[Figure]:
    cuda = device.startswith("cuda")
    ref = Figure("seed 001's loop, in the loop", "images/s")
    ours = Figure("`gantool train`, in the loop", "images/s")
    ratio = Figure("gantool / seed 001's loop, in the loop", "×", target="≥ 30×" if cuda else "≥ 4×", fmt=".2f")
    ceiling = Figure("matmul ceiling (2048×2048 float32)", "GFLOP/s", fmt=",.1f")
    effective = Figure("gantool's effective arithmetic", "GFLOP/s", fmt=",.1f")
    share = Figure("gantool's share of the matmul ceiling", "%", target="" if cuda else "≥ 60%", fmt=".0f")
    extras = {flag: extra for flag, extra in VARIANTS.items() if flag in variants}
    variant_speed = {flag: Figure(f"`gantool train {flag}`, in the loop", "images/s") for flag in extras}
    variant_ratio = {flag: Figure(f"`{flag}` / gantool's default", "×", fmt=".2f") for flag in extras}

    def gantool_timer(**extra: object):  # type: ignore[no-untyped-def]
        return lambda n: gantool_seconds(root, n, device, work, **extra)

    # warm-ups, not timed: first-touch allocations, cuBLAS handles, the page cache, compilation where asked for
    reference_seconds(root, 20, device)
    gantool_seconds(root, 20, device, work)
    for extra in extras.values():
        gantool_seconds(root, 20, device, work, **extra)
    flops = flops_per_step(root, device, work)

    for r in range(repeats):
        seed_rate = images_per_second(lambda n: reference_seconds(root, n, device), steps)
        our_rate = images_per_second(gantool_timer(), steps)
        gflops = matmul_gflops(device)
        ref.add(seed_rate)
        ours.add(our_rate)
        ratio.add(our_rate / seed_rate)
        ceiling.add(gflops)
        effective.add(flops * our_rate / BATCH / 1e9)
        share.add(100 * flops * our_rate / BATCH / 1e9 / gflops)
        line = f"round {r + 1}/{repeats}: seed {seed_rate:,.0f}, gantool {our_rate:,.0f} images/s, matmul {gflops:,.1f} GFLOP/s"
        for flag, extra in extras.items():
            rate = images_per_second(gantool_timer(**extra), steps)
            variant_speed[flag].add(rate)
            variant_ratio[flag].add(rate / our_rate)
            line += f", {flag} {rate:,.0f}"
        print(line, file=sys.stderr, flush=True)
    step_flops = Figure("FLOPs of one gantool step (counted by PyTorch)", "MFLOP", values=[flops / 1e6])
    return [ref, ours, ratio, ceiling, effective, share, step_flops, *variant_speed.values(), *variant_ratio.values()]


# --- whole processes ----------------------------------------------------------------------------------------------


def whole_commands(root: Path, steps: int, device: str, work: Path, r: int) -> tuple[list[str], list[str]]:
    seed = [sys.executable, str(HERE / "seed001_reference.py"), "--root", str(root), "--steps", str(steps), "--device", device]
    seed += ["--out", str(work / f"seed-whole-{r}")]
    ours = [GANTOOL, "train", "--data", "mnist", "--data-opt", f"root={root}", "--batch-size", str(BATCH), "--steps", str(steps)]
    ours += ["--gen", "mlp", "--loss", "nonsat", "--lr", "2e-4", "--beta1", "0.9", "--device", device]
    ours += ["--run-dir", str(work / f"whole-{r}")]
    return seed, ours


def whole_part(root: Path, steps: int, repeats: int, device: str, work: Path) -> list[Figure]:
    seed_fig = Figure(f"seed 001's script, whole process ({steps} steps)", "s", fmt=".1f")
    ours_fig = Figure(f"`gantool train`, whole process ({steps} steps, default intervals)", "s", fmt=".1f")
    ratio = Figure("seed 001's wall time / gantool's", "×", target="≥ 3×", fmt=".2f")
    seed_cmd, ours_cmd = whole_commands(root, steps, device, work, 0)
    print("whole process, seed 001: " + " ".join(seed_cmd), file=sys.stderr)
    print("whole process, gantool : " + " ".join(ours_cmd), file=sys.stderr)
    for r in range(repeats):
        seed_cmd, ours_cmd = whole_commands(root, steps, device, work, r)
        seed_s = timed(seed_cmd)
        ours_s = timed(ours_cmd)
        seed_fig.add(seed_s)
        ours_fig.add(ours_s)
        ratio.add(seed_s / ours_s)
        print(f"round {r + 1}/{repeats}: seed {seed_s:.1f} s, gantool {ours_s:.1f} s", file=sys.stderr, flush=True)
    return [seed_fig, ours_fig, ratio]


# --- sampling -----------------------------------------------------------------------------------------------------


def sampling_part(repeats: int, device: str, work: Path) -> list[Figure]:
    """Samples per second in process, and the cold-start wall time of a whole `gantool sample -n 64`; onnx and torch take turns."""
    from gantool.core import latents
    from gantool.inference.export import export_onnx
    from gantool.inference.sampling import open_generator

    run = work / "sample-run"
    gantool.train(build_config(gantool_settings(None, 200, device)), run_dir=run)
    export_onnx(run, run / "G.onnx")
    models = {"onnx": run / "G.onnx", "torch": run}
    generators = {runtime: open_generator(runtime, model, device) for runtime, model in models.items()}
    speed = {runtime: Figure(f"`gantool sample -n 10000` through {runtime}, in process", "samples/s") for runtime in models}
    cold = {runtime: Figure(f"whole `gantool sample -n 64` through {runtime} (cold start)", "s", fmt=".2f") for runtime in models}
    cold_ratio = Figure("onnx cold start / torch cold start", "×", target="≤ 0.3×", fmt=".2f")
    z = {}
    for runtime, generator in generators.items():
        z[runtime] = latents.draw(10_000, generator.info.latent_dim, generator.info.latent, 0)
        generator(z[runtime][:256], 256)  # warm-up
    for _ in range(repeats):
        walls = {}
        for runtime, generator in generators.items():
            started = time.perf_counter()
            generator(z[runtime], 256)
            speed[runtime].add(10_000 / (time.perf_counter() - started))
            cmd = [GANTOOL, "sample", "--runtime", runtime, "--model", str(models[runtime]), "-n", "64"]
            cmd += ["--device", device, "--out", str(work / f"cold-{runtime}.png"), "--seed", "1"]
            walls[runtime] = timed(cmd)
            cold[runtime].add(walls[runtime])
        cold_ratio.add(walls["onnx"] / walls["torch"])
    return [*speed.values(), *cold.values(), cold_ratio]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, required=True, help="folder holding MNIST/raw (torchvision's layout)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=3000, help="steps of a run (default 3000; the loop part times the second half)")
    parser.add_argument("--repeats", type=int, default=5, help="rounds of every measurement (default 5: at least 5 to quote)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"which parts, comma-separated: {', '.join(PARTS)} (default: all)")
    parser.add_argument(
        "--variants",
        nargs="?",
        const="bf16,compile,reuse",
        default="",
        help="loop part: also time gantool with --amp bf16, --compile and --reuse-fakes (or only those named: --variants reuse)",
    )
    parser.add_argument("--json", type=Path, help="also write every figure (all values, median, min, max) here")
    args = parser.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if unknown := sorted(set(parts) - set(PARTS)):
        parser.error(f"unknown part(s) {', '.join(unknown)}: choose from {', '.join(PARTS)}")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if unknown := sorted(set(variants) - set(VARIANT_NAMES)):
        parser.error(f"unknown variant(s) {', '.join(unknown)}: choose from {', '.join(VARIANT_NAMES)}")
    if args.steps < 4 or args.repeats < 1:
        parser.error("--steps must be at least 4 and --repeats at least 1")
    if not (args.root / "MNIST" / "raw" / "train-images-idx3-ubyte").exists():
        sys.exit(f"MNIST is not under {args.root}: pass --root DIR holding MNIST/raw/train-images-idx3-ubyte (torchvision's layout)")
    root = args.root.resolve()
    notes = [f"batch {BATCH}; {args.steps} steps a run; {args.repeats} rounds, seed 001 and gantool taking turns"]
    notes[0] += f"; parts: {', '.join(parts)}"
    if args.repeats < 5:
        notes.append(f"only {args.repeats} round(s): a smoke run, not figures to quote (quote runs with --repeats 5 or more)")
    print(header(args.device, notes), flush=True)

    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="gantool-bench-") as tmp:
        work = Path(tmp)
        if "loop" in parts:
            figures += loop_part(root, args.steps, args.repeats, args.device, work, [VARIANT_NAMES[v] for v in variants])
        if "whole" in parts:
            figures += whole_part(root, args.steps, args.repeats, args.device, work)
        if "sampling" in parts:
            figures += sampling_part(args.repeats, args.device, work)
    print()
    print(figures_table(figures))
    if args.json:
        args.json.write_text(json.dumps({"device": args.device, "figures": [f.as_dict() for f in figures]}, indent=2) + "\n")


if __name__ == "__main__":
    main()
