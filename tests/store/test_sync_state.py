"""Bookmarks and the webhook inbox, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from omnibridge.sdk.webhooks import WebhookDelivery
from omnibridge.store import InboxStatus, Store

RECEIVED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def delivery(delivery_id: str, event_id: str | None, body: bytes = b'{"id": 1}') -> WebhookDelivery:
    return WebhookDelivery(delivery_id, event_id, "orders/create", body, {"X-Shopify-Topic": "orders/create"}, RECEIVED)


def test_bookmark_is_absent_then_kept_and_replaced(store: Store) -> None:
    assert store.get_bookmark("web") is None
    store.set_bookmark("web", "2026-11-23T12:00:00Z")
    store.set_bookmark("pos", "cursor-1")
    store.set_bookmark("web", "2026-11-23T12:05:00Z")
    assert store.get_bookmark("web") == "2026-11-23T12:05:00Z"
    assert store.get_bookmark("pos") == "cursor-1"


def test_a_delivery_is_stored_once_per_event(store: Store) -> None:
    first = store.add_delivery("web", delivery("w-1", "e-1"))
    assert first is not None
    # A retry of the same delivery, and another delivery of the same event, are both duplicates.
    assert store.add_delivery("web", delivery("w-1", "e-1")) is None
    assert store.add_delivery("web", delivery("w-2", "e-1")) is None
    # The same event id on another channel is another event.
    assert store.add_delivery("pos", delivery("w-1", "e-1")) is not None
    # Without an event id the delivery id is the key.
    assert store.add_delivery("web", delivery("w-3", None, b'{"id": 3}')) is not None
    assert store.add_delivery("web", delivery("w-3", None, b'{"id": 3}')) is None

    pending = store.inbox(status=InboxStatus.PENDING, channel="web")
    assert [entry.delivery.delivery_id for entry in pending] == ["w-1", "w-3"]
    stored = pending[0].delivery
    assert stored.raw_body == b'{"id": 1}'
    assert stored.headers["x-shopify-topic"] == "orders/create"
    assert stored.received_at == RECEIVED


def test_finishing_an_entry_records_status_reason_and_attempt(store: Store) -> None:
    done_id = store.add_delivery("web", delivery("w-1", "e-1"))
    dead_id = store.add_delivery("web", delivery("w-2", "e-2", b"not json"))
    assert done_id is not None
    assert dead_id is not None
    store.finish_delivery(done_id, InboxStatus.DONE)
    store.finish_delivery(dead_id, InboxStatus.DEAD, "payload is not JSON")

    assert store.inbox(status=InboxStatus.PENDING) == []
    dead = store.inbox_entry(dead_id)
    assert dead is not None
    assert (dead.status, dead.error, dead.attempts) == (InboxStatus.DEAD, "payload is not JSON", 1)
    assert dead.delivery.raw_body == b"not json"
    done = store.inbox_entry(done_id)
    assert done is not None
    assert done.status is InboxStatus.DONE


def test_a_retriable_failure_keeps_the_entry_pending_with_its_attempts_error_and_next_try(store: Store) -> None:
    entry_id = store.add_delivery("web", delivery("w-1", "e-1"))
    assert entry_id is not None
    fresh = store.inbox_entry(entry_id)
    assert fresh is not None
    assert (fresh.attempts, fresh.next_attempt_at, fresh.last_error) == (0, None, None)
    first_try = datetime(2026, 11, 23, 12, 0, 10, tzinfo=UTC)
    second_try = datetime(2026, 11, 23, 12, 0, 30, 500_000, tzinfo=UTC)

    assert store.retry_delivery(entry_id, "shopify: 503", first_try) == 1
    assert store.retry_delivery(entry_id, "shopify: 429", second_try) == 2

    [waiting] = store.inbox(status=InboxStatus.PENDING)
    assert (waiting.attempts, waiting.last_error, waiting.error) == (2, "shopify: 429", None)
    assert waiting.next_attempt_at == second_try  # exact and timezone-aware on every backend
    assert waiting.waiting(second_try - timedelta(microseconds=1))
    assert not waiting.waiting(second_try)

    store.finish_delivery(entry_id, InboxStatus.DONE)
    done = store.inbox_entry(entry_id)
    assert done is not None
    assert (done.status, done.attempts, done.next_attempt_at, done.last_error) == (
        InboxStatus.DONE,
        3,
        None,
        "shopify: 429",
    )
    assert not done.waiting(first_try)
    # only a pending entry can wait for a retry
    assert store.retry_delivery(entry_id, "late failure", second_try) is None
    assert store.inbox_entry(entry_id) == done
    assert store.retry_delivery(9999, "no such entry", second_try) is None


def test_a_dead_entry_keeps_its_reason_as_its_last_error_and_waits_no_more(store: Store) -> None:
    entry_id = store.add_delivery("web", delivery("w-1", "e-1"))
    assert entry_id is not None
    store.retry_delivery(entry_id, "shopify: 503", datetime(2026, 11, 23, 12, 1, tzinfo=UTC))
    store.finish_delivery(entry_id, InboxStatus.DEAD, "gave up after 2 attempts: shopify: 503")
    dead = store.inbox_entry(entry_id)
    assert dead is not None
    assert (dead.status, dead.attempts, dead.next_attempt_at) == (InboxStatus.DEAD, 2, None)
    assert dead.error == dead.last_error == "gave up after 2 attempts: shopify: 503"


def test_a_signed_body_is_stored_once_per_channel_whatever_ids_come_with_it(store: Store) -> None:
    # Shopify's ids come from unsigned headers: a captured body re-sent with fresh ids is the same delivery.
    first = store.add_delivery("web", delivery("w-1", "e-1"))
    assert first is not None
    replays = [store.add_delivery("web", delivery(f"w-fresh-{n}", f"e-fresh-{n}")) for n in range(20)]
    assert replays == [None] * 20
    assert store.add_delivery("pos", delivery("w-fresh-0", "e-fresh-0")) is not None  # another channel's body
    assert store.add_delivery("web", delivery("w-2", "e-2", b'{"id": 2}')) is not None  # another body
    assert [entry.delivery.delivery_id for entry in store.inbox(channel="web")] == ["w-1", "w-2"]


def test_an_unstorable_delivery_is_kept_dead_with_the_reason(store: Store) -> None:
    # PostgreSQL refuses NUL in text and values longer than the column; SQLite would keep them. Either way the
    # delivery is validated first and kept as a dead letter, byte-exact, never a database error.
    nul = store.admit_delivery("web", delivery("w-\x00-1", "e-1", b'{"id": "\\u0000"}'))
    long_id = store.admit_delivery("web", delivery("w-" + "9" * 300, None, b'{"id": 4}'))
    assert nul.entry_id is not None
    assert long_id.entry_id is not None
    assert nul.dead_reason == "unstorable delivery: the delivery id contains a NUL byte"
    assert long_id.dead_reason == "unstorable delivery: the delivery id is 302 characters long; at most 255 are kept"
    dead = store.inbox_entry(nul.entry_id)
    assert dead is not None
    assert (dead.status, dead.error) == (InboxStatus.DEAD, nul.dead_reason)
    assert dead.delivery.raw_body == b'{"id": "\\u0000"}'
    assert dead.delivery.delivery_id.startswith("sha256:")
    # the vendor's retry of the same body is a duplicate, not a second dead letter
    assert store.admit_delivery("web", delivery("w-\x00-1", "e-1", b'{"id": "\\u0000"}')).entry_id is None
    assert store.inbox(status=InboxStatus.PENDING) == []


def test_taking_an_entry_marks_it_done_with_the_unit_and_only_while_it_is_pending(store: Store) -> None:
    taken_id = store.add_delivery("web", delivery("w-1", "e-1"))
    undone_id = store.add_delivery("web", delivery("w-2", "e-2", b'{"id": 2}'))
    assert taken_id is not None
    assert undone_id is not None

    with store.unit_of_work() as uow:
        assert uow.take_delivery(taken_id)
    taken = store.inbox_entry(taken_id)
    assert taken is not None
    assert (taken.status, taken.attempts, taken.error) == (InboxStatus.DONE, 1, None)
    with store.unit_of_work() as uow:
        assert not uow.take_delivery(taken_id)  # done already: another process applied it
    assert store.inbox_entry(taken_id) == taken

    class Failed(Exception):
        pass

    try:
        with store.unit_of_work() as uow:
            assert uow.take_delivery(undone_id)
            raise Failed  # what the delivery carried could not be applied: the mark goes with the rest
    except Failed:
        pass
    undone = store.inbox_entry(undone_id)
    assert undone is not None
    assert (undone.status, undone.attempts) == (InboxStatus.PENDING, 0)


def test_pending_deliveries_already_read_are_reused_and_forgotten_once_no_longer_pending(store: Store) -> None:
    first = store.add_delivery("web", delivery("w-1", "e-1"))
    second = store.add_delivery("web", delivery("w-2", "e-2", b'{"id": 2}'))
    store.add_delivery("pos", delivery("p-1", "e-3", b'{"id": 3}'))
    assert first is not None
    assert second is not None
    known: dict[int, WebhookDelivery] = {}

    read = store.pending_inbox("web", known)
    assert [entry.delivery.delivery_id for entry in read] == ["w-1", "w-2"]
    assert read == store.inbox(status=InboxStatus.PENDING, channel="web")
    assert set(known) == {first, second}

    kept = delivery("kept", None, b'{"kept": true}')
    known[second] = kept  # stands for the delivery read before: a second read must not read it again
    store.finish_delivery(first, InboxStatus.DONE)
    third = store.add_delivery("web", delivery("w-3", "e-4", b'{"id": 4}'))
    assert third is not None
    read = store.pending_inbox("web", known)
    assert [entry.id for entry in read] == [second, third]
    assert read[0].delivery is kept
    assert read[1].delivery.raw_body == b'{"id": 4}'
    assert set(known) == {second, third}
    assert store.pending_inbox_channels() == {"web", "pos"}
