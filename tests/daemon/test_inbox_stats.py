"""The inbox figures behind /metrics, from one aggregate query, on every store backend."""

from __future__ import annotations

from datetime import UTC, datetime

from omnibridge.daemon.telemetry import inbox_stats
from omnibridge.sdk import WebhookDelivery
from omnibridge.store import InboxStatus, Store


def deliver(store: Store, channel: str, delivery_id: str, received_at: datetime) -> int:
    entry = store.add_delivery(channel, WebhookDelivery(delivery_id, None, "t", delivery_id.encode(), {}, received_at))
    assert entry is not None
    return entry


def test_pending_oldest_dead_and_retrying_per_channel(store: Store) -> None:
    first = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    later = datetime(2026, 3, 1, 11, 30, tzinfo=UTC)
    deliver(store, "web", "w1", later)
    deliver(store, "web", "w2", first)
    done = deliver(store, "web", "w3", datetime(2026, 2, 1, tzinfo=UTC))
    dead = deliver(store, "pos", "p1", first)
    store.finish_delivery(done, InboxStatus.DONE)
    store.finish_delivery(dead, InboxStatus.DEAD, "malformed")
    retried = deliver(store, "pos", "p2", later)
    store.retry_delivery(retried, "square: 503", later)
    gave_up = deliver(store, "pos", "p3", later)
    store.retry_delivery(gave_up, "square: 503", later)
    store.finish_delivery(gave_up, InboxStatus.DEAD, "gave up after 2 attempts: square: 503")

    stats = inbox_stats(store)

    assert stats.pending == {"web": 2, "pos": 1}
    assert stats.oldest_pending == {"web": first, "pos": later}  # the oldest *pending* one, aware, on any backend
    assert stats.dead == {"pos": 2}
    assert stats.retrying == {"pos": 1}  # pending and waiting for its next try
