"""Where an unconditional MNIST generator's FID comes from: its mix of digits, and its shapes between digits.

    python benchmarks/fid_parts.py RUN --root DIR [-n 10000] [--truncation 0.8,0.6]

RUN is a run folder or a G*.safetensors file trained on MNIST; DIR holds MNIST/raw. Everything is measured in
gantool's digit classifier (the one 'gantool eval' uses), against MNIST's 10,000 test digits:

- the generator's FID, its class shares, and the share of its samples whose largest class posterior is below 0.9
  (real digits: well under 1%);
- the FID of real training digits drawn with the generator's class shares: the part of the FID that a perfect
  generator with the same mix of digits would still score (uniformly drawn real digits as the floor);
- the same figures for truncated latents (``--truncation``), where G blends digits if anywhere.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from report import header  # noqa: E402

from gantool.core.errors import GantoolError  # noqa: E402
from gantool.evaluation.classifier import load_classifier, mnist_files  # noqa: E402
from gantool.evaluation.sources import open_source  # noqa: E402
from gantool.evaluation.truncation import parse_psis  # noqa: E402
from gantool.plugins.builtin.formulas import frechet_distance  # noqa: E402

SURE = 0.9  # a sample whose largest class posterior is below this is one the classifier cannot place


def describe(probs: np.ndarray) -> tuple[np.ndarray, float]:
    """Class shares (by the classifier's reading) and the share of samples below ``SURE``."""
    shares = np.bincount(probs.argmax(1), minlength=10) / len(probs)
    return shares, float((probs.max(1) < SURE).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="run folder or G*.safetensors of an unconditional MNIST generator")
    parser.add_argument("--root", type=Path, required=True, help="folder holding MNIST/raw (torchvision's layout)")
    parser.add_argument("-n", type=int, default=10_000, help="samples (default 10,000, as 'gantool eval')")
    parser.add_argument("--truncation", default="", help="also these truncations, comma-separated (e.g. 0.8,0.6)")
    parser.add_argument("--seed", type=int, default=0, help="latent seed (default 0, as 'gantool eval')")
    args = parser.parse_args()
    try:  # gantool eval's own parsing and checks: PSI in (0, 1], where 1.0 already truncates
        psis = parse_psis(args.truncation) if args.truncation else []
    except GantoolError as err:
        parser.error(str(err))
    source = open_source(args.run)
    if source.classes is not None or source.data_shape != (1, 28, 28):
        parser.error(f"{args.run} is not an unconditional generator of 1x28x28 digits")
    classifier = load_classifier(args.root)
    print(
        header("cpu", [f"run: {args.run}; {args.n:,} samples, seed {args.seed}; classifier test accuracy {classifier.test_accuracy:.2%}"])
    )
    test, _ = mnist_files.read_split(args.root, train=False)
    train, train_labels = mnist_files.read_split(args.root, train=True)
    reference, _ = classifier.embed(test)  # embed takes uint8 digits as they are
    rng = np.random.default_rng(args.seed)
    uniform, probs = classifier.embed(train[rng.choice(len(train), args.n, replace=False)])
    print("\n| samples | FID | below 0.9 | class shares 0-9 |\n| --- | --- | --- | --- |")
    shares, unsure = describe(probs)
    print(f"| real training digits, drawn uniformly | {frechet_distance(reference, uniform):.1f} | {unsure:.1%} | {fmt(shares)} |")
    for psi in [None, *psis]:  # None: untruncated
        draw = source.draw if psi is None else source.truncated(psi)
        features, probs = classifier.embed(draw(args.n, args.seed))
        shares, unsure = describe(probs)
        name = "the generator" + ("" if psi is None else f", truncation {psi}")
        print(f"| {name} | {frechet_distance(reference, features):.1f} | {unsure:.1%} | {fmt(shares)} |")
        if psi is None:
            counts = np.round(shares * args.n).astype(int)
            picks = np.concatenate([rng.choice(np.flatnonzero(train_labels == c), k) for c, k in enumerate(counts)])
            mixed, probs = classifier.embed(train[picks])
            print(
                f"| real training digits, drawn with the generator's class shares | {frechet_distance(reference, mixed):.1f} "
                f"| {describe(probs)[1]:.1%} | (the generator's) |"
            )


def fmt(shares: np.ndarray) -> str:
    return " ".join(f"{s:.3f}" for s in shares)


if __name__ == "__main__":
    main()
