"""Processes and ports seen through /proc, for tests that check what a command leaves running (Linux only)."""

from __future__ import annotations

import os
import signal
import socket
import time
import urllib.request
from pathlib import Path

PROC = Path("/proc")


def _stat(pid: int) -> list[str]:
    try:
        return (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def parent(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[1]) if fields else 0


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped has ended)."""
    fields = _stat(pid)
    return bool(fields) and fields[0] != "Z"


def cmdline(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def pids() -> list[int]:
    return [int(e.name) for e in PROC.iterdir() if e.name.isdigit()]


def descendants(root: int) -> set[int]:
    """`root` and every live process below it (by parent links, at this moment)."""
    children: dict[int, list[int]] = {}
    for pid in pids():
        children.setdefault(parent(pid), []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found and alive(pid):
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def using(folder: Path) -> set[int]:
    """Live processes with a file open (or their working folder) under `folder`."""
    folder = str(Path(folder).resolve())
    found = set()
    for pid in pids():
        base = PROC / str(pid)
        try:
            links = [str((base / "cwd").readlink())]
            links += [str(fd.readlink()) for fd in (base / "fd").iterdir()]
        except OSError:
            continue
        if alive(pid) and any(link == folder or link.startswith(folder + "/") for link in links):
            found.add(pid)
    return found


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in (PROC / str(pid) / "fd").iterdir():
            try:
                link = str(fd.readlink())
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        pass
    return inodes


def _address(hex_address: str) -> tuple[str, int]:
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        ip = socket.inet_ntop(socket.AF_INET, raw[::-1])
    else:  # four little-endian 32-bit words
        ip = socket.inet_ntop(socket.AF_INET6, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
    return ip, int(port, 16)


def listening(of: set[int]) -> list[tuple[str, int, int]]:
    """(address, port, pid) of every TCP socket in LISTEN state held by the processes `of`."""
    owner = {inode: pid for pid in of for inode in _socket_inodes(pid)}
    found = []
    for table in ("tcp", "tcp6"):
        try:
            lines = (PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in owner:  # 0A: LISTEN
                found.append((*_address(fields[1]), owner[fields[9]]))
    return found


def kill(pids: set[int]) -> None:
    """SIGKILL whichever of `pids` still run (a test's clean-up of processes it started)."""
    for pid in pids:
        if alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def loopback(ip: str) -> bool:
    return ip.startswith("127.") or ip in ("::1", "::ffff:127.0.0.1") or ip.startswith("::ffff:127.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Nothing listens on host:port (a new listener could bind it, as a server with SO_REUSEADDR does)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy from the environment


def answers(url: str) -> bool:
    """An HTTP 200 from `url` (the server is up and serving)."""
    try:
        with _DIRECT.open(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_for(predicate, seconds: float, what: str, poll: float = 0.5) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(poll)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


def signal_stops_everything(proc, tree: set[int], sig: int, log, port: int, url: str) -> None:
    """Send `sig` to a running server command and check it exits 0 without a traceback, leaving no process of
    `tree` alive and its port free."""
    proc.send_signal(sig)
    assert proc.wait(timeout=90) == 0
    output = log.read_text()
    assert "Traceback" not in output, output
    assert not [(pid, cmdline(pid)) for pid in tree if alive(pid)]
    assert port_free(port) and not answers(url)


def cleanup(proc, tree: set[int]) -> None:
    """Whatever a test leaves of a command's process tree, killed (after a failure)."""
    kill(tree | descendants(proc.pid))
    if proc.poll() is None:
        proc.kill()
        proc.wait()
