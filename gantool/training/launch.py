"""``gantool train --nproc N``: start a distributed run on this machine the way torchrun does, and report how it ended.

The processes come from torch.distributed's own elastic launcher (the engine under torchrun)
with a c10d rendezvous on localhost and a port the store picks itself. Each worker runs
``python -m gantool train`` with the same arguments minus ``--nproc``, so a run started here
and one started by ``torchrun --nproc-per-node N -m gantool train`` are the same run.

When one worker fails the launcher stops the others (no rank is left waiting in a collective)
and this module turns the failure into gantool's usual ending: bad input is one line and exit
code 2, anything else names the rank and its error. Workers leave their error in the file
torchrun gives each of them (TORCHELASTIC_ERROR_FILE), with a precise time, so the first
failure is told apart from the ranks that failed only because their peer was gone.

Importing this module does not import torch.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from gantool.core.errors import GantoolError, RankFailedError

QUIET = "GANTOOL_LAUNCHED"  # set for the workers of --nproc: the launcher prints their errors, once


def in_torchrun() -> bool:
    """Whether this process is a worker that torchrun (or --nproc) started."""
    return "TORCHELASTIC_RUN_ID" in os.environ and "RANK" in os.environ


def quiet_worker() -> bool:
    """A worker of --nproc: its one-line errors are printed by the launcher, not by every rank."""
    return os.environ.get(QUIET) == "1" and in_torchrun()


def worker_argv(argv: list[str]) -> list[str]:
    """The command line a worker runs: the launcher's own, without --nproc."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out


def note_failure(exc: BaseException) -> None:
    """In a torchrun worker, leave the error where the launcher looks for it; nothing otherwise."""
    path = os.environ.get("TORCHELASTIC_ERROR_FILE")
    if not path or not in_torchrun():
        return
    now = time.time()
    message = f"{type(exc).__name__}: {exc}"
    bad_input = isinstance(exc, GantoolError)
    data = {
        "message": {  # torchelastic's own layout, so torchrun's report shows it too
            "message": message,
            "extraInfo": {
                "py_callstack": message if bad_input else traceback.format_exc(),
                "timestamp": str(int(now)),
                "gantool": {"time": now, "error": str(exc), "bad_input": bad_input},
            },
        }
    }
    with contextlib.suppress(OSError):  # the exit code still tells the launcher this rank failed
        Path(path).write_text(json.dumps(data), encoding="utf-8")


def _noted(failure: Any) -> dict[str, Any] | None:
    message = failure.error_file_data.get("message")
    if isinstance(message, dict):
        noted = message.get("extraInfo", {}).get("gantool")
        if isinstance(noted, dict):
            return noted
    return None


def first_failure(failures: dict[int, Any]) -> Exception:
    """The error to report for a failed run: the rank that failed first, as gantool's own exception.

    Ranks that noted no error (killed by the launcher, or by a signal) come last.
    """

    def when(item: tuple[int, Any]) -> tuple[float, int]:
        noted = _noted(item[1])
        return (noted["time"] if noted else math.inf, item[0])

    rank, failure = min(failures.items(), key=when)
    noted = _noted(failure)
    if noted is not None and noted["bad_input"]:
        return GantoolError(noted["error"])
    if noted is not None:
        what = failure.error_file_data["message"]["message"]
    elif failure.exitcode < 0:
        what = f"killed by {failure.signal_name()}"
    else:
        what = f"exit code {failure.exitcode}"
    return RankFailedError(f"rank {rank} failed ({what}); every process of the run was stopped")


def launch(nproc: int, argv: list[str]) -> None:
    """Run ``gantool`` with ``argv`` (less --nproc) in ``nproc`` processes on this machine; returns when all are done."""
    if in_torchrun():
        raise GantoolError("--nproc starts its own processes: under torchrun leave it out (torchrun's --nproc-per-node sets the count)")
    import logging
    import tempfile

    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    # The agent logs every start, stop and signal at WARNING, each module's logger at its own level;
    # the outcome is reported below, once.
    for name in list(logging.root.manager.loggerDict):
        if name.startswith(("torch.distributed.elastic", "torch.distributed.launcher")):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    os.environ[QUIET] = "1"  # inherited by the workers, and only by them
    try:
        with tempfile.TemporaryDirectory(prefix="gantool-launch-") as logs:
            config = LaunchConfig(
                min_nodes=1,
                max_nodes=1,
                nproc_per_node=nproc,
                run_id=f"gantool-{uuid.uuid4().hex[:12]}",
                rdzv_backend="c10d",
                rdzv_endpoint="localhost:0",  # the c10d store binds a free port itself
                max_restarts=0,  # a failed GAN run is reported, not silently restarted from scratch
                logs_specs=DefaultLogsSpecs(log_dir=logs),
            )
            try:
                elastic_launch(config, sys.executable)("-m", "gantool", *worker_argv(argv))
            except ChildFailedError as exc:
                raise first_failure(exc.failures) from None
            except SignalException:
                print(
                    "\ninterrupted: every process was stopped; the run keeps its last checkpoint (see --ckpt-every): "
                    f"continue with gantool train --resume RUN --nproc {nproc}",
                    file=sys.stderr,
                )
                raise KeyboardInterrupt from None
    finally:
        os.environ.pop(QUIET, None)
