"""One daemon per store: a lock that is released by the operating system or the database when its holder dies.

Contract of :func:`daemon_lock`:

* It is taken without waiting, before the store is opened (and migrated). When another process holds it,
  :class:`~omnibridge.errors.StoreInUseError` is raised at once: one line naming the store and, where the holder
  can be found, its pid and host.
* While the block runs, no other process can take the lock of the same store: on SQLite the same database file
  (however it is spelled), on PostgreSQL the same database and schema (``current_schema()``, so two stores in two
  schemas of one database are two stores).
* It is released when the block exits and, if the process dies first (SIGKILL, OOM kill, crash), by the
  kernel or the database: a crash can never leave it stuck, and nobody ever deletes a "stale" lock by hand.

  - SQLite: ``fcntl.flock`` on ``<database>-daemon.lock`` next to the database (the file stays; only the lock
    matters). The holder writes its pid, host and start time into it so a refused daemon can name it.
  - PostgreSQL: a session-level ``pg_try_advisory_lock`` on a dedicated connection kept open (idle, outside any
    transaction) for the daemon's life; the connection's ``application_name`` carries the holder's pid and host.
    If that connection is lost (the database restarted), the lock is lost with it.

Only the daemon (``omnibridge run``) takes this lock; one-shot commands (``sync --once``, ``deadletters replay``)
are safe next to a daemon and do not.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from omnibridge.errors import StoreError, StoreInUseError
from omnibridge.store.engine import create_store_engine, parse_url, safe_url

LOCK_SUFFIX = "-daemon.lock"
_APP_NAME = re.compile(r"^omnibridge daemon pid=(?P<pid>\d+) host=(?P<host>.*)$")
_PG_NAME_LIMIT = 63  # PostgreSQL truncates application_name to NAMEDATALEN - 1 bytes


@dataclass(frozen=True)
class Holder:
    """Who holds a store's daemon lock, as far as it can be known."""

    pid: int | None = None
    host: str | None = None
    since: str | None = None

    def describe(self) -> str:
        parts = [f"pid {self.pid}" if self.pid is not None else "", f"on {self.host}" if self.host else ""]
        text = " ".join(part for part in parts if part)
        return text + (f" since {self.since}" if self.since else "")


def lock_path(database: str) -> Path:
    """The lock file of a SQLite database file."""
    path = Path(database).expanduser().resolve()
    return path.with_name(path.name + LOCK_SUFFIX)


@contextmanager
def daemon_lock(url: str) -> Iterator[None]:
    """Hold the daemon lock of the store at ``url`` for the block (see the module docstring).

    Raises :class:`~omnibridge.errors.StoreInUseError` when another process holds it, :class:`StoreError` when
    it cannot be taken at all (unreachable database, lock file that cannot be created).
    """
    parsed = parse_url(url)
    if parsed.drivername.startswith("sqlite"):
        with _sqlite_lock(parsed):
            yield
    else:
        with _postgres_lock(url, parsed):
            yield


def _refused(url: URL, holder: Holder | None) -> StoreInUseError:
    who = holder.describe() if holder is not None else ""
    return StoreInUseError(
        f"another omnibridge daemon is already running on the store {safe_url(url)}"
        + (f" ({who})" if who else "")
        + "; stop it first (one daemon per store)"
    )


@contextmanager
def _sqlite_lock(url: URL) -> Iterator[None]:
    import fcntl  # POSIX only; the daemon runs on Linux and macOS

    path = lock_path(str(url.database))
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StoreError(f"cannot create the daemon lock file {path}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _refused(url, _read_holder(fd)) from None
        since = datetime.now(UTC).isoformat(timespec="seconds")
        me = {"pid": os.getpid(), "host": socket.gethostname(), "since": since}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode() + b"\n", 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_holder(fd: int) -> Holder | None:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"null")
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    pid = data.get("pid")
    return Holder(
        pid=pid if isinstance(pid, int) else None,
        host=str(data["host"]) if data.get("host") else None,
        since=str(data["since"]) if data.get("since") else None,
    )


def _advisory_key(database: str, schema: str) -> int:
    digest = hashlib.blake2b(f"omnibridge.daemon:{database}:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def _postgres_lock(url: str, parsed: URL) -> Iterator[None]:
    engine = create_store_engine(url)
    try:
        try:
            conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
            raise StoreError(f"cannot open the database at {safe_url(parsed)}: {reason}") from None
        with conn:
            name = f"omnibridge daemon pid={os.getpid()} host={socket.gethostname()}"[:_PG_NAME_LIMIT]
            conn.execute(sa.text("SELECT set_config('application_name', :name, false)"), {"name": name})
            database, schema = conn.execute(sa.text("SELECT current_database(), current_schema()")).one()
            key = _advisory_key(str(database), str(schema))
            if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one():
                raise _refused(parsed, _postgres_holder(conn, key))
            try:
                yield
            finally:
                with contextlib.suppress(DBAPIError):  # a lost connection took the lock with it
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    finally:
        engine.dispose()


def _postgres_holder(conn: sa.Connection, key: int) -> Holder | None:
    """The holding session's pid and host from its ``application_name``; None when it cannot be seen."""
    row = conn.execute(
        sa.text(
            "SELECT a.application_name, a.client_hostname, host(a.client_addr) AS client_addr, a.pid"
            " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND l.classid::bigint = :high AND l.objid::bigint = :low"
        ),
        {"high": (key >> 32) & 0xFFFFFFFF, "low": key & 0xFFFFFFFF},
    ).first()
    if row is None:
        return None
    match = _APP_NAME.match(row.application_name or "")
    if match:
        return Holder(pid=int(match["pid"]), host=match["host"])
    return Holder(host=row.client_hostname or row.client_addr)
