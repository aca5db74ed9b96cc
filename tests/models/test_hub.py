"""Hub snapshots, offline-first: where they are looked for, the one-line error when absent, safe loading,
`suite models fetch` offline, and a `suite run` of dnabert6 on a tiny checkpoint."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from suite.errors import MissingWeights, SuiteError
from suite.models import get_model_spec
from suite.models.hub import folder_name, resolve_snapshot
from suite.models.weights import read_tensors
from suite.models.spec import WeightsSpec
from suite.runs.plan import resolve_weights
from tests.models.tiny_snapshots import dnabert_snapshot

REPO = Path(__file__).resolve().parents[2]
HUB = WeightsSpec(hub_id="zhihan1996/DNA_bert_6", revision="main")


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    return dnabert_snapshot(tmp_path_factory.mktemp("dna_bert_6"))


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    """No SUITE_MODELS_DIR and an empty HF cache, whatever this machine holds."""
    monkeypatch.delenv("SUITE_MODELS_DIR", raising=False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    return tmp_path


def test_missing_snapshot_is_one_line_naming_hub_id_places_and_fetch(empty_hub, monkeypatch):
    monkeypatch.setenv("SUITE_MODELS_DIR", str(empty_hub / "models"))
    with pytest.raises(MissingWeights) as info:
        resolve_snapshot(dataclasses.replace(HUB, local=str(empty_hub / "nowhere")), "dnabert6")
    line = info.value.line()
    assert "\n" not in line
    for part in ("zhihan1996/DNA_bert_6", str(empty_hub / "nowhere"), str(empty_hub / "models" / "zhihan1996__DNA_bert_6"),
                 "models--zhihan1996--DNA_bert_6", "suite models fetch dnabert6"):
        assert part in line, part


def test_local_then_models_dir_then_cache(empty_hub, snapshot, monkeypatch):
    assert resolve_snapshot(dataclasses.replace(HUB, local=str(snapshot)), "dnabert6") == snapshot.resolve()
    models = empty_hub / "models"
    (models / folder_name(HUB.hub_id)).parent.mkdir(parents=True)
    (models / folder_name(HUB.hub_id)).symlink_to(snapshot)
    monkeypatch.setenv("SUITE_MODELS_DIR", str(models))
    assert resolve_snapshot(HUB, "dnabert6") == snapshot.resolve()


def test_hf_cache_layout_is_found_offline(empty_hub, snapshot):
    # the layout huggingface_hub writes: models--org--name/{refs/main, snapshots/<commit>/…}
    import shutil

    repo = empty_hub / "hf-cache" / "models--zhihan1996--DNA_bert_6"
    commit = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(snapshot, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    assert resolve_snapshot(HUB, "dnabert6").name == commit
    assert resolve_snapshot(dataclasses.replace(HUB, revision=commit), "dnabert6").name == commit


def test_pickled_code_is_refused(tmp_path):
    folder = tmp_path / "evil"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    torch.save({"w": torch.zeros(1), "payload": Path("x")}, folder / "pytorch_model.bin")  # a non-tensor object
    with pytest.raises(SuiteError, match="is not a plain tensor checkpoint") as refused:
        read_tensors(folder, "fetch the snapshot again")
    assert "weights_only=False" not in str(refused.value) and "pytorch_model.bin" in str(refused.value)


def test_plan_refuses_a_missing_snapshot_and_an_explicit_non_snapshot(empty_hub):
    card = dataclasses.asdict(get_model_spec("dnabert6"))
    with pytest.raises(MissingWeights, match="suite models fetch dnabert6"):
        resolve_weights(card, "card")
    with pytest.raises(MissingWeights, match="not a snapshot folder"):
        resolve_weights(card, str(empty_hub))  # never falls back to other weights
    model, sha = resolve_weights(card, "none")  # random init needs no snapshot
    assert sha is None and model == card


def _suite(*args, env=None, timeout=300, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "suite", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "COLUMNS": "250", **(env or {})}, timeout=timeout)


def test_fetch_offline_is_one_line_without_traceback():
    out = _suite("models", "fetch", "nt_v2_50m", env={"HF_HUB_OFFLINE": "1"})
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot download InstaDeepAI/nucleotide-transformer-v2-50m-multi-species" in lines[0]
    out = _suite("models", "fetch", "findna")
    assert out.returncode == 2 and "has no hub id" in out.stderr


@pytest.mark.integration
def test_suite_run_dnabert6_on_a_tiny_checkpoint(snapshot, data_env, tmp_path):
    out = _suite("run", "--models", "dnabert6", "--tasks", "tf_mouse_2", "--seeds", "1", "--set", f"weights={snapshot}",
                 "--set", "epochs=1", "--set", "max_train_rows=256", "--no-ray", "--quiet",
                 "--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}", timeout=600, cwd=tmp_path,
                 env={"SUITE_DATA_DIR": str(data_env), "PYTHONPATH": str(REPO)})  # runs/ goes to tmp_path
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
