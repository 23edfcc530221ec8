"""ShopifyClient.assign_lines and confirm_shipment against the emulator: moves, splits, holds, reroutes and
fulfillments per location; every request checked against Shopify's official schema of its version."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.shopify.client import ShopifyClient
from omnibridge.errors import RetriableConnectorError
from omnibridge.sdk.channel import OrderEvent
from omnibridge.sdk.fulfilment import (
    ConfirmedLine,
    LineAssigner,
    LineAssignment,
    ShipmentConfirmation,
    ShipmentConfirmer,
)

from .fulfilment_support import STOVE, TENT, Shop

SHIPPED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return Shop("2026-04", tmp_path / "requests.jsonl")


def test_the_client_implements_the_fulfilment_protocols(shop: Shop) -> None:
    assert isinstance(shop.client, LineAssigner)
    assert isinstance(shop.client, ShipmentConfirmer)
    shop.run(lambda client: client.aclose())


def test_assign_lines_splits_a_line_across_locations_and_releases_its_hold(shop: Shop) -> None:
    order, lines = shop.order([(TENT, 3), (STOVE, 1)])
    plan = [
        LineAssignment(lines[TENT], 1, shop.main),
        LineAssignment(lines[TENT], 2, shop.store),
        LineAssignment(lines[STOVE], 1, shop.store),
    ]

    async def scenario(client: ShopifyClient) -> list[OrderEvent]:
        result = await client.assign_lines(order, plan)
        assert result.accepted, result
        assert not result.duplicate
        events = (await client.pull_events(None)).events
        return [e for e in events if isinstance(e, OrderEvent)]

    (placed,) = shop.run(scenario)
    assert shop.placement(order) == {(TENT, shop.main): 1, (TENT, shop.store): 2, (STOVE, shop.store): 1}
    assert shop.holds(order) == []
    assert shop.operations() == [
        "OrderFulfillmentOrders",
        "HoldFulfillmentOrder",
        "LocationsForMove",
        "MoveFulfillmentOrder",
        "ReleaseFulfillmentOrderHold",
        "OrdersSince",
    ]
    # the committed units followed the move
    assert shop.emu.quantities(TENT, shop.main)["committed"] == 1
    assert shop.emu.quantities(TENT, shop.store)["committed"] == 2
    assert shop.emu.quantities(STOVE, shop.store)["committed"] == 1
    # the order's lines now carry the locations omnibridge chose (a split line gets one ref per location)
    assert {(line.line_ref, line.quantity, line.location_ref) for line in placed.lines} == {
        (f"{lines[TENT]}@{shop.main}", 1, shop.main),
        (f"{lines[TENT]}@{shop.store}", 2, shop.store),
        (lines[STOVE], 1, shop.store),
    }
    assert shop.invalid_requests() == []


def test_a_repeat_is_a_duplicate_and_sends_no_write(shop: Shop) -> None:
    order, lines = shop.order([(TENT, 3)])
    plan = [LineAssignment(lines[TENT], 1, shop.main), LineAssignment(lines[TENT], 2, shop.store)]

    async def scenario(client: ShopifyClient) -> None:
        assert (await client.assign_lines(order, plan)).accepted
        again = await client.assign_lines(order, plan)
        assert again.accepted
        assert again.duplicate
        # the split line's per-location ref (as the re-read order names it) is understood too
        split = await client.assign_lines(order, [LineAssignment(f"{lines[TENT]}@{shop.store}", 2, shop.store)])
        assert split.duplicate

    shop.run(scenario)
    assert shop.operations().count("MoveFulfillmentOrder") == 1
    assert shop.operations()[-2:] == ["OrderFulfillmentOrders", "OrderFulfillmentOrders"]
    assert shop.invalid_requests() == []


def test_a_location_that_cannot_take_the_lines_is_refused_and_nothing_changes(shop: Shop) -> None:
    order, lines = shop.order([(TENT, 1), (STOVE, 1)])
    before = shop.placement(order)

    async def scenario(client: ShopifyClient) -> None:
        result = await client.assign_lines(
            order, [LineAssignment(lines[TENT], 1, shop.far), LineAssignment(lines[STOVE], 1, shop.far)]
        )
        assert not result.accepted
        assert {(ref, location) for ref, location, _ in result.refused} == {
            (lines[TENT], shop.far),
            (lines[STOVE], shop.far),
        }
        assert all(reason == "Far depot has never stocked STOVE-1B." for _, _, reason in result.refused)
        assert "nothing was moved" in result.message

    shop.run(scenario)
    assert shop.placement(order) == before
    assert shop.holds(order) == []
    assert "MoveFulfillmentOrder" not in shop.operations()
    assert shop.operations()[-1] == "ReleaseFulfillmentOrderHold"
    assert shop.invalid_requests() == []


def test_a_fulfillment_order_a_fulfillment_service_holds_is_not_moved(shop: Shop) -> None:
    order, lines = shop.order([(TENT, 1)])
    fo_id = shop.emu.state.order(int(order.rsplit("/", 1)[1])).fulfillment_orders[0].id
    shop.emu.set_request_status(fo_id, "SUBMITTED")

    async def scenario(client: ShopifyClient) -> None:
        result = await client.assign_lines(order, [LineAssignment(lines[TENT], 1, shop.store)])
        assert not result.accepted
        ((ref, location, reason),) = result.refused
        assert (ref, location) == (lines[TENT], shop.store)
        assert "request status SUBMITTED" in reason

    shop.run(scenario)
    assert shop.operations() == ["OrderFulfillmentOrders"]


def test_an_infrastructure_failure_raises_releases_the_hold_and_the_repeat_lands(shop: Shop) -> None:
    order, lines = shop.order([(TENT, 2)])
    plan = [LineAssignment(lines[TENT], 2, shop.store)]

    async def scenario(client: ShopifyClient) -> None:
        shop.transport.fail_on = "fulfillmentOrderMove("
        with pytest.raises(RetriableConnectorError):
            await client.assign_lines(order, plan)
        assert shop.holds(order) == []
        assert shop.placement(order) == {(TENT, shop.main): 2}
        shop.transport.fail_on = None
        result = await client.assign_lines(order, plan)
        assert result.accepted
        assert not result.duplicate

    shop.run(scenario)
    assert shop.placement(order) == {(TENT, shop.store): 2}
    assert shop.holds(order) == []


def test_swapping_lines_between_two_locations_settles_after_shopify_merges(shop: Shop) -> None:
    order, lines = shop.order([(TENT, 1), (STOVE, 1)])
    first = [LineAssignment(lines[STOVE], 1, shop.store)]
    # the tent's move into the store closes the store's fulfillment order (Shopify merges): the stove's move out of
    # it is planned again from a fresh read
    swap = [LineAssignment(lines[TENT], 1, shop.store), LineAssignment(lines[STOVE], 1, shop.main)]

    async def scenario(client: ShopifyClient) -> None:
        assert (await client.assign_lines(order, first)).accepted
        result = await client.assign_lines(order, swap)
        assert result.accepted, result

    shop.run(scenario)
    assert shop.placement(order) == {(TENT, shop.store): 1, (STOVE, shop.main): 1}
    assert shop.holds(order) == []
    assert shop.operations().count("OrderFulfillmentOrders") == 3
    assert shop.invalid_requests() == []


def test_asking_for_more_units_than_remain_is_refused(shop: Shop) -> None:
    order, lines = shop.order([(TENT, 2)])

    async def scenario(client: ShopifyClient) -> None:
        result = await client.assign_lines(order, [LineAssignment(lines[TENT], 3, shop.store)])
        assert not result.accepted
        assert result.refused == ((lines[TENT], shop.store, "3 units asked but Shopify has 2 unfulfilled"),)

    shop.run(scenario)
    assert shop.placement(order) == {(TENT, shop.main): 2}


def test_a_hold_left_by_an_interrupted_run_is_reused_and_released(shop: Shop) -> None:
    order, lines = shop.order([(TENT, 2)])
    found = shop.emu.state.fulfillment_order(
        shop.emu.state.order(int(order.rsplit("/", 1)[1])).fulfillment_orders[0].id
    )
    assert found is not None
    shop.emu.fulfillment_order_mutations.desk.hold(*found, "OTHER", "omnibridge-routing", None)

    async def scenario(client: ShopifyClient) -> None:
        assert (await client.assign_lines(order, [LineAssignment(lines[TENT], 2, shop.store)])).accepted

    shop.run(scenario)
    assert "HoldFulfillmentOrder" not in shop.operations()
    assert shop.holds(order) == []
    assert shop.placement(order) == {(TENT, shop.store): 2}


def test_reroute_lets_shopify_choose_without_the_excluded_location(shop: Shop) -> None:
    order, _ = shop.order([(TENT, 2), (STOVE, 1)])

    async def scenario(client: ShopifyClient) -> None:
        result = await client.assign_lines(order, [], exclude_refs=[shop.main])
        assert result.accepted, result
        assert not result.duplicate
        again = await client.assign_lines(order, [], exclude_refs=[shop.main])
        assert again.duplicate

    shop.run(scenario)
    assert shop.placement(order) == {(TENT, shop.store): 2, (STOVE, shop.store): 1}
    assert shop.operations().count("RerouteFulfillmentOrders") == 1
    assert shop.invalid_requests() == []


def test_reroute_is_refused_before_api_2025_10(tmp_path: Path) -> None:
    shop = Shop("2025-07", tmp_path / "requests.jsonl")
    order, lines = shop.order([(TENT, 1)])

    async def scenario(client: ShopifyClient) -> None:
        result = await client.assign_lines(
            order, [LineAssignment(lines[TENT], 1, shop.store)], exclude_refs=[shop.main]
        )
        assert not result.accepted
        assert "needs API version 2025-10 or later" in result.message
        assert result.refused[0][:2] == (lines[TENT], shop.store)

    shop.run(scenario)
    assert shop.operations() == []
    assert shop.placement(order) == {(TENT, shop.main): 1}


@pytest.mark.parametrize("version", ["2024-10", "2025-10", "2026-10"])
def test_moves_work_on_older_and_newer_versions(tmp_path: Path, version: str) -> None:
    shop = Shop(version, tmp_path / "requests.jsonl")
    order, lines = shop.order([(TENT, 2)])

    async def scenario(client: ShopifyClient) -> None:
        assert (await client.assign_lines(order, [LineAssignment(lines[TENT], 2, shop.store)])).accepted

    shop.run(scenario)
    assert shop.placement(order) == {(TENT, shop.store): 2}
    # 2024-10 has no hold handles (holds do not stack): the move goes without a hold
    assert ("HoldFulfillmentOrder" in shop.operations()) is (version != "2024-10")
    assert shop.invalid_requests() == []


def test_confirm_shipment_creates_one_fulfillment_per_location_with_tracking(shop: Shop) -> None:
    order, lines = shop.order([(TENT, 3), (STOVE, 1)])
    confirmation = ShipmentConfirmation(
        reference="ship-1",
        order_ref=order,
        lines=(ConfirmedLine(lines[TENT], 3), ConfirmedLine(lines[STOVE], 1)),
        shipped_at=SHIPPED,
        carrier="ups",
        tracking_number="1Z999AA10123456784",
        tracking_url="https://www.ups.com/track?tracknum=1Z999AA10123456784",
    )

    async def scenario(client: ShopifyClient) -> None:
        plan = [LineAssignment(lines[TENT], 1, shop.main), LineAssignment(lines[TENT], 2, shop.store)]
        assert (await client.assign_lines(order, plan)).accepted
        result = await client.confirm_shipment(confirmation)
        assert result.accepted, result
        assert not result.duplicate
        assert result.channel_ref is not None
        assert len(result.channel_ref.split(",")) == 2
        again = await client.confirm_shipment(confirmation)
        assert again.accepted
        assert again.duplicate
        assert again.channel_ref == result.channel_ref

    shop.run(scenario)
    fulfillments = shop.emu.state.order(int(order.rsplit("/", 1)[1])).fulfillments
    assert len(fulfillments) == 2
    shipped = {
        (f"gid://shopify/Location/{f.location_id}", f.tracking_number, f.tracking_company, f.tracking_url)
        for f in fulfillments
    }
    assert shipped == {
        (location, "1Z999AA10123456784", "UPS", "https://www.ups.com/track?tracknum=1Z999AA10123456784")
        for location in (shop.main, shop.store)
    }
    assert {f"gid://shopify/Location/{f.location_id}": sum(x.quantity for x in f.lines) for f in fulfillments} == {
        shop.main: 2,  # one tent and the stove, which stayed at the warehouse
        shop.store: 2,
    }
    assert shop.operations().count("CreateFulfillment") == 2
    assert shop.invalid_requests() == []


def test_confirm_shipment_refusals_are_results(shop: Shop) -> None:
    order, lines = shop.order([(TENT, 1)])
    found = shop.emu.state.fulfillment_order(
        shop.emu.state.order(int(order.rsplit("/", 1)[1])).fulfillment_orders[0].id
    )
    assert found is not None

    def confirmation(units: int) -> ShipmentConfirmation:
        return ShipmentConfirmation(
            "ship-2", order, (ConfirmedLine(lines[TENT], units),), SHIPPED, tracking_number="X1"
        )

    async def scenario(client: ShopifyClient) -> None:
        too_many = await client.confirm_shipment(confirmation(2))
        assert not too_many.accepted
        assert too_many.message == f"line {lines[TENT]}: 1 of 2 units are not unfulfilled"
        shop.emu.fulfillment_order_mutations.desk.hold(*found, "OTHER", "staff", None)  # a merchant's hold
        held = await client.confirm_shipment(confirmation(1))
        assert not held.accepted
        assert "unfulfillable status= on_hold" in held.message

    shop.run(scenario)
    assert shop.emu.state.order(int(order.rsplit("/", 1)[1])).fulfillments == []


def test_routing_and_move_webhooks_re_read_the_order(shop: Shop) -> None:
    shop.emu.subscribe("fulfillment_orders/order_routing_complete", "fulfillment_orders/moved")
    order, lines = shop.order([(TENT, 2)])

    async def scenario(client: ShopifyClient) -> dict[str, list[OrderEvent]]:
        seen: dict[str, list[OrderEvent]] = {}

        async def handle_deliveries() -> None:
            await shop.emu.webhooks.drain()
            for body, headers in shop.received:
                topic = headers["x-shopify-topic"]
                if topic.startswith("fulfillment_orders/") and topic not in seen:
                    delivery = client.verify_webhook(body, headers, "http://omnibridge.test/hooks")
                    events = await client.webhook_events(delivery)
                    seen[topic] = [e for e in events if isinstance(e, OrderEvent)]

        await handle_deliveries()
        assert (await client.assign_lines(order, [LineAssignment(lines[TENT], 2, shop.store)])).accepted
        await handle_deliveries()
        return seen

    seen = shop.run(scenario)
    (routed,) = seen["fulfillment_orders/order_routing_complete"]
    (moved,) = seen["fulfillment_orders/moved"]
    assert [(line.line_ref, line.location_ref) for line in routed.lines] == [(lines[TENT], shop.main)]
    assert [(line.line_ref, line.location_ref) for line in moved.lines] == [(lines[TENT], shop.store)]
    assert routed.ref == moved.ref == order
    assert shop.invalid_requests() == []
