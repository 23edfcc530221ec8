"""Engines for the supported backends, and the read/write transactions the repositories run in.

SQLite (a file) is the default backend; PostgreSQL (``postgresql+psycopg://``) is for larger merchants and
for several processes sharing one store.

A SQLite file is created owner-only (0600; its WAL and SHM files take the same permissions) and an existing one
loses group and other permissions (:mod:`omnibridge.security.files`).

SQLite is opened in WAL mode (readers never block the writer), ``synchronous=NORMAL`` (durable across a
process crash; the last transactions may be lost on power loss, the usual WAL trade-off), ``foreign_keys=ON``
and a 30 s ``busy_timeout``. The driver's own transaction handling is switched off and every *write*
transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock up front, so two writers queue on the
busy timeout instead of one failing with "database is locked" when it upgrades a read lock half-way through.
Read transactions use a plain (deferred) ``BEGIN`` and see a consistent snapshot.

Within one process, SQLite write transactions (:func:`write_session`) also take the engine's write lock, a
Python lock, first: writers of the same process (the receiver's threads, the worker, the channel writers) wait
on it and are handed the database the moment the last one commits. Left to SQLite's busy handler they would
sleep in growing steps of up to 100 ms however briefly the lock was held, which in ``bench propagation`` kept
webhook acknowledgements at 250 ms. Other processes still queue on the busy timeout. The time writers wait for
the lock and hold it is added up (:func:`write_turns`; the daemon exports it as ``omnibridge_store_write_*``).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session

from omnibridge.errors import StoreError
from omnibridge.security.files import secure_sqlite_file

SUPPORTED_URLS = "sqlite:///PATH (a file) or postgresql+psycopg://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
BUSY_TIMEOUT_SECONDS = 30
WRITE_LOCK_TIMEOUT_SECONDS = BUSY_TIMEOUT_SECONDS
"""How long a write transaction waits for another of the same process to finish (as SQLite's busy timeout)."""
_WRITE = "omnibridge_write"
_WRITE_LOCKS: weakref.WeakKeyDictionary[sa.Engine, threading.Lock] = weakref.WeakKeyDictionary()
_WRITE_TURNS: weakref.WeakKeyDictionary[sa.Engine, WriteTurns] = weakref.WeakKeyDictionary()
_elapsed = time.perf_counter


@dataclass(frozen=True)
class WriteTurns:
    """What this process's SQLite write transactions cost the others, since the engine was created: ``turns``
    taken on the write lock, seconds spent ``waiting`` for it (all writers together) and ``holding`` it.

    ``holding`` grows by at most one second per second: its rate is the share of the time the database was
    being written by this process. Near 1 the process is writing all the time and every writer queues (see
    ``docs/scaling.md``, what limits one SQLite daemon).
    """

    turns: int = 0
    waiting: float = 0.0
    holding: float = 0.0


def parse_url(url: str) -> URL:
    """Parse and check a store URL; raise :class:`StoreError` naming the supported forms otherwise."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"cannot parse database URL {url!r}: expected {SUPPORTED_URLS}") from None
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        if parsed.database in (None, "", ":memory:"):
            raise StoreError(f"an in-memory SQLite store is not supported: expected {SUPPORTED_URLS}")
        return parsed
    if parsed.drivername == "postgresql+psycopg":
        return parsed
    raise StoreError(f"unsupported database URL scheme {parsed.drivername!r}: expected {SUPPORTED_URLS}")


def require_existing(url: str) -> None:
    """For commands that only read: raise :class:`StoreError` naming the path when ``url`` is a SQLite file that
    does not exist (opening it would create an empty database, hiding a mistyped path)."""
    parsed = parse_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database and not Path(parsed.database).is_file():
        raise StoreError(
            f"no database at {parsed.database}: check store.url in the profile (a command that only reads never "
            "creates one; 'omnibridge db upgrade' or 'omnibridge catalog import' does)"
        )


def safe_url(url: URL) -> str:
    """The URL with any password masked, for messages and logs."""
    return url.render_as_string(hide_password=True)


def create_store_engine(url: str) -> sa.Engine:
    """An engine for ``url`` configured as described in the module docstring. Does not connect."""
    parsed = parse_url(url)
    if parsed.drivername.startswith("sqlite"):
        return _sqlite_engine(parsed)
    return sa.create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def _sqlite_engine(url: URL) -> sa.Engine:
    if url.database:
        secure_sqlite_file(Path(url.database))
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False})
    _WRITE_LOCKS[engine] = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite; the "begin" hook below emits BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

    return engine


def check_reachable(engine: sa.Engine) -> None:
    """Open and close one connection; an unreachable database becomes a one-line :class:`StoreError`."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        raise StoreError(f"cannot open the database at {safe_url(engine.url)}: {reason}") from None


def write_engine(engine: sa.Engine) -> sa.Engine:
    """``engine`` with the write option set: on SQLite its transactions begin with ``BEGIN IMMEDIATE``."""
    return engine.execution_options(**{_WRITE: True})


@contextmanager
def write_session(engine: sa.Engine) -> Iterator[Session]:
    """One write transaction: committed when the block exits normally, rolled back if it raises.

    A lost connection or another database-level failure (lock timeout, disk full) becomes a one-line
    :class:`StoreError`; the transaction is rolled back, so nothing of it was written.
    """
    with _writer_turn(engine):
        try:
            with Session(write_engine(engine), expire_on_commit=False) as session, session.begin():
                yield session
        except (OperationalError, InterfaceError) as exc:
            raise _database_error(engine, exc, "nothing was written") from exc


@contextmanager
def _writer_turn(engine: sa.Engine) -> Iterator[None]:
    """Hold ``engine``'s in-process write lock (SQLite; nothing on PostgreSQL) for the block."""
    lock = _WRITE_LOCKS.get(engine)
    if lock is None:
        yield
        return
    asked = _elapsed()
    if not lock.acquire(timeout=WRITE_LOCK_TIMEOUT_SECONDS):
        raise StoreError(
            f"database error at {safe_url(engine.url)}: another write transaction of this process held the "
            f"database for {WRITE_LOCK_TIMEOUT_SECONDS} s; nothing was written"
        )
    taken = _elapsed()
    try:
        yield
    finally:
        done = _elapsed()
        before = _WRITE_TURNS.get(engine, WriteTurns())  # read and replaced under the lock: no update is lost
        _WRITE_TURNS[engine] = WriteTurns(
            before.turns + 1, before.waiting + (taken - asked), before.holding + (done - taken)
        )
        lock.release()


def write_turns(engine: sa.Engine) -> WriteTurns | None:
    """``engine``'s :class:`WriteTurns` so far; None when it has no in-process write lock (PostgreSQL)."""
    if engine not in _WRITE_LOCKS:
        return None
    return _WRITE_TURNS.get(engine, WriteTurns())


@contextmanager
def read_session(engine: sa.Engine) -> Iterator[Session]:
    """One read transaction (a consistent snapshot on both backends); failures as in :func:`write_session`."""
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session
    except (OperationalError, InterfaceError) as exc:
        raise _database_error(engine, exc, "nothing was read") from exc


def _database_error(engine: sa.Engine, exc: DBAPIError, outcome: str) -> StoreError:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
    return StoreError(f"database error at {safe_url(engine.url)}: {reason}; {outcome}")
