"""DNA augmentations for FinDNA's two views (paper §3.3; EvoAug, Lee et al. 2023; findna-facts §3).

Every function takes one-hot tensors of shape (L, 5) or (B, L, 5) over our channel order A, C, G, T, N and a
torch.Generator, draws its randomness per sequence, and returns a new tensor (inputs are never modified).

Length rule: every view keeps the input length L, so both views and the MNM targets stay aligned.
- deletion: cut d ~ U{0..max_len} bases at start ~ U{0..L-max_len}, then pad random DNA, floor(d/2) bases in
  front and the rest at the back (EvoAug RandomDeletion, exactly).
- insertion: insert i ~ U{0..max_len} random bases at position ~ U{0..L-1}, then trim back to L by dropping
  floor(i/2) bases at the front and the rest at the back (the mirror of deletion). EvoAug pads to L + max_len
  instead, which would break fixed-length batches (facts §2.2, §11.10).
- translocation: circular roll by ±U{0..max_len} (EvoAug RandomTranslocation; = cut near an end and swap).
"Random DNA" is uniform over A, C, G, T (paper); `fill_with_n=True` draws from all 5 channels as the authors'
code does (facts §10.6).

A view is a sequence of these, named by letters (paper Table 4): M masking, D deletion, I insertion,
T translocation, N noise, R reverse complement; "" (or "NoAug") is no augmentation. `apply_view` applies the
letters in the fixed order D, I, T, M, N, R and carries the clean sequence and the mask through the positional
operations, so the MNM targets are always the true bases at the masked positions of the view the student sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from suite.errors import SuiteError
from suite.pretrain.config import (  # noqa: F401  (re-exported: the view names live with the settings)
    LETTERS,
    NAMES,
    ORDER,
    PRESETS,
    VIEW_ASSIGNMENTS,
    AugmentSpec,
    pair_from_lists,
    parse_pair,
    parse_view,
)

N_CHANNELS = 5
# out[..., c] = in[..., perm[c]]: the one-hot of base b becomes the one-hot of complement(b).
RC_PERMUTATION = {
    "true": (3, 2, 1, 0, 4),  # A<->T, C<->G, N stays: correct for our order A, C, G, T, N
    # The authors flip the channel axis of [A, C, G, N, T] (facts §6): A<->T, C<->N, G stays. Same map here.
    "authors": (3, 4, 2, 0, 1),
}


def _batched(x: Tensor) -> tuple[Tensor, bool]:
    if x.dim() == 2:
        return x.unsqueeze(0), True
    if x.dim() != 3 or x.shape[-1] != N_CHANNELS:
        raise SuiteError(f"augmentations take (L, 5) or (B, L, 5) one-hot tensors, got {tuple(x.shape)}",
                         "encode sequences with suite.data.encode and index ONE_HOT")
    return x, False


def _randint(high: int, size: int, generator: torch.Generator, device) -> Tensor:
    """Integers uniform in 0..high (inclusive), drawn on the generator's device and moved to `device`."""
    return torch.randint(0, high + 1, (size,), generator=generator, device=generator.device).to(device)


def random_dna(batch: int, length: int, generator: torch.Generator, fill_with_n: bool = False,
               device=None, dtype=torch.float32) -> Tensor:
    """(B, L, 5) one-hot random bases, uniform over A, C, G, T (or over all 5 channels with `fill_with_n`)."""
    codes = torch.randint(0, 5 if fill_with_n else 4, (batch, length), generator=generator, device=generator.device)
    return torch.nn.functional.one_hot(codes, N_CHANNELS).to(device=device, dtype=dtype)


# ---------------------------------------------------------------- positional plans: index maps + fill masks
# A plan says, for every output position, which input position it reads (index) or that it is random DNA (fill).
def deletion_plan(batch: int, length: int, generator: torch.Generator, max_len: int = 20, device=None):
    d = _randint(max_len, batch, generator, device)[:, None]
    start = _randint(max(length - max_len, 0), batch, generator, device)[:, None]
    front = d // 2
    j = torch.arange(length, device=device)[None, :]
    kept = j - front  # position within the shortened sequence of length L - d
    index = torch.where(kept < start, kept, kept + d)
    fill = (kept < 0) | (kept >= length - d)
    return index.clamp(0, length - 1), fill


