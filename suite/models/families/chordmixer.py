"""ChordMixer backbone, as used by FinDNA (paper §3.1 "mixer network"; findna-facts §1).

One *block* (facts §1.1, the authors' SwanDNABlock):

    out = x + Rotate(LayerDropout(MLP(x))),   MLP = Linear(E→H) → GELU → Dropout → Linear(H→E) → Dropout

There is no normalisation and no positional encoding anywhere (facts §1.1, §11.1); only the MLP output is
rotated, the residual stream is not. *Rotate* is parameter-free (facts §1.2): the E channels are cut into
tracks of `track_size` channels (the last one may be shorter); track 0 stays, track i ≥ 1 is rolled so that
output position t reads input position (t + 2^(i-1)) mod T. A *layer* is ceil(log2 T) blocks, so after one
layer every output has seen every input (paper §3.1, "log L blocks for a length-L sequence"). The paper's
"four ChordMixer layers with 308 channels and 512 hidden dimensions" (§4.1) is 4 layers × 10 blocks, track 28,
E = (ceil(log2 1010) + 1) · 28 = 308 (facts §1.3).

[CLS] tokens (paper §3.1, facts §1.5): K blank tokens are appended after the sequence *as all-zero input
vectors*, before the stem, exactly as the authors do. They are not learned parameters: they become distinct
only through their different circular neighbourhoods. This keeps the parameter count identical to the
authors' (12,651,873 with their 5-unit output layer, facts §1.6).

Variable lengths (our choice, like the CM repo's RotateChordVarLen): with `rotation="per_sequence"` the K
[CLS] tokens of sequence i sit right after its true length len_i and every roll is taken modulo that
sequence's own T_i = len_i + K, so padding never reaches a real position and the outputs of a sequence do not
depend on what else is in the batch. `rotation="batch"` is the authors' behaviour (facts §1.2): padding is part of
the sequence, the [CLS] tokens go after the padded length and the whole batch rolls jointly over the padded length.

How the rotation runs (`Rotation`, built once per forward and shared by every block; issue 20): no (B, T, E)
index. When every sequence rolls over the same length (rotation="batch", and per_sequence on an equal-length batch
such as pretraining) each track is a roll: two slice copies per track, no index at all. Otherwise each track with
shift s selects rows with one (B·T,) index (t + s) mod T_i, for all the track's channels at once.
The residual add is fused into the same pass, and the backward is the inverse rotation of the gradient (the same
copies or selects with the shift negated), so a block keeps no extra activation for it. The result is the same
permutation as the per-channel definition above, element for element (tests/models/test_rotation.py).

`checkpointing: true` recomputes each layer's activations in the backward pass (torch.utils.checkpoint,
non-reentrant, RNG state preserved so dropout draws the same masks): a training step then holds one layer's block
activations instead of all of them, for about one more forward pass of compute. Outputs and gradients are
identical either way (tests/models/test_chordmixer_long.py).

The number of blocks per layer is fixed by the module (they hold parameters): ceil(log2(max_len + K)) from the
config. A shorter sequence still runs all of them; shifts ≥ T_i simply wrap modulo T_i.

The authors' checkpoints (FinDNA contrastive_pretraining.py saves {"Teacher": ..., "Student": ...}, each a
Model4Pretrain state dict) load through `load_authors`: `authors_renames` maps their names to ours, their output
layer `linear.*` is dropped (the pretraining heads live in suite/pretrain), and the stem's input columns are
reordered from their one-hot order A, C, G, N, T to ours (facts §6). Their Model4Pretrain(max_len=1010) is
ChordMixerConfig(max_len=1000, n_cls=10): the same ceil(log2 1010) blocks per layer and width 308.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from suite.cards import build as build_strict
from suite.errors import SuiteError
from suite.models import FAMILIES
from suite.models.contract import Outputs
from suite.models.weights import RenameTable, load_into

OUTPUTS = Outputs(tokens=True, cls=10, cls_param="n_cls")  # per-position outputs and n_cls [CLS] slots

ROTATIONS = ("per_sequence", "batch")
NORMS = ("none", "layer")  # pre-normalisation inside each block: the authors' "None", or LayerNorm (CM repo "LN")
INITS = ("torch", "xavier")  # PyTorch's default Linear init (the authors', facts §1.4) or the CM repo's _init_weights
AUTHORS_OUT_DIM = 5  # the authors' pretraining head Linear(E→5), shared by MNM and CL (facts §1.4)
# Their one-hot channel order (sklearn LabelBinarizer on a, c, g, n, t; facts §6) vs ours (suite/data/encode.py):
# our stem column c is their column AUTHORS_COLUMNS[c].
AUTHORS_COLUMNS = [list("ACGNT").index(base) for base in "ACGTN"]
# One SwanDNABlock (their models/SwanDNA.py) → one ChordBlock; prenorm/norm "None" hold no parameters.
AUTHORS_BLOCK = {
    "column_transform.fc1.weight": "fc1.weight",
    "column_transform.fc1.bias": "fc1.bias",
    "column_transform.fc2.weight": "fc2.weight",
    "column_transform.fc2.bias": "fc2.bias",
}


@dataclass(frozen=True)
class ChordMixerConfig:
    """Backbone hyperparameters. Defaults are the paper's pretraining network (facts §1.3)."""

    track_size: int = 28
    hidden: int = 512
    layers: int = 4
    n_cls: int = OUTPUTS.cls
    max_len: int = 1000
    mlp_dropout: float = 0.0
    layer_dropout: float = 0.0
    width: int | None = None  # None → (ceil(log2(max_len + n_cls)) + 1) · track_size (authors' Model4Pretrain)
    # A task recipe keeps the base width so pretrained weights still fit (the authors keep E = 308, facts §5.1).
    # The CPU sizes start from random weights: false lets their width follow the task's length, so a 101-bp task
    # gets (ceil(log2 111) + 1) tracks instead of the 1000-bp base's 11 (whose shifts 128-512 only wrap around).
    keep_width: bool = True
    rotation: str = "per_sequence"
    prenorm: str = "none"  # "layer": LayerNorm before each block's MLP, and once after the last block
    init: str = "torch"
    checkpointing: bool = False  # recompute each layer's activations in the backward pass (memory for compute)

    def __post_init__(self) -> None:
        if self.rotation not in ROTATIONS:
            raise SuiteError(f"chordmixer rotation '{self.rotation}' is unknown", f"use one of {ROTATIONS}")
        if self.prenorm not in NORMS:
            raise SuiteError(f"chordmixer prenorm '{self.prenorm}' is unknown", f"use one of {NORMS}")
        if self.init not in INITS:
            raise SuiteError(f"chordmixer init '{self.init}' is unknown", f"use one of {INITS}")
        for name in ("track_size", "hidden", "layers", "max_len"):
            if getattr(self, name) < 1:
                raise SuiteError(f"chordmixer {name} must be ≥ 1, got {getattr(self, name)}", "fix the model card")
        if self.n_cls < 0:
            raise SuiteError(f"chordmixer n_cls must be ≥ 0, got {self.n_cls}", "fix the model card")

    @property
    def blocks_per_layer(self) -> int:
        """ceil(log2 T) for the longest supported T = max_len + K (facts §1.3; paper §3.1)."""
        return max(1, math.ceil(math.log2(self.max_len + self.n_cls)))

    @property
    def resolved_width(self) -> int:
        return self.width if self.width is not None else (self.blocks_per_layer + 1) * self.track_size


