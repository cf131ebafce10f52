"""``gantool plugins new``: write a plugin package that installs with pip and passes its own tests as written.

The package is the shortest complete example of the contract in docs/plugins.md: a
pyproject with the ``gantool`` entry point, a module whose hooks register a generator
and a discriminator under the plugin's name (torch imported inside the factories), and
a test that finds them through the entry point, checks their shapes and trains a few steps.
With ``--models`` it writes a model zoo instead (``gantool.plugins.scaffold_zoo``): pretrained
generators registered with ``register_models`` and shipped as package data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from gantool.core.errors import GantoolError

if TYPE_CHECKING:
    from gantool.plugins.registry import Registry

NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
MAX_NAME_LENGTH = 40
NAME_RULE = "lowercase letters, digits and single dashes, starting with a letter, like tiny-gan"


@dataclass(frozen=True)
class PluginNames:
    component: str  # what users pass to --gen / --disc: "tiny-gan"
    distribution: str  # the pip name and the folder: "gantool-tiny-gan"
    module: str  # the importable module: "gantool_tiny_gan"


def plugin_names(name: str) -> PluginNames:
    """The names a plugin called ``name`` goes by, or a one-line error saying what a name may be."""
    if not NAME_PATTERN.fullmatch(name) or len(name) > MAX_NAME_LENGTH:
        raise GantoolError(f"plugin name {name!r} is not allowed: use {NAME_RULE} (at most {MAX_NAME_LENGTH} characters)")
    if name == "gantool" or name.startswith("gantool-"):
        short = name.removeprefix("gantool-").removeprefix("gantool") or "tiny-gan"
        raise GantoolError(f"give the plugin's own name, gantool- is added to the package name: gantool plugins new {short}")
    return PluginNames(component=name, distribution=f"gantool-{name}", module="gantool_" + name.replace("-", "_"))


def check_free(names: PluginNames, registry: Registry, models: bool = False) -> None:
    """Refuse a name an installed plugin already uses: the new package would clash with it on install."""
    if names.distribution in registry.plugins:
        raise GantoolError(f"a plugin named {names.distribution} is already installed: pick another name")
    for kind in ("model",) if models else ("generator", "discriminator"):
        existing = registry.components[kind].get(names.component)
        if existing is not None:
            raise GantoolError(f"{kind} {names.component!r} already comes from {existing.plugin}: pick another name")


def package_files(names: PluginNames, models: bool = False) -> dict[str, str]:
    """Relative path -> content of every file in the package (a model zoo's with ``models``)."""
    from gantool.plugins import scaffold_zoo

    values = {"name": names.component, "distribution": names.distribution, "module": names.module}
    templates = scaffold_zoo.TEMPLATES if models else TEMPLATES
    return {Template(path).substitute(values): Template(text).substitute(values).lstrip("\n") for path, text in templates.items()}


def new_plugin(name: str, parent: str | Path = ".", registry: Registry | None = None, models: bool = False) -> Path:
    """Write plugin ``name`` into ``parent``/gantool-NAME and return that folder; ``models``: a model zoo
    registering ``NAME`` from an .onnx file the author copies in, rather than a generator and discriminator.

    With a ``registry``, names that installed plugins already use are refused.
    """
    names = plugin_names(name)
    if registry is not None:
        check_free(names, registry, models)
    parent = Path(parent)
    if parent.exists() and not parent.is_dir():
        raise GantoolError(f"{parent} is a file, not a folder: pass a folder with --dir")
    target = parent / names.distribution
    if target.exists():
        raise GantoolError(f"{target} already exists: remove it, pick another name or pass another --dir")
    files = package_files(names, models)
    try:
        target.mkdir(parents=True)
        for relative, text in files.items():
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise GantoolError(f"cannot write the plugin into {target} ({exc.strerror or exc}): pass a writable folder with --dir") from None
    return target


# --- the package's files; $name, $distribution and $module are filled in ------------------------

PYPROJECT = """
[build-system]
requires = ["setuptools>=70.1"]
build-backend = "setuptools.build_meta"

[project]
name = "$distribution"
version = "0.1.0"
description = "A gantool plugin: the $name generator and discriminator"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["gantool[train]>=0.1"]

[project.optional-dependencies]
test = ["pytest>=8"]

# How gantool finds the plugin: an entry point in the "gantool" group naming the module with the hooks.
[project.entry-points.gantool]
$name = "$module"

[tool.setuptools]
packages = ["$module"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

MODULE = '''
"""$distribution: a gantool plugin.

It adds a generator and a discriminator named NAME through gantool's hooks. gantool
imports this module whenever it lists plugins, so it stays light: torch is imported
inside the factories, which run only when a component is used.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from gantool import hookimpl

if TYPE_CHECKING:
    from torch import nn

NAME = "$name"  # what users pass to --gen and --disc


def _positive(value: int, option: str) -> int:
    """Options come from the command line; a ValueError becomes a one-line error."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{option} must be a positive integer, got {value!r}")
    return value


def generator(
    latent_dim: int, data_shape: tuple[int, ...], hidden: int = 128
) -> nn.Module:
    """(N, latent_dim) noise -> (N, *data_shape) samples in [-1, 1]."""
    from torch import nn

    hidden = _positive(hidden, "hidden")
    return nn.Sequential(
        nn.Linear(latent_dim, hidden),
        nn.ReLU(),
        nn.Linear(hidden, math.prod(data_shape)),
        nn.Tanh(),
        nn.Unflatten(1, tuple(data_shape)),
    )


def discriminator(data_shape: tuple[int, ...], hidden: int = 128) -> nn.Module:
    """(N, *data_shape) samples -> (N, 1) logits (gantool's losses take logits)."""
    from torch import nn

    hidden = _positive(hidden, "hidden")
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(math.prod(data_shape), hidden),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden, 1),
    )


