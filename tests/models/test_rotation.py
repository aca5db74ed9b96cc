"""ChordMixer rotation and blocks against naive per-position Python references (findna-facts §1.1-1.3)."""

import math

import pytest
import torch

from suite.models.families.chordmixer import ChordMixer, ChordMixerConfig, Rotation, track_shifts


def naive_rotate(h, seq_lens, widths_shifts):
    """out[b, t, c] = h[b, (t + shift_c) mod T_b, c] for t < T_b; positions ≥ T_b keep their value."""
    out = h.clone()
    B, T, E = h.shape
    for b in range(B):
        Tb = int(seq_lens[b])
        for t in range(Tb):
            for c in range(E):
                out[b, t, c] = h[b, (t + int(widths_shifts[c])) % Tb, c]
    return out


def test_track_shifts_paper_and_uneven_last_track():
    shifts = track_shifts(308, 28)
    assert shifts.shape == (308,)
    per_track = [int(shifts[i * 28]) for i in range(11)]
    assert per_track == [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    assert all(int(s) == per_track[i // 28] for i, s in enumerate(shifts))
    uneven = track_shifts(10, 4)  # tracks of 4, 4, 2 channels
    assert uneven.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]


@pytest.mark.parametrize("seq_lens", [[7, 3, 5], [7, 7, 7], [1, 6, 2], [5, 5, 5]])
@pytest.mark.parametrize("E", [12, 11])  # 11: the last track is shorter
def test_rotation_matches_naive_reference(seq_lens, E):
    """Both ways the rotation runs: slice copies when every T_b is the same ([7, 7, 7], [5, 5, 5]: padding past
    T_b = 5 stays), one (B, T) gather per track otherwise; the inverse undoes it; base + rotation is fused."""
    torch.manual_seed(0)
    T, track = 7, 3  # shifts 0, 1, 2, 4: larger than some T_b, so they must wrap
    shifts = track_shifts(E, track)
    h = torch.randn(3, T, E)
    lens = torch.tensor(seq_lens)
    rotation = Rotation.build(E, track, lens, T, joint=False)
    assert (rotation.common is not None) == (len(set(seq_lens)) == 1)
    fast = rotation.apply(h)
    assert torch.equal(fast, naive_rotate(h, lens, shifts))
    assert torch.equal(rotation.apply(fast, inverse=True), h)
    base = torch.randn(3, T, E)
    assert torch.equal(rotation.apply(h, base=base), base + fast)


def naive_chordmixer(model: ChordMixer, x, length, padded: bool):
    """One sequence through the network with torch.roll per track, as the authors' CircularShift does.
    `padded`: the authors' batch behaviour (padding kept, [CLS] after the padded length)."""
    cfg = model.config
    seq = x if padded else x[:length]
    K = cfg.n_cls
    inputs = torch.cat([seq, torch.zeros(K, 5, dtype=x.dtype)])
    h = model.stem(inputs)
    for layer in model.layers:
        for block in layer:
            m = block.fc2(torch.nn.functional.gelu(block.fc1(h)))
            parts = torch.split(m, cfg.track_size, dim=1)
            rolled = [parts[0]] + [torch.roll(p, -(2 ** (i - 1)), dims=0) for i, p in enumerate(parts) if i > 0]
            h = h + torch.cat(rolled, dim=1)
    n = len(seq)
    return h[:n], h[n:]


@pytest.mark.parametrize("rotation", ["per_sequence", "batch"])
def test_network_matches_naive_roll_reference(rotation):
    torch.manual_seed(1)
    cfg = ChordMixerConfig(track_size=3, hidden=8, layers=2, n_cls=2, max_len=12, rotation=rotation)
    model = ChordMixer(cfg).double().eval()
    assert cfg.blocks_per_layer == math.ceil(math.log2(14)) == 4 and model.width == 15
    lengths = torch.tensor([12, 5, 9])
    x = torch.randn(3, 12, 5, dtype=torch.float64) * (torch.arange(12)[None, :, None] < lengths[:, None, None])
    tokens, cls = model(x, lengths)
    for b in range(3):
        n = int(lengths[b])
        ref_tokens, ref_cls = naive_chordmixer(model, x[b], n, padded=rotation == "batch")
        torch.testing.assert_close(tokens[b, :n], ref_tokens[:n], rtol=0, atol=1e-12)
        torch.testing.assert_close(cls[b], ref_cls, rtol=0, atol=1e-12)
        assert torch.all(tokens[b, n:] == 0)


def test_rotation_modes_agree_when_lengths_are_equal():
    torch.manual_seed(2)
    base = ChordMixer(ChordMixerConfig(track_size=2, hidden=8, layers=1, n_cls=3, max_len=16)).double()
    joint = ChordMixer(ChordMixerConfig(track_size=2, hidden=8, layers=1, n_cls=3, max_len=16, rotation="batch")).double()
    joint.load_state_dict(base.state_dict())
    x = torch.randn(2, 16, 5, dtype=torch.float64)
    lengths = torch.tensor([16, 16])
    for a, b in zip(base(x, lengths), joint(x, lengths)):
        assert torch.equal(a, b)


def test_paper_config_derives_width_and_blocks():
    cfg = ChordMixerConfig()
    assert cfg.blocks_per_layer == 10 and cfg.resolved_width == 308  # facts §1.3
    assert ChordMixerConfig(n_cls=0).blocks_per_layer == 10  # ceil(log2 1000)
    assert ChordMixerConfig(max_len=8192).blocks_per_layer == 14  # ceil(log2 8202)


def test_rotation_gradient_is_the_inverse_rotation():
    """The custom backward (a gather with negated shifts) against autograd's numerical gradient."""
    torch.manual_seed(3)
    model = ChordMixer(ChordMixerConfig(track_size=2, hidden=4, layers=1, n_cls=2, max_len=9)).double()
    x = torch.randn(3, 9, 5, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([9, 4, 6])
    assert torch.autograd.gradcheck(lambda inp: model(inp, lengths), (x,))
    equal = torch.tensor([9, 9, 9])  # the roll (slice copies) path
    assert torch.autograd.gradcheck(lambda inp: model(inp, equal), (x,))
