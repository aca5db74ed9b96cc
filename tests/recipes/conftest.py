import pytest

from tests.conftest import torch_threads


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Module scope, so the module-scoped recipe runs (pretraining in this process) get it too."""
    with torch_threads(1):
        yield
