"""Shopify local pickup against the emulator: PICK_UP fulfillment orders read as OrderEvent.pickup, and
ShopifyClient.update_pickup (prepared, collected, cancelled), with repeats, refusals and the webhook Shopify sends.
Every request the client sends is checked against Shopify's official schema of its version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.shopify.client import ShopifyClient
from connectors.shopify.returns_queries import PREPARED_FOR_PICKUP_MUTATION
from omnibridge.sdk.channel import OrderEvent
from omnibridge.sdk.pickup import PickupEvent, PickupState, PickupStatusWriter, PickupUpdate, PickupUpdateResult

from .emulator_support import gql
from .fulfilment_support import STOVE, TENT, Shop

PREPARED_TOPIC = "fulfillment_orders/line_items_prepared_for_pickup"


@pytest.fixture(params=["2024-10", "2026-04"])
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Shop:
    return Shop(request.param, tmp_path / "requests.jsonl")


def pickup_order(shop: Shop) -> tuple[str, dict[str, str]]:
    payload = shop.emu.place_order([(TENT, 1), (STOVE, 1)], shop.store, pickup=True)
    order = f"gid://shopify/Order/{payload['id']}"
    return order, {li["sku"]: f"gid://shopify/LineItem/{li['id']}" for li in payload["line_items"]}


def update(order: str, state: PickupState, location: str | None = None) -> PickupUpdate:
    return PickupUpdate(f"pickup-1:{state}", order, state, location_ref=location)


def fo_status(shop: Shop, order: str) -> list[str]:
    from connectors.shopify.emulator.fulfillment_orders import fulfillment_order_status

    emulated = shop.emu.state.order(int(order.rsplit("/", 1)[1]))
    return [fulfillment_order_status(emulated, fo) for fo in emulated.fulfillment_orders]


def test_a_pickup_order_reads_as_an_order_to_collect_at_its_store_without_a_window(shop: Shop) -> None:
    order, _ = pickup_order(shop)
    shipped, _ = shop.order([(TENT, 1)])

    async def scenario(client: ShopifyClient) -> list[OrderEvent]:
        return [e for e in (await client.pull_events(None)).events if isinstance(e, OrderEvent)]

    events = {event.ref: event for event in shop.run(scenario)}
    pickup = events[order].pickup
    assert pickup is not None
    assert pickup.location_ref == shop.store
    assert pickup.pickup_at is None
    assert pickup.window_minutes is None
    assert pickup.state is PickupState.RESERVED
    assert events[shipped].pickup is None
    assert shop.invalid_requests() == []


def test_ready_prepares_the_pickup_once_and_shopify_says_so_by_webhook(shop: Shop) -> None:
    order, lines = pickup_order(shop)

    async def scenario(
        client: ShopifyClient,
    ) -> tuple[PickupUpdateResult, PickupUpdateResult, list[object], list[OrderEvent]]:
        first = await client.update_pickup(update(order, PickupState.READY, shop.store))
        again = await client.update_pickup(update(order, PickupState.READY, shop.store))
        await shop.emu.webhooks.drain()
        hooks = [(b, h) for b, h in shop.received if h.get("x-shopify-topic") == PREPARED_TOPIC]
        events: list[object] = []
        for body, headers in hooks:
            delivery = client.verify_webhook(body, headers, "https://omnibridge.test/hooks")
            events.extend(await client.webhook_events(delivery))
        read = [e for e in (await client.pull_events(None)).events if isinstance(e, OrderEvent)]
        return first, again, events, read

    first, again, events, read = shop.run(scenario)
    assert first.accepted
    assert not first.duplicate
    assert again.accepted
    assert again.duplicate
    assert fo_status(shop, order) == ["IN_PROGRESS"]
    (event,) = events
    assert isinstance(event, PickupEvent)
    assert (event.order_ref, event.state, event.location_ref) == (order, PickupState.READY, shop.store)
    assert set(event.line_refs) == set(lines.values())
    assert read[0].pickup is not None
    assert read[0].pickup.state is PickupState.READY
    assert shop.operations().count("PreparedForPickup") == 1
    assert shop.invalid_requests() == []


def test_collected_fulfils_the_pickup_without_tracking_and_a_repeat_is_a_duplicate(shop: Shop) -> None:
    order, _ = pickup_order(shop)
    before = shop.emu.quantities(TENT, shop.store)

    async def scenario(client: ShopifyClient) -> tuple[PickupUpdateResult, PickupUpdateResult, list[OrderEvent]]:
        first = await client.update_pickup(update(order, PickupState.COLLECTED))
        again = await client.update_pickup(update(order, PickupState.COLLECTED))
        read = [e for e in (await client.pull_events(None)).events if isinstance(e, OrderEvent)]
        return first, again, read

    first, again, read = shop.run(scenario)
    assert first.accepted
    assert not first.duplicate
    assert again.accepted
    assert again.duplicate
    emulated = shop.emu.state.order(int(order.rsplit("/", 1)[1]))
    (fulfillment,) = emulated.fulfillments
    assert fulfillment.tracking_number is None
    assert f"gid://shopify/Location/{fulfillment.location_id}" == shop.store
    after = shop.emu.quantities(TENT, shop.store)
    assert (after["committed"], after["available"]) == (before["committed"] - 1, before["available"])
    assert read[0].pickup is not None
    assert read[0].pickup.state is PickupState.COLLECTED
    assert shop.operations().count("CreateFulfillment") == 1
    assert shop.invalid_requests() == []


def test_an_expired_pickup_cancels_its_order_restocked_once(shop: Shop) -> None:
    order, _ = pickup_order(shop)
    before = shop.emu.available(TENT, shop.store)

    async def scenario(client: ShopifyClient) -> tuple[PickupUpdateResult, PickupUpdateResult]:
        first = await client.update_pickup(update(order, PickupState.EXPIRED))
        return first, await client.update_pickup(update(order, PickupState.CANCELLED))

    first, again = shop.run(scenario)
    assert first.accepted
    assert not first.duplicate
    assert again.accepted
    assert again.duplicate
    assert shop.emu.available(TENT, shop.store) == before + 1
    assert shop.operations().count("CancelOrder") + shop.operations().count("OrderCancel") == 1
    assert shop.invalid_requests() == []


def test_states_shopify_cannot_show_and_orders_without_a_pickup_are_refused(shop: Shop) -> None:
    order, _ = pickup_order(shop)
    shipped, _ = shop.order([(TENT, 1)])

    async def scenario(client: ShopifyClient) -> list[PickupUpdateResult]:
        return [
            await client.update_pickup(update(order, PickupState.RESERVED)),
            await client.update_pickup(update(order, PickupState.REJECTED)),
            await client.update_pickup(update(shipped, PickupState.READY)),
            await client.update_pickup(update(order, PickupState.READY, shop.main)),
            await client.update_pickup(update("gid://shopify/Order/oops", PickupState.READY)),
        ]

    reserved, rejected, shipping, elsewhere, bad = shop.run(scenario)
    assert not reserved.accepted
    assert "cannot show a pickup as reserved" in reserved.message
    assert not rejected.accepted
    assert not shipping.accepted
    assert "no local pickup" in shipping.message
    assert not elsewhere.accepted
    assert shop.main in elsewhere.message
    assert not bad.accepted
    assert "not a Shopify order id" in bad.message
    assert fo_status(shop, order) == ["OPEN"]
    assert isinstance(shop.client, PickupStatusWriter)
    assert PickupState.RESERVED not in shop.client.pickup_states


def test_a_collected_pickup_cannot_be_made_ready_again(shop: Shop) -> None:
    order, _ = pickup_order(shop)

    async def scenario(client: ShopifyClient) -> PickupUpdateResult:
        assert (await client.update_pickup(update(order, PickupState.COLLECTED))).accepted
        return await client.update_pickup(update(order, PickupState.READY))

    late = shop.run(scenario)
    assert not late.accepted
    assert "CLOSED" in late.message


# --- the emulator's rules, through GraphQL -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["shipping", "closed"])
def test_the_emulator_refuses_to_prepare_what_is_not_an_open_pickup(tmp_path: Path, kind: str) -> None:
    shop = Shop("2026-04", tmp_path / "requests.jsonl")
    if kind == "shipping":
        order, _ = shop.order([(TENT, 1)])
    else:
        order, _ = pickup_order(shop)
        shop.emu.fulfill(order)
    emulated = shop.emu.state.order(int(order.rsplit("/", 1)[1]))
    fo_gid = f"gid://shopify/FulfillmentOrder/{emulated.fulfillment_orders[0].id}"

    async def scenario(client: ShopifyClient) -> dict[str, object]:
        del client
        from .emulator_support import client as http_client

        async with http_client(shop.emu) as http:
            variables = {"input": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo_gid}]}}
            response = await gql(
                http, PREPARED_FOR_PICKUP_MUTATION, variables, version="2026-04", token=shop.emu.config.access_token
            )
            return dict(json.loads(response.content))

    body = shop.run(scenario)
    (error,) = body["data"]["fulfillmentOrderLineItemsPreparedForPickup"]["userErrors"]  # type: ignore[index]
    assert error["code"] == "FULFILLMENT_ORDER_INVALID"
    assert not any(fo.prepared for fo in emulated.fulfillment_orders)
    assert PREPARED_TOPIC not in [h.get("x-shopify-topic") for _, h in shop.received]
