"""Projection through the shipped ``digits`` model: real digits it never saw, and its own samples projected back.

    nice -n 5 python benchmarks/projection.py [--n 1000] [--mnist-root /path/with/MNIST/raw] [--steps 200] [--restarts 2] [--threads 1]

The real digits are the first N of the 2,000 embedded digits (MNIST's test split) that the digit classifier
of the perceptual loss (``digits-8k``) holds out: the ``digits`` generator was trained on MNIST's 60,000
training images (its ONNX metadata says data mnist), so neither network of the projection saw them. The
judge of the reconstructions is the classifier trained on MNIST's training split when --mnist-root is
given (it saw none of the 10,000 test digits either), else ``digits-8k`` itself (the report says which).

Random latents: N latents and classes drawn with seed 1, sampled, and projected back with every class tried;
the recovered samples' median pixel MSE is compared with the MSE between two independent samples.

--threads 1 (the default): on the shared 2-core machine one torch thread projected 5x faster than two
(0.27 s against 1.3 s an image, n=40, other jobs running), as gantool.evaluation.projection notes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch

from gantool.core.devices import torch_device
from gantool.core.latents import draw, draw_labels
from gantool.evaluation.classifier import digits_split, load_classifier, to_unit
from gantool.evaluation.project_options import DEFAULT_RESTARTS, DEFAULT_STEPS, ProjectOptions
from gantool.evaluation.projector import run_projection
from gantool.inference.onnx_weights import open_torch_generator
from gantool.plugins.networks import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    parser.add_argument("--restarts", type=int, default=DEFAULT_RESTARTS)
    parser.add_argument("--mnist-root", default=None, help="folder with MNIST/raw: judge with the classifier trained on MNIST train")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (see above)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    G, info, source = open_torch_generator("digits", torch_device(args.device))
    opts = ProjectOptions(steps=args.steps, restarts=args.restarts, seed=0, device=args.device)
    judge = load_classifier(args.mnist_root)
    _, (held_images, held_labels) = digits_split()
    images, labels = to_unit(held_images[: args.n]), held_labels[: args.n]

    start = time.perf_counter()
    real = run_projection(G, info, images, None, opts)
    real_seconds = time.perf_counter() - start
    _, probs = judge.embed(real.reconstructions)
    read_right = float((probs.argmax(1) == labels).mean())

    z = draw(args.n, info.latent_dim, info.latent, 1)
    y = draw_labels(args.n, 10, 1)
    samples = generate(G, z, y)
    start = time.perf_counter()
    back = run_projection(G, info, samples, None, opts)
    back_seconds = time.perf_counter() - start
    others = generate(G, draw(args.n, info.latent_dim, info.latent, 2), draw_labels(args.n, 10, 2))
    between = ((samples - others) ** 2).reshape(args.n, -1).mean(1)
    report = {
        "model": source,
        "n": args.n,
        "steps": args.steps,
        "restarts": args.restarts,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}",
        "real": {
            "images": f"embedded digits held out by digits_split (MNIST test), first {args.n}",
            "mean_pixel_mse": round(float(real.mse.mean()), 4),
            "read_as_input_digit": round(read_right, 4),
            "judge": f"{judge.trained_on} (test accuracy {judge.test_accuracy:.4f})",
            "class_kept_is_input_digit": round(float((real.labels == labels).mean()), 4),
            "seconds_per_image": round(real_seconds / args.n, 3),
        },
        "random_latents": {
            "median_pixel_mse": round(float(np.median(back.mse)), 4),
            "mean_pixel_mse": round(float(back.mse.mean()), 4),
            "mse_between_two_random_samples_mean": round(float(between.mean()), 4),
            "mse_between_two_random_samples_median": round(float(np.median(between)), 4),
            "ratio_median_to_between_mean": round(float(np.median(back.mse) / between.mean()), 4),
            "class_recovered": round(float((back.labels == y).mean()), 4),
            "seconds_per_image": round(back_seconds / args.n, 3),
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
