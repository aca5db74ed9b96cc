import os
from pathlib import Path

from suite import tracking


def test_store_resolution(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking.resolve_uri() == f"sqlite:///{tmp_path / 'runs' / 'mlflow.db'}"
    assert tracking.artifact_root(tracking.resolve_uri()) == tmp_path / "runs" / "artifacts"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///elsewhere.db")
    assert tracking.resolve_uri() == "sqlite:///elsewhere.db"
    assert tracking.resolve_uri("http://server:5000") == "http://server:5000"
    assert tracking.artifact_root("http://server:5000") is None


def test_sqlite_experiment_gets_a_real_artifact_folder(tmp_path):
    uri = f"sqlite:///{tmp_path / 'db' / 'mlflow.db'}"
    client = tracking.client(uri)
    exp = tracking.Experiment(uri, "pretrain").id
    assert tracking.Experiment(uri, "pretrain").id == exp  # get, not create twice
    location = client.get_experiment(exp).artifact_location
    assert location == (tmp_path / "db" / "artifacts" / "pretrain").as_uri() and Path(location[7:]).is_dir()
    writer = tracking.RunWriter(uri, "pretrain", "t", flush_every=2)
    run_id = writer.start(params={"a": {"b": 1}})
    for step in range(5):
        writer.log(step, {"x": float(step)})
    note = tmp_path / "note.txt"
    note.write_text("hi")
    writer.log_artifact(note)
    writer.finish()
    run = client.get_run(run_id)
    assert run.data.params == {"a.b": "1"} and run.info.status == "FINISHED"
    assert [m.value for m in client.get_metric_history(run_id, "x")] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert (tmp_path / "db" / "artifacts" / "pretrain" / run_id / "artifacts" / "note.txt").is_file()


def test_pointing_mlflow_at_a_store_leaves_the_environment_alone(tmp_path, monkeypatch):
    """mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI; after an in-process `reproduce()` a test's (or a user's)
    `suite run` subprocess then wrote to that store instead of its own default."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    uri = f"sqlite:///{tmp_path / 'a' / 'mlflow.db'}"
    assert tracking.configure(uri) == uri
    assert "MLFLOW_TRACKING_URI" not in os.environ
    import mlflow

    assert mlflow.get_tracking_uri() == uri  # in-process mlflow calls still go to the store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///elsewhere.db")
    tracking.configure(uri)
    assert os.environ["MLFLOW_TRACKING_URI"] == "sqlite:///elsewhere.db"


def _attempt(key: str) -> "tracking.TrialRun":
    tags = {tag: "x" for tag in tracking.PARENT_TAGS} | {tracking.Tag.RUN_KEY: key}
    return tracking.TrialRun(f"cnn · t · {key}", tags, {"lr": 1e-3})


def test_end_all_ends_this_drivers_attempts_even_one_a_signal_kept_from_it(tmp_path):
    """A KeyboardInterrupt (Ctrl-C, SIGTERM) can land after the store made an attempt's run and before `start`
    returned it: `end_all` still finds it by the driver's tag. Another driver's running attempt is left alone."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mine, other = tracking.RunTracker(uri, "e"), tracking.RunTracker(uri, "e")
    known, lost, theirs = mine.start(_attempt("a")), mine.start(_attempt("b")), other.start(_attempt("c"))
    del mine.active["b"]  # the interrupt came before start() stored the run id
    mine.end_all("KILLED")
    status = {r: mine.client.get_run(r).info.status for r in (known, lost, theirs)}
    assert status == {known: "KILLED", lost: "KILLED", theirs: "RUNNING"}
