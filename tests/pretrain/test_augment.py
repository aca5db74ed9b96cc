import math

import pytest
import torch

from suite.data.encode import ONE_HOT, decode, encode
from suite.errors import SuiteError
from suite.pretrain import augment as A


def one_hot(seq: str) -> torch.Tensor:
    return torch.from_numpy(ONE_HOT)[torch.from_numpy(encode([seq]).codes).long()]


def random_batch(b=16, length=100, seed=0):
    g = torch.Generator().manual_seed(seed)
    return A.random_dna(b, length, g, fill_with_n=True)


def gen(seed=1):
    return torch.Generator().manual_seed(seed)


def assert_one_hot(x):
    assert ((x == 0) | (x == 1)).all()
    assert (x.sum(-1) == 1).all()


@pytest.mark.parametrize("name", ["deletion", "insertion", "translocation"])
def test_positional_keep_alphabet_and_length(name):
    x = random_batch()
    out = getattr(A, name)(x, gen())
    assert out.shape == x.shape
    assert_one_hot(out)
    single = getattr(A, name)(x[0], gen())  # (L, 5) works too
    assert single.shape == x[0].shape


def positions(b, length):
    return torch.arange(length, dtype=torch.float32).repeat(b, 1)


def test_deletion_rule():
    b, length = 64, 100
    index, fill = A.deletion_plan(b, length, gen(3), max_len=20)
    out = A.remap(positions(b, length), index, fill, torch.full((b, length), -1.0))
    for row, f in zip(out, fill):
        d = int(f.sum())
        assert 0 <= d <= 20
        kept = row[~f]
        assert (kept.diff() > 0).all()  # order kept
        missing = sorted(set(range(length)) - set(kept.long().tolist()))
        assert len(missing) == d and (d == 0 or missing[-1] - missing[0] == d - 1)  # one contiguous cut
        assert f[: d // 2].all() and f[length - (d - d // 2):].all()  # random DNA: floor(d/2) front, rest back
    assert fill.sum(1).max() > 10  # lengths vary up to max_len


def test_insertion_rule():
    b, length = 64, 100
    index, fill = A.insertion_plan(b, length, gen(4), max_len=20)
    out = A.remap(positions(b, length), index, fill, torch.full((b, length), -1.0))
    for row, f in zip(out, fill):
        assert int(f.sum()) <= 20
        assert (row[~f].diff() == 1).all()  # original bases stay consecutive, in order
        inserted = torch.nonzero(f).flatten()
        assert inserted.numel() == 0 or inserted[-1] - inserted[0] == inserted.numel() - 1  # one fragment
    assert fill.sum(1).max() > 5


def test_translocation_is_a_bounded_roll():
    x = random_batch(32, 80)
    out = A.translocation(x, gen(5))
    for before, after in zip(x, out):
        shifts = [s for s in range(-20, 21) if torch.equal(torch.roll(before, s, 0), after)]
        assert shifts


def test_random_dna_fill_is_acgt_unless_asked():
    x = one_hot("N" * 200).repeat(64, 1, 1)
    out = A.deletion(x, gen(6))
    assert out[..., :4].sum() > 0 and (out.argmax(-1) != 4).sum() == out[..., :4].sum()
    assert (A.random_dna(64, 200, gen(7)).argmax(-1) < 4).all()
    assert (A.random_dna(64, 200, gen(7), fill_with_n=True).argmax(-1) == 4).any()


def test_masking_ratio_and_zero_rows():
    x = random_batch(64, 1000)
    out, mask = A.masking(x, gen(8), rate=0.3)
    assert abs(mask.float().mean().item() - 0.3) < 0.01
    assert (out[mask] == 0).all()
    assert torch.equal(out[~mask], x[~mask])


def test_masking_bert_rule():
    x = random_batch(64, 1000)
    out, mask = A.masking(x, gen(9), rate=0.3, replace="bert")
    rows = out[mask]
    zero = (rows.sum(-1) == 0).float().mean().item()
    assert abs(zero - 0.8) < 0.02
    assert ((rows.sum(-1) == 0) | (rows.sum(-1) == 1)).all()
    with pytest.raises(SuiteError):
        A.masking(x, gen(9), replace="other")


def test_noise_statistics():
    x = random_batch(64, 1000)
    diff = A.gaussian_noise(x, gen(10)) - x
    assert abs(diff.mean().item()) < 0.005 and abs(diff.std().item() - 0.2) < 0.005


def test_reverse_complement_true():
    x = one_hot("ACGTNAAC")
    assert decode(A.reverse_complement(x).argmax(-1).numpy()) == "GTTNACGT"
    assert decode(A.reverse_complement(one_hot("ACGTN")).argmax(-1).numpy()) == "NACGT"
    batch = random_batch()
    assert torch.equal(A.reverse_complement(A.reverse_complement(batch)), batch)


def test_reverse_complement_authors_channel_flip():
    # The released code on [A,C,G,N,T]: A<->T, C<->N, G stays (facts §6).
    # reversed: NTGCA, then N→C, T→A, G→G, C→N, A→T
    assert decode(A.reverse_complement(one_hot("ACGTN"), "authors").argmax(-1).numpy()) == "CAGNT"
    batch = random_batch()
    assert torch.equal(A.reverse_complement(A.reverse_complement(batch, "authors"), "authors"), batch)


def test_random_reverse_complement():
    x = random_batch(200, 30)
    out, flipped = A.random_reverse_complement(x, gen(11), p=0.5)
    assert 60 < int(flipped.sum()) < 140
    assert torch.equal(out[flipped], A.reverse_complement(x[flipped]))
    assert torch.equal(out[~flipped], x[~flipped])


def test_reproducible_for_a_generator_seed():
    x = random_batch()
    first = A.apply_view(x, "MDIT", gen(12)).x
    assert torch.equal(first, A.apply_view(x, "MDIT", gen(12)).x)
    assert not torch.equal(first, A.apply_view(x, "MDIT", gen(13)).x)


def test_view_tracks_targets_and_mask():
    x = random_batch(32, 200)
    view = A.apply_view(x, "MDIT", gen(14))
    assert_one_hot(view.clean)
    assert (view.x[view.mask] == 0).all()
    assert torch.equal(view.x[~view.mask], view.clean[~view.mask])
    # masking comes after the positional ops, so the mask covers about 30 % of the final positions
    assert abs(view.mask.float().mean().item() - 0.3) < 0.03


def test_view_reverse_complement_flips_targets_and_mask():
    x = random_batch(64, 100)
    view = A.apply_view(x, "MR", gen(15), A.AugmentSpec(rc_p=1.0))
    assert torch.equal(view.clean, A.reverse_complement(x))
    assert (view.x[view.mask] == 0).all() and torch.equal(view.x[~view.mask], view.clean[~view.mask])
    # the same draw without R: the mask of the RC'd view is the reversed mask
    plain = A.apply_view(x, "M", gen(15))
    assert torch.equal(view.mask, plain.mask.flip(-1))


def test_noise_and_rc_view_keeps_length():
    x = random_batch(8, 50)
    view = A.apply_view(x, "NR", gen(16))
    assert view.x.shape == x.shape and not view.mask.any()
    assert not math.isclose(float((view.x - view.clean).std()), 0.0)


def test_view_names():
    assert A.parse_view("MDIT") == "DITM"
    assert A.parse_pair("MDT+DIT") == ("DTM", "DIT")
    assert A.parse_pair("M+NoAug") == ("M", "")
    assert A.parse_pair(A.VIEW_ASSIGNMENTS["paper"]) == ("DITM", "NR")
    assert A.parse_pair(A.VIEW_ASSIGNMENTS["code"]) == ("MNR", "T")
    for bad in ("MX", "MM", "MDIT"):
        with pytest.raises(SuiteError):
            A.parse_pair(bad) if bad == "MDIT" else A.parse_view(bad)
