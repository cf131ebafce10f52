"""Re-run every recipe in recipes/*.toml over several seeds and print the figures the README quotes: median and range.

    python benchmarks/recipes.py --root DIR                 # every recipe, seeds 0, 1, 2 (DIR holds MNIST/raw)
    python benchmarks/recipes.py --only ring,grid           # the 2-D recipes, which need no data
    python benchmarks/recipes.py --only ring --seeds 0 --steps 200   # a smoke run (figures not worth quoting)
    python benchmarks/recipes.py --root DIR --only mnist-600 --variant 'no augment=--augment ""'   # also without augmentation

For each recipe and seed, as a user would: ``gantool train --config recipes/X.toml --seed S
--run-dir OUT/X-seedS`` (MNIST and Stacked MNIST recipes also get ``--data-opt root=DIR``), then ``gantool eval
OUT/X-seedS --out OUT/X-seedS/eval.json``. Each recipe's figures (2-D mixtures: modes captured,
share of high-quality samples, reverse KL; MNIST: FID, classes present, precision, recall; Stacked MNIST: modes
of 1,000, reverse KL, confident-channel share) and the
wall time of both commands are printed as the median and the range (min – max) over the seeds,
with every seed's own value, in one markdown table, under the date, machine, software and this
command. Any failing command stops the script with its output and a non-zero exit code.

``--variant 'LABEL=FLAGS'`` (repeatable) runs every recipe once more per variant with FLAGS added to
``gantool train`` (after the recipe, so they win): the same networks, steps and seeds, one setting
changed, e.g. ``--augment ""`` to turn a recipe's augmentation off or ``--data-limit 6000``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import sys
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from report import CommandError, Figure, header, markdown_table, timed  # noqa: E402

GANTOOL = str(Path(sys.executable).parent / "gantool")
RECIPES = HERE.parent / "recipes"
# eval.json figure -> (shown as, format); those a recipe's eval does not report are left out
FIGURES = {
    "modes_captured": ("modes captured", ".0f"),
    "high_quality": ("high-quality samples (share)", ".3f"),
    "reverse_kl": ("reverse KL (lower is better)", ".3f"),
    "fid": ("FID in classifier features (lower is better)", ".2f"),
    "classes_present": ("digit classes present", ".0f"),
    "precision": ("precision", ".3f"),
    "recall": ("recall", ".3f"),
    "class_accuracy": ("class accuracy (conditional: the digit asked for)", ".4f"),
    "class_accuracy_lowest": ("class accuracy of the worst digit", ".4f"),
    "intra_fid": ("intra-class FID, mean over digits", ".2f"),
    "stacked_modes": ("modes (digit triples present)", ".0f"),
    "stacked_reverse_kl": ("reverse KL over triples (lower is better)", ".3f"),
    "confident_channels": ("confident channels (share)", ".3f"),
    "confident_channels_real": ("confident channels of real stacked data (share)", ".3f"),
}
# datasets read from MNIST's files: the run gets --data-opt root=DIR (stacked-mnist then stacks MNIST's training digits,
# VEEGAN's protocol) and the eval --mnist-root DIR
MNIST_DATA = ("mnist", "stacked-mnist")
TOTALS = {"modes_captured": "modes_total", "stacked_modes": "stacked_modes_total"}


def run(cmd: list[str]) -> float:
    """Run one command to its end, saying which; its wall time, or CommandError with its output."""
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    return timed(cmd)


def needs_mnist(recipe: Path) -> bool:
    with recipe.open("rb") as fh:
        return tomllib.load(fh).get("data") in MNIST_DATA


def run_recipe(
    recipe: Path, seeds: list[int], args: argparse.Namespace, variant: tuple[str, list[str]] | None = None
) -> tuple[list[tuple[str | None, Figure]], list[dict]]:
    """Train and evaluate ``recipe`` once per seed, with a variant's extra flags: (eval.json key or None for wall times,
    figure) pairs, and every run's figures."""
    mnist = needs_mnist(recipe)
    train_wall = Figure("`gantool train` wall time", "s", fmt=".0f")
    eval_wall = Figure("`gantool eval` wall time", "s", fmt=".1f")
    figures = {key: Figure(name, fmt=fmt) for key, (name, fmt) in FIGURES.items()}
    reported: set[str] = set()
    runs = []
    for seed in seeds:
        label = "" if variant is None else "-" + "".join(c if c.isalnum() else "-" for c in variant[0])
        run_dir = args.out_dir / f"{recipe.stem}{label}-seed{seed}"
        cmd = [GANTOOL, "train", "--config", str(recipe), "--seed", str(seed), "--run-dir", str(run_dir)]
        cmd += variant[1] if variant is not None else []
        if args.steps is not None:
            cmd += ["--steps", str(args.steps)]
        if args.device is not None:
            cmd += ["--device", args.device]
        if mnist:
            cmd += ["--data-opt", f"root={args.root}"]
        train_wall.add(run(cmd))
        cmd = [GANTOOL, "eval", str(run_dir), "--out", str(run_dir / "eval.json")]
        if mnist:
            cmd += ["--mnist-root", str(args.root)]
        eval_wall.add(run(cmd))
        report = json.loads((run_dir / "eval.json").read_text())
        values = report["figures"]
        if per_class := values.get("class_accuracy_per_class"):
            values["class_accuracy_lowest"] = min(per_class)
        for key, figure in figures.items():
            if key in values:
                reported.add(key)
                figure.add(values[key])  # None (reverse KL with no high-quality sample) is left out of the median
        recorded = {"run_dir": str(run_dir), "train_s": train_wall.values[-1], "figures": values}
        runs.append({"recipe": shown(recipe.stem, variant), "seed": seed, **recorded})
        for key, total in TOTALS.items():
            if total in values:
                figures[key].name = f"{FIGURES[key][0]} (of {values[total]})"
    kept: list[tuple[str | None, Figure]] = [(key, figures[key]) for key in FIGURES if key in reported]
    return [*kept, (None, train_wall), (None, eval_wall)], runs