def moving_tracks(width: int, track_size: int) -> tuple[tuple[int, int, int], ...]:
    """(first channel, end channel, shift) of every track that moves: track i ≥ 1 has shift 2^(i-1) (facts §1.2);
    the last track may be shorter."""
    n_tracks = math.ceil(width / track_size)
    return tuple((i * track_size, min((i + 1) * track_size, width), 2 ** (i - 1)) for i in range(1, n_tracks))


def track_shifts(width: int, track_size: int) -> Tensor:
    """Per-channel shift (E,) int64: 0 for track 0, 2^(i-1) for track i (facts §1.2)."""
    shifts = torch.zeros(width, dtype=torch.int64)
    for c0, c1, shift in moving_tracks(width, track_size):
        shifts[c0:c1] = shift
    return shifts


@dataclass(frozen=True)
class Rotation:
    """The rotation of one forward pass, shared by all its blocks: output position t < T_b of sequence b, channel
    c reads input position (t + shift_c) mod T_b; positions t ≥ T_b (padding) read themselves.

    `common` set: every sequence has T_b = common, and a track is a roll of the first `common` positions (slice
    copies). Otherwise `index[k]` / `inverse[k]` are the rows of the (B·T, E) view that moving track k reads in the
    forward / backward direction, (B·T,) each: one index_select of the track's channels, which copies each row's
    channels as one run (about twice as fast as an element-wise gather on CPU)."""

    tracks: tuple[tuple[int, int, int], ...]  # moving_tracks(width, track_size)
    split: int  # first channel of the first moving track (= track_size): channels before it stay
    common: int | None
    index: tuple[Tensor, ...] = ()
    inverse: tuple[Tensor, ...] = ()

    @classmethod
    def build(cls, width: int, track_size: int, seq_lens: Tensor, total: int, joint: bool) -> Rotation:
        """`joint`: every T_b is known to be equal (the authors' batch rotation), so no device sync is needed
        to find out."""
        tracks = moving_tracks(width, track_size)
        split = min(track_size, width)
        if joint or bool((seq_lens == seq_lens[0]).all()):
            return cls(tracks, split, int(seq_lens[0]))
        t = torch.arange(total, device=seq_lens.device)[None, :]
        T = seq_lens[:, None]
        inside = t < T
        first_row = torch.arange(len(seq_lens), device=seq_lens.device)[:, None] * total

        def index(shift: int) -> Tensor:
            return (first_row + torch.where(inside, (t + shift) % T, t)).reshape(-1)

        return cls(tracks, split, None, tuple(index(s) for _, _, s in tracks),
                   tuple(index(-s) for _, _, s in tracks))

    def apply(self, src: Tensor, base: Tensor | None = None, inverse: bool = False) -> Tensor:
        """base + rotation of src (base None: the rotation alone); `inverse`: the inverse rotation. One pass,
        written into a fresh tensor piece by piece."""
        out = torch.empty(src.shape, dtype=src.dtype, device=src.device)  # contiguous

        def put(where: tuple, value: Tensor, into: Tensor = out, plus: Tensor | None = base) -> None:
            if plus is None:
                into[where].copy_(value)
            else:
                torch.add(plus[where], value, out=into[where])

        every = slice(None)
        put((every, every, slice(0, self.split)), src[:, :, : self.split])  # track 0 stays
        if self.common is None:
            B, T, E = src.shape
            rows = src.reshape(B * T, E)
            plus = None if base is None else base.reshape(B * T, E)
            for (c0, c1, _), index in zip(self.tracks, self.inverse if inverse else self.index, strict=True):
                put((every, slice(c0, c1)), rows[:, c0:c1].index_select(0, index), out.view(B * T, E), plus)
            return out
        T = self.common
        if T < src.shape[1]:  # positions past the common length are padding: they stay
            put((every, slice(T, None), slice(self.split, None)), src[:, T:, self.split :])
        for c0, c1, shift in self.tracks:
            r = (-shift if inverse else shift) % T  # output t reads (t + r) mod T
            channels = slice(c0, c1)
            put((every, slice(0, T - r), channels), src[:, r:T, channels])
            if r:
                put((every, slice(T - r, T), channels), src[:, :r, channels])
        return out


