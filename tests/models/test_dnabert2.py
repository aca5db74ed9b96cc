"""DNABERT-2: rename table vs the published names/shapes, ALiBi, loading a published-layout snapshot through the
card's code path (a round trip: written and read by our module; the original code's outputs are checked in
test_parity_dnabert2.py), fine-tune and probe steps on real tf_mouse_2 sequences."""

from __future__ import annotations

import math

import pytest
import torch

from suite.errors import SuiteError
from suite.models import get_model_spec
from suite.models.families import dnabert2
from suite.models.families._nucleotides import strings
from suite.models.heads import final_linear
from suite.models.weights import to_published
from tests.models.helpers import built_like_a_run, real_batch
from tests.models.round_trip_checkpoints import published, write_dnabert2


def test_rename_table_gives_exactly_the_published_names_and_shapes_of_dnabert2_117m():
    fixture = published("dnabert2_117m")
    config = {k: fixture["config"][k] for k in dnabert2.ARCH_KEYS}
    with torch.device("meta"):
        model = dnabert2.build(config)
    ours = to_published(dnabert2.RENAMES, model.state_dict(), config["num_hidden_layers"])
    expected = {k: v for k, v in fixture["parameters"].items() if not k.startswith("cls.predictions.")}
    assert set(ours) - set(expected) == {"bert.pooler.dense.weight", "bert.pooler.dense.bias"}  # fresh, not published
    assert {k: list(ours[k].shape) for k in expected} == expected
    pretrained = sum(math.prod(s) for k, s in expected.items())
    assert pretrained == 116_477_952 and sum(p.numel() for p in model.parameters()) == get_model_spec("dnabert2").n_parameters


def test_alibi_slopes_follow_press_et_al_including_the_non_power_of_two_interleave():
    assert torch.allclose(dnabert2.alibi_slopes(8), torch.tensor([2.0 ** -h for h in range(1, 9)]))
    twelve = [2.0 ** -h for h in range(1, 9)] + [2.0 ** -(h - 0.5) for h in (1, 2, 3, 4)]  # 16 heads: 2^-h/2, odd h
    assert torch.allclose(dnabert2.alibi_slopes(12), torch.tensor(twelve))


def test_attention_adds_minus_slope_times_distance_and_ignores_padded_keys():
    torch.manual_seed(0)
    model = dnabert2.build({"hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
                            "intermediate_size": 8, "vocab_size": 16, "hidden_dropout_prob": 0.0})
    ids, mask = torch.tensor([[1, 5, 6, 7, 2, 3]]), torch.tensor([[1, 1, 1, 1, 1, 0]], dtype=torch.bool)
    attn, x = model.blocks[0].attn, model.embed(ids)
    q, k, v = attn.qkv(x).view(1, 6, 3, 2, 4).permute(2, 0, 3, 1, 4)
    pos = torch.arange(6)
    scores = q @ k.transpose(-1, -2) / 2.0 - model.slopes[:, None, None] * (pos[:, None] - pos[None]).abs()
    scores[..., 5] = -1e9
    expected = attn.proj((scores.softmax(-1) @ v).transpose(1, 2).reshape(1, 6, 8))
    bias = -model.slopes[:, None, None] * (pos[:, None] - pos[None]).abs() + (~mask[:, None, None, :]) * -10000.0
    assert torch.allclose(attn(x, bias), expected, atol=1e-5)
    shifted = ids.clone()
    shifted[0, 5] = 9  # another token at the padded position changes nothing at the real ones
    assert torch.allclose(model.encode(ids, mask)[:, :5], model.encode(shifted, mask)[:, :5], atol=1e-6)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory, shared_data):
    """A checkpoint in the published layout; the module's tests (and the `suite run` they start) read the shared
    data through SUITE_DATA_DIR, set for this module only."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SUITE_DATA_DIR", str(shared_data))
        folder = tmp_path_factory.mktemp("dnabert2-snapshot")
        yield folder, write_dnabert2(folder)


def test_round_trip_published_layout_snapshot_loads_through_the_card_path_and_reproduces_our_saved_model(snapshot):
    folder, saved = snapshot
    model, sha = built_like_a_run("dnabert2", folder)
    assert sha and model.backbone.config.hidden_size == 24  # architecture from config.json, not the card
    batch = real_batch()
    model.eval(), saved.eval()
    ids, mask = model.backbone.tokenizer(strings(batch.one_hot.float(), batch.lengths))
    assert (ids[:, 0] == 1).all() and (ids.gather(1, mask.sum(1, keepdim=True) - 1) == 2).all()  # [CLS] … [SEP]
    with torch.no_grad():
        assert torch.equal(model.backbone.encode(ids, mask), saved.encode(ids, mask))  # round trip: same states
        embedding = model.embed(batch)
    assert embedding.shape == (16, 24) and torch.isfinite(embedding).all()


def test_pooler_is_loaded_when_the_file_has_one(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("SUITE_DATA_DIR", str(shared_data))
    saved = write_dnabert2(tmp_path, seed=3, pooler=True)
    model, _ = built_like_a_run("dnabert2", tmp_path)
    assert torch.equal(model.backbone.pooler.weight, saved.pooler.weight)


def eval_loss(model, batch) -> float:
    model.eval()
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(model(batch), batch.labels).item()
    model.train()
    return loss


def steps(model, batch, n, lr):
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    for _ in range(n):
        loss = torch.nn.functional.cross_entropy(model(batch), batch.labels)
        opt.zero_grad(), loss.backward(), opt.step()


def test_finetune_and_probe_steps_on_real_sequences(snapshot):
    model, _ = built_like_a_run("dnabert2", snapshot[0])
    batch = real_batch(32)
    before = eval_loss(model, batch)
    steps(model, batch, 8, 1e-3)
    assert eval_loss(model, batch) < before  # fine-tuning fits the batch
    model.set_mode("probe")
    frozen = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    head = final_linear(model.head).weight.clone()
    steps(model, batch, 3, 1e-2)
    assert all(torch.equal(v, model.backbone.state_dict()[k]) for k, v in frozen.items())
    assert not torch.equal(head, final_linear(model.head).weight)


def test_wrong_checkpoints_are_one_line_errors(tmp_path, snapshot):
    folder, _ = snapshot
    state = torch.load(folder / "pytorch_model.bin", weights_only=True)
    for name, broken in [("missing", {k: v for k, v in state.items() if "layer.1.mlp.wo.bias" not in k}),
                         ("unexpected", {**state, "bert.encoder.layer.9.mlp.wo.bias": torch.zeros(24)})]:
        with pytest.raises(SuiteError, match=name) as err:
            dnabert2.load_published(dnabert2.build(dnabert2.config_from_snapshot(folder, "t")), broken, "t")
        assert "\n" not in str(err.value)
    with pytest.raises(SuiteError, match="shapes"):
        dnabert2.load_published(dnabert2.build({**dnabert2.config_from_snapshot(folder, "t"), "intermediate_size": 32}),
                                state, "t")
    with pytest.raises(SuiteError, match="no tokenizer.json"):
        dnabert2.BPETokenizer(tmp_path / "tokenizer.json", 512)


def test_random_init_reads_one_token_per_base():
    ids, mask = dnabert2.CharTokens(6)(["ACGTNA", "GA"])
    assert ids.tolist() == [[1, 5, 6, 7, 8, 2], [1, 7, 5, 2, 3, 3]] and mask.sum(1).tolist() == [6, 4]
