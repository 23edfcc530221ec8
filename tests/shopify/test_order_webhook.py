"""An orders/create|updated webhook is mapped from its payload plus the small routing read: the same events as the
whole-order read, at a fraction of the requested cost (measured by the emulator's cost calculator)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from connectors.shopify import order_webhook, queries
from connectors.shopify.client import ShopifyClient
from connectors.shopify.emulator.rest_payloads import order_payload
from connectors.shopify.emulator.schema import validate_document
from connectors.shopify.mapper import map_order
from omnibridge.sdk import WebhookDelivery
from omnibridge.sdk.channel import ChannelEvent, OrderEvent

from .test_client_emulator import World

VERSIONS = ["2024-10", "2026-04"]
# Everything map_order reads, unit prices included (ORDER_QUERY leaves them out to stay under 1,000 points; these
# test orders are small enough for pages of 20).
REFERENCE_QUERY = f"""\
query Order($id: ID!) {{
  order(id: $id) {{
{queries._order_fields(20, 4, 20, 25, 20)}
  }}
}}"""


class CostMeter(httpx.AsyncBaseTransport):
    """Passes requests to the emulator and keeps the ``requestedQueryCost`` of each GraphQL answer."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.costs: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        if request.url.path.endswith("/graphql.json"):
            self.costs.append(json.loads(content)["extensions"]["cost"]["requestedQueryCost"])
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    def take(self) -> list[int]:
        taken, self.costs = self.costs, []
        return taken


class MeteredWorld(World):
    def __init__(self, version: str) -> None:
        super().__init__(version)
        self.unused = self.client
        self.meter = CostMeter(httpx.ASGITransport(app=self.emu.app))
        self.client = ShopifyClient(
            self.unused.settings,
            transport=self.meter,
            clock=self.time.clock,
            sleep=self.time.sleep,
            now=self.wall,
        )

    def payload(self, order_ref: str) -> dict[str, Any]:
        """The REST order Shopify would send now (orders/updated) for ``order_ref``."""
        order = self.emu.state.order(int(order_ref.rsplit("/", 1)[-1]))
        cfg = self.emu.config
        return order_payload(self.emu.state, order, cfg.rest_utc_offset_minutes, cfg.currency)

    async def by_webhook(self, client: ShopifyClient, body: dict[str, Any], topic: str) -> list[ChannelEvent]:
        raw = json.dumps(body).encode()
        delivery = WebhookDelivery("d-1", "e-1", topic, raw, {}, datetime(2026, 11, 23, tzinfo=UTC))
        return await client.webhook_events(delivery)

    async def by_query(self, client: ShopifyClient, order_ref: str) -> list[ChannelEvent]:
        data = await client.graphql("test", REFERENCE_QUERY, {"id": order_ref})
        result = map_order(data["order"])
        assert result.value is not None
        return result.value


def _diff(left: list[ChannelEvent], right: list[ChannelEvent]) -> list[tuple[str, object, object]]:
    """The fields that differ between two event lists, for a readable failure."""
    if len(left) != len(right):
        return [("len", len(left), len(right))]
    return [
        (f"{index}.{name}", getattr(a, name), getattr(b, name))
        for index, (a, b) in enumerate(zip(left, right, strict=True))
        for name in (f.name for f in dataclasses.fields(a))
        if getattr(a, name) != getattr(b, name)
    ]


def _split(world: MeteredWorld, order_ref: str) -> None:
    """Move one unit of the order's first line to the main warehouse: the line is split over two locations."""
    emu = world.emu
    order = emu.state.order(int(order_ref.rsplit("/", 1)[-1]))
    fo = order.fulfillment_orders[0]
    emu.fulfillment_order_mutations.desk.move(order, fo, int(world.main.rsplit("/", 1)[-1]), {fo.lines[0].id: 1})


@pytest.mark.parametrize("version", VERSIONS)
def test_payload_and_query_give_the_same_events_at_a_fraction_of_the_cost(version: str) -> None:
    world = MeteredWorld(version)
    emu = world.emu

    async def scenario(client: ShopifyClient) -> list[tuple[str, list[int], list[int]]]:
        await world.unused.aclose()
        one_line = emu.place_order([("TENT-2P", 1)], world.store)["admin_graphql_api_id"]
        two_lines = emu.place_order([("TENT-2P", 2), ("STOVE-1B", 1)], world.main)["admin_graphql_api_id"]
        split = emu.place_order([("TENT-2P", 2)], world.store)["admin_graphql_api_id"]
        _split(world, split)
        pickup = emu.place_order([("TENT-2P", 1)], world.store, pickup=True)["admin_graphql_api_id"]
        shipped = emu.place_order([("STOVE-1B", 2)], world.main)["admin_graphql_api_id"]
        emu.fulfill(shipped, [("STOVE-1B", 2)], tracking_number="1Z999", tracking_company="UPS")
        emu.refund(shipped, [("STOVE-1B", 1)], restock_type="return", location_id=world.main)
        cancelled = emu.place_order([("TENT-2P", 1)], world.main)["admin_graphql_api_id"]
        emu.cancel_order(cancelled)
        rows = []
        for name, ref in (
            ("one line", one_line),
            ("two lines", two_lines),
            ("split line", split),
            ("pickup", pickup),
            ("shipped and refunded", shipped),
            ("cancelled", cancelled),
        ):
            query_events = await world.by_query(client, ref)
            world.meter.take()
            await client._read_order(ref, "test")  # what an order webhook cost before: lean, whole when needed
            before = world.meter.take()
            payload_events = await world.by_webhook(client, world.payload(ref), "orders/updated")
            after = world.meter.take()
            assert payload_events == query_events, (name, _diff(payload_events, query_events))
            rows.append((name, before, after))
        return rows

    rows = world.run(scenario)
    by_name = {name: (before, after) for name, before, after in rows}
    assert by_name["one line"][0] == [116]
    assert by_name["shipped and refunded"][0] == [116, 992]  # refund lines are not in the lean read
    assert by_name["one line"][1] == [21]
    assert by_name["two lines"][1] == [25]
    assert all(len(after) == 1 and after[0] <= 29 for _, after in by_name.values())


