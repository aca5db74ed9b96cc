"""Checks a command makes before anything runs, each refusing in one line (SuiteError) within seconds:
a folder it will write, a database it will use. The tracking store (suite/tracking.py `check_uri`) and the Optuna
storage (suite/sweeps/study.py `check_storage`) are checked through these.

Importing this module imports nothing heavy; SQLAlchemy is imported only when a database is probed.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from suite.errors import SuiteError

PROBE_TIMEOUT = 5.0  # seconds a server or database may take to answer the one probe before a run starts


def writable_folder(path: str | Path, what: str, fix: str = "") -> Path:
    """Create `path` (with its parents) and a temporary file in it; refuse naming the folder if either fails."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = "it is a file, not a folder" if path.is_file() else (exc.strerror or type(exc).__name__)
        raise SuiteError(f"{what} {path} cannot be written ({reason})",
                         fix or "choose a writable folder, or fix its permissions") from None
    return path


def first_line(exc: BaseException) -> str:
    """An exception as one short line (the driver's own message when SQLAlchemy wraps one)."""
    inner = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(inner).splitlines() if line.strip()]
    return lines[0] if lines else type(inner).__name__


def probe_database(url: str, what: str, fix: str, timeout: float = PROBE_TIMEOUT) -> None:
    """Refuse a SQLAlchemy URL that is malformed, names an unknown database kind or a driver that is not
    installed, a SQLite file whose folder cannot be written or that is not a database, or a server that does not
    answer within `timeout` seconds. One connection, one trivial statement; nothing is created on a server."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError
    from sqlalchemy.pool import NullPool

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise SuiteError(f"{what} {url} is not a database URL", fix) from None
    shown = parsed.render_as_string(hide_password=True)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
            raise SuiteError(f"{what} {url} names no database file", fix)
        db = Path(parsed.database)
        if db.is_dir():
            raise SuiteError(f"{what} {db} is a folder, not a database file", fix)
        writable_folder(db.parent, f"{what} folder", fix)
        if not db.exists():  # created on first use: nothing more to ask of it now
            return
    connect_args = {"connect_timeout": max(1, int(timeout))} if backend in ("postgresql", "mysql", "mariadb") else {}
    try:
        engine = create_engine(parsed, poolclass=NullPool, connect_args=connect_args)
    except NoSuchModuleError:
        raise SuiteError(f"{what} {shown}: unknown database kind '{parsed.drivername}'", fix) from None
    except ImportError as exc:
        raise SuiteError(f"{what} {shown}: the database driver is not installed ({exc})",
                         "pip install 'dna-suite[cluster]' (PostgreSQL) or the driver your URL names") from None
    except (ArgumentError, ValueError, TypeError) as exc:
        raise SuiteError(f"{what} {shown} is not a usable database URL ({first_line(exc)})", fix) from None
    statement = "PRAGMA schema_version" if backend == "sqlite" else "SELECT 1"
    outcome: list = []

    def connect() -> None:
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql(statement)
            outcome.append(None)
        except Exception as exc:  # any driver error is the answer: the database cannot be used
            outcome.append(exc)

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout + 1)
    engine.dispose()
    if not outcome:
        raise SuiteError(f"{what} {shown} did not answer within {timeout:g} s",
                         "check the host, port and network, or that the database server is running")
    if outcome[0] is not None:
        raise SuiteError(f"{what} {shown} cannot be used ({first_line(outcome[0])})",
                         "check that the database server runs and the URL (host, port, user, database name) is right"
                         if backend != "sqlite" else f"delete or move {parsed.database} if it is not a database")

