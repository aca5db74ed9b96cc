import dataclasses
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from suite.errors import SuiteError
from suite.pretrain.checkpoint import (
    latest_checkpoint,
    load_backbone,
    load_checkpoint,
    save_checkpoint,
)
from suite.pretrain.findna import FinDNAPretrainer
from suite.pretrain.loop import (
    PretrainConfig,
    build_backbone,
    composition_baseline,
    pretrain,
    profile_config,
    run_name,
)


def tiny(model="findna", **changes):
    """The findna card's `tiny` size on 64-bp windows: a few ms per step on one CPU thread."""
    return profile_config(model, "quick", size="tiny", window_len=64, n_windows=512, batch_size=16, **changes)


def metric_history(uri, run_id, key):
    from mlflow.tracking import MlflowClient

    return sorted((m.step, m.value) for m in MlflowClient(tracking_uri=uri).get_metric_history(run_id, key))


def test_config_round_trips_through_json():
    config = tiny(steps=7)
    assert PretrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    paper = profile_config("findna", "paper")
    assert (paper.window_len, paper.n_windows, paper.batch_size, paper.epochs) == (1000, 100_000, 64, 50)
    assert paper.total_steps == 50 * (100_000 // 64)
    assert profile_config("cm-mnm").method.use_teacher is False
    with pytest.raises(SuiteError):
        profile_config("findna", "huge")


def test_augmentation_sizes_are_settings_that_name_their_own_folder():
    """Short windows want shorter indels (the paper's 20 bp are 2 % of a 1,000-bp window, 31 % of a 64-bp one):
    `augment` sets AugmentSpec fields, and a run with other sizes is another run (its own folder)."""
    short = tiny(augment={"indel_max": 1, "translocation_max": 1})
    assert (short.method.augment.indel_max, short.method.augment.translocation_max) == (1, 1)
    assert short.method.augment.mask_rate == tiny().method.augment.mask_rate  # the rest as the paper's
    assert run_name(short) != run_name(tiny())
    assert PretrainConfig.from_dict(json.loads(json.dumps(short.to_dict()))) == short
    with pytest.raises(SuiteError, match="'indel' is not an augmentation setting; use one of indel_max"):
        tiny(augment={"indel": 1})


def test_checkpoint_round_trip_is_bit_exact(tmp_path):
    config = tiny(steps=3)
    torch.manual_seed(0)
    _, backbone, _ = build_backbone(config)
    module = FinDNAPretrainer(backbone, config.method)
    optimizer = torch.optim.AdamW(module.student.parameters(), lr=1e-3)
    batch = torch.nn.functional.one_hot(torch.randint(0, 4, (4, 64)), 5).float()
    for step in range(3):
        out = module.loss(batch, torch.Generator().manual_seed(step))
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
        module.after_step(out.teacher_cls, 0.99)
    path = save_checkpoint(tmp_path, 3, module, optimizer, {"config": config.to_dict()})
    rng_after_save = torch.get_rng_state()
    torch.manual_seed(123)
    _, backbone2, _ = build_backbone(config)
    restored = FinDNAPretrainer(backbone2, config.method)
    optimizer2 = torch.optim.AdamW(restored.student.parameters(), lr=1e-3)
    state = load_checkpoint(path, restored, optimizer2)
    assert state["step"] == 3 and latest_checkpoint(tmp_path) == path
    assert torch.equal(torch.get_rng_state(), rng_after_save)
    for (k, a), b in zip(module.state_dict().items(), restored.state_dict().values()):
        assert torch.equal(a, b), k
    assert module.center.abs().sum() > 0 and torch.equal(module.center, restored.center)
    for k, s in optimizer.state_dict()["state"].items():
        for name, value in s.items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(optimizer2.state_dict()["state"][k][name]))


def test_resume_continues_step_and_schedule_bit_exactly(tmp_path, cohn_fasta):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config = tiny(steps=12, save_every=4)
    whole = pretrain(config, cohn_fasta, tmp_path / "a", name="run", track=False)
    first = pretrain(config, cohn_fasta, tmp_path / "b", name="run", tracking_uri=uri, stop_after=6)
    assert first.step == 6 and first.weights is None and latest_checkpoint(tmp_path / "b" / "run").name == "00000006"
    second = pretrain(config, cohn_fasta, tmp_path / "b", name="run", tracking_uri=uri)
    assert [h["step"] for h in second.history] == list(range(7, 13)) and second.run_id == first.run_id
    assert second.history == whole.history[6:]  # losses, lr, momentum, entropy, centre: identical
    a, b = load_file(str(whole.weights)), load_file(str(second.weights))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert [s for s, _ in metric_history(uri, first.run_id, "train/loss")] == list(range(1, 13))
    with pytest.raises(SuiteError):  # another configuration in the same folder
        pretrain(tiny(steps=13, save_every=4), cohn_fasta, tmp_path / "b", name="run", track=False)


