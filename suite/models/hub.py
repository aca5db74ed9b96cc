"""Published checkpoints from the Hugging Face hub, offline-first (issue 5).

A hub model's card names `weights: {hub_id, revision}`. Its *snapshot* is the folder the hub (or
`save_pretrained`) writes: config.json, the weights (model.safetensors or pytorch_model.bin, or a sharded
`*.index.json` with its shards) and the tokenizer files (vocab.txt, tokenizer_config.json, …).

`resolve_snapshot` looks, in this order, and never touches the network:
1. `weights.local` (the card's `local:` or `--set weights=PATH`);
2. SUITE_MODELS_DIR/<hub_id with "/" → "__"> (a shared folder of snapshots, e.g. on a cluster);
3. the HF cache (`huggingface_hub.snapshot_download(..., local_files_only=True)`, honouring HF_HOME / HF_HUB_CACHE).
Nothing found → one MissingWeights line naming the hub id, every place searched and `suite models fetch NAME`.

`fetch` is the only function that downloads. Weights are read only with safetensors or
`torch.load(weights_only=True)`, so a checkpoint cannot run code; `trust_remote_code` is never used anywhere:
each family builds its architecture from transformers' native classes or from our own modules.
Only the standard library is imported at module level: `suite models` calls `is_present` for every card.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from suite.errors import MissingWeights, SuiteError
from suite.models.spec import WeightsSpec

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")  # preferred first: safetensors cannot run code
INDEX_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
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


def read_state_dict(snapshot: Path) -> dict:
    """Every tensor of a snapshot's weights, on CPU, read without executing code (safetensors / weights_only)."""
    state = {}
    for path in weights_files(snapshot):
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state.update(load_file(str(path)))
        else:
            from suite.safeload import load_tensors

            state.update(load_tensors(path, "fetch the snapshot's safetensors weights (`suite models fetch NAME`) "
                                            "or convert the checkpoint to safetensors"))
    return state


def read_config(snapshot: Path) -> dict:
    """The snapshot's config.json as a dict."""
    try:
        return json.loads((snapshot / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SuiteError(f"cannot read {snapshot / 'config.json'} ({type(exc).__name__})",
                         "fetch the snapshot again") from exc


def weights_digest_file(snapshot: Path) -> Path:
    """The file whose sha256 identifies the weights in a run key (the single weights file, or the index)."""
    for name in WEIGHT_FILES + INDEX_FILES:
        if (snapshot / name).is_file():
            return snapshot / name
    return weights_files(snapshot)[0]


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
