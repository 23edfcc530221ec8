"""Inbox retries: a delivery whose fetch failed retriably waits for its next try with its stream behind it, is
dead-lettered after the last allowed attempt, and never stops its channel being pulled while it waits."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from structlog.testing import capture_logs
from support import TickingClock

from omnibridge.models import MovementKind
from omnibridge.sdk.channel import (
    OrderEvent,
    OrderEventKind,
    OrderLineEvent,
    StockChangeEvent,
    StockChangeKind,
    StockObservedEvent,
)
from omnibridge.store import InboxEntry, InboxStatus, Store
from omnibridge.sync import SyncEngine
from omnibridge.sync.inbox_retry import InboxRetry

from .fake_channel import NOW, TOKEN, FakeChannel, receive, runtime, seed_store

pytestmark = pytest.mark.anyio
UNAVAILABLE = "fake.webhook_events: fake answered 503"


def world(
    store: Store, *, retry: InboxRetry = InboxRetry(), clock: Callable[[], float] | None = None
) -> tuple[SyncEngine, FakeChannel, FakeChannel]:
    """A web store selling from the warehouse, a POS in the shop; 5 of SKU A in each place."""
    seed_store(store, ["A"], ["wh", "shop"])
    receive(store, "A", "wh", 5)
    receive(store, "A", "shop", 5)
    web, pos = FakeChannel(["W-WH"]), FakeChannel(["P-SHOP"])
    web.levels[("A", "W-WH")] = 5
    pos.levels[("A", "P-SHOP")] = 5
    channels = [runtime("web", web, {"W-WH": "wh"}), runtime("pos", pos, {"P-SHOP": "shop"})]
    if clock is None:
        return SyncEngine(store, channels, inbox_retry=retry), web, pos
    return SyncEngine(store, channels, inbox_retry=retry, clock=clock), web, pos


def deliver(engine: SyncEngine, channel: str, delivery_id: str, topic: str = "orders/updated") -> int:
    body = json.dumps({"delivery": delivery_id, "event": delivery_id, "topic": topic}).encode()
    receipt = engine.receive(channel, body, {"x-token": TOKEN}, "")
    assert receipt.entry_id is not None
    return receipt.entry_id


def entry(store: Store, entry_id: int) -> InboxEntry:
    found = store.inbox_entry(entry_id)
    assert found is not None
    return found


def order(kind: OrderEventKind) -> OrderEvent:
    return OrderEvent("o-1", kind, NOW, (OrderLineEvent("1", "A", 2, "W-WH"),))


def until_due(clock: TickingClock, waiting: InboxEntry) -> None:
    """Move the store's clock to the entry's next try."""
    assert waiting.next_attempt_at is not None
    clock.now = waiting.next_attempt_at


def commitments(store: Store) -> list[MovementKind]:
    kinds = {MovementKind.COMMITMENT, MovementKind.COMMITMENT_RELEASE}
    return [m.movement.kind for m in store.movements("A", "wh") if m.movement.kind in kinds]


async def test_a_cancel_waits_behind_its_order_whose_fetch_failed_and_both_apply_once(
    store: Store, clock: TickingClock
) -> None:
    engine, web, pos = world(store)
    await engine.sync_once()
    web.webhook_payloads = {"placed": [order(OrderEventKind.PLACED)], "cancelled": [order(OrderEventKind.CANCELLED)]}
    web.webhook_failures["placed"] = 1
    placed, cancelled = deliver(engine, "web", "placed"), deliver(engine, "web", "cancelled")
    pos.webhook_payloads["sale"] = [
        OrderEvent("s-1", OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", "A", 1, "P-SHOP"),))
    ]
    sale = deliver(engine, "pos", "sale")

    assert await engine.process_pending() == 1  # the POS sale: another channel goes on
    assert entry(store, sale).status is InboxStatus.DONE
    waiting = entry(store, placed)
    assert (waiting.status, waiting.attempts, waiting.last_error) == (InboxStatus.PENDING, 1, UNAVAILABLE)
    assert waiting.next_attempt_at is not None
    assert waiting.next_attempt_at >= clock.now + timedelta(seconds=9)  # the first wait, minus the ticks since
    held = entry(store, cancelled)
    assert (held.status, held.attempts) == (InboxStatus.PENDING, 0)  # not applied before its order
    assert commitments(store) == []

    until_due(clock, waiting)
    assert await engine.process_pending() == 2
    assert (entry(store, placed).status, entry(store, placed).attempts) == (InboxStatus.DONE, 2)
    assert entry(store, placed).next_attempt_at is None
    assert (entry(store, cancelled).status, entry(store, cancelled).attempts) == (InboxStatus.DONE, 1)
    assert commitments(store) == [MovementKind.COMMITMENT, MovementKind.COMMITMENT_RELEASE]
    position = store.position("A", "wh")
    assert (position.on_hand, position.committed) == (5, 0)
    assert await engine.process_pending() == 0
    assert commitments(store) == [MovementKind.COMMITMENT, MovementKind.COMMITMENT_RELEASE]


async def test_an_entry_not_yet_due_is_not_fetched_again(store: Store, clock: TickingClock) -> None:
    engine, web, _ = world(store)
    await engine.sync_once()
    web.webhook_payloads["placed"] = [order(OrderEventKind.PLACED)]
    web.webhook_failures["placed"] = 1
    placed = deliver(engine, "web", "placed")

    assert await engine.process_pending() == 0
    assert await engine.process_pending() == 0
    assert web.fetches["placed"] == 1
    waiting = entry(store, placed)
    assert (waiting.status, waiting.attempts) == (InboxStatus.PENDING, 1)
    assert engine.counters.retried == 1

    assert waiting.next_attempt_at is not None
    clock.now = waiting.next_attempt_at - timedelta(seconds=1)
    assert await engine.process_pending() == 0
    assert web.fetches["placed"] == 1
    until_due(clock, waiting)
    assert await engine.process_pending() == 1
    assert web.fetches["placed"] == 2
    assert store.position("A", "wh").committed == 2


async def test_an_entry_that_keeps_failing_is_dead_lettered_after_the_cap_then_its_stream_moves_on(
    store: Store, clock: TickingClock
) -> None:
    engine, web, _ = world(store, retry=InboxRetry(max_attempts=3, first_delay=10, max_delay=15))
    await engine.sync_once()
    web.webhook_failures["stuck"] = 1_000  # the vendor never answers for this one
    web.webhook_payloads["next"] = [order(OrderEventKind.PLACED)]
    stuck, following = deliver(engine, "web", "stuck"), deliver(engine, "web", "next")

    delays: list[timedelta] = []
    with capture_logs() as logs:
        for _ in range(3):
            await engine.process_pending()
            waiting = entry(store, stuck)
            if waiting.status is not InboxStatus.PENDING:
                break
            assert entry(store, following).status is InboxStatus.PENDING  # held behind it
            assert waiting.next_attempt_at is not None
            delays.append(waiting.next_attempt_at - clock.now)
            until_due(clock, waiting)

    dead = entry(store, stuck)
    assert (dead.status, dead.attempts) == (InboxStatus.DEAD, 3)
    assert dead.error == f"gave up after 3 attempts: {UNAVAILABLE}"
    assert dead.next_attempt_at is None
    assert web.fetches["stuck"] == 3
    assert [round(delay.total_seconds()) for delay in delays] == [10, 15]  # doubling, up to max_delay
    assert (engine.counters.retried, engine.counters.dead) == (2, 1)
    [logged] = [line for line in logs if line["event"] == "webhook.dead"]
    assert (logged["entry"], logged["attempts"], logged["reason"]) == (stuck, 3, dead.error)
    assert entry(store, following).status is InboxStatus.DONE  # the stream moved on
    assert store.position("A", "wh").committed == 2


async def test_an_entry_waiting_for_its_retry_does_not_stop_its_channel_being_pulled(
    store: Store, clock: TickingClock
) -> None:
    now = [0.0]
    engine, _, pos = world(store, clock=lambda: now[0])
    await engine.sync_once()
    pos.webhook_failures["sale"] = 1_000
    deliver(engine, "pos", "sale")
    await engine.process_pending()
    pulls = pos.calls["pull_events"]

    # A receipt booked on the POS: its level notification (another stream) is applied at once, the receipt
    # itself comes with the pull that the unexplained level asks for.
    pos.add_event(StockChangeEvent("rcv-1", StockChangeKind.RECEIPT, "A", "P-SHOP", 4, NOW))
    pos.levels[("A", "P-SHOP")] = 9
    pos.webhook_payloads["level"] = [StockObservedEvent("A", "P-SHOP", 9, NOW)]
    level = deliver(engine, "pos", "level", topic="inventory/update")
    await engine.process_pending()
    assert entry(store, level).status is InboxStatus.DONE
    now[0] += engine.observe_grace
    await engine.process_pending()

    assert pos.calls["pull_events"] == pulls + 1
    assert store.position("A", "shop").on_hand == 9
    assert pos.fetches["sale"] == 1  # still waiting for its retry, not fetched on every pass


def test_the_wait_doubles_up_to_the_cap_and_honours_the_vendors_retry_after() -> None:
    retry = InboxRetry(max_attempts=8, first_delay=10, max_delay=300)
    assert [retry.delay(n).total_seconds() for n in range(1, 8)] == [10, 20, 40, 80, 160, 300, 300]
    assert retry.delay(1, retry_after=120) == timedelta(seconds=120)
    assert retry.delay(5, retry_after=3) == timedelta(seconds=160)
    assert (retry.exhausted(7), retry.exhausted(8)) == (False, True)
    with pytest.raises(ValueError, match="max_attempts"):
        InboxRetry(max_attempts=0)


async def test_an_amazon_quantity_notification_is_not_held_behind_its_orders_fetch(store: Store) -> None:
    """Amazon's LISTINGS_ITEM_MFN_QUANTITY_CHANGE is a level notification: it is applied (and the sale it shows
    passed on) while the ORDER_CHANGE before it waits for its fetch (getOrder allows 0.5 requests/s)."""
    engine, web, _ = world(store)
    await engine.sync_once()
    web.webhook_payloads["placed"] = [order(OrderEventKind.PLACED)]
    web.webhook_failures["placed"] = 1
    placed = deliver(engine, "web", "placed", topic="ORDER_CHANGE")
    web.webhook_payloads["level"] = [StockObservedEvent("A", "W-WH", 3, NOW)]
    level = deliver(engine, "web", "level", topic="LISTINGS_ITEM_MFN_QUANTITY_CHANGE")

    assert await engine.process_pending() == 1

    assert entry(store, placed).status is InboxStatus.PENDING
    assert entry(store, level).status is InboxStatus.DONE
