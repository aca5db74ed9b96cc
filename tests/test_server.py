"""`suite server` in the foreground: a bad port is a one-line error before anything starts, and SIGINT (Ctrl-C)
to the suite process, once the server answers, stops it with every process it started and frees the port."""

import signal
import socket
import subprocess
import sys

import pytest

from suite.errors import SuiteError
from suite.foreground import check_free
from suite.server import announce_when_up, server_command
from tests import procs


def _server(tmp_path, port, *extra):
    return [sys.executable, "-m", "suite", "server", "--backend-store-uri", f"sqlite:///{tmp_path}/mlflow.db",
            "--artifacts", str(tmp_path / "artifacts"), "--port", str(port), *extra]


@pytest.mark.parametrize("port", [99999, 0, -1])
def test_a_port_out_of_range_is_a_one_line_error_and_starts_nothing(tmp_path, port):
    out = subprocess.run(_server(tmp_path, port), cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.strip().splitlines() == [f"error: --port {port} is not a TCP port; give a port from 1 to "
                                               "65535, e.g. --port 5000"], out.stderr
    assert not (tmp_path / "artifacts").exists() and not (tmp_path / "mlflow.db").exists()
    assert not procs.using(tmp_path)  # nothing started here lives on (a server would run in this folder)


def test_a_port_in_use_is_a_one_line_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SuiteError, match=f"cannot listen on 127.0.0.1:{port}"):
            check_free("127.0.0.1", port)
        out = subprocess.run(_server(tmp_path, port), cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "Traceback" not in out.stderr
    with pytest.raises(SuiteError, match="at least one worker"):
        server_command(f"sqlite:///{tmp_path}/mlflow.db", str(tmp_path / "artifacts"), workers=0)


def _answering_server(tmp_path, port: int, workers: int, log):
    """`suite server` started in its own session, once its /health answers (the state the tests mean to test)."""
    with log.open("w") as out:
        proc = subprocess.Popen(_server(tmp_path, port, "--workers", str(workers)), cwd=tmp_path, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/health"
    try:
        procs.wait_for(lambda: proc.poll() is not None or procs.answers(url), 240, "the server to answer")
        assert proc.poll() is None, log.read_text()
    except BaseException:
        procs.cleanup(proc, set())
        raise
    return proc, url


@pytest.mark.integration
def test_sigint_stops_the_server_and_every_process_it_started(tmp_path):
    port, log = procs.free_port(), tmp_path / "server.log"
    proc, url = _answering_server(tmp_path, port, 2, log)
    tree: set[int] = set()
    try:
        tree = procs.descendants(proc.pid)
        assert len(tree) >= 4, [procs.cmdline(p) for p in tree]  # suite, mlflow, uvicorn, its 2 workers
        assert port in {p for _, p, _ in procs.listening(tree)}

        procs.signal_stops_everything(proc, tree, signal.SIGINT, log, port, url)
    finally:
        procs.cleanup(proc, tree)


@pytest.mark.integration
def test_a_killed_suite_server_takes_its_server_along(tmp_path):
    """SIGKILL leaves the suite process no say: the server it started gets SIGTERM from the kernel
    (PR_SET_PDEATHSIG) and stops with its workers."""
    port, log = procs.free_port(), tmp_path / "server.log"
    proc, url = _answering_server(tmp_path, port, 1, log)
    tree: set[int] = set()
    try:
        tree = procs.descendants(proc.pid)
        proc.kill()
        proc.wait()
        procs.wait_for(lambda: not any(procs.alive(pid) for pid in tree), 60, "the server's processes to end")
        assert procs.port_free(port)
    finally:
        procs.kill(tree)


def test_the_ready_line_is_said_once_the_server_answers_and_not_before():
    """`suite ui` / `suite server` say "ready" with the URL only once its /health answers (polled)."""
    import http.server
    import threading
    import time

    port, said = procs.free_port(), []
    waiting = announce_when_up(f"http://127.0.0.1:{port}/health", f"ready: http://127.0.0.1:{port}", timeout=60,
                               say=said.append)
    time.sleep(1.2)  # a few polls against a port nothing listens on
    assert said == [] and waiting.is_alive()
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802  (http.server's name)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        waiting.join(30)
        assert said == [f"ready: http://127.0.0.1:{port}"] and not waiting.is_alive()
    finally:
        server.shutdown()
        server.server_close()
