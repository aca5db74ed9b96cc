"""DeepBind (suite/models/families/deepbind.py): shapes, batch-padding invariance, translation invariance."""

import numpy as np
import pytest
import torch

from suite.data.batching import collate
from suite.data.encode import encode
from suite.models import build_backbone, build_model, get_model_spec
from suite.models.families.deepbind import DeepBind, DeepBindConfig

RNG = np.random.default_rng(0)


def random_seq(n: int) -> str:
    return "".join(RNG.choice(list("ACGT"), n))


def batch_of(seqs):
    return collate(encode(seqs), np.zeros(len(seqs), dtype=np.int64), np.arange(len(seqs)))


@pytest.mark.parametrize("pool", ["max", "max_avg"])
def test_shapes(pool):
    torch.manual_seed(0)
    model = build_model(get_model_spec("deepbind"), 3, size="tiny", overrides={"pool": pool}, weights=False)
    batch = batch_of([random_seq(30), random_seq(4), "ACGTN" * 3])
    tokens, cls = model.backbone(batch.one_hot, batch.lengths)
    width = model.backbone.width
    assert tokens.shape == (3, 30, width) and cls.shape == (3, 1, width)
    logits = model(batch)
    assert logits.shape == (3, 3) and torch.isfinite(logits).all()
    no_hidden = build_backbone(get_model_spec("deepbind"), "tiny", overrides={"dense": 0, "pool": pool})
    assert no_hidden.width == no_hidden.config.filters * (2 if pool == "max_avg" else 1)


def test_default_card_builds_its_documented_network():
    backbone = build_backbone(get_model_spec("deepbind"))
    assert backbone.conv.weight.shape == (128, 4, 24) and backbone.width == 32


@pytest.mark.parametrize("pool", ["max", "max_avg"])
def test_a_sequence_gives_the_same_logits_alone_and_next_to_a_longer_one(pool):
    torch.manual_seed(0)
    model = build_model(get_model_spec("deepbind"), 2, size="tiny", overrides={"pool": pool}, weights=False).eval()
    short, longer = random_seq(17), random_seq(60)
    with torch.no_grad():
        alone = model(batch_of([short]))
        batched = model(batch_of([longer, short, "ACGTNNAC"]))
    torch.testing.assert_close(batched[1], alone[0], rtol=0, atol=1e-6)


def test_the_backbone_never_reads_past_a_sequence_end():
    """Noise where the batch pads (beyond `lengths`) changes nothing."""
    torch.manual_seed(0)
    model = DeepBind(DeepBindConfig(filters=6, motif_len=5, dense=4, pool="max_avg")).double().eval()
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (1, 20)), 5).double()
    noisy = torch.cat([x[:, :12], torch.randn(1, 8, 5, dtype=torch.float64)], dim=1)
    _, clean_cls = model(x[:, :12], torch.tensor([12]))
    _, noisy_cls = model(noisy, torch.tensor([12]))
    torch.testing.assert_close(noisy_cls, clean_cls, rtol=0, atol=1e-12)


def planted_detector(motif: str, filters: int = 4) -> DeepBind:
    """A DeepBind whose detector 0 scores 1 on an exact match of `motif` and 0 on anything with a mismatch."""
    torch.manual_seed(0)
    model = DeepBind(DeepBindConfig(filters=filters, motif_len=len(motif), dense=8, dropout=0.5)).double().eval()
    with torch.no_grad():
        model.conv.weight[0] = torch.nn.functional.one_hot(torch.tensor(["ACGT".index(b) for b in motif]), 4).T
        model.conv.bias[0] = -(len(motif) - 1.0)
    return model


@pytest.mark.parametrize("background", ["N", "random"])
def test_a_motif_at_the_start_middle_or_end_excites_the_same_maximum(background):
    motif, length = "GATTACAG", 50
    model = planted_detector(motif)
    fill = (lambda n: "N" * n) if background == "N" else random_seq
    seqs = [motif + fill(length - 8), fill(21) + motif + fill(length - 29), fill(length - 8) + motif]
    batch = batch_of(seqs)
    x = batch.one_hot.double()
    with torch.no_grad():
        maxima = model.motif_scores(x, batch.lengths).amax(-1)
        _, cls = model(x, batch.lengths)
    assert maxima[:, 0].tolist() == [1.0, 1.0, 1.0]  # a full match wherever it is, the ends included
    if background == "N":  # nothing else in the sequence: the whole network's output is the same
        torch.testing.assert_close(cls[0], cls[1], rtol=0, atol=1e-12)
        torch.testing.assert_close(cls[0], cls[2], rtol=0, atol=1e-12)
