"""HyenaDNA: rename table vs the published names/shapes of tiny-1k, the FFT convolution and causality, loading a
published-layout snapshot written by the suite through the card's code path (a round trip; the parity with
the original code is tests/models/test_parity_hyenadna.py), fine-tune/probe on real tf_mouse_2
sequences, one `suite run` trial, and no remote code anywhere."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from suite.models import get_model_spec
from suite.models.families import hyenadna
from suite.models.families._nucleotides import codes
from suite.models.weights import to_published
from tests.models.helpers import built_like_a_run, real_batch
from tests.models.round_trip_checkpoints import published, write_hyenadna
from tests.models.test_dnabert2 import eval_loss, steps

REPO = Path(__file__).resolve().parents[2]


def test_rename_table_gives_exactly_the_published_names_and_shapes_of_tiny_1k():
    fixture = published("hyenadna_tiny_1k")
    with torch.device("meta"):
        model = hyenadna.build({k: fixture["config"][k] for k in hyenadna.ARCH_KEYS})
    ours = {k: list(v.shape) for k, v in to_published(hyenadna.RENAMES, model.state_dict(), 2).items()}
    expected = {k: v for k, v in fixture["parameters"].items() if not k.startswith("lm_head.")}
    assert ours == expected
    # the card counts as the -hf port, which holds z as a parameter; ours is a buffer (upstream's lr_pos_emb 0.0)
    z_buffers = sum(b.numel() for name, b in model.named_buffers() if name.endswith(".z"))
    assert z_buffers == 2 * 1026 * 5
    assert sum(p.numel() for p in model.parameters()) + z_buffers == get_model_spec("hyenadna_tiny_1k").n_parameters


def test_filter_optimizer_settings_as_upstream():
    """z is a persistent buffer (upstream registers it with lr_pos_emb = 0.0), not a parameter, and is in the
    state dict; the implicit filter MLP and Sin freq carry `_optim` weight_decay 0, the filter bias does not."""
    model = hyenadna.build({"d_model": 16, "d_inner": 32, "n_layer": 2, "max_seq_len": 64})
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    for i in range(2):
        for name in ("z", "t", "deltas"):
            key = f"blocks.{i}.mixer.filter.{name}"
            assert key in buffers and key not in params and key in model.state_dict()
    assert not any(p is model.blocks[0].mixer.filter.z for p in model.parameters())
    tagged = {name for name, p in params.items() if hasattr(p, "_optim")}
    assert tagged == {f"blocks.{i}.mixer.filter.{k}" for i in range(2) for k in
                      ("proj_in.weight", "proj_in.bias", "hidden.0.weight", "hidden.0.bias", "hidden.1.weight",
                       "hidden.1.bias", "proj_out.weight", "freq")}
    assert all(params[name]._optim == {"weight_decay": 0.0} for name in tagged)


def test_fftconv_is_the_causal_convolution_plus_the_bias_skip():
    g = torch.Generator().manual_seed(0)
    u, k, bias = torch.randn(2, 3, 11, generator=g), torch.randn(3, 11, generator=g), torch.randn(3, generator=g)
    direct = F.conv1d(F.pad(u, (10, 0)), k.flip(-1)[:, None], groups=3)  # y_l = Σ_j k_j u_{l-j}
    assert torch.allclose(hyenadna.fftconv(u, k, bias), direct + u * bias[:, None], atol=1e-5)


def test_positional_embedding_and_decay_as_published():
    z, t = hyenadna.positional_embedding(4, 5)  # bands f = [1e-4, 1], ω = 2π l / 4
    assert torch.allclose(z[0, :, 0], torch.tensor([0, 1 / 3, 2 / 3, 1.0]))
    assert torch.allclose(z[0, :, 2], torch.cos(-torch.arange(4) * torch.pi / 2), atol=1e-6)
    assert torch.allclose(z[0, :, 4], torch.sin(-torch.arange(4) * torch.pi / 2), atol=1e-6)


def test_states_are_causal_and_independent_of_padding():
    torch.manual_seed(0)
    model = hyenadna.build({"d_model": 16, "d_inner": 32, "n_layer": 2, "max_seq_len": 64}).eval()
    ids = torch.randint(7, 12, (1, 40))
    changed = ids.clone()
    changed[0, 30:] = 7
    with torch.no_grad():
        assert torch.allclose(model.encode(ids)[:, :30], model.encode(changed)[:, :30], atol=1e-5)
        assert not torch.allclose(model.encode(ids)[:, 30:], model.encode(changed)[:, 30:], atol=1e-3)
        x = F.one_hot(torch.randint(0, 4, (2, 40)), 5).float()
        tokens, cls = model(x, torch.tensor([25, 40]))
        alone_tokens, alone = model(x[:1, :25], torch.tensor([25]))
    assert torch.allclose(cls[0], alone[0], atol=1e-5) and (tokens[0, 25:] == 0).all()


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory, shared_data):
    """A checkpoint in the published layout; the module's tests (and the `suite run` they start) read the shared
    data through SUITE_DATA_DIR, set for this module only."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SUITE_DATA_DIR", str(shared_data))
        folder = tmp_path_factory.mktemp("hyenadna-snapshot")
        yield folder, write_hyenadna(folder)


