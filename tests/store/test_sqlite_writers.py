"""SQLite write transactions of one process take turns on the engine's write lock, not on SQLite's busy handler."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from omnibridge.errors import StoreError
from omnibridge.store import engine as store_engine
from omnibridge.store.engine import create_store_engine, read_session, write_session

THREADS = 4
WRITES = 25


def _engine_without_busy_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    """A SQLite engine whose busy timeout is 0: a writer that finds the database locked fails at once."""
    monkeypatch.setattr(store_engine, "BUSY_TIMEOUT_SECONDS", 0)
    engine = create_store_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    with write_session(engine) as session:
        session.execute(sa.text("CREATE TABLE counted (id INTEGER PRIMARY KEY, thread INTEGER)"))
    return engine


def test_writers_of_one_process_never_find_the_database_locked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = _engine_without_busy_wait(tmp_path, monkeypatch)
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def write(thread: int) -> None:
        start.wait()
        try:
            for _ in range(WRITES):
                with write_session(engine) as session:
                    session.execute(sa.text("INSERT INTO counted (thread) VALUES (:t)"), {"t": thread})
                    session.execute(sa.text("SELECT count(*) FROM counted")).scalar()
        except BaseException as exc:  # collected, asserted below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with read_session(engine) as session:
        assert session.execute(sa.text("SELECT count(*) FROM counted")).scalar() == THREADS * WRITES
    engine.dispose()


def test_a_writer_waits_for_the_one_in_progress_then_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = _engine_without_busy_wait(tmp_path, monkeypatch)
    inside, release, done = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with write_session(engine) as session:
            session.execute(sa.text("INSERT INTO counted (thread) VALUES (1)"))
            inside.set()
            release.wait(10)

    def second() -> None:
        with write_session(engine) as session:
            session.execute(sa.text("INSERT INTO counted (thread) VALUES (2)"))
        done.set()

    holder = threading.Thread(target=first)
    holder.start()
    assert inside.wait(10)
    waiter = threading.Thread(target=second)
    waiter.start()
    assert not done.wait(0.2)  # held back while the first transaction is open
    release.set()
    holder.join()
    waiter.join()
    assert done.is_set()
    with read_session(engine) as session:
        assert session.execute(sa.text("SELECT thread FROM counted ORDER BY id")).scalars().all() == [1, 2]
    engine.dispose()


def test_a_writer_that_waits_too_long_fails_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = _engine_without_busy_wait(tmp_path, monkeypatch)
    monkeypatch.setattr(store_engine, "WRITE_LOCK_TIMEOUT_SECONDS", 0.05)
    expected = re.escape("held the database for 0.05 s; nothing was written")
    with write_session(engine), pytest.raises(StoreError, match=expected), write_session(engine):
        pass
    engine.dispose()


def insert_then_fail(engine: sa.Engine) -> None:
    with write_session(engine) as session:
        session.execute(sa.text("INSERT INTO t DEFAULT VALUES"))
        raise RuntimeError("undone")


def test_the_time_writers_wait_for_and_hold_the_lock_is_added_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = iter(range(1000))
    monkeypatch.setattr(store_engine, "_elapsed", lambda: float(next(ticks)))  # each reading one second later
    engine = create_store_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    assert store_engine.write_turns(engine) == store_engine.WriteTurns(0, 0.0, 0.0)

    with write_session(engine) as session:
        session.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    with pytest.raises(RuntimeError, match="undone"):  # a transaction that failed held the lock too
        insert_then_fail(engine)

    assert store_engine.write_turns(engine) == store_engine.WriteTurns(turns=2, waiting=2.0, holding=2.0)
    engine.dispose()


def test_a_postgresql_engine_has_no_write_turns() -> None:
    engine = create_store_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never connects
    assert store_engine.write_turns(engine) is None
