"""gantool's lazy public names: the ones mypy and editors see (the TYPE_CHECKING imports) are the ones loaded on first use."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import gantool


def typed_names() -> dict[str, str]:
    tree = ast.parse(Path(gantool.__file__).read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    return {alias.asname or alias.name: node.module for node in block.body if isinstance(node, ast.ImportFrom) for alias in node.names}


def test_the_typed_names_are_the_lazy_ones():
    assert typed_names() == gantool._LAZY


def test_import_stays_lazy_and_torch_free():
    code = "import sys, gantool; gantool.load; gantool.sample; print([m for m in ('torch', 'gantool.training.run') if m in sys.modules])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
