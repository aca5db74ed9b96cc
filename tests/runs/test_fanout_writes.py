"""The fan-out's MLflow writes leave Tune's loop for a thread of their own (suite/runs/fanout.py `_Writes`): made in
the order handed over, all of them made by `close()`, and a failed one raised there, not lost."""

from __future__ import annotations

import threading

import pytest

from suite.runs.fanout import _Writes


def test_writes_are_made_in_order_off_the_callers_thread_and_close_waits_for_all():
    made, threads = [], set()

    def write(i: int) -> None:
        made.append(i)
        threads.add(threading.get_ident())

    writes = _Writes()
    for i in range(200):
        writes(write, i)
    writes.close()
    assert made == list(range(200))
    assert threads and threading.get_ident() not in threads


def test_a_failed_write_is_raised_by_close_and_the_later_writes_are_still_made():
    made = []

    def fail(_: int) -> None:
        raise RuntimeError("store unreachable")

    writes = _Writes()
    writes(made.append, 1)
    writes(fail, 2)
    writes(made.append, 3)
    with pytest.raises(RuntimeError, match="store unreachable"):
        writes.close()
    assert made == [1, 3]
