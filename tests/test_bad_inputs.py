"""The bad-input table: what a new user mistypes or breaks, across every command. Each case must end with a non-zero
exit, no traceback, one message naming the problem, and nothing recorded as FINISHED in the case's own MLflow store.

The commands run in this process through `suite.cli.main` (the console entry point), so each case costs
milliseconds instead of an interpreter start; an exception other than the CLI's own exit is a traceback a user
would see, and fails the case. Cases that need a process of their own (signals, servers) live next to their
commands' tests.
"""

from __future__ import annotations

import sys

import pytest

RUN = ["run", "--models", "kmer_lr", "--tasks", "tf_mouse_2", "--seeds", "1", "--no-ray", "--quiet"]
SWEEP = ["sweep", "--model", "kmer_lr", "--task", "tf_mouse_2", "--trials", "1"]

# (id, argv after `suite`, a phrase the message must hold)
CASES = [
    # run: names
    ("run-unknown-model", ["run", "--models", "nope_model", "--tasks", "tf_mouse_2"], "unknown model 'nope_model'"),
    ("run-unknown-task", ["run", "--models", "cnn", "--tasks", "nope_task"], "unknown task"),
    ("run-unknown-mode", RUN + ["--mode", "nope"], "unknown mode 'nope'"),
    ("run-unknown-profile", RUN + ["--profile", "nope"], "nope"),
    # run: seeds, folds, resources
    ("run-seeds-zero", RUN[:-4] + ["--seeds", "0", "--no-ray"], "--seeds gives no seed"),
    ("run-seeds-text", RUN[:-4] + ["--seeds", "abc", "--no-ray"], "not a count or a list of seeds"),
    ("run-seeds-negative", RUN[:-4] + ["--seeds", "1,-2", "--no-ray"], "seeds must be >= 0"),
    ("run-folds-one", RUN + ["--folds", "1"], "at least 2 folds"),
    ("run-fold-out-of-range", RUN + ["--folds", "2", "--fold", "3"], "--fold 3 needs --folds K"),
    ("run-folds-too-many", RUN + ["--folds", "3000", "--set", "max_train_rows=300"], "validation folds of under 2 rows"),
    ("run-cpus-zero", RUN + ["--cpus-per-trial", "0"], "--cpus-per-trial 0: must be > 0"),
    ("run-cpus-negative", RUN + ["--cpus-per-trial", "-1"], "--cpus-per-trial -1"),
    ("run-gpus-negative", RUN + ["--gpus-per-trial", "-1"], "--gpus-per-trial -1"),
    ("run-concurrent-zero", RUN + ["--max-concurrent", "0"], "--max-concurrent 0"),
    ("run-failures-negative", RUN + ["--max-failures", "-1"], "--max-failures -1"),
    # run: settings (type and range, refused when planned)
    ("set-not-key-value", RUN + ["--set", "lr"], "is not key=value"),
    ("set-unknown", RUN + ["--set", "learning_rate=1e-3"], "unknown setting"),
    ("set-lr-text", RUN + ["--set", "lr=abc"], "lr='abc'"),
    ("set-lr-zero", RUN + ["--set", "lr=0"], "lr=0"),
    ("set-lr-negative", RUN + ["--set", "lr=-1e-3"], "lr=-0.001"),
    ("set-lr-nan", RUN + ["--set", "lr=nan"], "lr=nan"),
    ("set-epochs-negative", RUN + ["--set", "epochs=-1"], "epochs=-1"),
    ("set-epochs-zero", RUN + ["--set", "epochs=0"], "epochs=0"),
    ("set-epochs-fraction", RUN + ["--set", "epochs=1.5"], "epochs=1.5"),
    ("set-batch-zero", RUN + ["--set", "batch_size=0"], "batch_size=0"),
    ("set-eval-batch-zero", RUN + ["--set", "eval_batch_size=0"], "eval_batch_size=0"),
    ("set-warmup-one", RUN + ["--set", "warmup_frac=1"], "warmup_frac=1"),
    ("set-weight-decay-negative", RUN + ["--set", "weight_decay=-0.1"], "weight_decay=-0.1"),
    ("set-patience-zero", RUN + ["--set", "patience=0"], "patience=0"),
    ("set-max-steps-negative", RUN + ["--set", "max_steps=-5"], "max_steps=-5"),
    ("set-grad-clip-negative", RUN + ["--set", "grad_clip=-1"], "grad_clip=-1"),
    ("set-val-fraction-zero", RUN + ["--set", "val_fraction=0"], "val_fraction=0"),
    ("set-val-fraction-one", RUN + ["--set", "val_fraction=1.5"], "val_fraction=1.5"),
    ("set-max-rows-zero", RUN + ["--set", "max_train_rows=0"], "max_train_rows=0"),
    ("set-bucket-text", RUN + ["--set", "bucket=maybe"], "bucket='maybe'"),
    ("set-seed-negative", RUN + ["--set", "seed=-3"], "seed=-3"),
    ("set-l2-grid-negative", RUN + ["--set", "l2_grid=[-1]"], "l2_grid"),
    ("set-solver-unknown", RUN + ["--set", "solver=sgd"], "unknown solver 'sgd'"),
    ("set-recipe-source", RUN + ["--set", "recipe_source=mine"], "recipe_source=mine"),
    ("set-pooling-unknown", RUN + ["--set", "pooling=median"], "pooling=median"),
    ("set-head-unknown", RUN + ["--set", "head=forest"], "head=forest"),
    ("set-network-empty", RUN + ["--set", "network="], "not a network name"),
    ("set-pooling-cannot-feed", ["run", "--models", "cnn", "--tasks", "tf_mouse_2", "--seeds", "1", "--no-ray",
                                 "--quiet", "--set", "pooling=mean"], "mean"),
    ("run-gpus-without-ray-or-gpu", RUN + ["--gpus-per-trial", "1"], "--gpus-per-trial 1"),
    ("run-weights-on-random-init-model", ["run", "--models", "cnn", "--tasks", "tf_mouse_2", "--set", "weights=x.fa"],
     "has no pretrained weights"),
    # outside resources, refused in seconds before anything runs
    ("run-tracking-unknown-kind", RUN + ["--tracking-uri", "foo://x"], "unknown kind of store 'foo'"),
    ("run-tracking-no-host", RUN + ["--tracking-uri", "http://"], "names no host"),
    ("run-tracking-unreachable", RUN + ["--tracking-uri", "http://127.0.0.1:9"], "cannot be reached"),
    ("run-tracking-folder-is-a-file", RUN + ["--tracking-uri", "sqlite:///x.fa/sub/mlflow.db"], "cannot be written"),
    ("pretrain-tracking-unknown-kind", ["pretrain", "--model", "findna", "--fasta", "x.fa", "--tracking-uri", "foo://x"],
     "unknown kind of store"),
    ("reproduce-tracking-unknown-kind", ["reproduce", "T2", "--tracking-uri", "foo://x"], "unknown kind of store"),
    ("report-out-is-a-file", ["report", "--out", "x.fa/report"], "cannot be written"),
    # sweep
    ("sweep-workers-zero", SWEEP + ["--workers", "0"], "--workers 0"),
    ("sweep-trials-negative", SWEEP[:-2] + ["--trials", "-1"], "--trials -1"),
    ("sweep-trials-zero", SWEEP[:-2] + ["--trials", "0"], "--trials 0"),
    ("sweep-cv-one", SWEEP + ["--cv", "1"], "--cv 1"),
    ("sweep-gpus-without-cluster", SWEEP + ["--gpus-per-worker", "1"], "without --address"),
    ("sweep-cluster-with-sqlite", SWEEP + ["--address", "127.0.0.1:6379"], "SQLite Optuna storage"),
    ("sweep-storage-unknown-kind", SWEEP + ["--storage", "foo://bar"], "unknown database kind 'foo'"),
    ("sweep-unknown-model", ["sweep", "--model", "nope_model", "--task", "tf_mouse_2"], "unknown model"),
    ("sweep-unknown-task", ["sweep", "--model", "kmer_lr", "--task", "nope_task"], "unknown task"),
    ("sweep-missing-space", SWEEP + ["--space", "no_such_space.yaml"], "no_such_space.yaml"),
    ("sweep-bad-set", SWEEP + ["--set", "epochs=-1"], "epochs=-1"),
    # pretrain
    ("pretrain-unknown-model", ["pretrain", "--model", "nope_model", "--fasta", "x.fa"], "nope_model"),
    ("pretrain-missing-fasta", ["pretrain", "--model", "findna", "--fasta", "no_such.fa"], "no_such.fa"),
    ("pretrain-unknown-views", ["pretrain", "--model", "findna", "--fasta", "x.fa", "--views", "XYZ"], "XYZ"),
    # report and reproduce
    ("report-unknown-format", ["report", "--format", "docx"], "docx"),
    ("reproduce-unknown-recipe", ["reproduce", "T99"], "T99"),
    ("reproduce-unknown-profile", ["reproduce", "T2", "--profile", "nope", "--dry-run"], "nope"),
    # data, tasks, models
    ("data-verify-unknown", ["data", "verify", "nope_task"], "unknown task"),
    ("data-show-unknown", ["data", "show", "nope_task"], "unknown task"),
    ("data-show-a-group", ["data", "show", "gue"], "is a group of"),
    ("tasks-unknown", ["tasks", "nope_task"], "unknown task 'nope_task'"),
    ("models-fetch-no-hub", ["models", "fetch", "findna"], "has no hub id"),
    ("models-fetch-unknown", ["models", "fetch", "nope_model"], "unknown model"),
    ("models-fetch-two-to-one-folder", ["models", "fetch", "dnabert6,hyenadna", "--to", "x"], "would share one folder"),
    ("run-misspelt-alias", ["run", "--models", "findna,hyenadnaa", "--tasks", "tf_mouse_2"],
     "unknown model 'hyenadnaa'; did you mean 'hyenadna'?"),
    ("data-fetch-unknown", ["data", "fetch", "nope_task"], "unknown task"),
    ("tasks-unknown-format", ["tasks", "all", "--format", "xml"], "unknown table format 'xml'"),
]


