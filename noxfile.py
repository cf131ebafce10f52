"""Project tasks: `nox -s tests` (the fast tier), `nox -s tests-full` (every test), `nox -s lint`, `nox -s typecheck`,
`nox -s light`, `nox -s browser`, `nox -s recipes`."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "light"]
nox.options.default_venv_backend = "venv"

ROOT = Path(__file__).parent
# The suite on every core; a module's tests stay on one worker, so its module-scoped trained runs are made once.
PARALLEL = ("-n", "auto", "--dist", "loadscope")
# Everything the tests exercise: gantool with its training extra and the plugin packages.
LOCAL_PACKAGES = ["-e", ".[train,test]", "-e", "tests/plugin_pkg", "-e", "plugins/gantool-dcgan", "-e", "plugins/gantool-losses"]
TRAINING_ONLY = ("torch", "torchvision", "onnx", "onnxscript", "safetensors")
PRETRAINED = "gantool.plugins.builtin.pretrained"  # the built-in module registering gantool/models/*.onnx
SAMPLE_ARGS = {"digits": ("--label", "7")}  # how the light session samples a shipped model, beyond --model NAME
LIGHT_WHEEL_MB = 5  # the light install's own wheel: code, templates and the shipped models
BROWSER_TESTS = "tests/inference/test_web_browser.py"
SYSTEM_PACKAGES = {"chromium": "chromium", "npm": "npm"}  # the browser tests' commands, by Debian package


@nox.session
def tests(session: nox.Session) -> None:
    """The fast tier of the test suite, against real torch, real entry points and real onnxruntime; pytest's
    testpaths include plugins/*/tests, so the plugin packages' own tests run too."""
    session.install(*LOCAL_PACKAGES)
    session.run("pytest", *PARALLEL, *session.posargs)


@nox.session(name="tests-full")
def tests_full(session: nox.Session) -> None:
    """Every test: the fast tier and the slow one (torchrun, kill -9, pip builds, torch.compile, long training),
    with hypothesis exploring random examples."""
    if os.environ.get("CI") == "true":  # CI installs what the browser tests need, which fail there without it
        system_packages(session)
    session.install(*LOCAL_PACKAGES)
    session.run("pytest", "--full", *PARALLEL, *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("mypy>=1.10", "-e", ".[train]")
    session.run("mypy")


@nox.session
def light(session: nox.Session) -> None:
    """`pip install gantool` alone samples an export and every shipped model: train and export with the full install,
    then list and sample in a fresh venv without torch."""
    session.install(".[train]")
    work = Path(session.create_tmp())
    session.chdir(work)
    session.run("gantool", "train", "--data", "ring", "--data-opt", "n=2000", "--steps", "50", "--batch-size", "50", "--device", "cpu")
    session.run("gantool", "export")
    session.run("gantool", "sample", "--runtime", "torch", "--seed", "1", "--out", "torch.npy", "--device", "cpu")

    venv = work / "light-venv"
    session.run("python", "-m", "venv", "--clear", str(venv))
    bin_dir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    python, gantool = str(bin_dir / "python"), str(bin_dir / "gantool")
    session.run(python, "-m", "pip", "install", "--quiet", str(ROOT), external=True)
    absent = f"import importlib.util as u, sys; f = [m for m in {TRAINING_ONLY!r} if u.find_spec(m)]; sys.exit(f'has {{f}}' if f else 0)"
    session.run(python, "-c", absent, external=True)  # the light install has no torch, no onnx
    session.run(gantool, "info", external=True)
    session.run(gantool, "sample", "--seed", "1", "--out", "onnx.npy", external=True)
    session.run(gantool, "sample", "--interpolate", "8", "--out", "walks.png", external=True)
    session.run(gantool, "sample", "--interpolate", "8", "--out", "walk.gif", external=True)
    session.run(gantool, "export", "digits", "--web", "page", external=True)  # the page's templates ship in the wheel
    light_wheel(session, work)
    same = "import numpy as np; d = abs(np.load('onnx.npy') - np.load('torch.npy')).max(); print('|onnx - torch| <=', d); assert d < 1e-5"
    session.run(python, "-c", same, external=True)
    shipped_models(session, gantool)


def light_wheel(session: nox.Session, work: Path) -> None:
    """gantool's own wheel stays under LIGHT_WHEEL_MB."""
    wheels = work / "wheel"
    session.run("python", "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(ROOT))
    size = next(wheels.glob("gantool-*.whl")).stat().st_size / 1e6
    if size > LIGHT_WHEEL_MB:
        session.error(f"the gantool wheel is {size:.1f} MB, over the light install's {LIGHT_WHEEL_MB} MB")
    session.log(f"the gantool wheel is {size:.2f} MB")


def shipped_models(session: nox.Session, gantool: str) -> None:
    """In the light venv: `gantool models` lists every gantool/models/*.onnx of this checkout (so the wheel carries
    them) and `gantool sample --model NAME` samples each (digits with --label 7); any registered file that cannot be
    sampled fails the session."""
    session.run(gantool, "models", external=True)
    listed = session.run(gantool, "models", "--json", external=True, silent=True, stderr=subprocess.DEVNULL)
    rows = [row for row in json.loads(str(listed)) if row["plugin"] == PRETRAINED]
    registered = sorted(row["name"] for row in rows)
    shipped = sorted(path.stem for path in (ROOT / "gantool" / "models").glob("*.onnx"))
    if registered != shipped:
        session.error(f"gantool/models holds {shipped} but the installed package registers {registered}: is models/*.onnx package data?")
    broken = [f"{row['name']}: {row['error']}" for row in rows if row["error"]]
    if broken:
        session.error("shipped models that do not load: " + "; ".join(broken))
    for name in registered:
        session.run(gantool, "sample", "--model", name, *SAMPLE_ARGS.get(name, ()), "--seed", "0", "--out", f"{name}.png", external=True)
    session.log(f"sampled the shipped models {registered or '(none shipped yet)'} without torch")


@nox.session
def browser(session: nox.Session) -> None:
    """The web page in headless Chromium (tests/inference/test_web_browser.py): installs Debian's chromium and npm
    when they are missing (as root, as CI runs), then runs those tests with CI=true, so a missing browser fails."""
    system_packages(session)
    session.install(*LOCAL_PACKAGES)
    session.run("pytest", "--full", BROWSER_TESTS, *session.posargs, env={"CI": "true"})


def system_packages(session: nox.Session) -> None:
    """Debian's chromium and npm, installed with apt-get when missing (as root, as CI runs)."""
    missing = [package for command, package in SYSTEM_PACKAGES.items() if shutil.which(command) is None]
    if missing:
        if os.geteuid() != 0:
            session.error(f"the browser tests need {', '.join(missing)}: sudo apt-get install -y {' '.join(missing)}")
        session.run("apt-get", "update", "-qq", external=True)
        session.run("apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, external=True)


@nox.session
def recipes(session: nox.Session) -> None:
    """Re-run every recipe on three seeds and print the figures the README quotes:
    `nox -s recipes -- --root DIR_WITH_MNIST` (see benchmarks/recipes.py for --only, --seeds, --steps)."""
    session.install("-e", ".[train]")
    session.run("python", "benchmarks/recipes.py", *session.posargs)
