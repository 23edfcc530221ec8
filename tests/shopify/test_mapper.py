"""Pure mapping of Shopify GraphQL nodes into channel records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.shopify.mapper import (
    gid,
    map_inventory_item,
    map_location,
    map_order,
    map_refund,
    needs_full_order,
    parse_time,
    restock_type,
)
from omnibridge.sdk import MapLevel
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, OrderLineEvent, RefundEvent, RestockType, StockLevel

from .client_support import STORE, WAREHOUSE, fixture

READ_AT = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)


def order_node(index: int = 0) -> dict[str, Any]:
    node: dict[str, Any] = fixture("orders_page.json")["data"]["orders"]["nodes"][index]
    return node


def full_order() -> dict[str, Any]:
    node: dict[str, Any] = fixture("order_refunded.json")["data"]["order"]
    return node


def test_gid_and_time_helpers() -> None:
    assert gid("Location", 64224165939) == "gid://shopify/Location/64224165939"
    assert gid("Location", "gid://shopify/Location/1") == "gid://shopify/Location/1"
    assert parse_time("2026-11-23T14:30:00-04:00") == datetime(2026, 11, 23, 18, 30, tzinfo=UTC)
    assert parse_time("2026-11-23T18:30:00Z") == datetime(2026, 11, 23, 18, 30, tzinfo=UTC)
    assert parse_time("2026-11-23T18:30:00") is None  # no offset: not usable
    assert parse_time(None) is None
    assert parse_time("soon") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("RETURN", RestockType.RETURN),
        ("return", RestockType.RETURN),
        ("CANCEL", RestockType.CANCEL),
        ("no_restock", RestockType.NO_RESTOCK),
        ("NO_RESTOCK", RestockType.NO_RESTOCK),
        ("LEGACY_RESTOCK", RestockType.RETURN),
        ("teleport", None),
        (None, None),
    ],
)
def test_restock_types(value: object, expected: RestockType | None) -> None:
    assert restock_type(value) is expected


def test_location_mapping() -> None:
    result = map_location({"id": "gid://shopify/Location/1", "name": "Main", "isActive": False})
    assert result.value is not None
    assert (result.value.external_id, result.value.name, result.value.active) == (
        "gid://shopify/Location/1",
        "Main",
        False,
    )
    assert map_location({"name": "no id"}).skipped


def test_inventory_item_levels_and_bad_level_warning() -> None:
    node = fixture("inventory_items.json")["data"]["inventoryItems"]["nodes"][0]
    node["inventoryLevels"]["nodes"].append({"location": None, "quantities": []})

    result = map_inventory_item(node, READ_AT)

    assert result.value is not None
    assert result.value.item_id == "gid://shopify/InventoryItem/43729076"
    assert result.value.levels == [
        StockLevel("TEE-BLK-M", WAREHOUSE, 12, READ_AT),
        StockLevel("TEE-BLK-M", STORE, 3, READ_AT),
    ]
    assert result.value.levels_cursor is None
    (message,) = result.messages
    assert message.level is MapLevel.WARNING
    assert message.field_path == "inventoryLevels.nodes.2"
    assert map_inventory_item({"id": "gid://shopify/InventoryItem/9", "sku": None}, READ_AT).skipped


def test_order_lines_take_the_location_of_their_fulfillment_order() -> None:
    result = map_order(order_node(0))

    assert result.messages == []
    assert result.value is not None
    (placed,) = result.value
    assert isinstance(placed, OrderEvent)
    assert placed.kind is OrderEventKind.PLACED
    assert placed.lines == (
        OrderLineEvent("gid://shopify/LineItem/14820539187251", "TEE-BLK-M", 2, WAREHOUSE),
        OrderLineEvent("gid://shopify/LineItem/14820539220019", "MUG-WHT", 1, STORE),
    )


def test_a_line_split_over_two_locations_becomes_one_line_per_location() -> None:
    node = order_node(0)
    line = "gid://shopify/LineItem/14820539187251"
    node["fulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"][0]["totalQuantity"] = 1
    node["fulfillmentOrders"]["nodes"][1]["lineItems"]["nodes"].append({"lineItem": {"id": line}, "totalQuantity": 1})

    result = map_order(node)

    assert result.value is not None
    assert isinstance(result.value[0], OrderEvent)
    assert result.value[0].lines[:2] == (
        OrderLineEvent(f"{line}@{WAREHOUSE}", "TEE-BLK-M", 1, WAREHOUSE),
        OrderLineEvent(f"{line}@{STORE}", "TEE-BLK-M", 1, STORE),
    )


def test_a_line_without_fulfillment_order_has_no_location_and_no_sku_is_none() -> None:
    node = order_node(0)
    node["fulfillmentOrders"]["nodes"] = []
    node["lineItems"]["nodes"][1]["sku"] = ""

    result = map_order(node)

    assert result.value is not None
    assert isinstance(result.value[0], OrderEvent)
    assert [(line.location_ref, line.sku) for line in result.value[0].lines] == [(None, "TEE-BLK-M"), (None, None)]


def test_cancelled_order_gives_placed_and_cancelled() -> None:
    result = map_order(order_node(1))

    assert result.value is not None
    kinds = [(e.kind, e.occurred_at) for e in result.value if isinstance(e, OrderEvent)]
    assert kinds == [
        (OrderEventKind.PLACED, datetime(2026, 11, 23, 18, 5, 12, tzinfo=UTC)),
        (OrderEventKind.CANCELLED, datetime(2026, 11, 23, 18, 31, 8, tzinfo=UTC)),
    ]


def test_refunds_become_refund_events() -> None:
    result = map_order(full_order())

    assert result.value is not None
    refund = result.value[-1]
    assert isinstance(refund, RefundEvent)
    assert refund.ref == "gid://shopify/Refund/998877665544"
    assert refund.order_ref == "gid://shopify/Order/5829485936691"
    assert refund.lines[0].restock_type is RestockType.RETURN
    assert refund.lines[0].location_ref == STORE


def test_a_bad_refund_is_skipped_but_the_order_is_kept() -> None:
    node = full_order()
    node["refunds"][0]["createdAt"] = None

    result = map_order(node)

    assert result.value is not None
    assert [type(e).__name__ for e in result.value] == ["OrderEvent"]
    (message,) = result.messages
    assert message.level is MapLevel.ERROR
    assert message.field_path == "refunds.0.createdAt"


def test_refund_line_with_unknown_restock_type_is_dropped_with_a_warning() -> None:
    refund = full_order()["refunds"][0]
    refund["refundLineItems"]["nodes"][0]["restockType"] = "MYSTERY"

    result = map_refund(refund, "gid://shopify/Order/1")

    assert result.value is not None
    assert result.value.lines == ()
    assert result.messages[0].field_path == "refundLineItems.0"


def test_orders_without_id_or_created_at_or_with_truncated_lines_are_skipped() -> None:
    assert map_order({}).skipped
    missing_created = map_order(dict(order_node(0), createdAt="not a time"))
    assert missing_created.skipped
    assert missing_created.messages[0].record_id == "gid://shopify/Order/5829485871155"
    truncated = order_node(0)
    truncated["lineItems"]["pageInfo"]["hasNextPage"] = True
    assert map_order(truncated).skipped


def test_needs_full_order() -> None:
    assert not needs_full_order(order_node(0))
    assert needs_full_order(order_node(2))  # refund ids only
    assert not needs_full_order(full_order())
    truncated = order_node(0)
    truncated["fulfillmentOrders"]["nodes"][0]["lineItems"]["pageInfo"]["hasNextPage"] = True
    assert needs_full_order(truncated)
