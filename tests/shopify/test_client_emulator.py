"""ShopifyClient end to end against the Shopify emulator (in-process ASGI, no sockets), per API version."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from structlog.testing import capture_logs

from connectors.shopify.client import ShopifyClient
from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
from omnibridge.sdk.channel import (
    OrderEvent,
    OrderEventKind,
    PushStatus,
    RefundEvent,
    RestockType,
    StockObservedEvent,
    StockTarget,
)

from .client_support import FakeTime, settings

T = TypeVar("T")
START = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
VERSIONS = ["2025-01", "2026-01", "2026-04"]
HOOK_URL = "http://omnibridge.test/hooks"


class World:
    """An emulated shop (2 locations, 2 SKUs) whose clock moves with the client's injected sleeps."""

    def __init__(self, version: str) -> None:
        self.time = FakeTime()
        self.received: list[tuple[bytes, dict[str, str]]] = []
        receiver = Starlette(routes=[Route("/hooks", self._receive, methods=["POST"])])
        self.emu = ShopifyEmulator(
            ShopifyEmulatorConfig(webhook_url=HOOK_URL),
            clock=self.wall,
            webhook_transport=httpx.ASGITransport(app=receiver),
        )
        self.main = self.emu.add_location("Main warehouse")
        self.store = self.emu.add_location("Downtown store")
        self.tent = self.emu.add_product("TENT-2P", "Trail tent", "199.00")
        self.emu.add_product("STOVE-1B", "Camp stove", "49.50")
        self.emu.set_available("TENT-2P", self.main, 10)
        self.emu.set_available("TENT-2P", self.store, 3)
        self.emu.set_available("STOVE-1B", self.main, 4)
        config = settings(
            version,
            shop_url="http://127.0.0.1:8801",
            access_token=self.emu.config.access_token,
            api_secret=self.emu.config.api_secret,
        )
        self.client = ShopifyClient(
            config,
            transport=httpx.ASGITransport(app=self.emu.app),
            clock=self.time.clock,
            sleep=self.time.sleep,
            now=self.wall,
        )

    async def _receive(self, request: Request) -> Response:
        self.received.append((await request.body(), dict(request.headers)))
        return Response(status_code=200)

    async def delivered(self, topic: str) -> tuple[bytes, dict[str, str]]:
        """The last signed delivery of ``topic`` as our endpoint received it."""
        await self.emu.webhooks.drain()
        for body, headers in reversed(self.received):
            if headers.get("x-shopify-topic") == topic:
                return body, headers
        raise AssertionError(f"no {topic} delivery")

    def wall(self) -> datetime:
        return START + timedelta(seconds=self.time.now - 1000.0)

    def run(self, call: Callable[[ShopifyClient], Awaitable[T]]) -> T:
        async def main() -> T:
            try:
                return await call(self.client)
            finally:
                await self.client.aclose()
                await self.emu.aclose()

        return asyncio.run(main())


@pytest.mark.parametrize("version", VERSIONS)
def test_levels_round_trip_with_compare_and_set(version: str) -> None:
    world = World(version)
    emu = world.emu

    async def scenario(client: ShopifyClient) -> None:
        locations = await client.list_locations()
        assert {loc.external_id for loc in locations} == {world.main, world.store}
        levels = await client.read_levels(["TENT-2P", "STOVE-1B", "GHOST"])
        assert {(lv.sku, lv.location_ref, lv.available) for lv in levels} == {
            ("TENT-2P", world.main, 10),
            ("TENT-2P", world.store, 3),
            ("STOVE-1B", world.main, 4),
        }
        emu.admin_adjust("TENT-2P", world.main, -2)  # someone sells in the admin: our expected 10 is stale
        results = await client.push_levels(
            [
                StockTarget("TENT-2P", world.main, 7, expected=10, reference="run-1"),
                StockTarget("TENT-2P", world.store, 5, expected=3, reference="run-1"),
                StockTarget("STOVE-1B", world.store, 1, expected=0, reference="run-1"),
                StockTarget("GHOST", world.main, 1, expected=0, reference="run-1"),
            ]
        )
        assert [(r.status, r.shown) for r in results] == [
            (PushStatus.APPLIED, 7),
            (PushStatus.APPLIED, 5),
            (PushStatus.UNKNOWN_SKU, None),
            (PushStatus.UNKNOWN_SKU, None),
        ]
        unchanged = await client.push_levels([StockTarget("TENT-2P", world.main, 7)])
        assert unchanged[0].status is PushStatus.UNCHANGED

    world.run(scenario)
    assert emu.available("TENT-2P", world.main) == 7
    assert emu.available("TENT-2P", world.store) == 5


