"""Shared fixtures: real data only (SUITE_DATA_DIR → ../shared/data), an isolated encoding cache per session."""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = REPO.parent / "shared" / "data"


def _shared_data() -> Path | None:
    env = os.environ.get("SUITE_DATA_DIR")
    path = Path(env) if env else DEFAULT_SHARED
    return path if (path / "MANIFEST.tsv").is_file() else None


DATA_MISSING = ("real data not found at {where} (no MANIFEST.tsv): set SUITE_DATA_DIR to the folder that holds "
                "it; the README's 'Data' section says how to get it")


def _data_folder_named() -> str:
    return os.environ.get("SUITE_DATA_DIR") or str(DEFAULT_SHARED)


def pytest_collection_modifyitems(config, items):
    """Without the real data, say once, before the first test, how many tests will skip and why, instead of a
    green run whose skips nobody reads."""
    if _shared_data() is not None:
        return
    needing = [item for item in items if "shared_data" in getattr(item, "fixturenames", ())]
    if not needing:
        return
    reason = DATA_MISSING.format(where=_data_folder_named())
    for item in needing:
        item.add_marker(pytest.mark.skip(reason=reason))
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"{len(needing)} of {len(items)} tests will skip: {reason}", yellow=True, bold=True)


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Every test session encodes into its own cache folder: no state leaks between runs."""
    old = os.environ.get("SUITE_CACHE_DIR")
    os.environ["SUITE_CACHE_DIR"] = str(tmp_path_factory.mktemp("suite-cache"))
    os.environ["SUITE_OFFLINE"] = "1"  # tests never wait on a network
    yield
    if old is None:
        os.environ.pop("SUITE_CACHE_DIR", None)
    else:
        os.environ["SUITE_CACHE_DIR"] = old


@pytest.fixture(scope="session", autouse=True)
def _private_ray_root():
    """Ray's temp root (sessions, sockets, logs of every local Ray a test starts) is a folder of this test session,
    removed at its end, not /tmp/ray. Made with tempfile rather than under pytest's basetemp: Unix socket paths
    below it may not exceed 107 characters."""
    old = os.environ.get("RAY_TMPDIR")
    root = tempfile.mkdtemp(prefix="sr")
    os.environ["RAY_TMPDIR"] = root
    yield
    if old is None:
        os.environ.pop("RAY_TMPDIR", None)
    else:
        os.environ["RAY_TMPDIR"] = old
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real benchmark data (../shared/data); set SUITE_DATA_DIR to point elsewhere."""
    path = _shared_data()
    if path is None:
        pytest.skip(DATA_MISSING.format(where=_data_folder_named()))
    return path


@pytest.fixture
def data_env(shared_data, monkeypatch):
    monkeypatch.setenv("SUITE_DATA_DIR", str(shared_data))
    return shared_data


def write_csv_gz(path: Path, header: str, rows: list[tuple[str, int]]) -> Path:
    """A small data file in an official csv layout (gzip), for tests that need a crafted case."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = header + "\n" + "".join(f"{s},{y}\n" for s, y in rows)
    path.write_bytes(gzip.compress(text.encode()))
    return path


@contextmanager
def torch_threads(n: int):
    """torch's intra-op threads set to `n` for the block. Tiny models run faster on one thread, and one thread
    per process cannot oversubscribe a busy 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