def test_quick_pretraining_learns_and_registers(tmp_path, cohn_fasta):
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    result = pretrain(tiny(steps=300, save_every=100), cohn_fasta, tmp_path / "checkpoints", tracking_uri=uri)
    losses = np.array([h["train/loss"] for h in result.history])
    mnm = np.array([h["train/mnm_loss"] for h in result.history])
    assert losses[-30:].mean() < losses[:30].mean() - 0.1
    assert mnm[-30:].mean() < mnm[:30].mean() - 0.1
    assert all(np.isfinite([h["train/teacher_entropy"] for h in result.history]))
    # MLflow: every step logged; the SQLite store's artifacts live in a real folder next to the database
    for key in ("train/mnm_loss", "train/cl_loss", "train/loss", "train/lr", "train/teacher_momentum",
                "train/teacher_entropy", "train/center_norm"):
        assert len(metric_history(uri, result.run_id, key)) == 300, key
    # the two views' dissimilarity (Eq. 10, and the released code's row-averaged variant), once, at step 0
    (step, kl_sum), = metric_history(uri, result.run_id, "views/kl_eq10_sum")
    (_, kl_mean), = metric_history(uri, result.run_id, "views/kl_code_row_mean")
    assert step == 0 and kl_sum > kl_mean > 0
    # the health baselines at step 0, and the masked-base accuracy at every step
    (step, majority), = metric_history(uri, result.run_id, "corpus/majority_base_accuracy")
    (_, entropy), = metric_history(uri, result.run_id, "corpus/base_entropy")
    assert step == 0 and 0.25 <= majority < 0.5 and 1.2 < entropy <= np.log(4) + 1e-9
    accuracy = np.array([h["train/mnm_accuracy"] for h in result.history])
    assert len(metric_history(uri, result.run_id, "train/mnm_accuracy")) == 300
    assert ((accuracy >= 0) & (accuracy <= 1)).all()
    from mlflow.tracking import MlflowClient

    run = MlflowClient(tracking_uri=uri).get_run(result.run_id)
    assert run.info.status == "FINISHED" and run.data.params["method.tau_t"] == "0.04"
    assert (tmp_path / "store" / "artifacts" / "pretrain").is_dir()
    # registered: index.json + config.json + teacher.safetensors, loadable as the card's weights
    name = run_name(tiny(steps=300, save_every=100))
    assert name.startswith("findna-quick-steps-300-")  # steps and the tiny size name the folder
    run_dir = tmp_path / "checkpoints" / name
    assert result.run_dir == run_dir
    index = json.loads((tmp_path / "checkpoints" / "index.json").read_text())
    assert index[name]["weights"] == "teacher.safetensors" and index[name]["step"] == 300
    # both networks exported (paper Table 9: student vs teacher downstream), listed in config.json
    assert json.loads((run_dir / "config.json").read_text())["networks"] == {
        "teacher": "teacher.safetensors", "student": "student.safetensors"}
    student = load_file(str(run_dir / "student.safetensors"))
    teacher = load_file(str(run_dir / "teacher.safetensors"))
    assert student.keys() == teacher.keys() and any(not torch.equal(student[k], teacher[k]) for k in student)
    backbone = load_backbone(run_dir)
    from suite.models import get_model_spec
    from suite.models.weights import read_tensors

    state = read_tensors(run_dir / "teacher.safetensors", "")
    assert all(torch.equal(v, state[k]) for k, v in backbone.state_dict().items())
    assert get_model_spec("findna").weights.file == "teacher.safetensors"


def test_composition_baseline_is_the_majority_base_and_the_frequency_entropy():
    codes = torch.tensor([[0, 0, 0, 1], [2, 3, 0, 4]], dtype=torch.uint8)  # A 4/8, C, G, T, N 1/8 each
    baseline = composition_baseline(codes)
    assert baseline["corpus/majority_base_accuracy"] == pytest.approx(0.5)
    assert baseline["corpus/base_entropy"] == pytest.approx(-(0.5 * np.log(0.5) + 4 * 0.125 * np.log(0.125)))


def test_cm_mnm_exports_the_student(tmp_path, cohn_fasta):
    result = pretrain(tiny("cm-mnm", steps=3), cohn_fasta, tmp_path, track=False)
    assert result.weights.name == "model.safetensors"
    meta = json.loads((result.run_dir / "config.json").read_text())
    assert meta["source"] == "student" and meta["networks"] == {"student": "model.safetensors"}  # one network only
    assert load_backbone(result.run_dir).n_cls == 0


def test_in_domain_corpus_mixes_train_splits_with_a_fasta_and_records_them(tmp_path, cohn_fasta, data_env):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config = dataclasses.replace(tiny(steps=2, tasks="prom_core_tata", task_fraction=0.25), n_windows=64)
    result = pretrain(config, cohn_fasta, tmp_path / "checkpoints", tracking_uri=uri)
    sources = json.loads(MlflowClient(tracking_uri=uri).get_run(result.run_id).data.tags["suite.corpus"])
    assert [(s.get("task"), s.get("split"), s["windows"]) for s in sources] == [(None, None, 48),
                                                                                 ("prom_core_tata", "train", 16)]
    assert json.loads((result.run_dir / "config.json").read_text())["corpus"] == sources
    only_tasks = pretrain(tiny(steps=1, tasks="prom_core_tata"), None, tmp_path / "alone", track=False)
    assert only_tasks.step == 1
    with pytest.raises(SuiteError, match="no pretraining corpus"):
        pretrain(tiny(steps=1), None, tmp_path / "none", track=False)
