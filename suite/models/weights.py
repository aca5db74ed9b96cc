"""How weights enter a model: one reader, one rename step and one loader with one set of checks (issue 19).

Every road goes through `load_into`: a hub snapshot (families dnabert, dnabert2, hyenadna, nucleotide_transformer),
the ChordMixer authors' checkpoint (chordmixer.load_authors), a card's pretrained weights (build_model, match exact
or intersect), an exported pretraining backbone and a resumed pretraining snapshot (suite/pretrain/checkpoint.py).
- Reading (`read_tensors`): safetensors, or `torch.load(weights_only=True)` for a torch pickle (.pt, .bin), so a
  file cannot run code; a file that is not plain tensors (or is damaged) is refused in one line that names it and
  says what to do, never with torch's advice to turn the safety off. A snapshot folder (config.json, weights,
  tokenizer files) holds one weights file or the shards its `*.index.json` lists, safetensors preferred.
- Renaming: a function from a file's key to the module's (None = a known unused key, e.g. a masked-LM head), or a
  `RenameTable` listing every published key, like nanoGPT's `from_pretrained`, so a wrong config or another
  upstream revision fails loudly instead of loading half a model.
- Checking (`load_into`): missing and unexpected keys and shape mismatches in one SuiteError line with the
  caller's fix; two keys renamed to one (tied parameters) must be equal tensors.
- `weights_sha`: the sha256 that names the weights in a run key and on the run (tag suite.weights).
Only the standard library at module level: `suite models` looks for snapshots of every card without torch.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from suite.errors import MissingWeights, SuiteError
from suite.models.spec import MATCHES

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")  # preferred first: safetensors cannot run code
INDEX_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
Rename = Callable[[str], "str | None"]
SNAPSHOT_FIX = ("use a complete snapshot of the card's hub repository (config.json and weights from the same "
                "revision; `suite models fetch NAME` fetches it again)")


@dataclass(frozen=True)
class RenameTable:
    """Published names → ours. `renames`: every published key ("{i}" = a block index) and the key it becomes;
    `discarded`: published key prefixes deliberately not loaded (the pretraining head: MLM / LM logits);
    `aliases`: published keys that are one shared tensor with another published key (tied parameters: a
    safetensors file keeps only one of them, a torch file keeps all; when both are there they must be equal)."""

    renames: dict[str, str]
    discarded: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)  # published alias → published key it duplicates

    def expand(self, n_blocks: int) -> dict[str, str]:
        """The table with `{i}` written out for blocks 0 … n_blocks-1 (published → ours, one entry per key)."""
        return _expand(self.renames, n_blocks)

    def rename(self, n_blocks: int) -> Rename:
        """The table as `load_into`'s rename for `n_blocks` blocks: a listed key → ours, an alias → the key of the
        tensor it duplicates, a discarded key → None, any other key unchanged (load_into reports it unexpected)."""
        mapping = self.expand(n_blocks)
        mapping.update({alias: mapping[main] for alias, main in _expand(self.aliases, n_blocks).items()})
        return lambda key: mapping.get(key, None if key.startswith(self.discarded) else key)


def _expand(table: dict[str, str], n_blocks: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for theirs, ours in table.items():
        if "{i}" in theirs:
            out.update({theirs.format(i=i): ours.format(i=i) for i in range(n_blocks)})
        else:
            out[theirs] = ours
    return out


def to_published(table: RenameTable, ours: dict, n_blocks: int) -> dict:
    """Our state dict under the published names (aliases are not written, as a safetensors file holds one copy of
    a shared tensor). Used to write checkpoints in the published layout."""
    inverse = {v: k for k, v in table.expand(n_blocks).items()}
    return {inverse[k]: v for k, v in ours.items()}


def prefixed(prefix: str) -> Rename:
    """The keys under `prefix` (a card's `weights.prefix`, e.g. "teacher."), without it; other keys are unused."""
    return lambda key: key[len(prefix):] if key.startswith(prefix) else None


def weights_files(snapshot: Path) -> list[Path]:
    """The weights file(s) of a snapshot: a single file, or the shards its index lists (safetensors first)."""
    for name in WEIGHT_FILES:
        if (snapshot / name).is_file():
            return [snapshot / name]
    for name in INDEX_FILES:
        index = snapshot / name
        if index.is_file():
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
            missing = [s for s in shards if not (snapshot / s).is_file()]
            if missing:
                raise MissingWeights(f"{index} lists shards that are not there: {', '.join(missing)}",
                                     "fetch the snapshot again (`suite models fetch NAME`)")
            return [snapshot / s for s in shards]
    raise MissingWeights(f"no weights file in {snapshot} (looked for {', '.join(WEIGHT_FILES + INDEX_FILES)})",
                         "point --set weights=PATH at a complete snapshot")


def weights_sha(path: Path) -> str:
    """The sha256 naming weights in a run key and on the run: of a weights file, or of a snapshot folder's single
    weights file or shard index (memoised on size and mtime, so an unchanged file is hashed once)."""
    from suite.data.cache import digest

    path = Path(path)
    if path.is_dir():
        found = [path / name for name in WEIGHT_FILES + INDEX_FILES if (path / name).is_file()]
        path = found[0] if found else weights_files(path)[0]
    return digest(path)


def read_tensors(path: str | Path, fix: str, map_location="cpu") -> dict:
    """Every tensor of a weights file (safetensors, or a torch pickle loaded with weights_only) or of a snapshot
    folder (all its shards), on `map_location`; SuiteError(what, fix) when it is missing, holds pickled objects
    other than tensors and plain containers, or cannot be read."""
    path = Path(path)
    if path.is_dir():
        return {k: v for file in weights_files(path) for k, v in read_tensors(file, fix, map_location).items()}
    if not path.is_file():
        raise SuiteError(f"{path} not found", fix)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path), device=str(map_location))
        import torch

        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError … depending on the damage
        text = str(exc)
        if isinstance(exc, pickle.UnpicklingError) and "weights_only" in text.lower():
            raise SuiteError(f"{path} is not a plain tensor checkpoint (it holds pickled Python objects, which are "
                             "never loaded: they could run code)", fix) from None
        lines = [line.strip() for line in text.splitlines() if line.strip() and "weights_only" not in line]
        reason = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
        raise SuiteError(f"{path} cannot be read as a tensor checkpoint ({reason})", fix) from None