def insertion_plan(batch: int, length: int, generator: torch.Generator, max_len: int = 20, device=None):
    i = _randint(max_len, batch, generator, device)[:, None]
    position = _randint(length - 1, batch, generator, device)[:, None]
    e = torch.arange(length, device=device)[None, :] + i // 2  # position in the lengthened sequence (L + i)
    fill = (e >= position) & (e < position + i)
    index = torch.where(e < position, e, e - i)
    return index.clamp(0, length - 1), fill


def translocation_plan(batch: int, length: int, generator: torch.Generator, max_len: int = 20, device=None):
    shift = _randint(max_len, batch, generator, device)
    negative = torch.rand(batch, generator=generator, device=generator.device).to(device) < 0.5
    shift = torch.where(negative, -shift, shift)[:, None]
    index = (torch.arange(length, device=device)[None, :] - shift) % length  # out[j] = in[j - shift]: a roll
    return index, torch.zeros_like(index, dtype=torch.bool)


PLANS = {"deletion": deletion_plan, "insertion": insertion_plan, "translocation": translocation_plan}


def remap(x: Tensor, index: Tensor, fill: Tensor, fill_values: Tensor | None = None) -> Tensor:
    """Gather positions along L (x is (B, L, ...)); positions where `fill` is set take `fill_values` (or 0)."""
    shape = index.shape + x.shape[2:]
    out = torch.gather(x, 1, index.reshape(index.shape + (1,) * (x.dim() - 2)).expand(shape))
    mask = fill.reshape(fill.shape + (1,) * (x.dim() - 2))
    return torch.where(mask, fill_values if fill_values is not None else torch.zeros_like(out), out)


def _positional(name: str, x: Tensor, generator: torch.Generator, max_len: int, fill_with_n: bool) -> Tensor:
    x, single = _batched(x)
    index, fill = PLANS[name](x.shape[0], x.shape[1], generator, max_len, x.device)
    out = remap(x, index, fill, random_dna(x.shape[0], x.shape[1], generator, fill_with_n, x.device, x.dtype))
    return out[0] if single else out


def deletion(x: Tensor, generator: torch.Generator, max_len: int = 20, fill_with_n: bool = False) -> Tensor:
    """Delete d ~ U{0..max_len} bases and pad random DNA half in front, half behind (paper §3.3 Deletion)."""
    return _positional("deletion", x, generator, max_len, fill_with_n)


def insertion(x: Tensor, generator: torch.Generator, max_len: int = 20, fill_with_n: bool = False) -> Tensor:
    """Insert i ~ U{0..max_len} random bases, trimmed back to L half in front, half behind (paper §3.3 Insertion)."""
    return _positional("insertion", x, generator, max_len, fill_with_n)


def translocation(x: Tensor, generator: torch.Generator, max_len: int = 20) -> Tensor:
    """Swap the two pieces around a breakpoint within max_len of an end = circular roll (paper §3.3)."""
    return _positional("translocation", x, generator, max_len, False)


# ---------------------------------------------------------------- token-wise augmentations
def masking(x: Tensor, generator: torch.Generator, rate: float = 0.3, replace: str = "zero") -> tuple[Tensor, Tensor]:
    """Select each position with probability `rate` (Bernoulli, as the authors' code) and return (masked x, mask).

    replace="zero": selected rows become [0 0 0 0 0] (paper §3.3). replace="bert": the authors' 80/10/10 rule
    (facts §2.3): 80 % zero, 10 % a random one-hot over all 5 channels, 10 % unchanged; all are in the mask.
    """
    x, single = _batched(x)
    u = torch.rand(x.shape[:2], generator=generator, device=generator.device).to(x.device)
    mask = u < rate
    if replace == "zero":
        out = x.masked_fill(mask[..., None], 0.0)
    elif replace == "bert":
        u2 = torch.rand(x.shape[:2], generator=generator, device=generator.device).to(x.device)
        noise = random_dna(x.shape[0], x.shape[1], generator, True, x.device, x.dtype)
        out = torch.where((mask & (u2 < 0.8))[..., None], torch.zeros_like(x), x)
        out = torch.where((mask & (u2 >= 0.8) & (u2 < 0.9))[..., None], noise, out)
    else:
        raise SuiteError(f"unknown masking replace rule '{replace}'", "use 'zero' (paper) or 'bert' (authors' code)")
    return (out[0], mask[0]) if single else (out, mask)


