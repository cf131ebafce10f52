"""``gantool sample``'s options, declared once: the command's flags and ``gantool.sample``'s keywords are made from them."""

from __future__ import annotations

import dataclasses
import inspect
import re

import pytest

from gantool.cli.inference import sample as sample_command
from gantool.core.errors import GantoolError
from gantool.inference.sample_options import SampleOptions
from gantool.inference.sampling import sample


def test_the_command_and_the_function_take_the_declared_options():
    declared = {f.name: f.default for f in dataclasses.fields(SampleOptions)}
    for function in (sample, sample_command):
        params = inspect.signature(function).parameters
        assert {name: p.default for name, p in params.items()} == declared


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": 0}, "--batch-size must be a whole number of at least 1, got 0"),
        ({"interpolate": 1, "out": "x.jpg"}, "--interpolate must be a whole number of at least 2, got 1"),  # numbers first
        (
            {"out": "x.jpg", "device": "tpu"},
            "--out x.jpg must end in .png (a picture), .npy (the raw array), or .gif or .webp (an animated walk)",
        ),
        ({"truncation": 1.5}, "--truncation must be a number in (0, 1]"),
    ],
)
def test_python_refuses_what_the_command_refuses(options, message):
    with pytest.raises(GantoolError, match=re.escape(message)):
        sample(3, **options)
