"""The demo's scripted day: events happen on one channel, and we time how long the others take to show them."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from omnibridge.demo.world import POS, WEB, DemoWorld

POLL_SECONDS = 0.005
TIMEOUT_SECONDS = 20.0


@dataclass
class Expectation:
    """``channel`` must come to show ``expected`` for ``sku`` at ``location_id`` (it showed ``before``)."""

    channel: str
    sku: str
    location_id: str
    before: int
    expected: int
    seen_after_ms: float | None = None


@dataclass
class EventRecord:
    """One scripted event and how it propagated."""

    kind: str
    source: str
    description: str
    expectations: list[Expectation] = field(default_factory=list)
    outcome: str = ""
    ms_until_all_channels: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def propagated(self) -> bool:
        return all(e.seen_after_ms is not None for e in self.expectations)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source_channel": self.source,
            "description": self.description,
            "outcome": self.outcome,
            "ms_until_all_channels": round_ms(self.ms_until_all_channels),
            "channels": [
                {
                    "channel": e.channel,
                    "sku": e.sku,
                    "location": e.location_id,
                    "before": e.before,
                    "expected": e.expected,
                    "ms": round_ms(e.seen_after_ms),
                }
                for e in self.expectations
            ],
            **self.detail,
        }


def round_ms(value: float | None) -> float | None:
    """Milliseconds to one decimal for the report (None stays None)."""
    return None if value is None else round(value, 1)


async def watch(world: DemoWorld, record: EventRecord, started: float) -> None:
    """Poll the emulators until every expectation holds (or the timeout), timing each one."""
    deadline = started + TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        now = time.perf_counter()
        for expectation in record.expectations:
            if expectation.seen_after_ms is None and (
                world.shows(expectation.channel, expectation.sku, expectation.location_id) == expectation.expected
            ):
                expectation.seen_after_ms = (now - started) * 1000
        if record.propagated:
            break
        await asyncio.sleep(POLL_SECONDS)
    if record.propagated:
        record.ms_until_all_channels = max((e.seen_after_ms or 0.0) for e in record.expectations)
        record.outcome = "propagated"
    else:
        record.outcome = "timed out"


def expect(world: DemoWorld, channel: str, sku: str, location_id: str, change: int) -> Expectation:
    """``channel`` must come to show what it shows now plus ``change``."""
    before = world.shows(channel, sku, location_id)
    return Expectation(channel, sku, location_id, before, before + change)


async def timed(world: DemoWorld, record: EventRecord, action: Callable[[], object]) -> EventRecord:
    """Run ``action`` (the event) and time how long until every expectation of ``record`` holds."""
    started = time.perf_counter()
    action()
    await watch(world, record, started)
    return record


async def in_store_sale(world: DemoWorld, sku: str, location_id: str, quantity: int = 1) -> EventRecord:
    record = EventRecord(
        "in_store_sale",
        POS,
        f"POS sale: {quantity} x {sku} at {location_id}",
        [expect(world, WEB, sku, location_id, -quantity)],
    )
    return await timed(
        world, record, lambda: world.square.pos_sale(world.square_location[location_id], [(sku, quantity)])
    )


async def online_order(world: DemoWorld, sku: str, location_id: str, quantity: int) -> tuple[EventRecord, Any]:
    record = EventRecord(
        "online_order",
        WEB,
        f"web order: {quantity} x {sku}, ship from {location_id}",
        [expect(world, POS, sku, location_id, -quantity)],
    )
    placed: dict[str, Any] = {}

    def place() -> None:
        placed["order"] = world.shopify.place_order([(sku, quantity)], location_id=world.shopify_location[location_id])

    await timed(world, record, place)
    order = placed["order"]
    record.detail["order"] = order.get("name") if isinstance(order, dict) else None
    return record, order


async def online_return(world: DemoWorld, order: Any, sku: str, location_id: str, quantity: int) -> EventRecord:
    record = EventRecord(
        "return",
        WEB,
        f"return: {quantity} x {sku} of web order {order.get('name')} brought back to {location_id}",
        [expect(world, POS, sku, location_id, quantity)],
    )
    return await timed(
        world,
        record,
        lambda: world.shopify.refund(
            order["id"], [(sku, quantity)], restock_type="return", location_id=world.shopify_location[location_id]
        ),
    )


async def stock_receipt(world: DemoWorld, sku: str, location_id: str, quantity: int) -> EventRecord:
    """The POS's first attempt to deliver this notification fails (as if our receiver were unreachable): Square
    retries it, and the change still arrives — later, but nothing is lost."""
    record = EventRecord(
        "stock_receipt",
        POS,
        f"delivery received on the POS: {quantity} x {sku} at {location_id} (first webhook attempt fails)",
        [expect(world, WEB, sku, location_id, quantity)],
    )
    knobs = world.square.webhooks.knobs
    knobs.fail_first_attempts = 1
    try:
        await timed(
            world, record, lambda: world.square.receive_stock(world.square_location[location_id], sku, quantity)
        )
    finally:
        knobs.fail_first_attempts = 0
    delivery = world.square.webhooks.last("inventory.count.updated")
    record.detail["webhook_attempts"] = len(delivery.attempts) if delivery is not None else None
    return record


async def duplicate_webhook(world: DemoWorld, sku: str, location_id: str) -> EventRecord:
    """The POS re-sends its last order notification: acknowledged, recognised as a duplicate, nothing moves."""
    counters = world.engine.counters
    duplicates_before = counters.duplicates
    movements_before = len(world.store.movements(sku, location_id))
    record = EventRecord("duplicate_webhook", POS, "the POS delivers its last order.updated notification again")
    started = time.perf_counter()
    world.square.redeliver_last("order.updated")
    deadline = started + TIMEOUT_SECONDS
    while counters.duplicates == duplicates_before and time.perf_counter() < deadline:
        await asyncio.sleep(POLL_SECONDS)
    acknowledged = counters.duplicates > duplicates_before
    record.ms_until_all_channels = (time.perf_counter() - started) * 1000 if acknowledged else None
    unchanged = len(world.store.movements(sku, location_id)) == movements_before
    record.outcome = "ignored as duplicate" if acknowledged and unchanged else "NOT deduplicated"
    record.detail["ledger_unchanged"] = unchanged
    return record


async def throttled_burst(
    world: DemoWorld, skus: list[str], location_id: str, *, square_limit: tuple[float, int], restore: tuple[float, int]
) -> EventRecord:
    """A rush at the till: one sale per SKU, all at once, while Square's limit for the account is down to
    ``square_limit`` (requests per second, burst) because other apps share it. Square answers 429
    ``RATE_LIMITED``; the connector backs off and nothing is lost. ``restore`` is the limit afterwards."""
    throttled_before = world.shopify.calls.get("throttled", 0)
    limited_before = world.square.calls.get("rate_limited", 0)
    paced_before = {channel: world.pacing(channel) for channel in (WEB, POS)}
    record = EventRecord(
        "throttled_burst",
        POS,
        f"rush at the till: {len(skus)} POS sales at {location_id} at once, Square's limit down to "
        f"{square_limit[0]:g} request/s",
        [expect(world, WEB, sku, location_id, -1) for sku in skus],
    )
    square_location = world.square_location[location_id]

    def rush() -> None:
        for sku in skus:
            world.square.pos_sale(square_location, [(sku, 1)])

    world.square.set_rate_limit(*square_limit)
    try:
        await timed(world, record, rush)
    finally:
        world.square.set_rate_limit(*restore)
    latencies = [e.seen_after_ms for e in record.expectations if e.seen_after_ms is not None]
    record.detail["sales"] = len(skus)
    record.detail["p50_ms"] = round_ms(statistics.median(latencies)) if latencies else None
    record.detail["max_ms"] = round_ms(max(latencies)) if latencies else None
    record.detail["shopify_throttled_responses"] = world.shopify.calls.get("throttled", 0) - throttled_before
    record.detail["square_rate_limited_responses"] = world.square.calls.get("rate_limited", 0) - limited_before
    for channel in (WEB, POS):
        waits, seconds = world.pacing(channel)
        record.detail[f"{channel}_requests_paced"] = waits - paced_before[channel][0]
        record.detail[f"{channel}_seconds_waiting_for_rate_limit"] = round(seconds - paced_before[channel][1], 3)
    return record
