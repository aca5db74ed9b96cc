"""The ChordMixer backbone against the original code (issue 18; fixtures by tests/fixtures/golden/make_chordmixer.py).

- `findna_authors`: FinDNA's Model4Pretrain (SwanDNA blocks, one joint roll over the padded length), weights under
  their names, loaded through `load_authors` into the findna card's backbone. rotation="batch" is the authors'
  behaviour; on an equal-length batch (pretraining) rotation="per_sequence", the card's default, is the same.
- `chordmixer_cm`: the CM repo's ChordMixer with RotateChordVarLen (each sequence rolled over its own length + K),
  against rotation="per_sequence" on a padded batch.
Every hidden state is compared where both models define it (the suite zeroes token outputs at padding).
"""

import numpy as np
import pytest
import torch

from suite.data.batching import collate
from suite.data.encode import encode
from suite.errors import SuiteError
from suite.models import build_backbone, get_model_spec
from suite.models.families.chordmixer import load_authors
from suite.models.weights import RenameTable, load_into
from tests.conftest import torch_threads
from tests.models.golden import GOLDEN, assert_matches, max_error, read_fixture

THEIR_CHANNELS = ["ACGTN".index(base) for base in "ACGNT"]  # our one-hot → theirs (A, C, G, N, T; facts §6)
# The CM repo's ChordMixer names → ours (one layer; its decoder is a classifier head the backbone does not own).
CM_RENAMES = RenameTable(
    renames={
        "embedding.weight": "stem.weight",
        "embedding.bias": "stem.bias",
        "encoder.chordmixer_blocks.{i}.mix.fc1.weight": "layers.0.{i}.fc1.weight",
        "encoder.chordmixer_blocks.{i}.mix.fc1.bias": "layers.0.{i}.fc1.bias",
        "encoder.chordmixer_blocks.{i}.mix.fc2.weight": "layers.0.{i}.fc2.weight",
        "encoder.chordmixer_blocks.{i}.mix.fc2.bias": "layers.0.{i}.fc2.bias",
    },
    discarded=("decoder.",),
)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one thread (the pretrain tests' setting) skips the thread pool's overhead."""
    with torch_threads(1):
        yield


def weights(name: str) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(GOLDEN / name / "model.safetensors"))


def backbone(provenance: dict, rotation: str):
    """The findna card's backbone at the fixture's size, built by the card → family path."""
    return build_backbone(get_model_spec("findna"), "tiny", overrides={**provenance["suite_config"],
                                                                       "rotation": rotation}).eval()


def suite_one_hot(strings: list[str]):
    batch = collate(encode(strings), np.zeros(len(strings)), np.arange(len(strings)))
    return batch.one_hot, batch.lengths


def run(model, x, lengths, every_block: bool = False):
    """(tokens, cls, states): states = the stem's input and output and each layer's (or block's) output."""
    blocks = {f"block{i}": b for i, b in enumerate(model.layers[0])} if every_block else \
        {f"layer{i}": layer[-1] for i, layer in enumerate(model.layers)}
    states = {}
    hooks = [model.stem.register_forward_hook(lambda _m, inputs, out: states.update(inputs=inputs[0], stem=out))]
    hooks += [b.register_forward_hook(lambda _m, _i, out, name=name: states.__setitem__(name, out))
              for name, b in blocks.items()]
    with torch.no_grad():
        tokens, cls = model(x, lengths)
    for hook in hooks:
        hook.remove()
    return tokens, cls, states


def test_one_hot_is_the_authors_encoding_in_our_channel_order():
    _, golden, provenance = read_fixture("findna_authors")
    for name, strings in provenance["strings"].items():
        ours, _ = suite_one_hot(strings)
        assert torch.equal(ours[..., THEIR_CHANNELS], golden[f"backbone/{name}/one_hot"]), name


@pytest.mark.parametrize("rotation", ["batch", "per_sequence"])
def test_equal_length_batch_matches_the_authors_joint_roll(rotation):
    _, golden, provenance = read_fixture("findna_authors")
    model = backbone(provenance, rotation)
    load_authors(model, weights("findna_authors"), "findna_authors")
    x, lengths = suite_one_hot(provenance["strings"]["equal"])
    tokens, cls, states = run(model, x, lengths)
    L = x.shape[1]
    assert_matches("stem inputs ([CLS] rows after the sequence)", states["inputs"][..., THEIR_CHANNELS],
                   golden["backbone/equal/inputs"])
    for name in ("stem", "layer0", "layer1", "layer2", "layer3"):
        assert_matches(f"{rotation} {name}", states[name], golden[f"backbone/equal/{name}"])
    assert_matches("tokens", tokens, golden["backbone/equal/layer3"][:, :L])
    assert_matches("cls", cls, golden["backbone/equal/layer3"][:, L:])


def test_padded_batch_matches_the_authors_with_rotation_batch():
    """Padding rolls with the sequence and [CLS] sits after the padded length (facts §1.2)."""
    _, golden, provenance = read_fixture("findna_authors")
    model = backbone(provenance, "batch")
    load_authors(model, weights("findna_authors"), "findna_authors")
    x, lengths = suite_one_hot(provenance["strings"]["padded"])
    assert torch.equal(lengths, golden["backbone/padded/lengths"])
    tokens, cls, states = run(model, x, lengths)
    L = x.shape[1]
    assert_matches("stem inputs (zero padding, then [CLS])", states["inputs"][..., THEIR_CHANNELS],
                   golden["backbone/padded/inputs"])
    for name in ("stem", "layer0", "layer1", "layer2", "layer3"):
        assert_matches(name, states[name], golden[f"backbone/padded/{name}"])
    real = (torch.arange(L)[None, :] < lengths[:, None])[..., None]
    assert_matches("tokens at real positions", tokens, golden["backbone/padded/layer3"][:, :L] * real)
    assert_matches("cls", cls, golden["backbone/padded/layer3"][:, L:])


def test_per_sequence_rotation_departs_from_the_authors_on_padded_batches():
    """On purpose (card `fidelity.backbone.rotation: per_sequence`): padding never reaches a real position."""
    _, golden, provenance = read_fixture("findna_authors")
    model = backbone(provenance, "per_sequence")
    load_authors(model, weights("findna_authors"), "findna_authors")
    x, lengths = suite_one_hot(provenance["strings"]["padded"])
    _, cls, _ = run(model, x, lengths)
    assert max_error(cls, golden["backbone/padded/layer3"][:, x.shape[1]:]) > 1e-2


def test_variable_lengths_match_the_cm_repo_per_sequence_roll():
    _, golden, provenance = read_fixture("chordmixer_cm")
    model = backbone(provenance, "per_sequence")
    load_into(model, weights("chordmixer_cm"), source="cm", fix="", rename=CM_RENAMES.rename(model.config.blocks_per_layer))
    x, lengths = suite_one_hot(provenance["strings"])
    assert torch.equal(x, golden["one_hot"]) and torch.equal(lengths, golden["lengths"])
    tokens, cls, states = run(model, x, lengths, every_block=True)
    K, L = model.n_cls, x.shape[1]
    inside = (torch.arange(L + K)[None, :] < (lengths + K)[:, None])[..., None]  # each sequence's own rows
    names = ["stem"] + [f"block{i}" for i in range(model.config.blocks_per_layer)]
    for name in names:
        assert_matches(name, states[name] * inside, golden[name])
    last = golden[names[-1]]
    real = (torch.arange(L)[None, :] < lengths[:, None])[..., None]
    assert_matches("tokens", tokens, last[:, :L] * real)
    cls_rows = (lengths[:, None] + torch.arange(K)[None, :])[..., None].expand(-1, -1, last.shape[-1])
    assert_matches("cls", cls, torch.gather(last, 1, cls_rows))


def test_authors_state_dict_is_checked_key_by_key():
    _, _, provenance = read_fixture("findna_authors")
    model = backbone(provenance, "batch")
    published = weights("findna_authors")
    missing = {k: v for k, v in published.items() if "SwanDNA_blocks.3.SwanDNA_blocks.5.column_transform.fc2" not in k}
    with pytest.raises(SuiteError, match="missing"):
        load_authors(model, missing, "findna_authors")
    with pytest.raises(SuiteError, match="unexpected"):
        load_authors(model, {**published, "encoder.SwanDNA_blocks.4.SwanDNA_blocks.0.column_transform.fc1.bias":
                             torch.zeros(16)}, "findna_authors")
    load_authors(model, published, "findna_authors")  # their `linear.*` output layer is discarded
    assert torch.equal(model.stem.weight, published["embedding.weight"][:, [0, 1, 2, 4, 3]])
