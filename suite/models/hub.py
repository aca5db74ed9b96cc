"""Published checkpoints from the Hugging Face hub, offline-first (issue 5).

A hub model's card names `weights: {hub_id, revision}`. Its *snapshot* is the folder the hub (or
`save_pretrained`) writes: config.json, the weights (model.safetensors or pytorch_model.bin, or a sharded
`*.index.json` with its shards) and the tokenizer files (vocab.txt, tokenizer_config.json, …).

`resolve_snapshot` looks, in this order, and never touches the network:
1. `weights.local` (the card's `local:` or `--set weights=PATH`);
2. SUITE_MODELS_DIR/<hub_id with "/" → "__"> (a shared folder of snapshots, e.g. on a cluster);
3. the HF cache (`huggingface_hub.snapshot_download(..., local_files_only=True)`, honouring HF_HOME / HF_HUB_CACHE).
Nothing found → one MissingWeights line naming the hub id, every place searched and `suite models fetch NAME`.

`fetch` is the only function that downloads. The weights are read by suite/models/weights.py (safetensors or
weights-only, never code); `trust_remote_code` is never used anywhere: each family builds its architecture from
transformers' native classes or from our own modules.
Only the standard library is imported at module level: `suite models` calls `is_present` for every card.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from suite.errors import MissingWeights, SuiteError
from suite.models.spec import WeightsSpec
from suite.models.weights import INDEX_FILES, WEIGHT_FILES

# what `fetch` downloads: config, tokenizer files and one weights format (never TF/Flax/ONNX copies)
FETCH_PATTERNS = ("*.json", "*.txt", "*.model")  # remote-code *.py files are never fetched


def folder_name(hub_id: str) -> str:
    """The snapshot's folder name under SUITE_MODELS_DIR: 'zhihan1996/DNA_bert_6' → 'zhihan1996__DNA_bert_6'."""
    return hub_id.replace("/", "__")


def is_snapshot(folder: Path) -> bool:
    """A folder holding config.json and a weights file (single or sharded)."""
    return (folder / "config.json").is_file() and any((folder / f).is_file() for f in WEIGHT_FILES + INDEX_FILES)


def _cache_snapshot(hub_id: str, revision: str) -> Path | None:
    """The HF cache's snapshot folder for (hub_id, revision), without any network access."""
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError:  # huggingface_hub is a dependency; without it the cache cannot be read
        return None
    try:
        return Path(snapshot_download(hub_id, revision=revision, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None


def _cache_dir_shown(hub_id: str) -> str:
    try:
        from huggingface_hub import constants
        root = constants.HF_HUB_CACHE
    except ImportError:
        root = os.path.join(os.path.expanduser("~"), ".cache", "huggingface", "hub")
    return str(Path(root) / f"models--{hub_id.replace('/', '--')}")


def candidates(weights: WeightsSpec) -> list[Path]:
    """The local folders searched before the HF cache, in order."""
    places = []
    if weights.local.strip().lower() != "none":
        places.append(Path(weights.local).expanduser())
    root = os.environ.get("SUITE_MODELS_DIR")
    if root and weights.hub_id:
        places.append(Path(root).expanduser() / folder_name(weights.hub_id))
    return places


def find_snapshot(weights: WeightsSpec) -> Path | None:
    """The first snapshot found (local folder, SUITE_MODELS_DIR, HF cache), or None. No network."""
    for folder in candidates(weights):
        if is_snapshot(folder):
            return folder.resolve()
    if weights.hub_id:
        cached = _cache_snapshot(weights.hub_id, weights.revision)
        if cached is not None and is_snapshot(cached):
            return cached
    return None


def resolve_snapshot(weights: WeightsSpec, model_name: str) -> Path:
    """The snapshot folder of a card's weights; MissingWeights (one line) when no copy is on this machine."""
    found = find_snapshot(weights)
    if found is not None:
        return found
    searched = [str(p) for p in candidates(weights)]
    if weights.hub_id:
        searched.append(f"HF cache {_cache_dir_shown(weights.hub_id)} (revision {weights.revision})")
    if not os.environ.get("SUITE_MODELS_DIR"):
        searched.append("SUITE_MODELS_DIR (not set)")
    what = weights.hub_id or weights.local
    raise MissingWeights(
        f"model '{model_name}': no snapshot of {what} (config.json + {' or '.join(WEIGHT_FILES)}) in "
        + "; ".join(searched),
        f"run `suite models fetch {model_name}` where the hub is reachable (or copy the snapshot to "
        f"SUITE_MODELS_DIR/{folder_name(weights.hub_id) if weights.hub_id else '<folder>'}), "
        "or use --set weights=PATH / --set weights=none",
    )


def read_config(snapshot: Path) -> dict:
    """The snapshot's config.json as a dict."""
    try:
        return json.loads((snapshot / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SuiteError(f"cannot read {snapshot / 'config.json'} ({type(exc).__name__})",
                         "fetch the snapshot again") from exc


def fetch(name: str, to: Path | None = None) -> Path:
    """Download a hub model's snapshot (config, tokenizer files, one weights format) into the HF cache or `to`.

    The only function that goes online. Returns the snapshot folder. Failures (no network, unknown repo or
    revision, gated repo) are one SuiteError line.
    """
    from suite.models import get_model_spec

    spec = get_model_spec(name)
    weights = spec.weights
    if not weights.hub_id:
        raise SuiteError(f"model '{spec.name}' has no hub id (its weights: {weights.local})",
                         "hub models are the cards with `weights: {hub_id: …}`; see `suite models`")
    try:
        from huggingface_hub import HfApi, snapshot_download

        files = HfApi().list_repo_files(weights.hub_id, revision=weights.revision)
        weight_pattern = next((p for p in ("*.safetensors", "*.bin") if any(f.endswith(p[1:]) for f in files)), None)
        if weight_pattern is None:
            raise SuiteError(f"{weights.hub_id}@{weights.revision} holds no safetensors or .bin weights",
                             "pick a revision that has PyTorch weights")
        patterns = [*FETCH_PATTERNS, weight_pattern]
        folder = snapshot_download(weights.hub_id, revision=weights.revision, allow_patterns=patterns,
                                   local_dir=str(to) if to is not None else None)
    except SuiteError:
        raise
    except Exception as exc:  # the network edge: offline, DNS, HTTP 401/404, … each becomes one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise SuiteError(
            f"cannot download {weights.hub_id} (revision {weights.revision}) for model '{spec.name}': "
            f"{type(exc).__name__}{': ' + first if first else ''}",
            "check the network / HF_ENDPOINT / HF_HUB_OFFLINE, or copy a snapshot to "
            f"SUITE_MODELS_DIR/{folder_name(weights.hub_id)}",
        ) from exc
    return Path(folder)
