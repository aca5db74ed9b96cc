"""Where a number came from: the code version, canonical JSON and the run-key hash."""

from __future__ import annotations

import hashlib
import json
import subprocess
from functools import cache
from pathlib import Path

import suite


@cache
def code_version() -> str:
    """Package version plus the git commit (and '.dirty' for uncommitted changes) when run from a checkout: which
    commit a run came from (its `suite.git` tag)."""
    return _version("HEAD", "g")


@cache
def code_identity() -> str:
    """Package version plus the git tree of the package (`suite/`, and '.dirty' for uncommitted changes to it): the
    code part of a run key. A commit that changes only docs, reports, tests or benchmarks leaves it, so finished
    runs stay finished across such commits (a study resumed in pieces); cards are in the key by their content."""
    return _version("HEAD:suite", "t")


def _version(revision: str, prefix: str) -> str:
    root = Path(suite.__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", revision], cwd=root, capture_output=True, text=True,
                             timeout=10)
        if sha.returncode != 0:
            return suite.__version__
        # uncommitted edits of the package change the version too, by a hash of the diff
        diff = subprocess.run(["git", "diff", "HEAD", "--", "suite"], cwd=root, capture_output=True, timeout=10).stdout
        dirty = f".dirty{hashlib.sha256(diff).hexdigest()[:8]}" if diff.strip() else ""
        return f"{suite.__version__}+{prefix}{sha.stdout.strip()}{dirty}"
    except (OSError, subprocess.SubprocessError):
        return suite.__version__


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def key_of(value) -> str:
    """A stable 16-hex-digit hash of any JSON-able value."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:16]