@pytest.fixture
def cli(tmp_path, monkeypatch, data_env):
    """Run `suite <argv>` in this process with cwd and the MLflow store in tmp_path; (exit code, output)."""
    from suite.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("COLUMNS", "250")
    (tmp_path / "x.fa").write_text(">a\nACGTACGTACGT\n")

    def invoke(argv: list[str], capsys) -> tuple[int, str]:
        monkeypatch.setattr(sys, "argv", ["suite", *argv])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out = capsys.readouterr()
        return code, out.out + out.err

    return invoke


def finished_trials(tmp_path) -> list:
    store = tmp_path / "mlflow.db"
    if not store.exists():
        return []
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{store}")
    experiments = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(experiments, "attributes.status = 'FINISHED' AND tags.`suite.kind` = 'trial'") \
        if experiments else []


@pytest.mark.parametrize("argv, says", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_clean_line_and_records_nothing(argv, says, cli, capsys, tmp_path):
    code, output = cli(argv, capsys)
    assert code != 0, f"exit 0 for {argv}:\n{output}"
    assert "Traceback" not in output, output
    assert says in output, f"{says!r} not in:\n{output}"
    assert finished_trials(tmp_path) == []


def test_a_pooling_the_model_cannot_feed_stops_at_planning_in_one_line(cli, capsys, tmp_path):
    code, output = cli(["run", "--models", "cnn", "--tasks", "tf_mouse_2", "--seeds", "1", "--no-ray", "--quiet",
                        "--set", "pooling=mean"], capsys)
    line = ("pooling 'mean' reads per-position outputs, but model 'cnn' gives one vector per sequence; "
            "use pooling: cls_mean")
    assert code != 0 and output.strip() == f"skipped cnn on tf_mouse_2: {line}", output
    store = tmp_path / "mlflow.db"
    if store.exists():  # no run of any kind, not only no finished trial
        from mlflow.tracking import MlflowClient

        client = MlflowClient(f"sqlite:///{store}")
        assert client.search_runs([e.experiment_id for e in client.search_experiments()]) == []


def test_the_table_holds_sixty_cases():
    assert len(CASES) >= 60 and len({c[0] for c in CASES}) == len(CASES)
