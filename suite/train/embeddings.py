"""The frozen backbone's pooled vectors of a split (`features`), and, for a probe, their cache on disk (BEND's way).

In probe mode the backbone is a fixed function: frozen, in eval mode (dropout off), no gradient
(suite/models/classifier.py). So its pooled vector of a sequence is the same in every epoch of every seed, and
`embed_splits` computes each split's vectors once, in length-sorted batches of `batch_size`, and keeps them under
<cache>/embeddings/<task>.<split>.<key>/vectors.npy (written atomically through suite/data/cache.py, like the
encoded splits). The head then trains on them (SplitData.vectors → PooledBatch): a 5-seed probe grid costs one
forward pass over the data plus the heads.

The key is what fixes the vectors: the run key's model parts (the card, pooling and tokenizer name included; size,
weights choice, task-level recipe, backbone overrides, the package's code), the split's data sha256 with the encoding's
length policy, the hub snapshot's tokenizer files (sha256), and the sha256 of the backbone's state as built. The
state stands for the weights file's sha256 and also catches what the file does not fix: a random initialisation
(the quick profile) or blocks a partial load (`match: intersect`) leaves random differ from seed to seed, and
then each seed has its own entry.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from torch import nn

from suite.data.batching import batch_rows
from suite.data.cache import ENCODER_VERSION, cache_dir, digest, write_entry
from suite.errors import SuiteError
from suite.provenance import key_of
from suite.train.evaluate import SplitData

EMBEDDINGS_VERSION = 1  # bump when how vectors are computed or stored changes
TRIAL_PARTS = ("model", "size", "weights", "recipe", "backbone", "code_identity")  # of the run key (suite/runs/plan.py)


@torch.no_grad()
def features(model: nn.Module, data: SplitData, batch_size: int, device: torch.device):
    """The pooled vectors (N, D) of `data` in row order, with the model in eval mode: a scipy CSR matrix when the
    backbone says its features are sparse (`sparse_features = True`, k-mer counts), else a float32 array. Batches
    are sorted by length so they pad little; known vectors (`data.vectors`) are read, not recomputed."""
    import scipy.sparse as sp

    was_training = model.training
    model.eval()
    order = np.argsort(data.lengths, kind="stable")
    blocks, sparse = [], bool(getattr(model.backbone, "sparse_features", False))
    for batch_idx in batch_rows(data.lengths[order], batch_size, shuffle=False):
        vectors = model.embed(data.batch(order[batch_idx]).to(device)).float()
        if sparse:
            idx = vectors.nonzero()
            rows, cols = idx[:, 0], idx[:, 1]
            indptr = torch.zeros(len(vectors) + 1, dtype=torch.int64, device=vectors.device)
            indptr[1:] = torch.bincount(rows, minlength=len(vectors)).cumsum(0)
            blocks.append(sp.csr_matrix((vectors[rows, cols].cpu().numpy(), cols.cpu().numpy(), indptr.cpu().numpy()),
                                        shape=tuple(vectors.shape)))
        else:
            blocks.append(vectors.cpu().numpy())
    model.train(was_training)
    back = np.argsort(order, kind="stable")  # sorted position of each row
    if sparse:
        return sp.vstack(blocks, format="csr")[back]
    return np.concatenate(blocks)[back]


def state_digest(module: nn.Module) -> str:
    """sha256 of a module's state (every parameter and buffer: name, dtype, shape and bytes)."""
    h = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        h.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        h.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def tokenizer_digest(model_card: dict) -> dict:
    """sha256 of each tokenizer and config file of a hub card's snapshot (what `suite models fetch` downloads
    besides the weights); {} for other cards, whose tokenizer is the card's `tokenizer` name."""
    from suite.models.hub import FETCH_PATTERNS

    weights = model_card.get("weights") or {}
    if not weights.get("hub_id") or not Path(weights.get("local", "")).is_dir():
        return {}
    snapshot = Path(weights["local"])
    files = sorted({p for pattern in FETCH_PATTERNS for p in snapshot.glob(pattern) if p.is_file()})
    return {p.name: digest(p) for p in files}


def probe_identity(trial: dict) -> dict:
    """The parts of a trial (TrialSpec.to_dict()) that fix what its frozen backbone computes: the run key's model,
    weights, recipe, backbone and code-version parts, the task's encoding, and the snapshot's tokenizer files.
    Never the seed, fold or training settings: those change the head only."""
    task = trial["task"]
    return {**{part: trial[part] for part in TRIAL_PARTS},
            "encoding": [task["name"], task["version"], task["length_policy"], task["max_bp"], ENCODER_VERSION],
            "tokenizer_files": tokenizer_digest(trial["model"])}


def embed_splits(model: nn.Module, splits: dict, identity: dict, batch_size: int, device: torch.device,
                 cache_root: Path | None = None) -> dict[str, np.ndarray]:
    """split name → pooled vectors (rows of the whole split, D; float32, memory-mapped) of a model in probe
    mode, from the cache or computed once and cached. `splits` maps names to encoded splits (suite/data/cache.py
    EncodedSplit: seqs, labels, sha256, task); `identity` is `probe_identity` of the trial (or any JSON-able value
    that fixes the model). A backbone with sparse features (k-mer counts: cheap to count, large when dense) is not
    cached: {}."""
    if getattr(model, "mode", None) != "probe":
        raise SuiteError("embedding a split once is for probe mode, where the backbone is frozen",
                         "set_mode('probe') first, or train without cached vectors")
    if getattr(model.backbone, "sparse_features", False):
        return {}
    base = {"identity": identity, "backbone_state": state_digest(model.backbone), "version": EMBEDDINGS_VERSION}
    root = (cache_root or cache_dir()) / "embeddings"
    vectors = {}
    for name, split in splits.items():
        entry = root / f"{split.task}.{name}.{key_of({**base, 'data': split.sha256})}"
        if not (entry / "meta.json").is_file():  # a miss: the backbone runs over the whole split, once
            model.to(device)
            whole = SplitData(split.seqs, split.labels, np.arange(len(split)))
            write_entry(entry, {"vectors": features(model, whole, batch_size, device)},
                        {"task": split.task, "split": name, "rows": len(split), "data_sha256": split.sha256})
        vectors[name] = np.load(entry / "vectors.npy", mmap_mode="r")  # batches gather their rows from the page cache
    return vectors
