"""``gantool plugins new NAME --models``: the files of a model-zoo package, one that ships pretrained generators.

The shortest complete example of the ``register_models`` contract in docs/plugins.md: a pyproject
with the ``gantool`` entry point and the .onnx files as package data, a module whose hook registers
``$module/$name.onnx`` as model ``$name``, and a test that samples it through gantool as a user would.
It depends on gantool alone, no torch: a zoo is sampled by onnxruntime.
"""

from __future__ import annotations

PYPROJECT = """
[build-system]
requires = ["setuptools>=70.1"]
build-backend = "setuptools.build_meta"

[project]
name = "$distribution"
version = "0.1.0"
description = "A gantool model zoo: the pretrained generator $name"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["gantool>=0.1"]  # sampling needs onnxruntime only, no torch

[project.optional-dependencies]
test = ["pytest>=8"]

# How gantool finds the models: an entry point in the "gantool" group naming the module with the hook.
[project.entry-points.gantool]
$name = "$module"

[tool.setuptools]
packages = ["$module"]

# The exported generators travel inside the wheel, beside the module that registers them.
[tool.setuptools.package-data]
$module = ["*.onnx"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

MODULE = '''
"""$distribution: pretrained generators for gantool.

gantool imports this module whenever it lists plugins or models, so it only names files:
nothing is read here. Each file is an ONNX generator written by 'gantool export'.
"""

from __future__ import annotations

from pathlib import Path

from gantool import hookimpl

HERE = Path(__file__).resolve().parent


@hookimpl
def register_models(register):
    # register(name, path): 'gantool sample --model $name' and gantool.load("$name") sample this file
    register("$name", HERE / "$name.onnx")
'''

TEST = '''
"""The zoo as gantool sees it: found through the entry point, its file a generator that samples."""

from __future__ import annotations

import gantool
from gantool import Registry

NAME = "$name"
DISTRIBUTION = "$distribution"


def test_found_through_the_entry_point():
    registry = Registry()
    plugin = registry.plugins[DISTRIBUTION]
    assert not plugin.errors, plugin.errors
    assert ("model", NAME) in plugin.components
    assert registry.get("model", NAME).factory.is_file(), "copy your exported G.onnx to $module/$name.onnx"


def test_samples_by_name():
    x = gantool.load(NAME).sample(4, seed=0)
    assert len(x) == 4 and x.min() >= -1 and x.max() <= 1
'''

README = """
# $distribution

A gantool model zoo: the pretrained generator `$name`, sampled without torch.

**Before building it, copy your exported generator in:** train a run, export it
(`gantool eval RUN` first, so the file carries its figures), and copy the file to
`$module/$name.onnx`:

```sh
gantool export RUN --recipe NAME                # writes RUN/G.onnx, with where it came from
cp RUN/G.onnx $module/$name.onnx
pip install .                                   # the .onnx file ships inside the wheel
gantool models                                  # lists $name from $distribution, with its figures
gantool sample --model $name --out samples.png
pytest                                          # the zoo's own tests
```

More models: copy each file beside the first and add a `register(name, HERE / "file.onnx")`
line to `$module/__init__.py`. gantool's `docs/plugins.md` describes the `register_models` hook.
"""

GITIGNORE = """
__pycache__/
*.egg-info/
build/
dist/
"""

TEMPLATES = {
    "pyproject.toml": PYPROJECT,
    "README.md": README,
    ".gitignore": GITIGNORE,
    "$module/__init__.py": MODULE,
    "tests/test_$module.py": TEST,
}
