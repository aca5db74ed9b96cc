"""Tokenize once (issue 20): a wrapped model's split is tokenized once per tokenizer and cached beside the encoded
split (suite/data/cache.py `load_tokens`), and the model consumes the cached ids (`forward_ids`). The cached ids
must be EXACTLY what each family's own per-string tokenizer gives (`__call__`, the reference the golden parity
tests pin to the original code), on N, IUPAC codes, lowercase, sequences shorter than a k-mer and sequences longer
than max_len / the token limit; and a model fed cached ids must give bit-identical outputs and training."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from suite.data.batching import collate
from suite.data.cache import EncodedSplit, load_tokens
from suite.data.encode import encode
from suite.models import build_model, get_model_spec
from suite.models import wrapped
from suite.tasks import get_task
from suite.train.config import FitConfig
from suite.train.evaluate import SplitData
from suite.train.loop import fit, seed_everything
from tests.models.golden import read_fixture
from tests.models.helpers import built_like_a_run

MAX_LEN = 30  # bases a cutting model keeps (DNABERT-2, HyenaDNA); several sequences below are longer
SEQUENCES = [
    "ACGTACGTAC",
    "ACGNNACGTACGTTTGCANACG",  # N inside, twice in a row
    "ACGTRYKMSWACGTBDHVUA",  # IUPAC codes: encoded as N
    "acgtacgtnacgt",  # lowercase
    "ACG",  # shorter than a 6-mer
    "N",
    "NNNNNNNNNNNN",
    "GATTACAGATTACAGATTACAGATTACAGATTACAGATTACAGATTACAGATTACAGATTACAGATTACA",  # 70 bp > MAX_LEN, > the window
    "TTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTNA",
    "AAAAAATTNCCCCCCG",  # the NT paper's example
]
# the strings a wrapper sees: what one-hot decodes to (IUPAC → N, uppercase)
TEXTS = [s.upper().translate(str.maketrans("RYKMSWBDHVU", "NNNNNNNNNNN")) for s in SEQUENCES]


def tiny(name: str, **overrides):
    """A card's tiny size at random init, max_len = MAX_LEN, as the run plan builds it (eval: no dropout)."""
    spec = get_model_spec(name)
    return build_model(spec, 2, size="tiny", recipe={"max_len": MAX_LEN}, overrides=overrides, weights=False).eval()


def split_of(sequences: list[str]) -> EncodedSplit:
    seqs = encode(sequences)
    return EncodedSplit("tf_mouse_2", "train", seqs, np.arange(len(sequences)) % 2, "0" * 64, "in-memory")


def reference_ids(name: str, backbone) -> list[list[int]]:
    """Each family's own per-string tokenizer on TEXTS, before windows and padding (what the cache must hold)."""
    tok = backbone.tokenizer
    if name == "dnabert6":
        return [tok.kmers(t) for t in TEXTS]
    if name == "nt_v2_50m":
        return [tok.body(t) for t in TEXTS]
    if name.startswith("dnabert2"):
        ids, mask = tok([t[:MAX_LEN] for t in TEXTS])
        return [row[:n] for row, n in zip(ids.tolist(), mask.sum(1).tolist())]
    return [ids[:MAX_LEN] for ids in tok(TEXTS)]  # hyenadna: one id per base, 5' end kept


MODELS = {
    "dnabert6": lambda: tiny("dnabert6", max_tokens=8),  # windows of 6 k-mers: the long rows need several
    "nt_v2_50m": lambda: tiny("nt_v2_50m", max_tokens=4),  # windows of 3 tokens
    "dnabert2": lambda: tiny("dnabert2", max_tokens=12),  # random init: one token per base, cut at 10
    "dnabert2_bpe": lambda: built_like_a_run("dnabert2", read_fixture("dnabert2")[0], max_len=MAX_LEN)[0].eval(),
    "hyenadna_tiny_1k": lambda: tiny("hyenadna_tiny_1k"),
}


@pytest.fixture(scope="module", params=list(MODELS))
def family(request):
    return request.param, MODELS[request.param]()


def test_cached_ids_are_exactly_the_tokenizers_own(family, tmp_path):
    name, model = family
    split = split_of(SEQUENCES)
    tokens = load_tokens(get_task("tf_mouse_2"), split, model.backbone.split_tokenizer, cache_root=tmp_path)
    cached = [tokens.ids[a:b].tolist() for a, b in zip(tokens.offsets[:-1], tokens.offsets[1:])]
    assert cached == reference_ids(name, model.backbone)
    assert isinstance(tokens.ids, np.memmap) is False  # the first load tokenizes; the second reads the cache
    again = load_tokens(get_task("tf_mouse_2"), split, model.backbone.split_tokenizer, cache_root=tmp_path)
    assert isinstance(again.ids, np.memmap) and again.ids.tolist() == tokens.ids.tolist()
    assert again.offsets.tolist() == tokens.offsets.tolist()


