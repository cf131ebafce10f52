"""Seed 001's training loop as it stands, the baseline gantool's recipes are measured against.

yunjey's pytorch-tutorial GAN: torchvision MNIST through a DataLoader with ToTensor and
Normalize(0.5, 0.5), the 256-unit MLP pair (LeakyReLU 0.2 and a sigmoid in D, ReLU and tanh
in G), BCELoss, batch 100, Adam 2e-4 with its default betas, latent N(0, I) of size 64.
Nothing is tuned or sped up: that is the point of a baseline.

    python benchmarks/seed001_reference.py --root /path/with/MNIST --epochs 10 --out runs/seed001
    gantool eval runs/seed001

The folder it writes is a gantool run folder (G.safetensors and D.safetensors with
gantool's metadata, config.toml, samples.png), so ``gantool eval`` scores it like any run.
``train_reference`` is importable for throughput benchmarks.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torchvision
from torch import nn
from torchvision import transforms

LATENT, HIDDEN, IMAGE = 64, 256, 784


@dataclass
class ReferenceResult:
    G: nn.Sequential
    D: nn.Sequential
    steps: int
    seconds: float  # the training loop alone: data loading included, set-up and saving not

    @property
    def images_per_second(self) -> float:
        return self.steps * 100 / self.seconds


def networks() -> tuple[nn.Sequential, nn.Sequential]:
    D = nn.Sequential(
        nn.Linear(IMAGE, HIDDEN), nn.LeakyReLU(0.2), nn.Linear(HIDDEN, HIDDEN), nn.LeakyReLU(0.2), nn.Linear(HIDDEN, 1), nn.Sigmoid()
    )
    G = nn.Sequential(nn.Linear(LATENT, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, IMAGE), nn.Tanh())
    return G, D


def train_reference(
    root: str | Path,
    epochs: int | None = None,
    steps: int | None = None,
    device: str = "cpu",
    seed: int = 0,
    batch_size: int = 100,
) -> ReferenceResult:
    """Run seed 001's loop for ``epochs`` passes or ``steps`` batches (whichever is given)."""
    if (epochs is None) == (steps is None):
        raise ValueError("give epochs or steps")
    torch.manual_seed(seed)
    dev = torch.device(device)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean=[0.5], std=[0.5])])
    mnist = torchvision.datasets.MNIST(root=str(root), train=True, transform=transform, download=False)
    data_loader = torch.utils.data.DataLoader(dataset=mnist, batch_size=batch_size, shuffle=True)
    G, D = networks()
    G, D = G.to(dev), D.to(dev)
    criterion = nn.BCELoss()
    d_optimizer = torch.optim.Adam(D.parameters(), lr=0.0002)
    g_optimizer = torch.optim.Adam(G.parameters(), lr=0.0002)
    total = steps if steps is not None else epochs * len(data_loader)

    done = 0
    started = time.perf_counter()
    while done < total:
        for images, _ in data_loader:
            if done == total:
                break
            images = images.reshape(batch_size, -1).to(dev)
            real_labels = torch.ones(batch_size, 1, device=dev)
            fake_labels = torch.zeros(batch_size, 1, device=dev)

            outputs = D(images)
            d_loss_real = criterion(outputs, real_labels)
            z = torch.randn(batch_size, LATENT, device=dev)
            fake_images = G(z)
            outputs = D(fake_images)
            d_loss_fake = criterion(outputs, fake_labels)
            d_loss = d_loss_real + d_loss_fake
            d_optimizer.zero_grad()
            g_optimizer.zero_grad()
            d_loss.backward()
            d_optimizer.step()

            z = torch.randn(batch_size, LATENT, device=dev)
            fake_images = G(z)
            outputs = D(fake_images)
            g_loss = criterion(outputs, real_labels)
            d_optimizer.zero_grad()
            g_optimizer.zero_grad()
            g_loss.backward()
            g_optimizer.step()
            done += 1
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return ReferenceResult(G, D, done, time.perf_counter() - started)


def save_run(result: ReferenceResult, out: Path, root: str | Path) -> None:
    """Write a run folder gantool can read: the reference's G is gantool's ``mlp`` generator, layer for layer."""
    from safetensors.torch import save_file

    from gantool.core.images import grid, save_png

    out.mkdir(parents=True, exist_ok=True)
    common = {"format": "gantool", "gantool_version": "seed001-reference", "latent_dim": LATENT, "latent": "normal"}
    common |= {"data": "mnist", "data_shape": [1, 28, 28], "output_range": [-1.0, 1.0], "step": result.steps}
    g_meta = {**common, "kind": "generator", "component": "mlp", "options": {"hidden": HIDDEN}}
    d_meta = {**common, "kind": "discriminator", "component": "mlp", "options": {"hidden": HIDDEN}}

    def strings(meta: dict) -> dict[str, str]:
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in meta.items()}

    # Same layer indices as gantool's mlp G (its trailing Unflatten has no weights).
    g_state = {k: v.detach().cpu().contiguous() for k, v in result.G.state_dict().items()}
    save_file(g_state, str(out / "G.safetensors"), metadata=strings(g_meta))
    # gantool's D starts with Flatten and ends at the logit: shift indices by one, drop the sigmoid (it has no weights).
    d_state = {}
    for key, value in result.D.state_dict().items():
        index, name = key.split(".", 1)
        d_state[f"{int(index) + 1}.{name}"] = value.detach().cpu().contiguous()
    save_file(d_state, str(out / "D.safetensors"), metadata=strings(d_meta))
    config = f'gen = "mlp"\nloss = "nonsat"\ndata = "mnist"\nlatent = "normal"\nlatent_dim = {LATENT}\nbatch_size = 100\n'
    config += f'lr = 0.0002\nbeta1 = 0.9\nbeta2 = 0.999\nsteps = {result.steps}\n\n[data_opt]\nroot = "{Path(root).resolve()}"\n'
    (out / "config.toml").write_text(config)
    with torch.no_grad():
        samples = result.G(torch.randn(64, LATENT, generator=torch.Generator().manual_seed(3)).to(next(result.G.parameters()).device))
    save_png(grid(samples.reshape(-1, 1, 28, 28).cpu().numpy()), out / "samples.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="folder holding MNIST/raw (torchvision layout)")
    parser.add_argument("--epochs", type=int, help="passes over the 60,000 training images")
    parser.add_argument("--steps", type=int, help="batches of 100 (instead of --epochs)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write a run folder here for 'gantool eval'")
    args = parser.parse_args()
    if args.epochs is None and args.steps is None:
        args.epochs = 10
    result = train_reference(args.root, epochs=args.epochs, steps=args.steps, device=args.device, seed=args.seed)
    print(f"seed 001 reference: {result.steps} steps in {result.seconds:.1f} s, {result.images_per_second:,.0f} images/s ({args.device})")
    if args.out is not None:
        save_run(result, args.out, args.root)
        print(f"run folder: {args.out}")


if __name__ == "__main__":
    main()
