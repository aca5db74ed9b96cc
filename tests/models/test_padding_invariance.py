"""A sequence's outputs must not depend on the other (longer) sequences of its batch (per-sequence rotation,
key padding mask), and padded token outputs are exactly 0."""

import pytest
import torch

from suite.models.families.chordmixer import ChordMixer, ChordMixerConfig
from suite.models.families.transformer import FinDNATransformer, TransformerConfig


def onehot(lengths, L, seed=0):
    g = torch.Generator().manual_seed(seed)
    codes = torch.randint(0, 5, (len(lengths), L), generator=g)
    x = torch.nn.functional.one_hot(codes, 5).double()
    return x * (torch.arange(L)[None, :, None] < torch.tensor(lengths)[:, None, None])


def alone_vs_batched(model, lengths, L):
    x = onehot(lengths, L)
    lens = torch.tensor(lengths)
    tokens, cls = model(x, lens)
    for b, n in enumerate(lengths):
        # Also give the single sequence noise in its padding: nothing past len_i may be read.
        alone_x = torch.cat([x[b : b + 1, :n], torch.randn(1, min(3, L - n), 5, dtype=torch.float64)], dim=1)
        alone_tokens, alone_cls = model(alone_x, torch.tensor([n]))
        torch.testing.assert_close(tokens[b, :n], alone_tokens[0, :n], rtol=0, atol=1e-10)
        torch.testing.assert_close(cls[b], alone_cls[0], rtol=0, atol=1e-10)
        assert torch.all(tokens[b, n:] == 0) and torch.all(alone_tokens[0, n:] == 0)


def test_chordmixer_per_sequence_is_padding_invariant():
    torch.manual_seed(0)
    model = ChordMixer(ChordMixerConfig(track_size=4, hidden=16, layers=2, n_cls=3, max_len=40)).double().eval()
    alone_vs_batched(model, [40, 9, 23, 1], 40)


def test_chordmixer_batch_rotation_lets_padding_leak():
    """The authors' joint roll (facts §1.2): the same sequence gives other outputs next to a longer one."""
    torch.manual_seed(0)
    model = ChordMixer(ChordMixerConfig(track_size=4, hidden=16, layers=1, n_cls=3, max_len=40, rotation="batch")).double()
    x = onehot([40, 9], 40)
    _, cls = model(x, torch.tensor([40, 9]))
    _, alone = model(x[1:2, :9], torch.tensor([9]))
    assert not torch.allclose(cls[1], alone[0])


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("positions", ["learned", "sinusoidal"])
def test_transformer_is_padding_invariant(causal, positions):
    torch.manual_seed(0)
    cfg = TransformerConfig(width=16, layers=2, heads=2, hidden=32, n_cls=3, max_len=40, positions=positions, causal=causal)
    model = FinDNATransformer(cfg).double().eval()
    alone_vs_batched(model, [40, 9, 23, 1], 40)


def test_transformer_cls_tokens_see_the_sequence_and_differ():
    torch.manual_seed(0)
    model = FinDNATransformer(TransformerConfig(width=16, layers=1, heads=2, hidden=32, n_cls=3, max_len=20)).double()
    x = onehot([20, 20], 20)
    x[1, 0] = torch.tensor([0, 0, 0, 1, 0], dtype=torch.float64)
    x[0, 0] = torch.tensor([1, 0, 0, 0, 0], dtype=torch.float64)
    _, cls = model(x, torch.tensor([20, 20]))
    assert not torch.allclose(cls[0, 0], cls[0, 1])  # distinct by position
    assert not torch.allclose(cls[0], cls[1])  # a change at position 0 reaches the [CLS] at the end


def test_transformer_learned_positions_reject_too_long_input():
    from suite.errors import SuiteError

    model = FinDNATransformer(TransformerConfig(width=8, layers=1, heads=2, hidden=8, n_cls=2, max_len=10))
    with pytest.raises(SuiteError, match="longer than the learned position table"):
        model(torch.zeros(1, 11, 5), torch.tensor([11]))
