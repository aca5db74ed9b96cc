"""Links into the MLflow UI's runs table: the leaderboard view (parent runs, best test/primary_mean first, the
metric columns in view) and single runs, under whatever address the UI is served at.

How MLflow 3.x's UI takes a view (read from its bundle, mlflow/server/js/build/static/js, MLflow 3.17):
- the page is a hash route, `<ui>/#/experiments/<id>/runs?<params>`;
- URL params `searchFilter`, `orderByKey` (a canonical key such as metrics.`test/primary_mean`) and `orderByAsc`
  set the filter and the sort; `workflowType=machine_learning` opens the "Model training" side bar instead of the
  GenAI one. Which columns show is no URL param: by default no metric column is shown at all;
- columns (`selectedColumns`, `columnOrder`, `columnWidths`) travel in a *saved view*: an experiment tag
  `mlflow.sharedViewState.<key>` holding {"name", "createdAt", "updatedAt", "state": JSON of the filter, sort and
  column state}, opened by `?viewStateShareKey=<key>`. The UI ignores the key when a filter or sort param is also
  in the URL, so a saved-view link carries the key alone.

Everything here is pure (strings in, strings out, or a SuiteError for an address that is none); writing the tag
is ui.py's job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

from suite.errors import SuiteError
from suite.tracking import Kind, Tag, search_filter

SAVED_VIEW_TAG = "mlflow.sharedViewState."  # + key: the experiment tag a saved view lives in
LEADERBOARD_KEY = "suite-leaderboard"
RUN_NAME = "attributes.`Run Name`"
DEFAULT_UI = "http://127.0.0.1:5000"  # `suite ui`'s default address


def ui_address(ui_url: str | None = None, port: int | None = None) -> str:
    """The MLflow UI the HTML links to: --ui-url as given, or --port as http://127.0.0.1:PORT, else DEFAULT_UI."""
    if ui_url and port is not None:
        raise SuiteError("--ui-url and --port both name the UI", "give one: --ui-url http://HOST:PORT, or --port PORT")
    if port is not None:
        if not 1 <= port <= 65535:
            raise SuiteError(f"--port {port} is not a TCP port", "give a port from 1 to 65535, e.g. --port 5000")
        return f"http://127.0.0.1:{port}"
    if not ui_url:
        return DEFAULT_UI
    parts = urlsplit(ui_url)
    try:
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number
        valid = False
    if not valid:
        raise SuiteError(f"--ui-url {ui_url} is not an http(s) address", f"write it as http://HOST:PORT, e.g. {DEFAULT_UI}")
    return ui_url.rstrip("/")


def column(kind: str, name: str) -> str:
    """The UI's canonical id of a column / sort key: kind is metrics, params, tags or attributes."""
    return f"{kind}.`{name}`"


@dataclass(frozen=True)
class RunsView:
    """A filter, a sort and the columns to show, as the runs table takes them."""

    search_filter: str
    order_by: str
    ascending: bool
    columns: tuple[str, ...] = ()
    widths: dict[str, int] = field(default_factory=dict)  # column id → px; only these columns are reordered

    def facets(self) -> dict[str, str]:
        """The URL params of the filter and sort (strings, as the UI reads them)."""
        return {"searchFilter": self.search_filter, "orderByKey": self.order_by,
                "orderByAsc": "true" if self.ascending else "false"}

    def state(self) -> dict:
        """The saved view's state: facets plus the column state (order = widths' keys, the run name first)."""
        return {"searchFilter": self.search_filter, "orderByKey": self.order_by, "orderByAsc": self.ascending,
                "selectedColumns": list(self.columns), "columnOrder": list(self.widths),
                "columnWidths": dict(self.widths)}


LEADERBOARD = RunsView(
    search_filter=search_filter(Kind.PARENT),  # suite/tracking.py RunTracker: a parent run per (model, task, mode, …)
    order_by=column("metrics", "test/primary_mean"),
    ascending=False,
    columns=(column("metrics", "test/primary_mean"), column("metrics", "test/primary_std"),
             column("metrics", "n_runs"), column("tags", Tag.METRIC)),
    widths={RUN_NAME: 270, column("metrics", "test/primary_mean"): 160, column("metrics", "test/primary_std"): 170,
            column("metrics", "n_runs"): 80, column("tags", Tag.METRIC): 100},
)


def saved_view_tag(view: RunsView, name: str, now_ms: int, key: str = LEADERBOARD_KEY) -> tuple[str, str]:
    """(tag key, tag value) of an experiment tag that makes `view` a saved view called `name`."""
    envelope = {"name": name, "createdAt": now_ms, "updatedAt": now_ms, "state": json.dumps(view.state())}
    return SAVED_VIEW_TAG + key, json.dumps(envelope)


def runs_url(ui_url: str, experiment_id: str, view: RunsView | None = None, share_key: str | None = None) -> str:
    """The runs table of one experiment: opening the saved view `share_key` (filter, sort and columns), else
    `view`'s filter and sort (no columns: they cannot travel in a URL), else the table as it is."""
    params = {"workflowType": "machine_learning"}
    if share_key:
        params["viewStateShareKey"] = share_key
    elif view is not None:
        params |= view.facets()
    return f"{ui_url.rstrip('/')}/#/experiments/{quote(experiment_id)}/runs?{urlencode(params, quote_via=quote)}"


def run_url(ui_url: str, experiment_id: str, run_id: str) -> str:
    """One run's page."""
    return f"{ui_url.rstrip('/')}/#/experiments/{quote(experiment_id)}/runs/{quote(run_id)}"
