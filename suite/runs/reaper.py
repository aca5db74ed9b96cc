"""The watchdog of a private local Ray instance: kills what the instance leaves behind when its driver dies.

Ray starts its GCS, raylet, monitor and log monitor with kernel fate-sharing (they die with the driver, even on
SIGKILL), and its workers exit within seconds of their raylet. Its dashboard and runtime-env agents do not:
after the raylet dies they try to report through the dead GCS and hang for about a minute, ignoring SIGTERM.

So each private instance gets a marker in the environment its processes inherit (SUITE_RAY_INSTANCE=<token>)
and a temp folder of its own (`ray.init(_temp_dir=...)`), where every one of its processes keeps its log files
open. This small process, started by the driver in its own session before `ray.init`, waits for the end of its
stdin (the driver closed it after `ray.shutdown`, or died) and then SIGKILLs every process that carries the
marker, or that has a file open under that folder and belongs to the driver's session (the agents retitle
themselves over their environment; a `tail -f` of a log from another terminal is left alone), until none is left.

Run as a script (`python -I reaper.py TOKEN DRIVER_PID DRIVER_SID TEMP_DIR`): standard library only, nothing of
the suite imported.
"""

from __future__ import annotations

import os
import signal
import sys
import time

MARKER = "SUITE_RAY_INSTANCE"


def _uses_folder(pid: str, folder: str, sid: int) -> bool:
    try:
        if os.getsid(int(pid)) != sid:
            return False
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:  # gone meanwhile, or not ours to read
        return False
    return any(link.startswith(folder + os.sep) for link in links)


def _carries(pid: str, needle: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return needle in f.read() + b"\0"
    except OSError:
        return False


def members(token: str, folder: str, sid: int, spare: set[int]) -> list[int]:
    """Live processes (a zombie has no files or environment left) of the instance: MARKER=token in their
    environment, or in session `sid` with a file open under `folder`."""
    needle = f"{MARKER}={token}".encode() + b"\0"
    folder = os.path.realpath(folder)
    return [int(pid) for pid in os.listdir("/proc") if pid.isdigit() and int(pid) not in spare
            and (_carries(pid, needle) or _uses_folder(pid, folder, sid))]


def reap(token: str, folder: str, sid: int, spare: set[int], seconds: float = 30.0) -> int:
    """SIGKILL the instance's processes until none is found (a dying process can still be read for a moment).
    Returns how many were signalled."""
    deadline = time.monotonic() + seconds
    signalled: set[int] = set()
    while time.monotonic() < deadline:
        pids = members(token, folder, sid, spare)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                signalled.add(pid)
            except OSError:
                pass
        time.sleep(0.1)
    return len(signalled)


def main(argv: list[str]) -> int:
    token, driver, sid, folder = argv[1], int(argv[2]), int(argv[3]), argv[4]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C meant for the driver is not for the watchdog
    try:
        while os.read(0, 4096):  # nothing is ever written: this returns b"" when the driver closes it or dies
            pass
    except OSError:
        pass
    reap(token, folder, sid, spare={os.getpid(), driver})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