@pytest.mark.parametrize("version", VERSIONS)
def test_orders_refunds_and_webhooks_round_trip(version: str) -> None:
    world = World(version)
    emu = world.emu

    async def scenario(client: ShopifyClient) -> None:
        placed = emu.place_order([("TENT-2P", 2)], world.store)
        order_ref = placed["admin_graphql_api_id"]
        world.time.now += 5
        emu.refund(order_ref, [("TENT-2P", 1)], restock_type="return", location_id=world.store)
        world.time.now += 5

        pulled = await client.pull_events(None)
        kinds = [(type(e).__name__, getattr(e, "kind", None)) for e in pulled.events]
        assert kinds == [("OrderEvent", OrderEventKind.PLACED), ("RefundEvent", None)]
        order = pulled.events[0]
        assert isinstance(order, OrderEvent)
        assert order.ref == order_ref
        assert [(line.sku, line.quantity, line.location_ref) for line in order.lines] == [("TENT-2P", 2, world.store)]
        refund = pulled.events[1]
        assert isinstance(refund, RefundEvent)
        assert refund.lines[0].restock_type is RestockType.RETURN
        assert pulled.bookmark is not None

        # The same facts by webhook give the same refs.
        for topic, expected in (("orders/create", order), ("refunds/create", refund)):
            body, headers = await world.delivered(topic)
            delivery = client.verify_webhook(body, headers, HOOK_URL)
            # orders/create re-reads the order, which by now also carries its refund: PLACED comes first.
            event = (await client.webhook_events(delivery))[0]
            assert event == expected
        body, headers = await world.delivered("inventory_levels/update")
        observed = await client.webhook_events(client.verify_webhook(body, headers, HOOK_URL))
        assert isinstance(observed[0], StockObservedEvent)
        assert observed[0].sku == "TENT-2P"
        assert observed[0].location_ref == world.store

        emu.cancel_order(order_ref)
        body, headers = await world.delivered("orders/cancelled")
        (event,) = await client.webhook_events(client.verify_webhook(body, headers, HOOK_URL))
        assert isinstance(event, OrderEvent)
        assert (event.ref, event.kind) == (order_ref, OrderEventKind.CANCELLED)

    world.run(scenario)


@pytest.mark.parametrize(("configured", "warnings"), [("2024-07", [("2024-07", "2024-10")]), ("2025-01", [])])
def test_a_version_served_other_than_configured_is_warned_about_once(
    configured: str, warnings: list[tuple[str, str]]
) -> None:
    world = World(configured)

    async def twice(client: ShopifyClient) -> int:
        first = await client.list_locations()
        await client.list_locations()
        return len(first)

    with capture_logs() as logs:
        assert world.run(twice) == 2
    served = [e for e in logs if e["event"] == "shopify.api_version_served"]
    assert [(e["configured"], e["served"]) for e in served] == warnings
    assert all(e["log_level"] == "warning" for e in served)


def test_a_read_asks_for_as_many_levels_an_item_as_the_shop_has_locations() -> None:
    """Shopify takes a query's requested cost up front: a read asks for one level per location of the shop, not
    ten, once the locations are counted (a two-location shop's read of two SKUs: 24 points, not 72)."""
    world = World("2026-04")
    asked: list[Any] = []
    app = world.emu.app

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        async def body() -> Any:
            message = await receive()
            if message.get("body"):
                asked.append(json.loads(message["body"]).get("variables", {}).get("levels"))
            return message

        await app(scope, body, send)

    world.client = ShopifyClient(
        world.client.settings,
        transport=httpx.ASGITransport(app=recording),
        clock=world.time.clock,
        sleep=world.time.sleep,
        now=world.wall,
    )

    async def scenario(client: ShopifyClient) -> list[tuple[str, str, int]]:
        await client.list_locations()
        levels = await client.read_levels(["TENT-2P", "STOVE-1B"])
        return sorted((lv.sku, lv.location_ref, lv.available) for lv in levels)

    assert world.run(scenario) == sorted(
        [("TENT-2P", world.main, 10), ("TENT-2P", world.store, 3), ("STOVE-1B", world.main, 4)]
    )
    assert asked[-1:] == [2]


def test_order_fetches_for_notifications_go_one_at_a_time() -> None:
    """Fetches for a backlog of order notifications must not all see the bucket's spare at once and queue ahead of
    the stock writes: they go one at a time."""
    world = World("2026-04")
    state = {"now": 0, "most": 0}
    app = world.emu.app

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        state["now"] += 1
        state["most"] = max(state["most"], state["now"])
        try:
            await asyncio.sleep(0.001)
            await app(scope, receive, send)
        finally:
            state["now"] -= 1

    world.client = ShopifyClient(
        world.client.settings,
        transport=httpx.ASGITransport(app=counting),
        clock=world.time.clock,
        sleep=world.time.sleep,
        now=world.wall,
    )
    for _ in range(5):
        world.emu.place_order([("TENT-2P", 1)], location_id=world.main)

    async def scenario(client: ShopifyClient) -> int:
        await world.emu.webhooks.drain()
        orders = [
            client.verify_webhook(body, headers, HOOK_URL)
            for body, headers in world.received
            if headers.get("x-shopify-topic") == "orders/create"
        ]
        events = await asyncio.gather(*(client.webhook_events(delivery) for delivery in orders))
        return sum(len(found) for found in events)

    assert world.run(scenario) == 5
    assert state["most"] == 1