@dataclass(frozen=True)
class LoadReport:
    """What `load_into` did: module keys copied, module keys left at their initialisation (optional ones, or any
    with match="intersect"), the file's keys not used, and the sha256 of the file read (None for a state dict)."""

    loaded: tuple[str, ...]
    left_random: tuple[str, ...]
    unused: tuple[str, ...]
    sha256: str | None = None


def _shown(keys) -> str:
    keys = sorted(keys)
    return ", ".join(keys[:6]) + (f" … ({len(keys)} in all)" if len(keys) > 6 else "")


def load_into(module, state: dict | str | Path, *, source: str, fix: str, rename: Rename | None = None,
              match: str = "exact", optional: Callable[[str], bool] = lambda key: False) -> LoadReport:
    """Copy weights into `module`, the one way weights enter a model; returns what it loaded.

    `state`: a state dict, a weights file or a snapshot folder (read by `read_tensors`, its sha256 recorded).
    `rename`: a key → the module's key, or None for a known unused key; keys renamed to one are tied copies and
    must be equal. match="exact": every module key is filled, except those `optional` allows (a fresh pooler,
    buffers computed from the config), and every kept key is used. match="intersect" (the authors' loader, facts
    §5.1): the shared keys are copied and the rest stays at random init. In both, at least one key must fit and
    shapes must agree. Any disagreement is one SuiteError line naming the keys, with `fix`."""
    import torch

    if match not in MATCHES:
        raise SuiteError(f"unknown weights match '{match}'", f"use one of {', '.join(MATCHES)}")
    sha = None
    if not isinstance(state, dict):
        state, sha = read_tensors(state, fix), weights_sha(state)  # read first: a missing file is one line
    mapped, first = {}, {}
    for key, value in state.items():
        new = rename(key) if rename else key
        if new is not None and new in mapped:
            if not torch.equal(mapped[new], value):
                raise SuiteError(f"{source}: {key} should be the same tensor as {first[new]} but differs",
                                 "the checkpoint is not a published one; fetch it again")
        elif new is not None:
            mapped[new], first[new] = value, key
    own = module.state_dict()
    shared = sorted(set(own) & set(mapped))
    missing = [k for k in sorted(own) if k not in mapped and not optional(k)]
    unused = sorted(set(mapped) - set(own))
    problems = [f"none of its keys fits the model (it holds {_shown(state)})"] if not shared else []
    if shared and match == "exact":
        problems += [f"missing: {_shown(missing)}"] if missing else []
        problems += [f"unexpected: {_shown(unused)}"] if unused else []
    bad = [f"{k} {tuple(mapped[k].shape)} vs {tuple(own[k].shape)}" for k in shared if mapped[k].shape != own[k].shape]
    problems += [f"wrong shapes: {_shown(bad)}"] if bad else []
    if problems:
        raise SuiteError(f"{source}: the weights do not fit the model ({'; '.join(problems)})", fix)
    module.load_state_dict({k: mapped[k] for k in shared}, strict=False)
    return LoadReport(tuple(shared), tuple(k for k in sorted(own) if k not in mapped), tuple(unused), sha)
