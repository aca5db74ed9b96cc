import numpy as np
import pytest

from suite.data.encode import ONE_HOT, PAD, decode, encode
from suite.errors import BadSequence


def test_codes_follow_the_paper_channel_order():
    enc = encode(["ACGTN"])
    assert enc.codes.tolist() == [0, 1, 2, 3, 4]
    assert np.array_equal(ONE_HOT[enc.codes], np.eye(5, dtype=np.float32))


def test_lowercase_is_accepted():
    assert encode(["acgtn"]).codes.tolist() == encode(["ACGTN"]).codes.tolist()


def test_iupac_codes_become_n_and_are_counted():
    enc = encode(["ARYN", "swkmbdhv"])
    assert decode(enc.codes) == "ANNN" + "N" * 8
    assert enc.n_iupac == 10  # N itself is not counted


def test_ragged_offsets_and_lengths():
    enc = encode(["AC", "GTTA", "N"])
    assert enc.offsets.tolist() == [0, 2, 6, 7]
    assert enc.lengths.tolist() == [2, 4, 1]
    assert decode(enc.get(1)) == "GTTA"


def test_bad_character_names_file_row_position_and_character():
    with pytest.raises(BadSequence) as err:
        encode(["ACGT", "ACGT", "AC-T"], source="x/train.csv", first_row=1)
    assert str(err.value).startswith("x/train.csv, row 3, position 3: character '-' is not a nucleotide")


def test_non_ascii_character_is_reported_not_crashed():
    with pytest.raises(BadSequence, match=r"row 2, position 2: character 'é'"):
        encode(["AC", "AéT"], source="f")


def test_empty_sequence_is_an_error_naming_the_row():
    with pytest.raises(BadSequence, match=r"f, row 2: empty sequence"):
        encode(["A", ""], source="f")


def test_pad_code_is_a_zero_vector():
    assert not ONE_HOT[PAD].any()


def test_no_sequences_encodes_to_empty():
    enc = encode([])
    assert len(enc) == 0 and enc.codes.size == 0
