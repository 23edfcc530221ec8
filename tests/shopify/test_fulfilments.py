"""Shopify fulfillments as FulfilmentEvents: the mapper (GraphQL node, REST webhook payload), the order queries
that carry them (valid for the official schema, within the cost cap) and the fulfillments/create webhook path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from graphql import parse, validate

from connectors.shopify import queries, webhooks
from connectors.shopify.client import ShopifyClient
from connectors.shopify.mapper import map_fulfillment, map_order, needs_full_order, split_lines
from omnibridge.sdk import MapLevel, SkippableRecordError
from omnibridge.sdk.channel import (
    ChannelEvent,
    FulfilmentEvent,
    FulfilmentLineEvent,
    OrderEvent,
    OrderEventKind,
)

from .client_support import (
    STORE,
    WAREHOUSE,
    ScriptedShop,
    data,
    fixture,
    fixture_bytes,
    official_schema,
    run_client,
)
from .test_webhooks import URL, headers

ORDER = "gid://shopify/Order/5829485871155"
TEE_LINE = "gid://shopify/LineItem/14820539187251"
MUG_LINE = "gid://shopify/LineItem/14820539220019"
SHIPPED_AT = datetime(2026, 11, 23, 19, 10, 5, tzinfo=UTC)


def fulfillment_node(
    fulfillment_id: int = 4886110863411,
    *,
    status: str = "SUCCESS",
    created: str = "2026-11-23T19:10:05Z",
    location: str | None = WAREHOUSE,
    lines: tuple[tuple[str, str | None, int], ...] = ((TEE_LINE, "TEE-BLK-M", 1),),
    tracking: list[dict[str, Any]] | None = None,
    more: bool = False,
) -> dict[str, Any]:
    """A ``Fulfillment`` node with the fields the order queries select."""
    return {
        "id": f"gid://shopify/Fulfillment/{fulfillment_id}",
        "status": status,
        "createdAt": created,
        "location": {"id": location} if location is not None else None,
        "trackingInfo": tracking if tracking is not None else [{"number": "1Z999AA10123456784", "company": "UPS"}],
        "fulfillmentLineItems": {
            "nodes": [{"quantity": qty, "lineItem": {"id": line, "sku": sku}} for line, sku, qty in lines],
            "pageInfo": {"hasNextPage": more},
        },
    }


def order_with(*fulfillments: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Order #1042 of the orders page (2 tees at the warehouse, 1 mug at the store) with these fulfillments."""
    node: dict[str, Any] = fixture("orders_page.json")["data"]["orders"]["nodes"][0]
    return {**node, "fulfillments": list(fulfillments), **changes}


# --- the GraphQL node -----------------------------------------------------------------------------------------


def test_a_successful_fulfillment_node_is_a_fulfilment_event() -> None:
    result = map_fulfillment(fulfillment_node(), ORDER)

    assert result.messages == []
    assert result.value == FulfilmentEvent(
        "gid://shopify/Fulfillment/4886110863411",
        ORDER,
        SHIPPED_AT,
        (FulfilmentLineEvent(TEE_LINE, "TEE-BLK-M", 1),),
        location_ref=WAREHOUSE,
        tracking_number="1Z999AA10123456784",
        carrier="UPS",
    )


def test_a_fulfillment_without_tracking_or_location_keeps_its_lines() -> None:
    node = fulfillment_node(location=None, tracking=[], lines=((TEE_LINE, None, 2), (MUG_LINE, "MUG-WHT", 1)))

    event = map_fulfillment(node, ORDER).value

    assert event is not None
    assert (event.location_ref, event.tracking_number, event.carrier) == (None, None, None)
    assert event.lines == (FulfilmentLineEvent(TEE_LINE, None, 2), FulfilmentLineEvent(MUG_LINE, "MUG-WHT", 1))


@pytest.mark.parametrize("status", ["CANCELLED", "PENDING", "OPEN", "ERROR", "FAILURE"])
def test_a_fulfillment_that_did_not_ship_is_not_mapped(status: str) -> None:
    result = map_fulfillment(fulfillment_node(status=status), ORDER)

    assert result.skipped
    assert result.messages[0].message == f"fulfillment status {status} is not a shipment"