def test_round_trip_suite_written_snapshot_loads_through_the_card_path_and_reproduces_the_saved_model(snapshot):
    folder, saved = snapshot
    model, sha = built_like_a_run("hyenadna_tiny_1k", folder)
    assert sha and model.backbone.width == 16  # architecture from config.json
    batch = real_batch()
    x = batch.one_hot.float()
    ids, _ = model.backbone.tokenizer.encode(x, batch.lengths)
    code_rows = codes(x)  # the vectorised ids equal the tokenizer's ids of the decoded strings
    text = ["".join("ACGTN"[c] for c in row[:n]) for row, n in zip(code_rows.tolist(), batch.lengths.tolist())]
    assert all(ids[i, :n].tolist() == toks for i, (n, toks) in
               enumerate(zip(batch.lengths.tolist(), model.backbone.tokenizer(text))))
    model.eval(), saved.eval()
    with torch.no_grad():
        assert torch.equal(model.backbone(x, batch.lengths)[1], saved(x, batch.lengths)[1])  # round trip
        assert model.embed(batch).shape == (16, 16)


def test_finetune_and_probe_steps_on_real_sequences(snapshot):
    model, _ = built_like_a_run("hyenadna_tiny_1k", snapshot[0])
    batch = real_batch(32)
    before = eval_loss(model, batch)
    steps(model, batch, 8, 3e-3)
    assert eval_loss(model, batch) < before
    model.set_mode("probe")
    frozen = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    steps(model, batch, 2, 1e-2)
    assert all(torch.equal(v, model.backbone.state_dict()[k]) for k, v in frozen.items())


def test_shared_freq_aliases_must_agree(snapshot):
    from safetensors.torch import load_file

    from suite.errors import SuiteError

    state = load_file(str(snapshot[0] / "model.safetensors"))
    key = "hyena.backbone.layers.0.mixer.filter_fn.implicit_filter.1.freq"
    alias = key.replace(".1.freq", ".3.freq")
    model = hyenadna.build({"d_model": 16, "d_inner": 64, "n_layer": 2, "filter_order": 8})
    hyenadna.load_published(model, {**state, alias: state[key].clone()}, "t")  # a torch file keeps all three
    with pytest.raises(SuiteError, match="same tensor"):
        hyenadna.load_published(model, {**state, alias: state[key] + 1}, "t")


def test_no_remote_code_and_no_transformers_in_the_native_families(snapshot):
    """`trust_remote_code` is never passed anywhere in the package, and loading both native families from
    snapshots imports no `transformers` at all (so no hub code can run)."""
    for path in (REPO / "suite").rglob("*.py"):
        assert not re.search(r"trust_remote_code\s*=", path.read_text()), path
    script = ("import sys, pathlib; from suite.models.families import hyenadna; "
              f"hyenadna.build({{'snapshot': r'{snapshot[0]}'}}); "
              "assert 'transformers' not in sys.modules, 'transformers imported'")
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_suite_run_finishes_one_hyenadna_trial(snapshot, tmp_path, monkeypatch):
    from suite.runs.request import RunRequest
    from suite.runs.runner import execute

    monkeypatch.chdir(tmp_path)
    request = RunRequest(models=("hyenadna_tiny_1k",), tasks="tf_mouse_2", seeds=(1,),
                         sets={"weights": str(snapshot[0]), "epochs": 1, "max_train_rows": 256},
                         tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", storage=str(tmp_path / "ray"),
                         applied_dir=None)
    summary = execute(request, use_ray=False, quiet=True)
    assert (summary.finished, summary.failed, summary.refused) == (1, 0, [])
    assert list(Path(tmp_path).rglob("trial.json")), "no trial artifacts written"
