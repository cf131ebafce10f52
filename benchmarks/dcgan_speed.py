"""gantool's DCGAN training against a plain PyTorch DCGAN loop as users write it: images/s, median and range.

    python benchmarks/dcgan_speed.py --root DIR [--steps 400] [--repeats 5] [--width 32] [--variants compile]

The plain loop has the structure of pytorch/examples' ``dcgan/main.py``: torchvision MNIST through a
DataLoader (ToTensor and Normalize per image, shuffled, the example's 2 workers), D ending in a sigmoid
and BCELoss, D's real and fake halves as two backward passes, ``.item()`` on the losses and D's
outputs at every step (the example prints them), Adam 2e-4 with beta1 0.5. It trains the very networks
gantool trains (gantool-dcgan's G and D at 1x28x28, ``--width``), batch 64. gantool runs
``gantool.train`` with the same networks, batch, loss, learning rate and betas, and no weight average
(the plain loop keeps none).

Throughput is the difference of two runs, ``--steps / 2`` and ``--steps`` long, so that fixed costs
(start-up, building the networks, loading the data, the last checkpoint, and compiling, for the
compiled variant) cancel and what remains is the steady loop. Every round runs each contender in
turn (plain, gantool, variants...), ``--repeats`` rounds. For ``--compile`` the script also reports
the fixed cost compiling adds and the step count from which compiling pays for itself.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402
import torchvision  # noqa: E402
from gantool_dcgan.nets import build_discriminator, build_generator  # noqa: E402
from report import Figure, figures_table, header, run_line  # noqa: E402
from torch import nn  # noqa: E402
from torchvision import transforms  # noqa: E402

import gantool  # noqa: E402
from gantool.training.config import build_config  # noqa: E402

BATCH, LATENT, SHAPE = 64, 64, (1, 28, 28)
# gantool's levers, each timed on its own and stacked: --reuse-fakes does the plain loop's work (G's step reuses
# D's fakes), gantool's default draws fresh ones (one more pass of G a step, trained better where measured).
VARIANTS = {
    "compile": {"compile": True},
    "channels-last": {"channels_last": True},
    "reuse-fakes": {"reuse_fakes": True},
    "channels-last+reuse-fakes": {"channels_last": True, "reuse_fakes": True},
    "channels-last+compile": {"channels_last": True, "compile": True},
}


def plain_seconds(root: Path, steps: int, width: int, channels_last: bool = False) -> float:
    """Seconds of ``steps`` steps of the plain loop, data loading included, set-up not."""
    torch.manual_seed(0)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    mnist = torchvision.datasets.MNIST(root=str(root), train=True, transform=transform, download=False)
    loader = torch.utils.data.DataLoader(mnist, batch_size=BATCH, shuffle=True, num_workers=2, drop_last=True)
    netG = build_generator(LATENT, SHAPE, width)
    netD = nn.Sequential(build_discriminator(SHAPE, width), nn.Sigmoid())
    memory = torch.channels_last if channels_last else torch.contiguous_format
    netG, netD = netG.to(memory_format=memory), netD.to(memory_format=memory)
    criterion = nn.BCELoss()
    optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    done, started = 0, time.perf_counter()
    while done < steps:
        for data, _ in loader:
            if done == steps:
                break
            netD.zero_grad()
            real = data.contiguous(memory_format=memory)
            label = torch.full((BATCH, 1), 1.0)
            output = netD(real)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()
            fake = netG(torch.randn(BATCH, LATENT))
            label.fill_(0.0)
            output = netD(fake.detach())
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()
            netG.zero_grad()
            label.fill_(1.0)
            output = netD(fake)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()
            _ = (errD.item(), errG.item(), D_x, D_G_z1, D_G_z2)  # the example prints these every step
            done += 1
    return time.perf_counter() - started


def gantool_seconds(root: Path, steps: int, width: int, work: Path, **extra: object) -> float:
    """Seconds of a whole ``gantool.train`` call of ``steps`` steps (the difference of two cancels its fixed costs)."""
    settings = {
        "data": "mnist",
        "data_opt": {"root": str(root)},
        "gen": "dcgan",
        "gen_opt": {"width": width},
        "disc_opt": {"width": width},
        "loss": "nonsat",
        "batch_size": BATCH,
        "latent_dim": LATENT,
        "lr": 2e-4,
        "beta1": 0.5,
        "ema": 0.0,
        "steps": steps,
        "device": "cpu",
        "log_every": 100,
        "sample_every": 10 * steps,  # no sample grid inside the timed loop
        "ckpt_every": 10 * steps,  # nor checkpoints but the last, which cancels out
        **extra,
    }
    started = time.perf_counter()
    gantool.train(build_config(settings), run_dir=work / f"run-{steps}-{time.monotonic_ns()}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, required=True, help="folder holding MNIST/raw (torchvision's layout)")
    parser.add_argument("--steps", type=int, default=400, help="steps of the longer run of each pair (default 400)")
    parser.add_argument("--repeats", type=int, default=5, help="rounds (default 5: at least 5 to quote)")
    parser.add_argument("--width", type=int, default=32, help="the DCGAN pair's width (default 32, recipes/mnist-dcgan.toml's)")
    parser.add_argument("--variants", default="", help=f"also time gantool with these, comma-separated: {', '.join(VARIANTS)}")
    args = parser.parse_args()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if unknown := sorted(set(variants) - set(VARIANTS)):
        parser.error(f"unknown variant(s) {', '.join(unknown)}: choose from {', '.join(VARIANTS)}")
    if args.steps < 4 or args.repeats < 1:
        parser.error("--steps must be at least 4 and --repeats at least 1")
    root = args.root.resolve()
    notes = [f"gantool-dcgan width {args.width} at 1x28x28, batch {BATCH}; {args.steps} steps a run; {args.repeats} rounds, taking turns"]
    if args.repeats < 5:
        notes.append(f"only {args.repeats} round(s): a smoke run, not figures to quote")
    print(header("cpu", notes), flush=True)

    plain = Figure("plain PyTorch DCGAN loop (pytorch/examples' structure)", "images/s")
    ours = Figure("`gantool train`", "images/s")
    ratio = Figure("gantool / plain loop", "×", target="≥ 1.5×", fmt=".2f")
    speed = {v: Figure(f"`gantool train` with {v}", "images/s") for v in variants}
    gain = {v: Figure(f"{v} / gantool's default", "×", fmt=".2f") for v in variants}
    versus_plain = {v: Figure(f"`gantool train` with {v} / plain loop", "×", target="≥ 1.5×", fmt=".2f") for v in variants}
    overhead = Figure("compiling's fixed cost (compiled minus eager)", "s", fmt=".1f")
    pays = Figure("steps from which compiling pays for itself", "steps")
    with tempfile.TemporaryDirectory(prefix="gantool-dcgan-speed-") as tmp:
        work = Path(tmp)
        plain_seconds(root, 10, args.width)  # warm-ups: the page cache, first-touch allocations, compilation caches
        gantool_seconds(root, 10, args.width, work)
        for v in variants:
            gantool_seconds(root, 10, args.width, work, **VARIANTS[v])
        for r in range(args.repeats):
            _, plain_step = run_line(lambda n: plain_seconds(root, n, args.width), args.steps)
            fixed, our_step = run_line(lambda n: gantool_seconds(root, n, args.width, work), args.steps)
            plain.add(BATCH / plain_step)
            ours.add(BATCH / our_step)
            ratio.add(plain_step / our_step)
            report = f"round {r + 1}/{args.repeats}: plain {BATCH / plain_step:,.0f}, gantool {BATCH / our_step:,.0f} images/s"
            for v in variants:
                v_fixed, v_step = run_line(lambda n, v=v: gantool_seconds(root, n, args.width, work, **VARIANTS[v]), args.steps)
                speed[v].add(BATCH / v_step)
                gain[v].add(our_step / v_step)
                versus_plain[v].add(plain_step / v_step)
                report += f", {v} {BATCH / v_step:,.0f}"
                if v == "compile":
                    overhead.add(v_fixed - fixed)
                    pays.add((v_fixed - fixed) / (our_step - v_step) if our_step > v_step else None)
            print(report, file=sys.stderr, flush=True)
    figures = [plain, ours, ratio, *speed.values(), *gain.values(), *versus_plain.values()]
    if "compile" in variants:
        figures += [overhead, pays]
    print()
    print(figures_table(figures))


if __name__ == "__main__":
    main()
