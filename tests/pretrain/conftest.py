import pytest

from tests.conftest import torch_threads

COHN = "/work/shared/data/pretrain/cohn_test_sequences.fa.gz"


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads(1):
        yield


@pytest.fixture
def cohn_fasta():
    from pathlib import Path

    path = Path(COHN)
    if not path.is_file():
        pytest.skip(f"{COHN} is not on this machine (the shared pretraining sample)")
    return path
