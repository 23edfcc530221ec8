"""SquareConnector against the Square emulator in-process (ASGI): the whole channel contract end to end —
locations, levels, absolute writes, polling without echo, signed webhooks, 429 storms."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import httpx

from connectors.square.client import SquareConnector
from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig
from connectors.square.settings import SquareSettings
from omnibridge.sdk import RetryPolicy
from omnibridge.sdk.channel import (
    OrderEvent,
    OrderEventKind,
    PushStatus,
    StockChangeEvent,
    StockChangeKind,
    StockObservedEvent,
    StockTarget,
)

from .fixtures import FakeSleep

T = TypeVar("T")
TOKEN = "EAAA-roundtrip-token"
KEY = "roundtrip-signature-key"
HOOK_URL = "https://hooks.example.com/omnibridge/square?profile=rt"


class TickingClock:
    """Aware UTC wall clock moving 1 ms per reading (both sides share it)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


class World:
    """One emulated merchant, a webhook receiver and a connector wired to them."""

    def __init__(self, *, burst: int = 50) -> None:
        self.clock = TickingClock()
        self.sleep = FakeSleep()
        self.received: list[tuple[dict[str, str], bytes]] = []

        def receive(request: httpx.Request) -> httpx.Response:
            self.received.append((dict(request.headers), request.content))
            return httpx.Response(200)

        self.emu = SquareEmulator(
            SquareEmulatorConfig(
                access_token=TOKEN, signature_key=KEY, notification_url=HOOK_URL, requests_per_second=5, burst=burst
            ),
            self.clock,
            monotonic=self.sleep.clock,
            webhook_transport=httpx.MockTransport(receive),
        )
        self.main = self.emu.add_location("Main Street")
        self.mall = self.emu.add_location("Mall Kiosk")
        self.emu.add_variation("TEE-RED-M", "Tee", 2500)
        self.emu.add_variation("MUG-BLUE", "Mug", 1200)
        self.emu.set_count("TEE-RED-M", self.main, 10)
        self.emu.set_count("MUG-BLUE", self.mall, 3)
        settings = SquareSettings(
            base_url="http://square.emulator",
            access_token=TOKEN,
            webhook_signature_key=KEY,
            webhook_notification_url=HOOK_URL,
            poll_overlap_seconds=60,
        )
        self.client = SquareConnector(
            settings,
            transport=httpx.ASGITransport(app=self.emu.app),
            retry_policy=RetryPolicy(max_attempts=6, jitter=0.0),
            clock=self.sleep.clock,
            sleep=self.sleep,
            now=self.clock,
        )

    def run(self, scenario: Callable[[World], Awaitable[T]]) -> T:
        async def main() -> T:
            try:
                return await scenario(self)
            finally:
                await self.client.aclose()
                await self.emu.webhooks.aclose()

        return asyncio.run(main())


def test_locations_and_levels_round_trip() -> None:
    world = World()

    async def scenario(w: World) -> None:
        locations = await w.client.list_locations()
        assert {loc.external_id for loc in locations} == {w.main, w.mall}
        levels = await w.client.read_levels(["TEE-RED-M", "MUG-BLUE", "NOT-THERE"])
        assert sorted((lv.sku, lv.location_ref == w.main, lv.available) for lv in levels) == [
            ("MUG-BLUE", False, 3),
            ("MUG-BLUE", True, 0),
            ("TEE-RED-M", False, 0),
            ("TEE-RED-M", True, 10),
        ]

    world.run(scenario)


def test_push_then_poll_reports_people_not_our_writes() -> None:
    world = World()

    async def scenario(w: World) -> None:
        # The seeded stock takes happened before the first pull: they are in the opening balance, not events.
        first = await w.client.pull_events(None)
        assert first.events == []
        targets = [StockTarget("TEE-RED-M", w.main, 25, reference="push-1"), StockTarget("NOPE", w.main, 1)]
        results = await w.client.push_levels(targets)
        assert [(r.status, r.shown) for r in results] == [(PushStatus.APPLIED, 25), (PushStatus.UNKNOWN_SKU, None)]
        assert w.emu.quantity("TEE-RED-M", w.main) == 25
        w.clock.now += timedelta(minutes=1)
        w.emu.pos_sale(w.main, [("TEE-RED-M", 2)])
        w.emu.receive_stock(w.mall, "MUG-BLUE", 5)
        second = await w.client.pull_events(first.bookmark)
        second.events[:] = [e for e in second.events if e not in first.events]  # the overlap repeats old facts
        orders = [e for e in second.events if isinstance(e, OrderEvent)]
        changes = [e for e in second.events if isinstance(e, StockChangeEvent)]
        assert [(o.kind, [(ln.sku, ln.quantity, ln.location_ref) for ln in o.lines]) for o in orders] == [
            (OrderEventKind.COMPLETED, [("TEE-RED-M", 2, w.main)])
        ]
        # Our PHYSICAL_COUNT (reference omnibridge:push-1) and the sale's IN_STOCK->SOLD are not reported.
        assert [(c.kind, c.sku, c.location_ref, c.quantity) for c in changes] == [
            (StockChangeKind.RECEIPT, "MUG-BLUE", w.mall, 5)
        ]
        assert second.messages == []
        assert second.bookmark is not None
        assert first.bookmark is not None
        assert json.loads(second.bookmark)["orders"] >= json.loads(first.bookmark)["orders"]
        again = await w.client.pull_events(second.bookmark)  # overlapping window: same facts, same refs
        assert {getattr(e, "ref", None) for e in again.events} <= {getattr(e, "ref", None) for e in second.events}

    world.run(scenario)


