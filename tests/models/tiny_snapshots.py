"""Tiny checkpoints in the published file layout, written with transformers' own `save_pretrained`.

Each has the published architecture class (BertForMaskedLM for DNABERT, EsmForMaskedLM for NT), the published
config keys (at a tiny width), the weights file (model.safetensors) and the tokenizer files the hub repositories
hold (vocab.txt in the published order, tokenizer_config.json, special_tokens_map.json). NT v2's snapshot is a
round trip (written from our own module); its parity with the original remote code is tests/models/
test_parity_nucleotide_transformer.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from suite.models.families import dnabert, nucleotide_transformer

TINY = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}


def _tokenizer_files(folder: Path, vocab: list[str], special: dict[str, str], cls: str) -> None:
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    (folder / "special_tokens_map.json").write_text(json.dumps(special, indent=2))
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": cls, "do_lower_case": False,
                                                              "model_max_length": 512, **special}, indent=2))


def dnabert_snapshot(folder: Path, seed: int = 0) -> Path:
    """zhihan1996/DNA_bert_6's layout: BertForMaskedLM weights, config.json, vocab.txt (4,101 tokens)."""
    from transformers import BertConfig, BertForMaskedLM

    torch.manual_seed(seed)
    config = BertConfig(vocab_size=4101, max_position_embeddings=512, type_vocab_size=2, hidden_act="gelu",
                        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, layer_norm_eps=1e-12, **TINY)
    BertForMaskedLM(config).save_pretrained(folder)
    _tokenizer_files(folder, dnabert.published_vocab(6),
                     {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
                      "mask_token": "[MASK]"}, "DNATokenizer")
    return folder


def nt_snapshot(folder: Path, version: int = 1, seed: int = 0) -> Path:
    """InstaDeepAI/nucleotide-transformer-* layout: EsmForMaskedLM weights, config.json, vocab.txt (4,107 tokens).

    v1 is written by transformers' EsmForMaskedLM itself. v2's gated FFN exists upstream only as remote code, so
    its weights are written from our native module under the published names (`esm.` prefix, `lm_head.*`)."""
    from transformers import EsmConfig, EsmForMaskedLM

    torch.manual_seed(seed)
    common = dict(vocab_size=4107, pad_token_id=1, mask_token_id=2, layer_norm_eps=1e-12, emb_layer_norm_before=False,
                  token_dropout=False, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, **TINY)
    if version == 1:
        config = EsmConfig(max_position_embeddings=1002, position_embedding_type="absolute", **common)
        EsmForMaskedLM(config).save_pretrained(folder)
    else:
        from safetensors.torch import save_file

        params = {**common, "max_position_embeddings": 2050, "position_embedding_type": "rotary", "add_bias_fnn": False}
        backbone = nucleotide_transformer.build(params)
        state = {k: v.contiguous() for k, v in backbone.state_dict().items() if not k.endswith("inv_freq")}
        state["lm_head.dense.weight"] = torch.randn(32, 32)  # the published MLM head: present, unused
        folder.mkdir(parents=True, exist_ok=True)
        save_file(state, str(folder / "model.safetensors"))
        config = {"architectures": ["EsmForMaskedLM"], "model_type": "esm", "auto_map": {
            "AutoConfig": "esm_config.EsmConfig", "AutoModelForMaskedLM": "modeling_esm.EsmForMaskedLM"}, **params}
        (folder / "config.json").write_text(json.dumps(config, indent=2))
    _tokenizer_files(folder, nucleotide_transformer.published_vocab(6),
                     {"unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>", "cls_token": "<cls>",
                      "eos_token": "<eos>", "bos_token": "<bos>"}, "EsmTokenizer")
    return folder