def shown(name: str, variant: tuple[str, list[str]] | None) -> str:
    return name if variant is None else f"{name} ({variant[0]})"


def variants(texts: list[str], parser: argparse.ArgumentParser) -> list[tuple[str, list[str]] | None]:
    """None (the recipe as it is), then each ``LABEL=FLAGS`` as (label, flags)."""
    found: list[tuple[str, list[str]] | None] = [None]
    for text in texts:
        label, sep, flags = text.partition("=")
        if not sep or not label.strip() or not flags.strip():
            parser.error(f"--variant takes LABEL=FLAGS such as 'no augment=--augment \"\"', got {text!r}")
        found.append((label.strip(), shlex.split(flags)))
    return found


def per_seed(figure: Figure, key: str | None, runs: list[dict], seeds: list[int]) -> str:
    if key is None:  # wall times: one value per seed, in order
        return ", ".join(f"{s}: {figure.cell(v)}" for s, v in zip(seeds, figure.values))
    return ", ".join(f"{r['seed']}: {figure.cell(r['figures'].get(key))}" for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated recipe names (default: every recipes/*.toml)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2: at least 3 to quote a range)")
    parser.add_argument("--root", type=Path, help="folder holding MNIST/raw, for the MNIST recipes")
    parser.add_argument("--out-dir", type=Path, help="where the runs go (default: runs/recipes-DATE-TIME)")
    parser.add_argument("--steps", type=int, help="override every recipe's steps (smoke runs; figures not worth quoting)")
    parser.add_argument("--device", help="pass --device to gantool train (default: the recipe's, else auto)")
    parser.add_argument("--recipes-dir", type=Path, default=RECIPES, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write every run's figures and the medians here")
    parser.add_argument(
        "--variant", action="append", default=[], metavar="LABEL=FLAGS", help="also run every recipe with these train flags (repeatable)"
    )
    parser.add_argument("--variants-only", action="store_true", help="run the --variant runs alone, not the recipes as they are")
    args = parser.parse_args()

    available = {path.stem: path for path in sorted(args.recipes_dir.glob("*.toml"))}
    names = [n.strip() for n in args.only.split(",") if n.strip()] if args.only else list(available)
    if unknown := [n for n in names if n not in available]:
        parser.error(f"no recipe {', '.join(unknown)} in {args.recipes_dir}: there are {', '.join(available)}")
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--seeds takes whole numbers separated by commas, got {args.seeds!r}")
    if not seeds:
        parser.error("--seeds is empty")
    mnist = [n for n in names if needs_mnist(available[n])]
    if mnist and (args.root is None or not (args.root / "MNIST" / "raw").is_dir()):
        where = f"MNIST/raw is not under {args.root}" if args.root else "no --root given"
        parser.error(f"{', '.join(mnist)} train(s) on MNIST and {where}: pass --root DIR holding MNIST/raw, or --only the others")
    if args.root is not None:
        args.root = args.root.resolve()
    if args.out_dir is None:
        args.out_dir = Path("runs") / f"recipes-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    args.out_dir.mkdir(parents=True, exist_ok=True)

    tried = variants(args.variant, parser)
    if args.variants_only:
        if len(tried) == 1:
            parser.error("--variants-only needs at least one --variant")
        tried = tried[1:]
    notes = [f"recipes: {', '.join(names)}; seeds: {', '.join(map(str, seeds))}; runs in {args.out_dir}"]
    notes += [f"variant {v[0]!r}: gantool train ... {shlex.join(v[1])}" for v in tried if v is not None]
    if args.steps is not None:
        notes.append(f"--steps {args.steps} overrides the recipes: a smoke run, not figures to quote")
    if len(seeds) < 3:
        notes.append(f"only {len(seeds)} seed(s): quote ranges over at least 3")
    print(header(args.device or "auto", notes), flush=True)

    rows = []
    every_run = []
    summary: dict[str, list[dict]] = {}
    started = time.perf_counter()
    try:
        for name in names:
            for variant in tried:
                figures, runs = run_recipe(available[name], seeds, args, variant)
                every_run += runs
                summary[shown(name, variant)] = [f.as_dict() for _, f in figures]
                for key, figure in figures:
                    name_cell, median, spread, count, _ = figure.row()
                    rows.append([shown(name, variant), name_cell, median, spread, count, per_seed(figure, key, runs, seeds)])
    except CommandError as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        sys.exit(1)
    print()
    print(markdown_table(["recipe", "figure", "median", "range (min – max)", "seeds", "per seed"], rows))
    print("\n-: not defined for that seed (reverse KL needs at least one high-quality sample); medians leave it out")
    print(f"all recipes: {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "runs": every_run}, indent=2) + "\n")


if __name__ == "__main__":
    main()
