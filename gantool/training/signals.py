"""Ctrl-C during training: the current step finishes and the run saves before it stops."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def stop_at_step_boundary(enabled: bool = True) -> Iterator[dict[str, bool]]:
    """Ctrl-C asks the loop to stop after the current step, so the checkpoint it saves is whole.

    Not in a distributed run: its launcher passes Ctrl-C on to every process, which stop at once
    (ranks stopping at different steps would wait on each other), and the last checkpoint stays.
    """
    flag = {"stop": False}
    if not enabled:
        yield flag
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        if flag["stop"]:  # a second Ctrl-C: the user really wants out now
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        flag["stop"] = True

    try:
        signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield flag
        return
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)
