import pytest
import torch

COHN = "/work/shared/data/pretrain/cohn_test_sequences.fa.gz"


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one intra-op thread is faster, and immune to a busy 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def cohn_fasta():
    from pathlib import Path

    path = Path(COHN)
    if not path.is_file():
        pytest.skip(f"{COHN} is not on this machine (the shared pretraining sample)")
    return path
