"""Published parameter names → ours: explicit rename tables, checked key by key and shape by shape (style §6.5).

Upstream ships DNABERT-2 and HyenaDNA as remote code; we load their weight files into our own modules instead.
A `RenameTable` lists every published key (with `{i}` standing for a block index) and the key it becomes here,
like nanoGPT's `from_pretrained`: the file must hold exactly the expected keys with the expected shapes, so a
wrong config or a different upstream revision fails loudly instead of loading half a model.

- `discarded`: published key prefixes deliberately not loaded (the pretraining head: MLM / LM logits);
- `optional`: our keys a published file may lack (newly initialised there as upstream's fine-tuning does);
- `aliases`: published keys that are one shared tensor with another published key (tied parameters: a
  safetensors file keeps only one of them, a torch file keeps all); when present they must be equal.
Torch only (no transformers); the table itself is plain data, tested against a fixture of published names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from suite.errors import SuiteError


@dataclass(frozen=True)
class RenameTable:
    renames: dict[str, str]  # published → ours; "{i}" = block index
    discarded: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)  # published alias → published key it duplicates

    def expand(self, n_blocks: int) -> dict[str, str]:
        """The table with `{i}` written out for blocks 0 … n_blocks-1 (published → ours, one entry per key)."""
        return _expand(self.renames, n_blocks)

    def expand_aliases(self, n_blocks: int) -> dict[str, str]:
        return _expand(self.aliases, n_blocks)


def _expand(table: dict[str, str], n_blocks: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for theirs, ours in table.items():
        if "{i}" in theirs:
            out.update({theirs.format(i=i): ours.format(i=i) for i in range(n_blocks)})
        else:
            out[theirs] = ours
    return out


def _shown(keys) -> str:
    keys = sorted(keys)
    return ", ".join(keys[:4]) + (f" … ({len(keys)} in all)" if len(keys) > 4 else "")


def to_ours(table: RenameTable, published: dict[str, Tensor], own: dict[str, Tensor], n_blocks: int,
            source: str) -> dict[str, Tensor]:
    """The published state dict renamed to our keys; one-line SuiteError on any key or shape disagreement.

    `own` is our module's state dict (names and shapes to match). Keys of `table.optional` may be missing from
    the file (the result then lacks them too; the caller keeps their fresh initialisation).
    """
    mapping = table.expand(n_blocks)
    aliases = table.expand_aliases(n_blocks)
    known = set(mapping) | set(aliases)
    unexpected = [k for k in published if k not in known and not k.startswith(table.discarded)]
    missing = [k for k, ours in mapping.items() if k not in published and ours not in table.optional]
    if unexpected or missing:
        parts = [f"missing {_shown(missing)}" if missing else "", f"unexpected {_shown(unexpected)}" if unexpected else ""]
        raise SuiteError(f"{source}: the weights do not have the published layout (" + "; ".join(p for p in parts if p) + ")",
                         "use a snapshot of the card's hub repository (config.json and weights from the same revision)")
    for alias, main in aliases.items():
        if alias in published and main in published and not torch.equal(published[alias], published[main]):
            raise SuiteError(f"{source}: {alias} should be the same tensor as {main} but differs",
                             "the checkpoint is not a published one; fetch it again")
    ours = {mapping[k]: v for k, v in published.items() if k in mapping}
    if set(own) - set(ours) - set(table.optional) or set(ours) - set(own):
        raise SuiteError(f"{source}: rename table and module disagree ({_shown(set(own) ^ set(ours))})",
                         "this is a bug in the family module: its RENAMES must cover every parameter")
    bad = [f"{k} {tuple(v.shape)} vs {tuple(own[k].shape)}" for k, v in ours.items() if v.shape != own[k].shape]
    if bad:
        raise SuiteError(f"{source}: published weights have other shapes than config.json says: {_shown(bad)}",
                         "config.json and the weights file must come from the same snapshot")
    return ours


def to_published(table: RenameTable, ours: dict[str, Tensor], n_blocks: int) -> dict[str, Tensor]:
    """Our state dict under the published names (the inverse of `to_ours`; aliases are not written, as a
    safetensors file holds one copy of a shared tensor). Used to write checkpoints in the published layout."""
    inverse = {v: k for k, v in table.expand(n_blocks).items()}
    return {inverse[k]: v for k, v in ours.items()}
