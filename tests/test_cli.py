"""The command line as a user runs it: real subprocesses of `python -m suite`."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import write_csv_gz


def suite(*args, env=None, cwd=None):
    full_env = {**os.environ, "COLUMNS": "250", **(env or {})}
    return subprocess.run([sys.executable, "-m", "suite", *args], capture_output=True, text=True, env=full_env, cwd=cwd)


def test_tasks_all_lists_every_task_with_data_status(data_env):
    out = suite("tasks", "all")
    assert out.returncode == 0, out.stderr
    assert "39 tasks" in out.stderr  # piped: stdout is the table alone, the count a note on stderr
    assert "human_nontata_promoters" in out.stdout and "mtcdna_8k" in out.stdout
    line = next(l for l in out.stdout.splitlines() if "gue_h3k4me3" in l)
    assert "dev, test" in line and "29439/3680/3680" in line


def test_piped_tasks_are_whole_names_one_row_a_line():
    from suite.tasks import all_tasks

    out = suite("tasks", "all", env={"COLUMNS": "80"})
    lines = out.stdout.splitlines()
    assert lines[0].split("\t")[:2] == ["name", "benchmark"]
    assert [line.split("\t")[0] for line in lines[1:]] == list(all_tasks())  # every full name, grep/cut-able
    assert "…" not in out.stdout and "┃" not in out.stdout


def test_tasks_as_json_parse_and_name_every_task():
    from suite.tasks import all_tasks

    out = suite("tasks", "genomic_benchmarks", "--format", "json")
    rows = json.loads(out.stdout)
    assert [r["name"] for r in rows] == [t for t, spec in all_tasks().items() if spec.benchmark == "genomic_benchmarks"]
    assert set(rows[0]) == {"name", "benchmark", "classes", "metric", "train/dev/test", "median bp", "data"}
    assert suite("tasks", "all", "--format", "xml").returncode == 2


def test_unknown_task_is_one_line_and_exit_code_2():
    out = suite("tasks", "nope_task")
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0
    assert out.stderr.startswith("error: unknown task 'nope_task'")


def test_data_verify_passes_on_present_data_and_says_missing(data_env):
    out = suite("data", "verify", "gue_emp,human_enhancers_cohn")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "CORRUPT" not in out.stdout and "MISSING" in out.stdout
    assert suite("data", "verify", "gue_h3", "--strict").returncode == 1  # train is missing


def test_data_verify_exits_1_on_corrupt_data(tmp_path):
    write_csv_gz(tmp_path / "gue" / "EMP" / "H3" / "test.csv.gz", "sequence,label", [("ACGT", 1)])
    out = suite("data", "verify", "gue_h3", "--data-dir", str(tmp_path), env={"SUITE_DATA_DIR": ""})
    assert out.returncode == 1 and "CORRUPT" in out.stdout and "official size is 1497" in out.stdout


def test_data_show_prints_counts_balance_and_histogram(data_env):
    out = suite("data", "show", "human_nontata_promoters")
    assert out.returncode == 0, out.stderr
    assert "4119 (45.6%)" in out.stdout and "length histogram" in out.stderr and "missing" in out.stdout


@pytest.mark.parametrize("args", [[], ["tasks", "--help"], ["data", "verify", "--help"], ["data", "show", "--help"]])
def test_help_everywhere(args):
    out = suite(*args, "--help") if args else suite("--help")
    assert out.returncode == 0 and "Usage" in out.stdout


@pytest.mark.parametrize("command", [["run"], ["reproduce"], ["report"], ["models"], ["data", "fetch"]])
def test_help_shows_no_type_after_a_flag_and_says_what_a_repeated_option_takes(command):
    out = suite(*command, "--help")
    assert out.returncode == 0, out.stderr
    assert "<bool>" not in out.stdout and "list[str]" not in out.stdout
    if command in (["run"], ["reproduce"]):
        assert "KEY=VALUE" in out.stdout and "--dry-run" in out.stdout


def test_listing_tasks_imports_no_heavy_library():
    code = (
        "import sys\nfrom suite.cli import app\nfrom typer.testing import CliRunner\n"
        "r = CliRunner().invoke(app, ['tasks', 'all'])\nassert r.exit_code == 0, r.output\n"
        "heavy = [m for m in ('torch', 'ray', 'mlflow', 'optuna', 'sklearn', 'pandas') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


HEAVY = ("torch", "transformers", "ray", "mlflow", "optuna", "sklearn", "pandas")


def test_importing_the_cli_imports_no_heavy_library():
    """`suite --help` and every listing start fast because suite.cli imports each library where it is used."""
    code = f"import sys\nimport suite.cli\nprint([m for m in {HEAVY!r} + ('numpy',) if m in sys.modules])\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_listing_recipes_imports_no_heavy_library_and_locates_no_data():
    """`suite reproduce --list` plans the recipes without their runs: no torch (pretraining job names come from
    suite/pretrain/config.py), no data located, hence no download host probed."""
    code = (
        "import sys\nfrom suite.cli import app\nfrom typer.testing import CliRunner\n"
        "r = CliRunner().invoke(app, ['reproduce', '--list', '--profile', 'paper'])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert '= 200 trials' in r.output, r.output\n"
        f"print([m for m in {HEAVY!r} + ('suite.runs.plan', 'suite.data.sources') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_explain_names_the_source_of_every_setting_and_trains_nothing(data_env, tmp_path):
    out = suite("run", "--models", "findna", "--tasks", "tf_mouse_2", "--explain", "--set", "lr=1e-4", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = [line.split("\t") for line in out.stdout.splitlines()]
    assert lines[0] == ["model", "task", "setting", "value", "source"]
    got = {setting: (value, source) for model, task, setting, value, source in lines[1:]
           if (model, task) == ("findna", "tf_mouse_2")}
    assert len(got) == len(lines) - 1 and all(source for _, source in got.values())
    assert {"epochs", "lr", "patience", "max_train_rows", "seed", "size", "weights", "pooling", "model.layers"} <= set(got)
    assert got["lr"] == ("0.0001", "--set") and got["batch_size"] == ("64", "model card findna: training.quick")
    assert got["model.max_len"] == ("101", "task card tf_mouse_2: max_bp")
    assert not (tmp_path / "runs").exists()  # no store, no trial folder: nothing ran


def test_models_show_gives_every_setting_of_each_profile_and_mode_with_its_source():
    out = suite("models", "show", "findna", "--task", "gue_h3")
    assert out.returncode == 0, out.stderr
    rows = [line.split("\t") for line in out.stdout.splitlines()[1:]]
    got = {(profile, mode, setting): (value, source) for profile, mode, setting, value, source in rows}
    assert {key[:2] for key in got} == {(p, m) for p in ("quick", "paper") for m in ("finetune", "probe")}
    assert all(source for _, source in got.values())
    assert got["quick", "finetune", "lr"] == ("0.002", "model card findna: training.quick")
    assert got["paper", "finetune", "lr"] == ("0.0005", "task card gue_h3 (paper recipe)")
    assert got["paper", "probe", "grad_clip"] == ("0.5", "model card findna: training.probe")
    assert got["paper", "finetune", "weights"] == ("card", "profile paper")


# ---- refusals: bad input is one line naming the problem and the fix, a non-zero exit, no traceback ----------------

def refused(out, *phrases, code=2):
    """The house rule for bad input: exit code `code`, no traceback, one line on stderr naming the problem."""
    both = out.stdout + out.stderr
    assert out.returncode == code, both
    assert "Traceback" not in both, both
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    return lines[0]


def free_port() -> int:
    """A local port nothing listens on (bound then released), for an unreachable server."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def not_a_folder(tmp_path):
    """A path that cannot be created even by root: its parent is a file."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    return blocker / "sub"


COMMANDS = {  # every command that writes to the tracking store, with what else it needs to get that far
    "run": ["run", "--models", "cnn", "--tasks", "tf_mouse_2", "--seeds", "1"],
    "sweep": ["sweep", "--model", "cnn", "--task", "tf_mouse_2"],
    "reproduce": ["reproduce", "T2"],
    "report": ["report"],
    "pretrain": ["pretrain", "--model", "findna", "--fasta", "corpus.fa"],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_a_malformed_tracking_uri_is_refused_by_every_command(command, tmp_path):
    out = suite(*COMMANDS[command], "--tracking-uri", "foo://x", cwd=tmp_path)
    refused(out, "--tracking-uri foo://x", "unknown kind of store 'foo'", "sqlite:///")
    assert not (tmp_path / "runs").exists()  # refused before anything was created or recorded


@pytest.mark.parametrize("uri, says", [
    ("sqlite:/relative-with-one-slash?", "is not a SQLite store URI"),
    ("http://", "names no host"),
    ("http://127.0.0.1:port", "is not a valid URI"),
])
def test_malformed_tracking_uris_name_the_fix(uri, says, tmp_path):
    refused(suite("report", "--tracking-uri", uri, cwd=tmp_path), uri, says)


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_an_unreachable_tracking_server_is_refused_in_seconds_before_the_grid(command, tmp_path):
    import time

    uri = f"http://127.0.0.1:{free_port()}"
    start = time.monotonic()
    out = suite(*COMMANDS[command], "--tracking-uri", uri, cwd=tmp_path)
    refused(out, f"tracking server {uri} cannot be reached", "Connection refused", "suite server")
    assert time.monotonic() - start < 60  # not MLflow's minutes of retries (the probe itself waits at most 5 s)


def test_a_sqlite_store_in_a_folder_that_cannot_be_created_is_refused_naming_it(tmp_path):
    folder = not_a_folder(tmp_path)
    out = suite("report", "--tracking-uri", f"sqlite:///{folder}/mlflow.db", cwd=tmp_path)
    refused(out, f"tracking store folder {folder} cannot be written", "Not a directory")


def test_an_optuna_storage_that_cannot_be_used_is_refused_in_seconds(tmp_path):
    pytest.importorskip("psycopg")
    cases = [
        ("foo://bar", "unknown database kind 'foo'"),
        ("not a url", "is not a database URL"),
        (f"postgresql://user:secret@127.0.0.1:{free_port()}/optuna", "Connection refused"),
        (f"sqlite:///{not_a_folder(tmp_path)}/optuna.db", "Optuna storage folder"),
    ]
    for storage, says in cases:
        out = suite(*COMMANDS["sweep"], "--storage", storage, "--tracking-uri", f"sqlite:///{tmp_path}/m.db",
                    cwd=tmp_path)
        line = refused(out, says)
        assert "secret" not in line  # a password is never printed


def test_a_file_that_is_not_a_database_is_refused_as_optuna_storage(tmp_path):
    (tmp_path / "optuna.db").write_text("not a database")
    out = suite(*COMMANDS["sweep"], "--storage", "sqlite:///optuna.db", "--tracking-uri", "sqlite:///m.db",
                cwd=tmp_path)
    refused(out, "Optuna storage sqlite:///optuna.db cannot be used", "file is not a database")


@pytest.mark.parametrize("flag, value, says", [
    ("--workers", "0", "--workers 0: needs at least 1 worker"),
    ("--trials", "-1", "--trials -1: a study needs at least 1 trial"),
    ("--trials", "0", "--trials 0: a study needs at least 1 trial"),
])
def test_sweep_counts_that_mean_nothing_are_refused(flag, value, says, tmp_path):
    refused(suite(*COMMANDS["sweep"], flag, value, cwd=tmp_path), says)


def test_a_search_space_naming_an_unknown_setting_is_refused_before_any_trial(data_env, tmp_path):
    (tmp_path / "space.yaml").write_text("description: typo\nspace:\n  lr: {float: [0.001, 0.01]}\n"
                                         "  learning_rate: {float: [0.001, 0.01]}\n")
    out = suite(*COMMANDS["sweep"], "--space", "space.yaml", "--storage", "sqlite:///optuna.db",
                "--tracking-uri", "sqlite:///mlflow.db", cwd=tmp_path)
    refused(out, "search space space.yaml: 'learning_rate' is not a setting of `suite run`", "model.<backbone key>")
    assert "sweep trial" not in out.stderr and not (tmp_path / "optuna.db").exists()  # no trial, no study


def test_a_search_space_error_with_brackets_prints_them_literally(tmp_path):
    (tmp_path / "space.yaml").write_text("description: x\nspace:\n  lr: {float: [0.1, 0.01]}\n")
    out = suite(*COMMANDS["sweep"], "--space", "space.yaml", "--storage", "sqlite:///optuna.db",
                "--tracking-uri", "sqlite:///mlflow.db", cwd=tmp_path)
    refused(out, "'lr' needs [low, high] with low < high", "got [0.1, 0.01]")  # Rich markup ate these before


def test_a_sweep_whose_every_trial_failed_exits_non_zero_with_one_line_per_trial(data_env, tmp_path):
    (tmp_path / "space.yaml").write_text("description: always fails\nspace:\n  batch_size: {choice: [0]}\n")
    out = suite("sweep", "--model", "kmer_lr", "--task", "tf_mouse_2", "--cv", "2", "--space", "space.yaml",
                "--set", "epochs=1", "--set", "max_train_rows=400", "--trials", "2", "--storage", "sqlite:///optuna.db",
                "--tracking-uri", "sqlite:///mlflow.db", cwd=tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr and "Warning" not in out.stderr, out.stderr
    failed = [line for line in out.stderr.splitlines() if line.startswith("sweep trial #")]
    assert len(failed) == 5 and all("batch_size=0" in line for line in failed), out.stderr
    assert "error: every trial of study kmer_lr__tf_mouse_2 failed (5; last: setting batch_size=0" in out.stderr
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    runs = client.search_runs([client.get_experiment_by_name("dna-suite-sweeps").experiment_id])
    assert runs and all(r.info.status == "FAILED" for r in runs)  # nothing recorded as FINISHED
    assert all("batch_size=0" in r.data.tags["suite.error"] for r in runs if r.data.tags["suite.kind"] == "sweep_trial")


def test_unwritable_output_cache_run_storage_and_checkpoint_folders_are_named(tmp_path):
    folder = not_a_folder(tmp_path)
    store = ["--tracking-uri", f"sqlite:///{tmp_path}/store/mlflow.db"]
    refused(suite("report", "--out", str(folder), *store, cwd=tmp_path), f"output folder {folder} cannot be written",
            "pass --out a folder you can write")
    refused(suite("reproduce", "T2", "--out", str(folder), *store, cwd=tmp_path), f"output folder {folder}")
    refused(suite(*COMMANDS["pretrain"], "--out", str(folder), *store, cwd=tmp_path), f"checkpoint folder {folder}")
    refused(suite(*COMMANDS["run"], *store, env={"SUITE_CACHE_DIR": str(folder)}, cwd=tmp_path),
            f"encoding cache {folder} cannot be written", "set SUITE_CACHE_DIR")
    (tmp_path / "runs").write_text("a file where the run storage goes")
    refused(suite(*COMMANDS["run"], *store, cwd=tmp_path), f"run storage {tmp_path / 'runs' / 'ray'} cannot be written")


def test_gpus_per_trial_without_a_gpu_or_with_no_ray_is_refused(tmp_path):
    import torch

    out = suite(*COMMANDS["run"], "--gpus-per-trial", "1", "--no-ray", cwd=tmp_path)
    refused(out, "--gpus-per-trial 1 with --no-ray", "drop --gpus-per-trial")
    refused(suite("reproduce", "T2", "--gpus-per-trial", "0.5", "--no-ray", cwd=tmp_path), "--gpus-per-trial 0.5 with --no-ray")
    if torch.cuda.is_available():
        return  # the no-GPU refusal needs a machine without one
    out = suite(*COMMANDS["run"], "--gpus-per-trial", "1", cwd=tmp_path)
    refused(out, "--gpus-per-trial 1: no GPU here", "drop --gpus-per-trial or pass --address of a cluster with GPUs")
    assert not (tmp_path / "runs").exists()


def test_pretrain_without_a_corpus_or_with_an_unknown_setting_is_refused(tmp_path):
    refused(suite("pretrain", "--model", "findna", "--out", str(tmp_path / "c"), cwd=tmp_path),
            "no pretraining corpus given", "--fasta GENOME, --tasks TASKS")
    refused(suite("pretrain", "--model", "findna", "--fasta", "x.fa", "--set", "learning_rate=1", cwd=tmp_path),
            "'learning_rate' is not a pretraining setting", "window_len")
    assert not (tmp_path / "c").exists() and not (tmp_path / "runs").exists()


def test_weights_on_a_model_without_pretrained_weights_is_refused(tmp_path):
    out = suite("run", "--models", "cnn,kmer_lr", "--tasks", "tf_mouse_2", "--set", "weights=/somewhere", cwd=tmp_path)
    refused(out, "model cnn has no pretrained weights", "drop --set weights")
    out = suite("run", "--models", "deepbind", "--tasks", "tf_mouse_2", "--set", "weights=card", "--dry-run",
                cwd=tmp_path)
    refused(out, "model deepbind has no pretrained weights")


def test_data_show_of_a_group_says_it_is_a_group():
    line = refused(suite("data", "show", "gue"), "'gue' is a group of", "not one task", "suite tasks gue")
    assert "did you mean" not in line


# ---- names users say, and what is missing said once ------------------------------------------------------------

def test_offline_run_says_what_is_missing_once_with_the_command_that_fetches_it(tmp_path):
    env = {"SUITE_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path), "SUITE_OFFLINE": "1"}
    out = suite("run", "--models", "findna,hyenadna", "--tasks", "genomic_benchmarks", env=env, cwd=tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    assert lines[0].startswith("hyenadna → hyenadna_tiny_1k (the card FinDNA's Tables 1-2 compare with")
    assert lines[1] == "not on this machine: 8 tasks' data; nothing can run"
    assert "all 8 tasks of --tasks genomic_benchmarks" in lines[2] and str(tmp_path / "data") in lines[2]
    assert lines[-1] == "  get them (online): suite data fetch genomic_benchmarks"
    assert len(lines) == 4 and "skipped" not in out.stdout and "$SUITE_DATA_DIR" not in out.stdout + out.stderr


def test_offline_paper_run_names_missing_weights_too_and_no_unset_variable(tmp_path):
    env = {"SUITE_DATA_DIR": "", "HOME": str(tmp_path), "SUITE_OFFLINE": "1", "SUITE_MODELS_DIR": "",
           "HF_HUB_CACHE": str(tmp_path / "hf")}
    out = suite("run", "--models", "findna,hyenadna", "--tasks", "genomic_benchmarks", "--profile", "paper",
                "--dry-run", env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    said = out.stdout + out.stderr
    assert "8 tasks' data and 2 models' weights" in said and "SUITE_DATA_DIR unset" in said
    assert "suite data fetch genomic_benchmarks && suite models fetch hyenadna_tiny_1k" in said
    assert "suite pretrain --model findna --profile paper" in said and "$SUITE_DATA_DIR" not in said
    assert max(len(line) for line in said.splitlines()) < 300


def test_data_fetch_offline_says_how_in_one_row_per_task_and_exits_1(tmp_path):
    env = {"SUITE_DATA_DIR": "", "HOME": str(tmp_path), "SUITE_OFFLINE": "1"}
    out = suite("data", "fetch", "human_ocr_ensembl,gue_h3,prom_core_tata", env=env)
    assert out.returncode == 1, out.stderr
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in out.stdout.splitlines()[1:]}
    assert rows["prom_core_tata"][0] == "present"  # the package's demo data
    assert rows["human_ocr_ensembl"][0] == "missing" and "zenodo.org is unreachable" in rows["human_ocr_ensembl"][1]
    assert "DIR/genomic_benchmarks/, then pass --data-dir DIR" in rows["human_ocr_ensembl"][1]
    assert "no package downloads gue data" in rows["gue_h3"][1] and "$SUITE_DATA_DIR" not in out.stdout
