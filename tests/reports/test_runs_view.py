"""The MLflow UI links, as pure strings: the leaderboard's filter, sort and columns, a saved view's experiment tag,
and URLs under any UI address (not only 127.0.0.1:5000)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from suite.errors import SuiteError
from suite.reports.plots import bar_limits
from suite.reports.runs_view import (
    DEFAULT_UI,
    LEADERBOARD,
    LEADERBOARD_KEY,
    column,
    run_url,
    runs_url,
    saved_view_tag,
    ui_address,
)


def _hash_query(url: str) -> tuple[str, dict[str, str]]:
    """(route, params) of a hash-routed URL such as http://h:1/#/experiments/7/runs?a=b."""
    route, _, query = urlsplit(url).fragment.partition("?")
    return route, {k: v[0] for k, v in parse_qs(query).items()}


def test_the_leaderboard_is_the_parent_runs_by_primary_mean_with_its_columns():
    assert LEADERBOARD.search_filter == "tags.`suite.kind` = 'parent'"  # the tag suite/tracking.py RunTracker writes
    assert LEADERBOARD.order_by == "metrics.`test/primary_mean`" and not LEADERBOARD.ascending
    assert {column("metrics", "test/primary_mean"), column("metrics", "n_runs")} <= set(LEADERBOARD.columns)


def test_a_url_with_filter_and_order_follows_the_ui_address():
    url = runs_url("http://gpu-node.lan:8123/", "7", LEADERBOARD)
    assert url.startswith("http://gpu-node.lan:8123/#/experiments/7/runs?")
    route, params = _hash_query(url)
    assert route == "/experiments/7/runs"
    assert params == {"workflowType": "machine_learning", "searchFilter": "tags.`suite.kind` = 'parent'",
                      "orderByKey": "metrics.`test/primary_mean`", "orderByAsc": "false"}


def test_a_saved_view_url_carries_the_key_alone():
    """The UI ignores viewStateShareKey when a filter or sort is in the URL too."""
    _, params = _hash_query(runs_url("http://127.0.0.1:5001", "3", LEADERBOARD, share_key=LEADERBOARD_KEY))
    assert params == {"workflowType": "machine_learning", "viewStateShareKey": LEADERBOARD_KEY}


def test_the_saved_view_tag_holds_filter_order_and_columns():
    key, value = saved_view_tag(LEADERBOARD, "Leaderboard", now_ms=1_700_000_000_000)
    assert key == f"mlflow.sharedViewState.{LEADERBOARD_KEY}"
    envelope = json.loads(value)
    assert envelope["name"] == "Leaderboard" and envelope["createdAt"] == envelope["updatedAt"] == 1_700_000_000_000
    state = json.loads(envelope["state"])  # the UI parses the state string itself
    assert state["searchFilter"] == LEADERBOARD.search_filter and state["orderByKey"] == LEADERBOARD.order_by
    assert state["orderByAsc"] is False
    assert state["selectedColumns"] == list(LEADERBOARD.columns)
    assert state["columnOrder"][0] == "attributes.`Run Name`"
    assert set(state["columnWidths"]) == set(state["columnOrder"])


def test_a_run_link_follows_the_ui_address():
    assert run_url("https://mlflow.example.org", "12", "abc") == "https://mlflow.example.org/#/experiments/12/runs/abc"


def test_bars_start_at_zero():
    low, high = bar_limits(pd.Series([47.0, 60.0]), pd.Series([1.0, 2.0]))
    assert low == 0.0 and 62.0 <= high <= 100.0
    low, _ = bar_limits(pd.Series([-5.0, 30.0]), pd.Series([1.0, None]))  # a negative MCC stays in view
    assert low < -6.0


def test_the_ui_address_comes_from_ui_url_or_port():
    assert ui_address() == DEFAULT_UI == "http://127.0.0.1:5000"
    assert ui_address(port=5123) == "http://127.0.0.1:5123"
    assert ui_address("https://mlflow.example.org/") == "https://mlflow.example.org"
    for bad in ("127.0.0.1:5000", "http://h:port", "ftp://h:1", "http://:5000"):
        with pytest.raises(SuiteError, match="not an http"):
            ui_address(bad)
    with pytest.raises(SuiteError, match="both name the UI"):
        ui_address("http://h:1", 5000)
    with pytest.raises(SuiteError, match="not a TCP port"):
        ui_address(port=0)