@pytest.mark.parametrize("version", VERSIONS)
def test_orders_create_costs_the_routing_read_instead_of_the_lean_order_read(version: str) -> None:
    world = MeteredWorld(version)
    emu = world.emu

    async def scenario(client: ShopifyClient) -> tuple[list[int], list[ChannelEvent]]:
        await world.unused.aclose()
        emu.place_order([("TENT-2P", 2)], world.store)
        body, headers = await world.delivered("orders/create")
        world.meter.take()
        events = await client.webhook_events(client.verify_webhook(body, headers, "http://omnibridge.test/hooks"))
        return world.meter.take(), events

    costs, events = world.run(scenario)
    assert costs == [21]  # was 116 (ORDER_LEAN_QUERY)
    (placed,) = events
    assert isinstance(placed, OrderEvent)
    assert [(line.sku, line.quantity, line.location_ref) for line in placed.lines] == [("TENT-2P", 2, world.store)]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_trimmed_payload_falls_back_to_reading_the_order(version: str) -> None:
    world = MeteredWorld(version)
    emu = world.emu

    async def scenario(client: ShopifyClient) -> tuple[list[int], list[ChannelEvent], list[ChannelEvent]]:
        await world.unused.aclose()
        ref = emu.place_order([("TENT-2P", 2)], world.store)["admin_graphql_api_id"]
        expected = await world.by_query(client, ref)
        trimmed = {key: value for key, value in world.payload(ref).items() if key != "refunds"}  # include_fields
        world.meter.take()
        events = await world.by_webhook(client, trimmed, "orders/create")
        return world.meter.take(), events, expected

    costs, events, expected = world.run(scenario)
    assert costs == [116]
    assert events == expected


@pytest.mark.parametrize("version", VERSIONS)
def test_fulfillment_orders_past_the_small_page_are_read_with_a_larger_one(version: str) -> None:
    world = MeteredWorld(version)
    emu = world.emu
    third = emu.add_location("Pop-up")
    emu.set_available("TENT-2P", third, 5)

    async def scenario(client: ShopifyClient) -> tuple[list[int], list[ChannelEvent], list[ChannelEvent]]:
        await world.unused.aclose()
        ref = emu.place_order([("TENT-2P", 3)], world.store)["admin_graphql_api_id"]
        _split(world, ref)
        order = emu.state.order(int(ref.rsplit("/", 1)[-1]))
        fo = order.fulfillment_orders[0]
        emu.fulfillment_order_mutations.desk.move(order, fo, int(third.rsplit("/", 1)[-1]), {fo.lines[0].id: 1})
        expected = await world.by_query(client, ref)
        world.meter.take()
        events = await world.by_webhook(client, world.payload(ref), "orders/updated")
        return world.meter.take(), events, expected

    costs, events, expected = world.run(scenario)
    assert costs == [21, 85]  # a page of two fulfillment orders, then of ten
    assert events == expected


@pytest.mark.parametrize("version", VERSIONS)
def test_the_routing_query_is_valid_and_costs_what_the_client_estimates(version: str) -> None:
    for lines in (1, 3, 50):
        for size in order_webhook.ROUTING_PAGES:
            variables = {"id": "gid://shopify/Order/1", "fulfillmentOrders": size, "lines": lines}
            assert validate_document(version, order_webhook.ORDER_ROUTING_QUERY, variables) == []
            assert queries.estimate_cost(order_webhook.ORDER_ROUTING_QUERY, variables) == 5 + size * (6 + 2 * lines)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("later", [5, 0])  # 0: cancelled within the payload's second (times have whole seconds)
def test_a_payload_older_than_the_order_is_not_used(version: str, later: int) -> None:
    world = MeteredWorld(version)
    emu = world.emu

    async def scenario(client: ShopifyClient) -> tuple[list[int], list[ChannelEvent], list[ChannelEvent]]:
        await world.unused.aclose()
        ref = emu.place_order([("TENT-2P", 1)], world.store)["admin_graphql_api_id"]
        created = world.payload(ref)
        world.time.now += later
        emu.cancel_order(ref)  # orders/create arrives late, after the order's cancellation
        expected = await world.by_query(client, ref)
        world.meter.take()
        events = await world.by_webhook(client, created, "orders/create")
        return world.meter.take(), events, expected

    costs, events, expected = world.run(scenario)
    assert costs == [21, 116]  # the routing read shows a newer order: it is read as it is now
    assert [type(e).__name__ for e in events] == ["OrderEvent", "OrderEvent"]  # PLACED, then CANCELLED
    assert events == expected
