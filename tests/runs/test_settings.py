"""Settings that explain themselves: every setting a run uses, with the layer it came from (suite/runs/settings.py)."""

from pathlib import Path

from suite.models import get_model_spec
from suite.runs.plan import expand
from suite.runs.request import RunRequest
from suite.runs.settings import resolve_settings
from suite.tasks import get_task
from suite.train.config import FIT_KEYS, RUN_SETTINGS


def rows(settings, seed=0) -> dict:
    return {key: (value, source) for key, value, source in settings.rows(seed)}


def sources(settings) -> dict:
    return {key: source for key, (_, source) in rows(settings).items()}


def test_each_layer_is_named_where_it_sets_a_value():
    findna, h3 = get_model_spec("findna"), get_task("gue_h3")
    quick = sources(resolve_settings(findna, h3, "quick", {}))
    assert quick["lr"] == "model card findna: training.quick" and quick["epochs"] == "profile quick"
    assert quick["grad_clip"] == "model card findna: training.finetune" and quick["amp"] == "FitConfig default"
    assert quick["val_fraction"] == "run default" and quick["seed"] == "--seeds"
    assert quick["size"] == quick["weights"] == "profile quick" and quick["pooling"] == "model card findna"
    assert quick["model.track_size"] == "model card findna: sizes.small"
    assert quick["model.max_len"] == "task card gue_h3: max_bp"
    assert quick["model.rotation"] == "model card findna: fidelity.backbone"
    paper = sources(resolve_settings(findna, h3, "paper", {}))
    assert paper["lr"] == "task card gue_h3 (paper recipe)" and paper["patience"] == "profile paper"
    assert paper["model.layers"] == "model card findna: recipes.gue_h3 (paper profile)"
    assert paper["model.hidden"] == "model card findna: params"
    authors = sources(resolve_settings(findna, get_task("human_nontata_promoters"), "paper", {}))
    assert authors["lr"] == "model card findna: training.tasks.human_nontata_promoters"
    assert sources(resolve_settings(findna, h3, "quick", {}, mode="probe"))["grad_clip"] == \
        "model card findna: training.probe"
    assert sources(resolve_settings(get_model_spec("cnn"), h3, "paper", {}))["weights"] == \
        "model card cnn: no pretrained weights"


def test_set_wins_over_an_applied_sweep_and_both_are_named():
    settings = resolve_settings(get_model_spec("findna"), get_task("tf_mouse_2"), "quick",
                                {"lr": 1e-4, "model.layers": 2, "pooling": "max", "size": "tiny"},
                                applied={"lr": 3e-3, "epochs": 3, "model.hidden": 8}, study="s1")
    got = rows(settings)
    assert got["lr"] == (1e-4, "--set") and got["epochs"] == (3, "sweep s1 (applied)")
    assert got["model.layers"] == (2, "--set") and got["model.hidden"] == (8, "sweep s1 (applied)")
    assert got["pooling"] == ("max", "--set") and got["size"] == ("tiny", "--set")
    assert got["model.track_size"] == (4, "model card findna: sizes.tiny")
    assert got["model.max_len"] == (101, "task card tf_mouse_2: max_bp")  # the task's recipe is applied last


def test_every_trial_carries_every_setting_it_runs_with_and_its_source(data_env):
    plan = expand(RunRequest(models=("findna", "cnn"), tasks="tf_mouse_2", seeds=(0, 1), applied_dir=None,
                             sets={"lr": 1e-4}))
    assert len(plan.trials) == 4
    for trial in plan.trials:
        got = {key: (value, source) for key, value, source in trial.settings}
        assert {*FIT_KEYS, *RUN_SETTINGS, "size", "weights", "pooling", "head"} <= set(got)
        assert all(source for _, source in got.values())
        assert {k: got[k][0] for k in trial.hparams} == trial.hparams
        assert got["seed"] == (trial.seed, "--seeds") and got["lr"] == (1e-4, "--set")
        assert (got["size"][0], got["pooling"][0]) == (trial.size, trial.model["pooling"])


def test_a_finished_trial_logs_its_settings_with_their_sources(data_env, tmp_path):
    from mlflow.tracking import MlflowClient

    from suite.runs.runner import execute

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    execute(RunRequest(models=("cnn",), tasks="tf_mouse_2", seeds=(0,), applied_dir=None, storage=str(tmp_path / "ray"),
                       tracking_uri=uri, experiment="settings", sets={"epochs": 1, "max_train_rows": 200, "lr": 1e-3}),
            use_ray=False, quiet=True)
    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("settings").experiment_id], "tags.`suite.kind` = 'trial'")
    assert run.info.status == "FINISHED" and "settings.tsv" in {a.path for a in client.list_artifacts(run.info.run_id)}
    lines = [line.split("\t") for line in
             Path(client.download_artifacts(run.info.run_id, "settings.tsv", str(tmp_path))).read_text().splitlines()]
    assert lines[0] == ["setting", "value", "source"]
    got = {key: (value, source) for key, value, source in lines[1:]}
    assert got["lr"] == ("0.001", "--set") and got["epochs"] == ("1", "--set") and got["seed"] == ("0", "--seeds")
    assert got["model.max_len"] == ("101", "task card tf_mouse_2: max_bp") and all(s for _, s in got.values())