def test_a_model_on_cached_ids_gives_exactly_its_one_hot_outputs(family, tmp_path):
    name, model = family
    split = split_of(SEQUENCES)
    tokens = load_tokens(get_task("tf_mouse_2"), split, model.backbone.split_tokenizer, cache_root=tmp_path)
    for rows in (np.arange(len(SEQUENCES)), np.array([7, 4, 1]), np.array([5])):
        batch = collate(split.seqs, split.labels, rows, tokens)
        with torch.no_grad():
            from_ids = model.backbone.forward_ids(batch.token_ids, batch.token_lengths, batch.codes.shape[1])
            from_one_hot = model.backbone(batch.one_hot, batch.lengths)
            assert torch.equal(model.embed(batch), model.embed(dataclasses.replace(batch, token_ids=None)))
        for a, b in zip(from_ids, from_one_hot):
            assert a.shape == b.shape and torch.equal(a, b)


def old_windows(token_lists, body, wrap, pad_id):
    """The per-batch Python windowing that `wrapped.windows` replaces (suite/models/wrapped.py before issue 20)."""
    rows, owner = [], []
    for i, tokens in enumerate(token_lists):
        for start in range(0, max(len(tokens), 1), body):
            rows.append(wrap(tokens[start:start + body]))
            owner.append(i)
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return ids, mask, owner


@pytest.mark.parametrize("body", [1, 3, 6, 100])
def test_vectorised_windows_equal_the_per_sequence_windows(body):
    lists = [[7, 8, 9, 10, 11, 12, 13], [], [5], [20 + i for i in range(13)]]
    ids = torch.zeros((len(lists), 13), dtype=torch.long)
    for i, row in enumerate(lists):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
    counts = torch.tensor([len(r) for r in lists])
    for prefix, suffix in (([2], [3]), ([3], [])):
        got = wrapped.windows(ids, counts, body, prefix, suffix, pad_id=0)
        want = old_windows(lists, body, lambda t: [*prefix, *t, *suffix], 0)
        assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()
        assert got[2].tolist() == want[2]
        first = wrapped.windows(ids, counts, body, prefix, suffix, pad_id=0, first_only=True)
        want = old_windows([r[:body] for r in lists], body, lambda t: [*prefix, *t, *suffix], 0)
        assert first[0].tolist() == want[0].tolist() and first[2].tolist() == want[2]


def test_the_key_follows_the_tokenizer_and_its_length_settings(tmp_path):
    split, task = split_of(SEQUENCES), get_task("tf_mouse_2")
    a, b = tiny("dnabert2", max_tokens=12), tiny("dnabert2", max_tokens=8)
    assert a.backbone.split_tokenizer.fingerprint != b.backbone.split_tokenizer.fingerprint
    long_ids = load_tokens(task, split, a.backbone.split_tokenizer, cache_root=tmp_path)
    short_ids = load_tokens(task, split, b.backbone.split_tokenizer, cache_root=tmp_path)
    assert long_ids.lengths.max() == 12 and short_ids.lengths.max() == 8
    assert len(list((tmp_path / "tokens").iterdir())) == 2
    # DNABERT's k-mers do not depend on the token limit: one entry serves every max_tokens
    assert tiny("dnabert6", max_tokens=8).backbone.split_tokenizer.fingerprint == \
        tiny("dnabert6", max_tokens=512).backbone.split_tokenizer.fingerprint
    # a snapshot's tokenizer files are part of the key: the fixture's tokenizer.json is not the in-code rule
    bpe = MODELS["dnabert2_bpe"]().backbone.split_tokenizer.fingerprint
    assert bpe not in (a.backbone.split_tokenizer.fingerprint, b.backbone.split_tokenizer.fingerprint)


def test_training_on_cached_ids_is_bit_identical(shared_data):
    """One epoch of the real loop on 48 real rows: history and weights equal with and without the cache."""
    from suite.data.cache import load_split

    task = get_task("tf_mouse_2")
    data = load_split(task, "train", data_dir=shared_data)
    rows = np.arange(48)
    cfg = FitConfig(lr=1e-3, batch_size=16, epochs=1, eval_batch_size=16, seed=0)
    results = []
    for cached in (False, True):
        seed_everything(0)
        model = tiny("dnabert6", max_tokens=20)
        model.train()
        tokens = load_tokens(task, data, model.backbone.split_tokenizer) if cached else None
        train = SplitData(data.seqs, data.labels, rows, tokens=tokens)
        val = SplitData(data.seqs, data.labels, np.arange(48, 80), tokens=tokens)
        fitted = fit(model, train, val, cfg, task.metric, device=torch.device("cpu"))
        results.append((fitted.history, {k: v.clone() for k, v in model.state_dict().items()}))
    (history, state), (cached_history, cached_state) = results
    assert history == cached_history
    assert all(torch.equal(state[k], cached_state[k]) for k in state)
