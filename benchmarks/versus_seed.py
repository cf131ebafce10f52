"""A recipe's whole training process against seed 001's script for N epochs, timed side by side: median and range.

    python benchmarks/versus_seed.py --root DIR --recipe recipes/mnist-cond.toml [--epochs 10] [--rounds 3]

Each round runs both as processes, timed from start to exit (interpreter start, imports, loading
MNIST and writing the run included): ``python benchmarks/seed001_reference.py --root DIR --epochs N``
and ``gantool train --config RECIPE --data-opt root=DIR``. The order alternates from round to
round (seed first, then the recipe first, ...) so that a machine growing busier or quieter weighs
on both alike. The recipe's figures are benchmarks/recipes.py's business; this script answers only
"does it train in no more time than the seed's loop?".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from report import CommandError, Figure, figures_table, header, timed  # noqa: E402

GANTOOL = str(Path(sys.executable).parent / "gantool")


def commands(root: Path, recipe: Path, epochs: int, out: Path, r: int) -> dict[str, list[str]]:
    seed = [sys.executable, str(HERE / "seed001_reference.py"), "--root", str(root), "--epochs", str(epochs)]
    seed += ["--out", str(out / f"seed001-{r}")]
    ours = [GANTOOL, "train", "--config", str(recipe), "--data-opt", f"root={root}", "--run-dir", str(out / f"{recipe.stem}-{r}")]
    return {"seed": seed, "recipe": ours}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, required=True, help="folder holding MNIST/raw (torchvision's layout)")
    parser.add_argument("--recipe", type=Path, required=True, help="the recipe to time, e.g. recipes/mnist-cond.toml")
    parser.add_argument("--epochs", type=int, default=10, help="seed 001's passes over MNIST (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of both (default 3)")
    parser.add_argument("--out-dir", type=Path, default=Path("runs") / "versus-seed", help="where both write their runs")
    args = parser.parse_args()
    if not (args.root / "MNIST" / "raw").is_dir():
        parser.error(f"MNIST/raw is not under {args.root}: pass --root DIR holding MNIST/raw")
    if not args.recipe.is_file():
        parser.error(f"no recipe file {args.recipe}")
    if args.rounds < 1 or args.epochs < 1:
        parser.error("--rounds and --epochs must be at least 1")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    root = args.root.resolve()
    print(header("cpu", [f"{args.rounds} rounds, order alternating; runs in {args.out_dir}"]), flush=True)

    seed = Figure(f"seed 001's script, {args.epochs} epochs, whole process", "s", fmt=".1f")
    ours = Figure(f"`gantool train --config {args.recipe}`, whole process", "s", fmt=".1f")
    ratio = Figure("recipe's wall time / seed's", "×", target="≤ 1", fmt=".2f")
    for r in range(args.rounds):
        cmds = commands(root, args.recipe.resolve(), args.epochs, args.out_dir.resolve(), r)
        order = ["seed", "recipe"] if r % 2 == 0 else ["recipe", "seed"]
        seconds = {}
        for name in order:
            print("$ " + " ".join(cmds[name]), file=sys.stderr, flush=True)
            try:
                seconds[name] = timed(cmds[name])
            except CommandError as exc:
                print(f"\nFAILED: {exc}", file=sys.stderr)
                sys.exit(1)
        seed.add(seconds["seed"])
        ours.add(seconds["recipe"])
        ratio.add(seconds["recipe"] / seconds["seed"])
        print(f"round {r + 1}/{args.rounds}: seed {seconds['seed']:.1f} s, recipe {seconds['recipe']:.1f} s", file=sys.stderr, flush=True)
    print()
    print(figures_table([seed, ours, ratio]))


if __name__ == "__main__":
    main()
