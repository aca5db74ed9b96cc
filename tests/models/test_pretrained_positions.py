"""A FinDNA-T pretrained on longer windows loads into a downstream model built for shorter sequences: its learned
position table is cut to the model's rows, and the outputs equal the longer model's on the same weights."""

import dataclasses

import torch
from safetensors.torch import save_file

from suite.models import build_backbone, get_model_spec, load_card_weights
from suite.models.weights import weights_sha
from tests.conftest import torch_threads


def test_longer_position_table_is_cut_exactly(tmp_path):
    spec = get_model_spec("findna_t")
    with torch_threads(1):
        torch.manual_seed(0)
        pretrained = build_backbone(spec, "tiny", overrides={"max_len": 96}).eval()
        save_file({k: v.contiguous() for k, v in pretrained.state_dict().items()}, str(tmp_path / "teacher.safetensors"))
        short = build_backbone(spec, "tiny", overrides={"max_len": 40}).eval()
        weights = dataclasses.replace(spec.weights, local=str(tmp_path), file="teacher.safetensors", match="exact")
        report = load_card_weights(short, weights)
        assert report.sha256 == weights_sha(tmp_path / "teacher.safetensors") and not report.left_random
        x = torch.nn.functional.one_hot(torch.randint(0, 4, (3, 40)), 5).float()
        lengths = torch.tensor([40, 25, 7])
        with torch.no_grad():
            for ours, theirs in zip(short(x, lengths), pretrained(x, lengths)):
                assert torch.equal(ours, theirs)