@hookimpl
def register_generators(register):
    register(NAME, generator)


@hookimpl
def register_discriminators(register):
    register(NAME, discriminator)


# More hooks, each called with register(name, factory): register_losses,
# register_datasets, register_metrics. gantool's docs/plugins.md describes them.
'''

TEST = '''
"""The plugin as gantool sees it: found, shaped as the contract says, trainable."""

from __future__ import annotations

import pytest
import torch
from gantool import GantoolError, Registry, resolve_config, train

NAME = "$name"
DISTRIBUTION = "$distribution"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry()


def test_found_through_the_entry_point(registry):
    plugin = registry.plugins[DISTRIBUTION]
    assert not plugin.errors, plugin.errors
    assert ("generator", NAME) in plugin.components
    assert ("discriminator", NAME) in plugin.components


@pytest.mark.parametrize("data_shape", [(2,), (1, 28, 28)])
def test_shapes_follow_the_contract(registry, data_shape):
    generator = registry.create("generator", NAME, 16, data_shape)
    discriminator = registry.create("discriminator", NAME, data_shape)
    x = generator(torch.randn(5, 16))
    assert x.shape == (5, *data_shape)
    assert x.min() >= -1 and x.max() <= 1
    assert discriminator(x).shape == (5, 1)


def test_bad_options_are_refused(registry):
    with pytest.raises(GantoolError, match="hidden must be a positive integer"):
        registry.create("generator", NAME, 16, (2,), hidden=0)


def test_trains_a_few_steps(tmp_path):
    settings = {"gen": NAME, "data": "ring", "data_opt": {"n": 256}, "steps": 5}
    settings.update(batch_size=32, device="cpu")
    run = train(resolve_config(settings), run_dir=tmp_path / "run")
    assert (run / "G.safetensors").is_file()
    assert (run / "samples.png").is_file()
'''

README = """
# $distribution

A gantool plugin that adds a generator and a discriminator named `$name`.

```sh
pip install -e .               # gantool finds the plugin through its entry point
gantool plugins                # lists $distribution with generator and discriminator $name
pytest                         # the plugin's own tests
gantool train --gen $name      # --disc defaults to the discriminator named like --gen
gantool train --gen $name --gen-opt hidden=256 --disc-opt hidden=256
```

Edit `$module/__init__.py` to change the networks or to register losses and
datasets too; gantool's `docs/plugins.md` describes every hook.
"""

GITIGNORE = """
__pycache__/
*.egg-info/
build/
dist/
runs/
"""

TEMPLATES = {
    "pyproject.toml": PYPROJECT,
    "README.md": README,
    ".gitignore": GITIGNORE,
    "$module/__init__.py": MODULE,
    "tests/test_$module.py": TEST,
}
