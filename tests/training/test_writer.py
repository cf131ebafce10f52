"""The background writer: writes in order, one pending write per kind, failures as one-line errors, nothing lost at the end."""

from __future__ import annotations

import threading

import pytest

from gantool.core.errors import GantoolError
from gantool.training import writer
from gantool.training.writer import BackgroundWriter


def test_writes_run_off_the_calling_thread_in_order_and_finish_waits_for_them(tmp_path):
    done: list[tuple[str, str]] = []
    gate = threading.Event()

    def slow() -> None:
        gate.wait(5)
        done.append(("grid", threading.current_thread().name))

    writes = writer.for_folder(tmp_path)
    assert writer.for_folder(tmp_path) is writes  # one writer per run folder
    writes.submit("grid", "a grid", slow)
    writes.submit("checkpoint", "a checkpoint", lambda: done.append(("checkpoint", threading.current_thread().name)))
    assert done == []  # the caller did not wait
    gate.set()
    writer.finish(tmp_path)
    assert [kind for kind, _ in done] == ["grid", "checkpoint"]
    assert all(name.startswith("gantool-writer") for _, name in done)
    assert writer.for_folder(tmp_path) is not writes  # finished: a new run gets a new writer
    writer.finish(tmp_path)


def test_a_new_write_waits_for_the_last_of_its_kind():
    writes, order = BackgroundWriter(), []
    gate = threading.Event()
    writes.submit("checkpoint", "step 1", lambda: (gate.wait(5), order.append(1)))
    threading.Timer(0.2, gate.set).start()
    writes.submit("checkpoint", "step 2", lambda: order.append(2))  # returns only once step 1 is on disk
    assert order == [1]
    writes.close()
    assert order == [1, 2]


def test_a_failed_write_is_one_line_and_stops_the_next_hand_off():
    writes = BackgroundWriter()

    def broken() -> None:
        raise OSError("disk on fire\nsecond line")

    writes.submit("grid", "the sample grid of step 3", broken)
    writes.pending["grid"][1].exception()  # let it fail
    with pytest.raises(GantoolError, match=r"^writing the sample grid of step 3 failed \(OSError: disk on fire\)$"):
        writes.submit("checkpoint", "the checkpoint of step 4", lambda: None)
    writes.close()


def test_a_gantool_error_from_a_write_comes_out_as_it_is(tmp_path):
    writes = writer.for_folder(tmp_path)
    writes.submit("checkpoint", "x", lambda: (_ for _ in ()).throw(GantoolError("cannot write x (No space left on device)")))
    with pytest.raises(GantoolError, match=r"^cannot write x \(No space left on device\)$"):
        writer.finish(tmp_path)
    writer.finish(tmp_path)  # raised once; nothing left