def test_signed_webhooks_verify_and_map() -> None:
    world = World()

    async def scenario(w: World) -> None:
        w.emu.pos_sale(w.main, [("TEE-RED-M", 1)])
        w.emu.redeliver_last("order.updated")
        await w.emu.webhooks.drain()
        deliveries = [
            w.client.verify_webhook(body, headers, "http://internal:8080/hook") for headers, body in w.received
        ]
        topics = sorted(d.topic for d in deliveries)
        assert topics == ["inventory.count.updated", "order.updated", "order.updated"]
        orders = [d for d in deliveries if d.topic == "order.updated"]
        assert orders[0].delivery_id == orders[1].delivery_id  # the redelivery dedupes in the inbox
        (order,) = await w.client.webhook_events(orders[0])
        assert isinstance(order, OrderEvent)
        assert order.kind is OrderEventKind.COMPLETED
        assert [(ln.sku, ln.quantity) for ln in order.lines] == [("TEE-RED-M", 1)]
        (inventory,) = [d for d in deliveries if d.topic == "inventory.count.updated"]
        (observed,) = await w.client.webhook_events(inventory)
        assert isinstance(observed, StockObservedEvent)
        assert (observed.sku, observed.location_ref, observed.available) == ("TEE-RED-M", w.main, 9)
        assert observed.item_ref is not None

    world.run(scenario)


def test_rate_limited_pushes_back_off_and_complete() -> None:
    world = World(burst=2)

    async def scenario(w: World) -> None:
        batch = [StockTarget("TEE-RED-M", w.main, 7), StockTarget("MUG-BLUE", w.mall, 4)]
        for _ in range(3):
            results = await w.client.push_levels(batch)
            assert [r.status for r in results] == [PushStatus.APPLIED, PushStatus.APPLIED]
        assert w.emu.quantity("TEE-RED-M", w.main) == 7
        assert w.emu.quantity("MUG-BLUE", w.mall) == 4
        assert w.emu.calls["rate_limited"] >= 1
        assert any(wait >= 0.5 for wait in w.sleep.calls)  # at least one 429 was retried after a backoff

    world.run(scenario)


def test_a_count_learned_from_an_older_time_still_lands_after_the_count_before_it() -> None:
    world = World()

    async def scenario(w: World) -> None:
        read_at = w.clock.now
        w.clock.now += timedelta(seconds=5)
        first = StockTarget("TEE-RED-M", w.main, 8, expected=10, expected_at=w.clock.now - timedelta(seconds=1))
        assert [r.status for r in await w.client.push_levels([first])] == [PushStatus.APPLIED]
        assert w.emu.quantity("TEE-RED-M", w.main) == 8
        # the next write was planned from a level stamped before the first count's occurred_at (a notification
        # the vendor stamped earlier): backdated that far, Square would rank it behind the first count
        second = StockTarget("TEE-RED-M", w.main, 7, expected=8, expected_at=read_at)
        assert [r.status for r in await w.client.push_levels([second])] == [PushStatus.APPLIED]
        assert w.emu.quantity("TEE-RED-M", w.main) == 7
        # a sale made after the latest count still applies on top of it
        w.emu.pos_sale(w.main, [("TEE-RED-M", 1)])
        assert w.emu.quantity("TEE-RED-M", w.main) == 6

    world.run(scenario)


def test_a_count_equal_to_the_level_a_later_sale_left_is_still_recorded_at_its_time() -> None:
    world = World()

    async def scenario(w: World) -> None:
        planned_at = w.clock.now  # the engine saw 10 here and plans 9 for a sale on another channel
        w.clock.now += timedelta(seconds=1)
        w.emu.pos_sale(w.main, [("TEE-RED-M", 1)])  # a Square sale after the plan: Square shows 9 now
        w.clock.now += timedelta(seconds=1)
        target = StockTarget("TEE-RED-M", w.main, 9, expected=10, expected_at=planned_at)
        assert [r.status for r in await w.client.push_levels([target])] == [PushStatus.APPLIED]
        # the count sets 9 where it was planned, and the Square sale made after that takes one more off; dropped
        # as "unchanged" (Square's default), it would leave 9: the other channel's sale never shown here
        assert w.emu.quantity("TEE-RED-M", w.main) == 8

    world.run(scenario)