def test_a_fulfillment_short_of_its_lines_or_data_is_skipped_with_the_reason() -> None:
    assert map_fulfillment(fulfillment_node(more=True), ORDER).messages[0].message == (
        "fulfillment has more lines than one page holds"
    )
    assert map_fulfillment(fulfillment_node(created="soon"), ORDER).messages[0].field_path == "createdAt"
    assert map_fulfillment({**fulfillment_node(), "id": None}, ORDER).skipped
    bad_line = fulfillment_node()
    bad_line["fulfillmentLineItems"]["nodes"].append({"quantity": None, "lineItem": {"id": MUG_LINE}})
    result = map_fulfillment(bad_line, ORDER)
    assert result.value is not None
    assert len(result.value.lines) == 1
    (warning,) = result.messages
    assert (warning.level, warning.field_path) == (MapLevel.WARNING, "fulfillmentLineItems.nodes.1")


def test_map_order_yields_shipments_after_placed_and_leaves_cancelled_fulfillments_out() -> None:
    later = fulfillment_node(2, created="2026-11-23T20:00:00Z", location=STORE, lines=((MUG_LINE, "MUG-WHT", 1),))
    cancelled = fulfillment_node(3, status="CANCELLED", lines=((TEE_LINE, "TEE-BLK-M", 1),))
    node = order_with(later, cancelled, fulfillment_node(1))

    result = map_order(node)

    assert result.messages == []  # a cancelled fulfillment is not news, it is just not a shipment
    assert result.value is not None
    placed, first, second = result.value
    assert isinstance(placed, OrderEvent)
    assert placed.kind is OrderEventKind.PLACED
    assert isinstance(first, FulfilmentEvent)
    assert isinstance(second, FulfilmentEvent)
    assert [(e.ref, e.location_ref) for e in (first, second)] == [
        ("gid://shopify/Fulfillment/1", WAREHOUSE),
        ("gid://shopify/Fulfillment/2", STORE),
    ]
    # the same line refs as the PLACED event's lines, so the engine finds each line's commitment
    assert {line.line_ref for line in placed.lines} == {first.lines[0].line_ref, second.lines[0].line_ref}
    assert all(e.order_ref == placed.ref for e in (first, second))


def test_a_cancelled_order_releases_after_its_shipments_and_refunds_come_last() -> None:
    node = order_with(fulfillment_node(1), cancelledAt="2026-11-23T21:00:00Z")
    node["refunds"] = [
        {
            "id": "gid://shopify/Refund/9",
            "createdAt": "2026-11-23T21:00:01Z",
            "refundLineItems": {
                "nodes": [{"lineItem": {"id": MUG_LINE, "sku": "MUG-WHT"}, "quantity": 1, "restockType": "CANCEL"}],
                "pageInfo": {"hasNextPage": False},
            },
        }
    ]

    events = map_order(node).value

    assert events is not None
    assert [type(e).__name__ + ":" + str(getattr(e, "kind", "")) for e in events] == [
        "OrderEvent:placed",
        "FulfilmentEvent:",
        "OrderEvent:cancelled",
        "RefundEvent:",
    ]


def test_a_line_split_across_locations_ships_under_its_per_location_ref() -> None:
    node = order_with(fulfillment_node(1, location=STORE, lines=((TEE_LINE, "TEE-BLK-M", 1),)))
    # Shopify split the two tees: one from the warehouse, one from the store
    node["fulfillmentOrders"]["nodes"][1]["lineItems"]["nodes"].append(
        {"lineItem": {"id": TEE_LINE}, "totalQuantity": 1}
    )
    node["fulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"][0]["totalQuantity"] = 1
    assert split_lines(node) == frozenset({TEE_LINE})

    events = map_order(node).value

    assert events is not None
    placed, shipped = events
    assert isinstance(placed, OrderEvent)
    assert isinstance(shipped, FulfilmentEvent)
    assert f"{TEE_LINE}@{STORE}" in {line.line_ref for line in placed.lines}
    assert shipped.lines == (FulfilmentLineEvent(f"{TEE_LINE}@{STORE}", "TEE-BLK-M", 1),)
    # shipped from nowhere known: the line cannot be told apart, so it is left out with a warning
    unknown = map_fulfillment(fulfillment_node(location=None), ORDER, split_lines(node))
    assert unknown.skipped
    assert "split line" in unknown.messages[0].message
    assert unknown.messages[-1].message == "fulfillment has no usable lines"


def test_a_lean_order_whose_fulfillment_lines_do_not_fit_is_read_whole() -> None:
    assert not needs_full_order(order_with(fulfillment_node()))
    assert needs_full_order(order_with(fulfillment_node(more=True)))


