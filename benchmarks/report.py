"""What every benchmark prints around its figures: when, where, with what, by which command; median and range.

Shared by the scripts in benchmarks/ (they put this folder on sys.path). Nothing here imports torch
unless asked, so a script can print its header before the heavy imports.
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Figure:
    """One measured quantity over repeated runs: every value, in the order measured."""

    name: str
    unit: str = ""
    values: list[float] = field(default_factory=list)
    target: str = ""
    fmt: str = ",.0f"

    def add(self, value: float | None) -> None:
        if value is not None:
            self.values.append(float(value))

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    def cell(self, value: float | None) -> str:
        if value is None:
            return "-"
        text = format(value, self.fmt)
        return f"{text} {self.unit}".strip()

    def row(self) -> list[str]:
        if not self.values:
            return [self.name, "-", "-", "0", self.target]
        spread = f"{format(min(self.values), self.fmt)} – {self.cell(max(self.values))}"
        return [self.name, self.cell(self.median), spread, str(len(self.values)), self.target]

    def as_dict(self) -> dict:
        low, high = (min(self.values), max(self.values)) if self.values else (None, None)
        return {"name": self.name, "unit": self.unit, "values": self.values, "median": self.median, "min": low, "max": high}


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def figures_table(figures: Iterable[Figure]) -> str:
    return markdown_table(["figure", "median", "range (min – max)", "runs", "target"], (f.row() for f in figures))


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def machine(device: str = "cpu") -> str:
    """CPU model and cores; the GPU's name too when the device is CUDA."""
    text = f"{cpu_model()}, {usable_cores()} cores ({os.cpu_count()} in the machine)"
    if device.startswith("cuda"):
        import torch

        text += f"; GPU: {torch.cuda.get_device_name(torch.device(device))}"
    return text


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def command_line() -> str:
    """The command as typed, relative to the repository root, so a reader can rerun it."""
    script = Path(sys.argv[0]).resolve()
    repo = Path(__file__).resolve().parent.parent
    shown = str(script.relative_to(repo)) if script.is_relative_to(repo) else sys.argv[0]
    return shlex.join(["python", shown, *sys.argv[1:]])


def header(device: str = "cpu", extra: Sequence[str] = ()) -> str:
    """The lines a README quote needs: date, machine, software, command, how busy the machine was."""
    import importlib.metadata

    versions = [f"python {platform.python_version()}"]
    for package in ("gantool", "torch", "onnxruntime-gpu", "onnxruntime"):
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    now = datetime.datetime.now(datetime.UTC).astimezone()
    lines = [
        f"date: {now.isoformat(timespec='seconds')}",
        f"machine: {machine(device)}; device: {device}",
        f"software: {', '.join(versions)}",
        f"load average at start (1, 5, 15 min): {load_average()}",
        f"command: {command_line()}",
        *extra,
    ]
    return "\n".join(lines)


class CommandError(RuntimeError):
    """A benchmarked command that failed, with the end of its output."""


def timed(cmd: list[str]) -> float:
    """Run one command to its end as a process; its wall time in seconds, or CommandError with its output."""
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise CommandError(f"{' '.join(cmd)} exited with {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-5000:]}")
    return seconds


def run_line(timer: Callable[[int], float], steps: int) -> tuple[float, float]:
    """(fixed seconds, seconds a step) of ``timer(n)`` from a half run and a whole one, so start-up and other fixed
    costs cancel; measured again when noise makes the whole run no slower than the half."""
    half = steps // 2
    for _ in range(3):
        short, long = timer(half), timer(steps)
        if long > short:
            per_step = (long - short) / (steps - half)
            return short - half * per_step, per_step
        print(f"a {steps}-step run took {long:.2f} s, no longer than a {half}-step one ({short:.2f} s): again", file=sys.stderr)
    raise RuntimeError(f"a {steps}-step run was no slower than a {half}-step one three times: use more --steps")
