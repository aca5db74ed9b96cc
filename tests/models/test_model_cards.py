"""Model cards load strictly, every name they use resolves, every registered thing is used, listing is cheap."""

import subprocess
import sys
import textwrap

import pytest
import torch

from suite.cards import build, resolve
from suite.errors import CardError, UnknownName
from suite.models import (FAMILIES, HEAD_NAMES, POOLING_NAMES, _check, all_models, build_backbone, family_names,
                          get_model_spec, load_families, model_aliases, read_aliases, resolve_model_name)
from suite.models.heads import HEADS
from suite.models.pooling import POOLINGS
from suite.models.spec import ModelSpec
from suite.tasks import all_tasks


def test_the_three_paper_cards_exist():
    assert {"findna", "findna_t", "cm_mnm"} <= set(all_models())
    assert get_model_spec("FinDNA-T").name == "findna_t"
    with pytest.raises(UnknownName, match="did you mean 'findna'"):
        get_model_spec("findnaa")


def test_names_users_say_resolve_to_the_card_the_paper_compares_with():
    assert resolve_model_name("hyenadna")[0] == "hyenadna_tiny_1k"
    assert get_model_spec("HyenaDNA").name == "hyenadna_tiny_1k"
    assert get_model_spec("nt").name == get_model_spec("nucleotide-transformer").name == "nt_500m_human_ref"
    assert get_model_spec("DNABERT").name == "dnabert6" and get_model_spec("DNABERT-2").name == "dnabert2"
    card, alias = resolve_model_name("hyenadna")
    assert alias.line().startswith("hyenadna → hyenadna_tiny_1k (the card FinDNA's Tables 1-2 compare with")
    assert resolve_model_name("dnabert2") == ("dnabert2", None)  # a card's own name is no alias
    with pytest.raises(UnknownName, match="did you mean 'hyenadna'"):
        get_model_spec("hyenadnaa")


def test_an_alias_spelling_a_paper_row_means_the_card_its_recipes_run():
    from suite.recipes import all_recipes

    aliases = model_aliases()
    assert {"hyenadna", "nt", "dnabert", "dnabert_2"} <= set(aliases)
    checked = 0
    for recipe in all_recipes().values():
        for entry in recipe.entries:
            key = (entry.published or "").lower().replace("-", "_")
            if key in aliases:
                assert aliases[key].card == entry.model, (recipe.name, entry.label)
                checked += 1
    assert checked >= 5
    for alias in aliases.values():  # and the card is one the paper's tables compare with
        assert get_model_spec(alias.card).compare_with, alias


@pytest.mark.parametrize("row, says", [
    ("findna,findna,x", "already a card"),
    ("hyena,nope_card,x", "unknown card of alias 'hyena'"),
    ("hyena,hyenadna_tiny_1k,", "says no why"),
    ("Hyena DNA,hyenadna_tiny_1k,x", "must be lowercase"),
])
def test_a_bad_alias_row_is_refused_naming_the_file(row, says, tmp_path):
    path = tmp_path / "aliases.csv"
    path.write_text("alias,card,why\n" + row + "\n")
    with pytest.raises((CardError, UnknownName), match=says) as info:
        read_aliases(path, all_models())
    assert str(path) in str(info.value)


def test_registries_are_checked_both_ways():
    load_families()
    assert FAMILIES.names() == family_names()
    assert set(POOLINGS.names()) == set(POOLING_NAMES) and set(HEADS.names()) == set(HEAD_NAMES)
    used_families = {spec.family for spec in all_models().values()}
    assert used_families <= set(FAMILIES.names())
    assert {"chordmixer", "transformer"} <= used_families


@pytest.mark.parametrize("name", sorted(all_models()))
def test_every_size_and_recipe_builds(name):
    spec = get_model_spec(name)
    tasks = all_tasks()
    with torch.device("meta"):
        for size in spec.size_names:
            assert build_backbone(spec, size).width > 0
        for task, recipe in spec.recipes.items():
            assert task in tasks, f"recipe for unknown task {task}"
            assert recipe["max_len"] == tasks[task].max_bp
            assert build_backbone(spec, recipe=task).width == build_backbone(spec).width  # E kept (facts §5.1)


def _card(tmp_path, text):
    path = tmp_path / "card.yaml"
    path.write_text(textwrap.dedent(text))
    return path


BASE = """
    name: mini
    family: chordmixer
    description: test card
    pooling: mean
    head: linear
    params: {track_size: 4, hidden: 8, layers: 1, max_len: 16, n_cls: 0}
    weights: {local: none}
    training: {finetune: {lr: 1.0e-3, epochs: 2}}
"""


def test_card_loads_and_builds(tmp_path):
    path = _card(tmp_path, BASE)
    spec = build(ModelSpec, resolve(path), str(path))
    _check(spec, path)
    assert spec.weights.is_random and build_backbone(spec).width == (4 + 1) * 4


@pytest.mark.parametrize(
    "extra, error, match",
    [
        ("poolling: mean", CardError, "unknown key 'poolling'.*did you mean 'pooling'"),
        ("weights: {local: none, mach: exact}", CardError, "unknown key 'mach'"),
        ("family: chordmxier", UnknownName, "did you mean 'chordmixer'"),
        ("head: mlpp", UnknownName, "unknown head"),
        ("weights: {local: none, match: some}", UnknownName, "weights.match"),
        ("training: {finetune: {lr: 1.0e-3, epoch: 2}}", CardError, "unknown key 'epoch' in training.finetune"),
    ],
)
def test_card_errors(tmp_path, extra, error, match):
    lines = [l for l in BASE.splitlines() if not l.strip().startswith(extra.split(":")[0] + ":")]
    path = _card(tmp_path, "\n".join(lines) + "\n    " + extra + "\n")
    with pytest.raises(error, match=match):
        spec = build(ModelSpec, resolve(path), str(path))
        _check(spec, path)


def test_unknown_backbone_param_size_or_recipe_is_an_error(tmp_path):
    path = _card(tmp_path, BASE + "    sizes: {wide: {hiden: 9}}\n    recipes: {x: {layers: 2}}\n")
    spec = build(ModelSpec, resolve(path), str(path))
    with pytest.raises(CardError, match="unknown key 'hiden'.*did you mean 'hidden'"):
        build_backbone(spec, "wide")
    with pytest.raises(UnknownName, match="size"):
        build_backbone(spec, "huge")
    with pytest.raises(UnknownName, match="recipe"):
        build_backbone(spec, recipe="y")
    assert build_backbone(spec, recipe="x").config.layers == 2


def test_listing_models_does_not_import_torch():
    code = "import sys; from suite.models import all_models; all_models(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
