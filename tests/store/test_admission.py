"""Group commit of webhook deliveries (omnibridge.store.admission), on every backend: deliveries that wait together
are committed in one transaction, each caller gets its own answer, and one that cannot be stored fails alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from omnibridge.errors import StoreError
from omnibridge.sdk.webhooks import WebhookDelivery
from omnibridge.store import InboxStatus, Store, sync_state
from omnibridge.store.engine import write_session
from omnibridge.store.sync_state import Admission

RECEIVED = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
GUARD_S = 20.0
"""Only a guard against a hang; nothing asserts on time."""


def delivery(delivery_id: str, event_id: str) -> WebhookDelivery:
    body = f'{{"id": "{event_id}"}}'.encode()
    return WebhookDelivery(delivery_id, event_id, "orders/create", body, {"X-Shopify-Topic": "orders/create"}, RECEIVED)


class Caller(threading.Thread):
    """Calls ``store.admit_delivery`` on its own thread; keeps the answer or the error."""

    def __init__(self, store: Store, channel: str, sent: WebhookDelivery) -> None:
        super().__init__(daemon=True)
        self.store, self.channel, self.sent = store, channel, sent
        self.answer: Admission | None = None
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            self.answer = self.store.admit_delivery(self.channel, self.sent)
        except Exception as exc:
            self.error = exc


def waiting(store: Store) -> int:
    return len(store._admission._waiting)


@contextmanager
def commits_counted() -> Iterator[list[Any]]:
    seen: list[Any] = []

    def count(connection: Any) -> None:
        seen.append(connection)

    sa.event.listen(sa.engine.Engine, "commit", count)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "commit", count)


def queued_together(store: Store, calls: list[tuple[str, WebhookDelivery]]) -> list[Caller]:
    """Start one caller per delivery while the group lock is held, wait until all of them wait, then let go: the
    first to get the lock stores the group."""
    callers = [Caller(store, channel, sent) for channel, sent in calls]
    with store._admission._storing:
        for caller in callers:
            caller.start()
            deadline = time.monotonic() + GUARD_S
            while waiting(store) < callers.index(caller) + 1:  # in this order: the queue keeps arrival order
                assert time.monotonic() < deadline, "the caller never queued its delivery"
                time.sleep(0.001)
    for caller in callers:
        caller.join(GUARD_S)
        assert not caller.is_alive()
    return callers


def test_deliveries_waiting_together_are_committed_in_one_transaction_each_with_its_own_answer(store: Store) -> None:
    with commits_counted() as commits:
        first, second, again, other = queued_together(
            store,
            [
                ("web", delivery("d-1", "e-1")),
                ("web", delivery("d-2", "e-2")),
                ("web", delivery("d-3", "e-1")),  # another delivery of e-1: a duplicate within the group
                ("pos", delivery("d-1", "e-1")),  # the same ids on another channel: another event
            ],
        )
    assert len(commits) == 1
    assert [caller.error for caller in (first, second, again, other)] == [None] * 4
    assert again.answer == Admission(None)
    ids = [caller.answer.entry_id for caller in (first, second, other) if caller.answer is not None]
    assert len(set(ids)) == 3
    assert None not in ids
    pending = {
        (entry.channel, entry.delivery.delivery_id): entry.id for entry in store.inbox(status=InboxStatus.PENDING)
    }
    assert pending == {("web", "d-1"): ids[0], ("web", "d-2"): ids[1], ("pos", "d-1"): ids[2]}
    # a lone delivery afterwards is its own transaction, as before
    assert store.admit_delivery("web", delivery("d-4", "e-4")).entry_id is not None


def test_a_delivery_that_fails_its_group_fails_alone_and_the_others_are_stored(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real: Callable[..., Admission] = sync_state.admit_delivery

    def refuses_poison(session: Any, channel: str, sent: WebhookDelivery) -> Admission:
        if sent.delivery_id == "poison":
            raise StoreError("database error: this delivery cannot be written")
        return real(session, channel, sent)

    monkeypatch.setattr(sync_state, "admit_delivery", refuses_poison)
    with commits_counted() as commits:
        good, poison, later = queued_together(
            store,
            [("web", delivery("d-1", "e-1")), ("web", delivery("poison", "e-2")), ("web", delivery("d-3", "e-3"))],
        )
    assert len(commits) == 2  # the group rolled back; then each good one alone
    assert isinstance(poison.error, StoreError)
    assert "cannot be written" in str(poison.error)
    assert poison.answer is None
    assert good.error is None
    assert later.error is None
    assert good.answer is not None
    assert later.answer is not None
    stored = [entry.delivery.delivery_id for entry in store.inbox(status=InboxStatus.PENDING)]
    assert stored == ["d-1", "d-3"]


def test_a_caller_whose_turn_fails_before_it_takes_the_group_fails_alone_and_the_next_stores_its_own(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = [StoreError("database error: another write transaction held the database; nothing was written")]

    @contextmanager
    def first_turn_fails(engine: sa.Engine) -> Iterator[Any]:
        if failures:
            raise failures.pop()
        with write_session(engine) as session:
            yield session

    monkeypatch.setattr("omnibridge.store.admission.write_session", first_turn_fails)
    callers = queued_together(store, [("web", delivery("d-1", "e-1")), ("web", delivery("d-2", "e-2"))])
    failed = [caller for caller in callers if caller.error is not None]
    stored = [caller for caller in callers if caller.answer is not None]
    assert len(failed) == 1
    assert len(stored) == 1
    assert "nothing was written" in str(failed[0].error)
    pending = [entry.delivery.delivery_id for entry in store.inbox(status=InboxStatus.PENDING)]
    assert pending == [stored[0].sent.delivery_id]
    assert waiting(store) == 0
