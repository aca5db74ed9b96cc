"""Round-trip checkpoints: the PUBLISHED file layouts, written by the suite's OWN modules (DNABERT-2, HyenaDNA).

Each writer builds our native module at a small config, saves its state dict under the published parameter
names (the inverse of the family's RENAMES, plus the pretraining head the hub file carries), the published
config.json (its keys, auto_map included, from tests/fixtures/published/*.json) and the tokenizer files.
They test the loading path (layouts, aliases, one-line errors, training steps), not the forward pass: a module
that differs from the original code reads its own file back perfectly. Parity with the original code is in
tests/models/test_parity_*.py, on fixtures made by that code (tests/fixtures/golden/).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from suite.data.cache import load_split
from suite.tasks import get_task

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "published"


def published(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def real_sequences(n: int, split: str = "train") -> tuple[list[str], np.ndarray]:
    """The first n sequences (and labels) of tf_mouse_2 (needs SUITE_DATA_DIR)."""
    data = load_split(get_task("tf_mouse_2"), split)
    seqs = ["".join("ACGTN"[c] for c in data.seqs.get(i)) for i in range(n)]
    return seqs, data.labels[:n]


def write_dnabert2(folder: Path, seed: int = 0, pooler: bool = False) -> torch.nn.Module:
    """A 2-layer DNABERT-2 (hidden 24, 6 heads: not a power of 2) as the hub has it: pytorch_model.bin of
    BertForMaskedLM, config.json, tokenizer.json (a BPE trained with `tokenizers` on real sequences)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers

    from suite.models.families import dnabert2
    from suite.models.weights import to_published

    folder.mkdir(parents=True, exist_ok=True)
    specials = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]  # ids 0 … 4, as the hub tokenizer
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(real_sequences(300)[0], trainers.BpeTrainer(vocab_size=64, special_tokens=specials))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", 1), ("[SEP]", 2)])
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "PreTrainedTokenizerFast",
                                                              "model_max_length": 1000000000000000019884624838656}))
    (folder / "special_tokens_map.json").write_text(json.dumps(
        {"unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "mask_token": "[MASK]"}))
    small = {"hidden_size": 24, "num_hidden_layers": 2, "num_attention_heads": 6, "intermediate_size": 40,
             "vocab_size": tok.get_vocab_size()}
    config = {**published("dnabert2_117m")["config"], **small}
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    torch.manual_seed(seed)
    model = dnabert2.build({k: config[k] for k in dnabert2.ARCH_KEYS})
    for p in model.parameters():  # LayerNorms away from 1/0 so a mix-up of keys shows in the outputs
        p.data.add_(0.05 * torch.randn_like(p))
    state = to_published(dnabert2.RENAMES, model.state_dict(), 2)
    if not pooler:
        del state["bert.pooler.dense.weight"], state["bert.pooler.dense.bias"]
    H, V = small["hidden_size"], small["vocab_size"]
    state.update({"cls.predictions.transform.dense.weight": torch.randn(H, H), "cls.predictions.transform.dense.bias":
                  torch.randn(H), "cls.predictions.transform.LayerNorm.weight": torch.ones(H),
                  "cls.predictions.transform.LayerNorm.bias": torch.zeros(H),
                  "cls.predictions.decoder.weight": state["bert.embeddings.word_embeddings.weight"],  # tied
                  "cls.predictions.decoder.bias": torch.zeros(V)})
    torch.save(state, folder / "pytorch_model.bin")
    return model


def write_hyenadna(folder: Path, seed: int = 0, d_model: int = 16, n_layer: int = 2,
                   max_seq_len: int = 1026) -> torch.nn.Module:
    """A small HyenaDNA as the -hf hub repos have it: model.safetensors of HyenaDNAForCausalLM (shared Sin `freq`
    stored once, as safetensors does), config.json, tokenizer_config.json and special_tokens_map.json."""
    from safetensors.torch import save_file

    from suite.models.families import hyenadna
    from suite.models.weights import to_published

    folder.mkdir(parents=True, exist_ok=True)
    fixture = published("hyenadna_tiny_1k")
    config = {**fixture["config"], "d_model": d_model, "d_inner": 4 * d_model, "n_layer": n_layer,
              "max_seq_len": max_seq_len, "filter_order": 8}
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    (folder / "tokenizer_config.json").write_text(json.dumps(fixture["tokenizer_config"], indent=2))
    (folder / "special_tokens_map.json").write_text(json.dumps(
        {k: fixture["tokenizer_config"][k] for k in ("bos_token", "cls_token", "eos_token", "mask_token",
                                                      "pad_token", "sep_token", "unk_token")}))
    torch.manual_seed(seed)
    model = hyenadna.build({k: config[k] for k in hyenadna.ARCH_KEYS})
    for name, p in model.named_parameters():
        if "freq" not in name:
            p.data.add_(0.05 * torch.randn_like(p))
    state = to_published(hyenadna.RENAMES, model.state_dict(), n_layer)
    state["lm_head.weight"] = torch.randn(16, d_model)
    save_file({k: v.contiguous() for k, v in state.items()}, str(folder / "model.safetensors"))
    return model