class _RotateAdd(torch.autograd.Function):
    """x + Rotate(h) in one pass. The rotation is a permutation of each row's positions, so the gradient of h is the
    inverse rotation of the output gradient (as cheap as the forward); nothing is saved."""

    @staticmethod
    def forward(ctx, x: Tensor, h: Tensor, rotation: Rotation) -> Tensor:
        ctx.rotation = rotation
        return rotation.apply(h, base=x)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, Tensor, None]:
        return grad, ctx.rotation.apply(grad, inverse=True), None


class ChordBlock(nn.Module):
    """x + Rotate(LayerDropout(MLP(x))) (facts §1.1). The rotation is passed in (shared by all blocks)."""

    def __init__(self, width: int, hidden: int, mlp_dropout: float, layer_dropout: float, prenorm: str = "none") -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width) if prenorm == "layer" else nn.Identity()
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)
        self.mlp_dropout = nn.Dropout(mlp_dropout)
        self.layer_dropout = nn.Dropout(layer_dropout)

    def forward(self, x: Tensor, rotation: Rotation) -> Tensor:
        h = self.mlp_dropout(F.gelu(self.fc1(self.norm(x))))  # exact (erf) GELU, as in the authors' Mlp
        h = self.layer_dropout(self.mlp_dropout(self.fc2(h)))
        return _RotateAdd.apply(x, h, rotation)


def _run_layer(layer: nn.ModuleList, h: Tensor, rotation: Rotation) -> Tensor:
    for block in layer:
        h = block(h, rotation)
    return h


