"""The inbox claim between processes: an entry is applied by one unit of work only, whoever read it as pending.

Two engines on one store stand for two replicas. Each read the entry while it was pending; the second to apply it
finds it claimed (done) and keeps nothing, on SQLite and on PostgreSQL, also when both apply at the same instant.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from omnibridge.sdk.channel import ChannelEvent, OrderEvent, OrderEventKind, OrderLineEvent
from omnibridge.store import InboxStatus, Store
from omnibridge.sync import SyncEngine
from omnibridge.sync.engine import AlreadyApplied

from .fake_channel import NOW, TOKEN, FakeChannel, receive, runtime, seed_store
from .test_engine import delivery

pytestmark = pytest.mark.anyio


def replica(store: Store) -> tuple[SyncEngine, FakeChannel]:
    web = FakeChannel(["W-SHOP"])
    web.levels[("A", "W-SHOP")] = 5
    return SyncEngine(store, [runtime("web", web, {"W-SHOP": "shop"})]), web


def stock_receipt(store: Store) -> list[ChannelEvent]:
    seed_store(store, ["A"], ["shop"])
    receive(store, "A", "shop", 5)
    return [OrderEvent("o-1", OrderEventKind.PLACED, NOW, (OrderLineEvent("1", "A", 2, "W-SHOP"),))]


async def test_an_entry_applied_by_another_replica_meanwhile_is_not_applied_again(store: Store) -> None:
    events = stock_receipt(store)
    first, first_web = replica(store)
    second, _ = replica(store)
    first_web.webhook_payloads["d-1"] = events
    assert first.receive("web", delivery("d-1", "e-1"), {"x-token": TOKEN}, "").http_status == 200
    (stale,) = store.inbox(status=InboxStatus.PENDING)  # what the second replica's pass read

    assert await first.process_pending() == 1
    with pytest.raises(AlreadyApplied):
        second._apply_delivery(stale, second.channels["web"], events)

    (entry,) = store.inbox()
    assert (entry.status, entry.attempts) == (InboxStatus.DONE, 1)
    assert store.position("A", "shop").committed == 2
    assert store.incidents() == []


def test_two_replicas_applying_one_entry_at_the_same_instant_apply_it_once(store: Store) -> None:
    events = stock_receipt(store)
    engines = [replica(store)[0], replica(store)[0]]
    for engine in engines:
        asyncio.run(engine.resolve_locations())
    engines[0].receive("web", delivery("d-1", "e-1"), {"x-token": TOKEN}, "")
    (pending,) = store.inbox(status=InboxStatus.PENDING)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def apply(engine: SyncEngine) -> None:
        barrier.wait(timeout=10)
        try:
            engine._apply_delivery(pending, engine.channels["web"], events)
            outcomes.append("applied")
        except AlreadyApplied:
            outcomes.append("already")
        except BaseException as exc:
            outcomes.append(f"error: {exc}")

    threads = [threading.Thread(target=apply, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["already", "applied"]
    (entry,) = store.inbox()
    assert (entry.status, entry.attempts) == (InboxStatus.DONE, 1)
    assert store.position("A", "shop").committed == 2
    for engine in engines:
        asyncio.run(engine.aclose())
