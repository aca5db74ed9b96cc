"""suite.reports.collect: a run key finished twice (a rerun of the same trial) is one row, its newest run."""

from __future__ import annotations

import time

import pytest

from suite.reports.collect import collect

MOUSE = "dummy_mouse_enhancers_ensembl"


@pytest.mark.parametrize("newest_only", [True, False])
def test_collect_keeps_the_newest_finished_run_of_a_run_key(store, newest_only):
    store.add("cnn", MOUSE, 0, 0.40)
    time.sleep(0.01)  # start times are in ms: the second run is the newer one
    newer = store.add("cnn", MOUSE, 0, 0.60)
    runs = collect(store.experiment, store.uri, newest_only=newest_only).runs
    assert list(runs["run_id"]) == [newer]
    assert list(runs["test/accuracy"]) == [0.60]