class ChordMixer(nn.Module):
    """Stem Linear(5→E) → `layers` × `blocks_per_layer` ChordBlocks. No head: see `authors_parameter_count`.

    forward(x (B, L, 5) float, lengths (B,) int64) → (tokens (B, L, E), cls (B, K, E)); token outputs at
    padded positions (t ≥ lengths[b]) are exactly 0.
    """

    def __init__(self, config: ChordMixerConfig) -> None:
        super().__init__()
        self.config = config
        self.width = config.resolved_width
        self.n_cls = config.n_cls
        self.stem = nn.Linear(5, self.width)
        self.layers = nn.ModuleList(
            nn.ModuleList(
                ChordBlock(self.width, config.hidden, config.mlp_dropout, config.layer_dropout, config.prenorm)
                for _ in range(config.blocks_per_layer)
            )
            for _ in range(config.layers)
        )
        self.final_norm = nn.LayerNorm(self.width) if config.prenorm == "layer" else nn.Identity()
        if config.init == "xavier":
            self.apply(_xavier)

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        B, L, _ = x.shape
        K = self.n_cls
        lengths = lengths.to(x.device)
        real = torch.arange(L, device=x.device)[None, :] < lengths[:, None]
        # Zero inputs past len_i, K more zero rows at the end: with per-sequence rotation these zeros right after
        # len_i are the K [CLS] inputs; with the authors' batch rotation the [CLS] tokens are the last K rows.
        inputs = F.pad(x * real[..., None].to(x.dtype), (0, 0, 0, K))
        if self.config.rotation == "per_sequence":
            seq_lens = lengths + K
            cls_pos = lengths[:, None] + torch.arange(K, device=x.device)[None, :]
        else:  # authors: padding is part of the sequence, [CLS] after the padded length, joint roll
            seq_lens = torch.full_like(lengths, L + K)
            cls_pos = (L + torch.arange(K, device=x.device))[None, :].expand(B, K)
        rotation = Rotation.build(self.width, self.config.track_size, seq_lens, L + K,
                                  joint=self.config.rotation == "batch")  # built once, shared by every block
        h = self.stem(inputs)
        for layer in self.layers:
            if self.config.checkpointing and torch.is_grad_enabled():
                h = checkpoint(_run_layer, layer, h, rotation, use_reentrant=False)
            else:
                h = _run_layer(layer, h, rotation)
        h = self.final_norm(h)
        tokens = h[:, :L] * real[..., None].to(h.dtype)
        cls = torch.gather(h, 1, cls_pos[..., None].expand(B, K, self.width))
        return tokens, cls

    def authors_parameter_count(self) -> int:
        """Parameters counted like the authors' Model4Pretrain: stem + encoder + their Linear(E→5) output
        layer, which this backbone does not own (the pretraining heads live in suite/pretrain; facts §1.6)."""
        own = sum(p.numel() for p in self.parameters())
        return own + self.width * AUTHORS_OUT_DIM + AUTHORS_OUT_DIM


def authors_renames(layers: int) -> RenameTable:
    """The authors' Model4Pretrain names → ours, for `layers` layers ({i} = the block within a layer): their
    SwanDNANetwork holds layer l as `encoder.SwanDNA_blocks.{l}` and its blocks as `.SwanDNA_blocks.{i}`."""
    renames = {"embedding.weight": "stem.weight", "embedding.bias": "stem.bias"}
    for layer in range(layers):
        renames.update({f"encoder.SwanDNA_blocks.{layer}.SwanDNA_blocks.{{i}}.{theirs}": f"layers.{layer}.{{i}}.{ours}"
                        for theirs, ours in AUTHORS_BLOCK.items()})
    return RenameTable(renames, discarded=("linear.",))  # their Linear(E→5) pretraining head


def load_authors(model: ChordMixer, published: dict[str, Tensor], source: str) -> None:
    """Copy the authors' state dict (a Model4Pretrain, e.g. their checkpoint's "Teacher") into the model; exact
    keys and shapes. The stem's columns go from their channel order to ours, so a base embeds as it did there."""
    if model.config.prenorm != "none":
        raise SuiteError(f"{source}: the authors' network has no normalisation (prenorm 'None', facts §1.1)",
                         "load their weights into a backbone with prenorm: none")
    if "embedding.weight" in published:
        published = {**published, "embedding.weight": published["embedding.weight"][:, AUTHORS_COLUMNS]}
    rename = authors_renames(model.config.layers).rename(model.config.blocks_per_layer)
    load_into(model, published, source=source, rename=rename,
              fix="load a FinDNA Model4Pretrain state dict (their checkpoint's \"Teacher\" or \"Student\")")


def _xavier(module: nn.Module) -> None:
    """The CM repo's ChordMixer._init_weights: Xavier-uniform Linear weights, zero biases."""
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        nn.init.zeros_(module.bias)


def make_config(params: dict, recipe: dict | None = None, source: str = "chordmixer") -> ChordMixerConfig:
    """Strict config from card params, then a per-task recipe (facts §5.3) on top. A recipe changes track
    size, layers, dropout and max_len but keeps the width of the base config, as the authors keep E = 308
    (facts §5.1) so that pretrained weights still fit."""
    base = build_strict(ChordMixerConfig, dict(params), source)
    if not recipe:
        return base
    checked = build_strict(ChordMixerConfig, dict(recipe), f"{source} recipe")  # unknown keys → CardError
    changes = {k: getattr(checked, k) for k in recipe}
    if base.width is not None or base.keep_width:  # an explicit width (e.g. a checkpoint's) always stays
        changes.setdefault("width", base.resolved_width)
    return dataclasses.replace(base, **changes)


@FAMILIES.register("chordmixer")
def build(params: dict, recipe: dict | None = None, source: str = "chordmixer") -> ChordMixer:
    return ChordMixer(make_config(params, recipe, source))
