"""Parameter counts against the numbers computed from the authors' code (findna-facts §1.6)."""

import dataclasses

import torch

from suite.models import build_backbone, build_model, get_model_spec
from suite.models.families.chordmixer import ChordBlock, ChordMixer, ChordMixerConfig


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_paper_network_has_12_651_873_parameters_counted_like_the_authors():
    model = ChordMixer(ChordMixerConfig())
    assert n_params(ChordBlock(308, 512, 0.0, 0.0)) == 316_212
    assert n_params(model.stem) == 1_848
    assert sum(len(layer) for layer in model.layers) == 40
    assert n_params(model) == 12_650_328  # stem + encoder; the 5-unit head lives in the pretraining module
    assert model.authors_parameter_count() == 12_651_873
    assert 2 * model.authors_parameter_count() == 25_303_746  # student + teacher ≈ the paper's 25.4 M (Table 3)


def test_cards_state_the_count_they_build():
    for name in ("findna", "cm_mnm"):
        spec = get_model_spec(name)
        with torch.device("meta"):
            backbone = build_backbone(spec)
        assert backbone.authors_parameter_count() == spec.n_parameters == 12_651_873


def test_recipes_reproduce_the_authors_downstream_sizes():
    """GB_Linear_Classifier sizes from facts §1.6 (stem + blocks + Linear(308→C)): our recipes keep E = 308 and,
    where ceil(log2(max_len + 10)) = ceil(log2 max_len), the same block count and hence the same count."""
    spec = dataclasses.replace(get_model_spec("findna"), pooling="mean")  # the authors' readout: mean(V) → Linear(308→C)
    with torch.device("meta"):
        regulatory = build_model(spec, 3, recipe="human_ensembl_regulatory", weights=False)
        coding = build_model(spec, 2, recipe="demo_coding_vs_intergenomic_seqs", weights=False)
    assert regulatory.backbone.width == coding.backbone.width == 308
    assert n_params(regulatory) == 12_651_255
    assert n_params(coding) == 5_061_858
    assert regulatory.backbone.config.track_size == 36 and regulatory.backbone.config.mlp_dropout == 0.1