def gaussian_noise(x: Tensor, generator: torch.Generator, mean: float = 0.0, std: float = 0.2) -> Tensor:
    """Add N(mean, std^2) independently to every entry, masked rows included (paper §3.3: mean 0, std 0.2)."""
    noise = torch.randn(x.shape, generator=generator, device=generator.device, dtype=x.dtype).to(x.device)
    return x + mean + std * noise


def reverse_complement(x: Tensor, mapping: str = "true") -> Tensor:
    """Reverse along L and complement the channels: A<->T, C<->G, N stays (mapping="true").

    mapping="authors" reproduces the released code's channel flip on [A, C, G, N, T] (A<->T, C<->N, G stays;
    facts §6), for fidelity runs only."""
    if mapping not in RC_PERMUTATION:
        raise SuiteError(f"unknown reverse-complement mapping '{mapping}'", "use 'true' or 'authors'")
    perm = torch.tensor(RC_PERMUTATION[mapping], device=x.device)
    return x.flip(-2).index_select(-1, perm)


def random_reverse_complement(x: Tensor, generator: torch.Generator, p: float = 0.5,
                              mapping: str = "true") -> tuple[Tensor, Tensor]:
    """Reverse-complement each sequence with probability p (paper §3.3); returns (x, flipped (B,) bool)."""
    x, single = _batched(x)
    flipped = torch.rand(x.shape[0], generator=generator, device=generator.device).to(x.device) < p
    out = torch.where(flipped[:, None, None], reverse_complement(x, mapping), x)
    return (out[0], flipped[0]) if single else (out, flipped)


# ---------------------------------------------------------------- named views
@dataclass
class View:
    x: Tensor  # (B, L, 5) what the network sees
    clean: Tensor  # (B, L, 5) the same positions before masking and noise (MNM targets)
    mask: Tensor  # (B, L) bool, True where masked


def apply_view(x: Tensor, letters: str, generator: torch.Generator, spec: AugmentSpec = AugmentSpec()) -> View:
    """Apply the view `letters` (order D, I, T, M, N, R) to a clean (B, L, 5) one-hot batch."""
    x, _ = _batched(x)
    batch, length = x.shape[:2]
    clean, mask = x, torch.zeros(batch, length, dtype=torch.bool, device=x.device)
    for letter in parse_view(letters):
        name = NAMES[letter]
        if name in PLANS:
            max_len = spec.translocation_max if name == "translocation" else spec.indel_max
            index, fill = PLANS[name](batch, length, generator, max_len, x.device)
            dna = random_dna(batch, length, generator, spec.fill_with_n, x.device, x.dtype)
            x, clean = remap(x, index, fill, dna), remap(clean, index, fill, dna)
            mask = remap(mask, index, fill)
        elif name == "masking":
            x, new = masking(x, generator, spec.mask_rate, spec.mask_replace)
            mask = mask | new
        elif name == "noise":
            x = gaussian_noise(x, generator, spec.noise_mean, spec.noise_std)
        else:  # reverse complement: x, targets and mask flip together (facts §11.9)
            flipped = torch.rand(batch, generator=generator, device=generator.device).to(x.device) < spec.rc_p
            rc = lambda t: torch.where(flipped[:, None, None], reverse_complement(t, spec.rc_mapping), t)  # noqa: E731
            x, clean = rc(x), rc(clean)
            mask = torch.where(flipped[:, None], mask.flip(-1), mask)
    return View(x=x, clean=clean, mask=mask)
