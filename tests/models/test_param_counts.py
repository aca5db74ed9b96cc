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


# ---------------------------------------------------------------- what `suite models` lists (issue 20)
def test_listed_counts_are_the_built_backbones_for_every_card_and_size(tmp_path, monkeypatch):
    """`parameter_counts` (the listing's fast path) gives, for every card and size `suite models` shows, exactly the
    count of the backbone built on the meta device, whether it counted it now or read it back from the cache."""
    from suite.models import _count_key, all_models, parameter_counts

    monkeypatch.setenv("SUITE_CACHE_DIR", str(tmp_path))
    for spec in all_models().values():
        counted, stored = parameter_counts(spec), parameter_counts(spec)
        assert list(counted) == list(spec.size_names)
        for size in spec.size_names:
            with torch.device("meta"):
                backbone = build_backbone(spec, size)
            assert counted[size] == stored[size], (spec.name, size)
            assert stored[size].backbone == n_params(backbone), (spec.name, size)
            if hasattr(backbone, "authors_parameter_count"):
                assert stored[size].authors == backbone.authors_parameter_count(), (spec.name, size)
                assert stored[size].width == backbone.width
            else:
                assert stored[size].authors is None and stored[size].width is None
    keys = {_count_key(spec, size) for spec in all_models().values() for size in spec.size_names}
    assert {path.stem for path in (tmp_path / "parameter_counts").glob("*.json")} == keys  # same config: one file


def test_a_changed_card_is_counted_again_and_a_broken_count_file_is_recounted(tmp_path, monkeypatch):
    from suite.models import parameter_counts

    monkeypatch.setenv("SUITE_CACHE_DIR", str(tmp_path))
    spec = get_model_spec("findna_t")
    before = parameter_counts(spec)["tiny"].backbone
    deeper = dataclasses.replace(spec, sizes={**spec.sizes, "tiny": {**spec.sizes["tiny"], "layers": 3}})
    with torch.device("meta"):
        expected = n_params(build_backbone(deeper, "tiny"))
    assert expected != before and parameter_counts(deeper)["tiny"].backbone == expected  # a new key, not the old count
    for path in (tmp_path / "parameter_counts").glob("*.json"):
        path.write_text("not a count")
    assert parameter_counts(spec)["tiny"].backbone == before


def test_listing_counted_cards_imports_no_torch(tmp_path):
    """Once counted, `suite models` reads the counts: no torch (nor any other heavy library) in the process."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "SUITE_CACHE_DIR": str(tmp_path)}
    code = ("import sys\nfrom suite.cli import app\nfrom typer.testing import CliRunner\n"
            "r = CliRunner().invoke(app, ['models', '--format', 'tsv'])\nassert r.exit_code == 0, r.output\n"
            "print([m for m in ('torch', 'transformers', 'ray', 'mlflow', 'pandas') if m in sys.modules])\n")
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr
    assert "torch" in first.stdout  # an empty cache: counted by building the backbones
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == "[]"