# --- the REST webhook payload ---------------------------------------------------------------------------------


def test_the_fulfillments_create_payload_is_the_same_fulfilment_event() -> None:
    body = fixture("webhook_fulfillments_create.json")

    result = webhooks.parse_fulfillment(body)

    assert result.messages == []
    assert result.value == map_fulfillment(fulfillment_node(), ORDER).value


def test_a_cancelled_or_incomplete_payload_is_not_a_shipment() -> None:
    body = fixture("webhook_fulfillments_create.json")
    assert not webhooks.fulfillment_shipped({**body, "status": "cancelled"})
    assert webhooks.parse_fulfillment({**body, "status": "cancelled"}).messages[0].message == (
        "fulfillment status cancelled is not a shipment"
    )
    assert webhooks.parse_fulfillment({**body, "order_id": None}).messages[0].field_path == "order_id"
    assert webhooks.parse_fulfillment({**body, "line_items": []}).messages[0].field_path == "line_items"
    event = webhooks.parse_fulfillment({**body, "location_id": None, "tracking_number": None}).value
    assert event is not None
    assert (event.location_ref, event.tracking_number) == (None, "1Z999AA10123456784")  # from tracking_numbers


# --- the queries ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ORDERS_QUERY", "ORDER_LEAN_QUERY", "ORDER_QUERY"])
def test_the_order_queries_ask_for_fulfillments_and_are_valid_for_the_official_2026_04_schema(name: str) -> None:
    document = getattr(queries, name)
    assert "fulfillments {" in document
    assert "fulfillmentLineItems(first:" in document
    assert [error.message for error in validate(official_schema("2026-04"), parse(document))] == []
    for version in ("2024-10", "2025-01"):
        assert [error.message for error in validate(official_schema(version), parse(document))] == []
    assert queries.estimate_cost(document, {"first": queries.ORDERS_PAGE_SIZE}) <= queries.MAX_QUERY_COST


# --- the webhook path -------------------------------------------------------------------------------------------


def deliver(shop: ScriptedShop, body: bytes) -> list[ChannelEvent]:
    async def call(client: ShopifyClient) -> list[ChannelEvent]:
        delivery = client.verify_webhook(body, headers(body, "fulfillments/create"), URL)
        return await client.webhook_events(delivery)

    events, _ = run_client(shop.version, call, shop)
    return events


def test_fulfillments_create_reads_the_order_and_yields_its_shipment() -> None:
    shop = ScriptedShop("2026-04")
    shop.reply("OrderLean", data({"order": order_with(fulfillment_node())}))

    events = deliver(shop, fixture_bytes("webhook_fulfillments_create.json"))

    (sent,) = shop.sent
    assert (sent.operation, sent.variables) == ("OrderLean", {"id": ORDER})
    assert [type(e) for e in events] == [OrderEvent, FulfilmentEvent]
    assert events[1] == webhooks.parse_fulfillment(fixture("webhook_fulfillments_create.json")).value


def test_fulfillments_create_of_a_deleted_order_maps_the_payload() -> None:
    shop = ScriptedShop("2026-04")
    shop.reply("OrderLean", data({"order": None}))

    (event,) = deliver(shop, fixture_bytes("webhook_fulfillments_create.json"))

    assert event == webhooks.parse_fulfillment(fixture("webhook_fulfillments_create.json")).value


def test_a_cancelled_fulfillment_delivery_gives_nothing_and_reads_nothing() -> None:
    body = json.dumps({**fixture("webhook_fulfillments_create.json"), "status": "cancelled"}).encode()
    shop = ScriptedShop("2026-04")

    assert deliver(shop, body) == []
    assert shop.sent == []


def test_a_fulfillment_delivery_without_order_is_skippable() -> None:
    body = json.dumps({**fixture("webhook_fulfillments_create.json"), "order_id": None}).encode()
    with pytest.raises(SkippableRecordError, match="fulfillment payload has no order_id"):
        deliver(ScriptedShop("2026-04"), body)


def test_the_docs_tell_merchants_to_subscribe_to_every_topic_the_connector_reads() -> None:
    assert "fulfillments/create" in webhooks.TOPICS
    setup = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    section = setup.split("### `shopify` settings", 1)[1].split("| Key |", 1)[0]
    assert [topic for topic in webhooks.TOPICS if f"`{topic}`" not in section] == []
    assert "read_fulfillments" in section
