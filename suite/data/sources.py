"""Where a task's files are. Resolution order, first hit wins:

1. `--data-dir`, then each folder of `SUITE_DATA_DIR` (os.pathsep-separated), in the format's layout;
2. the demo data shipped inside the package (`suite/_data`: GUE prom_core_tata), same layout;
3. the upstream package's own cache (genomic-benchmarks: ~/.genomic_benchmarks);
4. the upstream download, when the format has one and the network answers (skipped when SUITE_OFFLINE=1).

When nothing is found, DataNotFound names the task, the split, every place looked in, and how to get the data
(the card's `get_data`, with the data folder actually searched written in: never a variable that is not set).
`fetch` (`suite data fetch`) is the step 4 download on request, and says for data no package downloads how to
get it by hand.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from suite.data.formats import LOADERS, MtcdnaFormat
from suite.errors import DataNotFound
from suite.tasks.spec import TaskSpec

DOWNLOAD_HOSTS = {"genomic_benchmarks": ("zenodo.org", 443)}
PACKAGE_DATA = Path(__file__).resolve().parent.parent / "_data"


@dataclass(frozen=True)
class Located:
    path: Path
    origin: str  # "data dir", "upstream cache" or "download"


def data_dirs(data_dir: str | Path | None = None) -> list[Path]:
    """The user's data folders, in order: the explicit one, then SUITE_DATA_DIR's."""
    dirs = [Path(data_dir).expanduser()] if data_dir else []
    env = os.environ.get("SUITE_DATA_DIR", "")
    dirs += [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return dirs


def data_roots(data_dir: str | Path | None = None) -> list[tuple[Path, str]]:
    """Folders in the official layouts, in resolution order: the user's, then the package's demo data."""
    return [(d, "data dir") for d in data_dirs(data_dir)] + [(PACKAGE_DATA, "package demo data")]


def _exists(path: Path, task: TaskSpec) -> bool:
    if task.format == "mtcdna" and path.is_dir():
        return MtcdnaFormat.present(path, task)
    return path.exists()


def candidates(task: TaskSpec, split: str, data_dir: str | Path | None = None) -> list[tuple[Path, str]]:
    """Every place a split may be, in resolution order (before any download)."""
    fmt = LOADERS.get(task.format)
    places = [(p, origin) for root, origin in data_roots(data_dir) for p in fmt.candidates(root, task, split)]
    places += [(p, "upstream cache") for p in getattr(fmt, "upstream_cache", lambda *_: [])(task, split)]
    return places


def find(task: TaskSpec, split: str, data_dir: str | Path | None = None) -> Located | None:
    """The first existing copy of a split, without downloading."""
    for path, origin in candidates(task, split, data_dir):
        if _exists(path, task):
            return Located(path, origin)
    return None


_ANSWERS: dict[tuple[str, int], bool] = {}  # host → whether it answered, for the rest of this process


def online(host: tuple[str, int], timeout: float = 3.0) -> bool:
    """Whether a download host answers (a TCP connection within `timeout` s). Never asked when SUITE_OFFLINE=1, and
    asked at most once per process and host: the answer is remembered, because planning a grid locates every missing
    split, and on a network that drops packets each probe waits its whole timeout (issue 20: 106 probes, 20 s, in
    one planning of the paper's recipes). Callers ask only after `find` came back empty, so data already on disk
    never causes a probe."""
    if os.environ.get("SUITE_OFFLINE", "") not in ("", "0"):
        return False
    if host not in _ANSWERS:
        try:
            with socket.create_connection(host, timeout=timeout):
                _ANSWERS[host] = True
        except OSError:
            _ANSWERS[host] = False
    return _ANSWERS[host]


def locate(task: TaskSpec, split: str, data_dir: str | Path | None = None, download: bool = True) -> Located:
    """The split's files, downloading them through the upstream package when allowed and possible."""
    if split not in task.splits:
        raise DataNotFound(f"task {task.name} has no '{split}' split", f"its splits are {', '.join(task.splits)}")
    hit = find(task, split, data_dir)
    if hit:
        return hit
    fmt = LOADERS.get(task.format)
    host = DOWNLOAD_HOSTS.get(task.format)
    tried = ""
    if download and host and hasattr(fmt, "download"):
        if online(host):
            fmt.download(task)
            hit = find(task, split, data_dir)
            if hit:
                return Located(hit.path, "download")
            tried = "; the upstream download finished but produced no such split"
        else:
            tried = f"; download skipped: {host[0]} is unreachable (offline)"
    looked = ", ".join(str(p) for p, _ in candidates(task, split, data_dir))
    raise DataNotFound(f"task {task.name}: no {split} split found; looked in {looked}{tried}",
                       "to get it: " + how_to_get(task, data_dir))


def how_to_get(task: TaskSpec, data_dir: str | Path | None = None) -> str:
    """The card's `get_data` with `{task}`, `{source}` and `{data_dir}` filled in. `{data_dir}` is the first data
    folder the suite searches; when none is set (no --data-dir, SUITE_DATA_DIR unset) it reads DIR, and the text
    says how to make the suite search DIR."""
    dirs = data_dirs(data_dir)
    text = task.get_data.format(task=task.name, source=task.source, data_dir=dirs[0] if dirs else "DIR")
    if dirs or "{data_dir}" not in task.get_data:
        return text
    return f"{text}, then pass --data-dir DIR or set SUITE_DATA_DIR=DIR"


def searched_folders(task: TaskSpec, data_dir: str | Path | None = None) -> list[str]:
    """The folders `find` looks in for a task, as a person reads them: the data folders (--data-dir,
    SUITE_DATA_DIR), the package's demo data, the upstream package's download cache."""
    shown = [str(d) for d in data_dirs(data_dir)] + [f"{PACKAGE_DATA} (demo data)"]
    cache = getattr(LOADERS.get(task.format), "cache_root", None)
    if cache is not None:
        shown.append(f"{cache()} ({task.format} download cache)")
    return shown


def fetch(task: TaskSpec, data_dir: str | Path | None = None) -> str:
    """Make every split of `task` present: "present" (found, nothing done) or "downloaded" (through the upstream
    package); DataNotFound (one line: why not, and how to get it by hand) when neither is possible."""
    if all(find(task, split, data_dir) for split in task.splits):
        return "present"
    host = DOWNLOAD_HOSTS.get(task.format)
    if host is None or not hasattr(LOADERS.get(task.format), "download"):
        raise DataNotFound(f"task {task.name}: no package downloads {task.benchmark} data",
                           "get it by hand: " + how_to_get(task, data_dir))
    if not online(host):
        raise DataNotFound(f"task {task.name}: {host[0]} is unreachable (offline)",
                           how_to_get(task, data_dir))
    for split in task.splits:
        locate(task, split, data_dir)  # downloads; DataNotFound if the download brought no such split
    return "downloaded"
