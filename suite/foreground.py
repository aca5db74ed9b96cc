"""A server (the MLflow UI, the MLflow tracking server) run in the foreground, stopped together with its whole
process tree.

`mlflow ui` / `mlflow server` start uvicorn (and its worker processes) and maybe a job runner; a signal to this
process alone would orphan all of them. So the server starts in a session (and process group) of its own, and
SIGINT or SIGTERM to this process sends SIGTERM to that whole group, then SIGKILL to whatever is left after a
grace period. The server is also told (PR_SET_PDEATHSIG) to get SIGTERM if this process dies without a chance to
pass anything on (SIGKILL); mlflow then stops its server the same way.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from suite.errors import SuiteError

GRACE_SECONDS = 10.0


def check_port(port: int) -> None:
    """A one-line error for a port out of range, before anything starts."""
    if not 1 <= port <= 65535:
        raise SuiteError(f"--port {port} is not a TCP port", "give a port from 1 to 65535, e.g. --port 5000")


def check_free(host: str, port: int) -> None:
    """A one-line error, before anything starts, for a host that does not resolve or a port something already
    listens on."""
    check_port(port)
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise SuiteError(f"--host {host} does not resolve ({exc.strerror})", "give an IP address or a known name") \
            from exc
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no conflict
        try:
            probe.bind(address)
        except OSError as exc:
            raise SuiteError(f"cannot listen on {host}:{port} ({exc.strerror})",
                             "choose another --port, or stop what holds this one") from exc


def _die_with_parent(parent: int) -> None:
    """In the child before exec: SIGTERM when the parent dies (Linux), and not a moment later than it."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # died before the line above took effect
        os._exit(1)


def _group_alive(pgid: int) -> bool:
    """Whether any process of group `pgid` is still running (zombies waiting to be reaped do not count)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _stop_group(pgid: int, grace: float) -> None:
    """SIGTERM to every process of the group, SIGKILL to what is left after `grace` seconds; returns once
    nothing of the group runs."""
    if not _group_alive(pgid):
        return
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _group_alive(pgid):
        if time.monotonic() > deadline:
            _signal_group(pgid, signal.SIGKILL)
            deadline = time.monotonic() + grace  # SIGKILL cannot be ignored; this only bounds the wait
        time.sleep(0.1)


def run(command: list[str], env: dict[str, str] | None = None, grace: float = GRACE_SECONDS) -> int:
    """Run `command` in its own session until it exits or this process gets SIGINT/SIGTERM; either way no
    process of its group is left when this returns. Returns the command's exit code, or 0 when stopped by a
    signal (the way to stop a foreground server)."""
    stop: list[int] = []
    child: subprocess.Popen | None = None

    def on_signal(signum, _frame):
        stop.append(signum)
        if child is not None:  # a second signal does not wait for the grace period
            _signal_group(child.pid, signal.SIGTERM if len(stop) == 1 else signal.SIGKILL)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        parent = os.getpid()
        child = subprocess.Popen(command, env=env, start_new_session=True,
                                 preexec_fn=lambda: _die_with_parent(parent))
        if stop:  # a signal came while the child was starting
            _signal_group(child.pid, signal.SIGTERM)
        deadline = None
        while True:
            try:
                code = child.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if stop and deadline is None:
                    deadline = time.monotonic() + grace
                if deadline is not None and time.monotonic() > deadline:
                    _signal_group(child.pid, signal.SIGKILL)
    finally:
        if child is not None:
            if child.poll() is None:  # an exception on the way: leave nothing behind
                _signal_group(child.pid, signal.SIGKILL)
                child.wait()
            _stop_group(child.pid, grace)  # the leader is gone; the rest of its group goes too
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if stop else code
