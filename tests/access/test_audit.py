"""The hash-chained audit log on every backend: appends, verification of edited, deleted and moved records, and
two concurrent appenders that must not fork the chain."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from omnibridge.access import Actor, audit
from omnibridge.store import Store
from omnibridge.store.engine import write_session
from omnibridge.store.tables import AUDIT_HEAD, AUDIT_LOG

ALICE = Actor("user", "alice")


def append(store: Store, count: int, actor: Actor = ALICE, action: str = "incident.resolve") -> None:
    for n in range(count):
        with store.unit_of_work() as uow:
            audit.record(uow, actor, action, f"incident:{n}", {"resolved": False}, {"resolved": True, "n": n})


def test_records_are_chained_and_listed_in_order(store: Store) -> None:
    append(store, 3)
    with store.unit_of_work() as uow:
        audit.record(uow, Actor.token("a1b2c3d4e5f6", "ci"), "token.revoke", "token:x", {"state": "active"}, None)
    found = audit.records(store)
    assert [r.id for r in found] == [1, 2, 3, 4]
    assert found[0].prev_hash == audit.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(found))
    assert found[3].actor == "token:a1b2c3d4e5f6 (ci)"
    assert found[3].before == {"state": "active"}
    assert found[3].after is None
    assert [r.id for r in audit.records(store, action="token.")] == [4]
    assert audit.verify(store) == audit.Verification(checked=4)


def test_a_record_rolled_back_with_its_change_leaves_no_trace(store: Store) -> None:
    append(store, 1)

    def failing_change() -> None:
        with store.unit_of_work() as uow:
            audit.record(uow, ALICE, "incident.resolve", "incident:9", None, {"resolved": True})
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    append(store, 1)
    assert [r.id for r in audit.records(store)] == [1, 2]
    assert audit.verify(store).intact


def test_an_empty_log_verifies(store: Store) -> None:
    assert audit.verify(store) == audit.Verification(checked=0)


def _execute(store: Store, statement: sa.Executable) -> None:
    with write_session(store.engine) as session:
        session.execute(statement)


def test_an_edited_record_is_named(store: Store) -> None:
    append(store, 4)
    _execute(store, sa.update(AUDIT_LOG).where(AUDIT_LOG.c.id == 2).values(actor="user:mallory"))
    result = audit.verify(store)
    assert (result.broken_id, result.problem) == (2, "record #2 was changed after it was written")
    assert result.checked == 1


def test_an_edited_before_value_is_named(store: Store) -> None:
    append(store, 3)
    _execute(store, sa.update(AUDIT_LOG).where(AUDIT_LOG.c.id == 3).values(before={"resolved": True}))
    assert audit.verify(store).broken_id == 3


def test_a_deleted_record_is_named(store: Store) -> None:
    append(store, 4)
    _execute(store, sa.delete(AUDIT_LOG).where(AUDIT_LOG.c.id == 2))
    result = audit.verify(store)
    assert (result.broken_id, result.problem) == (2, "record #2 is missing (deleted)")


def test_a_deleted_and_renumbered_record_is_named(store: Store) -> None:
    append(store, 4)
    _execute(store, sa.delete(AUDIT_LOG).where(AUDIT_LOG.c.id == 2))
    for old in (3, 4):
        _execute(store, sa.update(AUDIT_LOG).where(AUDIT_LOG.c.id == old).values(id=old - 1))
    result = audit.verify(store)
    assert (result.broken_id, result.problem) == (2, "record #2 does not follow record #1 (moved or replaced)")


def test_records_deleted_from_the_end_are_named(store: Store) -> None:
    append(store, 4)
    _execute(store, sa.delete(AUDIT_LOG).where(AUDIT_LOG.c.id >= 3))
    result = audit.verify(store)
    assert (result.broken_id, result.problem) == (3, "record #3 to #4 is missing (deleted from the end)")


def test_reordered_records_are_named(store: Store) -> None:
    append(store, 4)
    with write_session(store.engine) as session:
        rows = {row.id: row._asdict() for row in session.execute(sa.select(AUDIT_LOG))}
        session.execute(sa.delete(AUDIT_LOG).where(AUDIT_LOG.c.id.in_([2, 3])))
        session.execute(sa.insert(AUDIT_LOG), [{**rows[3], "id": 2}, {**rows[2], "id": 3}])
    result = audit.verify(store)
    assert (result.broken_id, result.problem) == (2, "record #2 does not follow record #1 (moved or replaced)")


def test_a_rewritten_chain_without_the_head_is_named(store: Store) -> None:
    append(store, 2)
    _execute(store, sa.delete(AUDIT_LOG))
    result = audit.verify(store)
    assert (result.broken_id, result.problem) == (1, "record #1 to #2 is missing (deleted from the end)")


def test_many_appends_from_two_threads_keep_one_chain(store: Store) -> None:
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            append(store, 15, Actor("user", name))
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    found = audit.records(store, limit=100)
    assert [r.id for r in found] == list(range(1, 31))
    assert sorted(r.actor for r in found).count("user:bob") == 15
    assert audit.verify(store) == audit.Verification(checked=30)


@pytest.fixture
def hook() -> Iterator[None]:
    yield
    audit.after_head_locked = None


def _waiting_on_a_lock(store: Store, pid: int) -> bool:
    with store.engine.connect() as conn:
        query = "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %(pid)s"
        return conn.exec_driver_sql(query, {"pid": pid}).scalar() == "Lock"


def test_a_second_appender_waits_for_the_first_and_follows_it(store: Store, hook: None) -> None:
    """The second append starts while the first holds the head: it queues, then chains onto the first record."""
    postgres = store.engine.dialect.name == "postgresql"
    second_done = threading.Event()
    second_pid: list[int] = []
    failures: list[BaseException] = []

    def second() -> None:
        try:
            with store.unit_of_work() as uow:
                if postgres:
                    second_pid.append(int(uow.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()))
                audit.record(uow, Actor("user", "bob"), "deadletter.discard", "inbox:2", None, None)
        except BaseException as exc:  # reported below, on the test's thread
            failures.append(exc)
        finally:
            second_done.set()

    def start_second_and_wait_until_it_queues() -> None:
        audit.after_head_locked = None
        threading.Thread(target=second).start()
        if postgres:
            for _ in range(1000):
                if second_pid and _waiting_on_a_lock(store, second_pid[0]):
                    break
                second_done.wait(0.01)
            else:
                pytest.fail("the second appender never waited for the head row")
        else:  # SQLite: its BEGIN IMMEDIATE waits for this transaction's write lock
            second_done.wait(0.3)
        assert not second_done.is_set()

    audit.after_head_locked = start_second_and_wait_until_it_queues
    with store.unit_of_work() as uow:
        first = audit.record(uow, ALICE, "deadletter.discard", "inbox:1", None, None)
    assert second_done.wait(30)
    assert failures == []
    found = audit.records(store)
    assert [(r.id, r.actor) for r in found] == [(1, "user:alice"), (2, "user:bob")]
    assert found[1].prev_hash == first.hash
    assert audit.verify(store).intact


def test_the_head_row_is_created_by_the_migration(store: Store) -> None:
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(AUDIT_HEAD)).one()
    assert (row.id, row.last_id, row.last_hash) == (1, 0, audit.GENESIS)
