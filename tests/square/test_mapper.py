"""Pure Square mapping: fixtures (validated against the official schemas) into channel events, request bodies
checked against the spec, and bad records turned into messages instead of exceptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.square import mapper
from connectors.square.emulator.openapi import validate_request
from omnibridge.sdk import MapLevel
from omnibridge.sdk.channel import CustomerRef, OrderEventKind, ShipTo, StockChangeKind, StockTarget

from .fixtures import NOW, load, schema_errors

SKU_BY_ID = {"VAR-TEE-RED-M": "TEE-RED-M", "VAR-MUG-BLUE": "mug-blue"}


def change_id(change: dict[str, Any]) -> str:
    detail = change["physical_count"] if change["type"] == "PHYSICAL_COUNT" else change["adjustment"]
    return str(detail["id"])


@pytest.mark.parametrize(
    ("fixture", "schema"),
    [
        ("locations", "ListLocationsResponse"),
        ("catalog_search", "SearchCatalogObjectsResponse"),
        ("counts", "BatchRetrieveInventoryCountsResponse"),
        ("orders_search", "SearchOrdersResponse"),
        ("orders_shipped", "SearchOrdersResponse"),
        ("changes", "BatchRetrieveInventoryChangesResponse"),
        ("webhook_inventory_count_updated", "InventoryCountUpdatedEvent"),
        ("webhook_order_updated", "OrderUpdatedEvent"),
    ],
)
def test_fixtures_match_the_official_response_schemas(fixture: str, schema: str) -> None:
    assert schema_errors(schema, load(fixture)) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("53", 53),
        ("4.00000", 4),
        ("0", 0),
        ("-3", -3),
        ("2.5", None),
        ("", None),
        ("abc", None),
        (None, None),
        (7, None),
    ],
)
def test_parse_quantity_accepts_whole_decimal_strings_only(raw: Any, expected: int | None) -> None:
    assert mapper.parse_quantity(raw) == expected


def test_locations_map_with_active_flag() -> None:
    locations = [mapper.map_location(raw).value for raw in load("locations")["locations"]]
    assert [(loc.external_id, loc.name, loc.active) for loc in locations if loc] == [
        ("L1MAIN0000001", "Main Street", True),
        ("L2MALL0000002", "Mall Kiosk", True),
        ("L3OLD00000003", "Closed Pop-up", False),
    ]
    assert mapper.map_location({"name": "no id"}).skipped


def test_variation_skus_from_catalog_search_skip_deleted_and_other_types() -> None:
    objects = [*load("catalog_search")["objects"], {"type": "ITEM", "id": "ITEM-TEE", "item_data": {"name": "Tee"}}]
    objects.append(
        {"type": "ITEM_VARIATION", "id": "VAR-GONE", "is_deleted": True, "item_variation_data": {"sku": "X"}}
    )
    assert mapper.variation_skus(objects) == [("VAR-TEE-RED-M", "TEE-RED-M"), ("VAR-MUG-BLUE", "mug-blue")]


def test_counts_map_to_levels_and_a_fractional_count_is_a_message() -> None:
    results = [mapper.map_count(raw, SKU_BY_ID, NOW) for raw in load("counts")["counts"]]
    levels = [(r.value.sku, r.value.location_ref, r.value.available) for r in results if r.value]
    assert levels == [("TEE-RED-M", "L1MAIN0000001", 53), ("TEE-RED-M", "L2MALL0000002", 4)]
    skipped = results[2]
    assert skipped.skipped
    assert skipped.messages[0].level is MapLevel.ERROR
    assert "'2.5'" in skipped.messages[0].message
    assert skipped.messages[0].record_id == "mug-blue"


def test_orders_map_by_state_with_lines() -> None:
    results = [mapper.map_order(raw, SKU_BY_ID) for raw in load("orders_search")["orders"]]
    completed, cancelled, placed = (r.value for r in results)
    assert completed is not None
    assert cancelled is not None
    assert placed is not None
    assert completed.ref == "ORD-COMPLETED-1"
    assert completed.kind is OrderEventKind.COMPLETED
    assert completed.occurred_at == datetime(2025, 8, 21, 10, 5, tzinfo=UTC)
    assert [(ln.line_ref, ln.sku, ln.quantity, ln.location_ref, ln.unit_price) for ln in completed.lines] == [
        ("LINE-A", "TEE-RED-M", 2, "L1MAIN0000001", "2500"),
        ("LINE-B", None, 1, "L1MAIN0000001", "300"),
    ]
    assert (completed.total, completed.currency, completed.name) == ("5300", "USD", "POS-1001")
    assert cancelled.kind is OrderEventKind.CANCELLED
    assert cancelled.lines[0].sku is None  # VAR-MUG-OLD is not in the table
    assert results[1].messages[0].level is MapLevel.WARNING
    assert placed.kind is OrderEventKind.PLACED
    assert placed.name == "Pickup #7"


def test_shipped_orders_carry_the_fulfillment_recipient_and_complete_with_their_fulfillment() -> None:
    results = [mapper.map_order(raw, SKU_BY_ID) for raw in load("orders_shipped")["orders"]]
    shipment, delivered, no_country = (r.value for r in results)
    assert shipment is not None
    assert delivered is not None
    assert no_country is not None
    assert (shipment.kind, shipment.name, shipment.lines[0].location_ref) == (
        OrderEventKind.PLACED,
        "WEB-3001",
        "L1MAIN0000001",
    )
    assert shipment.ship_to == ShipTo(  # the live fulfillment, not the cancelled one
        country="US",
        name="Jaiden Urie",
        line1="1955 Broadway",
        line2="Suite 600",
        city="Boulder",
        region="CO",
        postal_code="80302",
        phone="1-303-555-0182",
    )
    assert delivered.kind is OrderEventKind.COMPLETED  # OPEN, but its only fulfillment is COMPLETED
    assert delivered.ship_to == ShipTo(
        country="US", name="Ana Silva", line1="500 Market St", city="San Francisco", region="CA", postal_code="94105"
    )
    assert (no_country.kind, no_country.ship_to) == (OrderEventKind.PLACED, None)
    [note] = results[2].messages
    assert (note.level, note.field_path) == (MapLevel.WARNING, "fulfillments.0.shipment_details.recipient.address")
    placed = mapper.map_order(load("orders_search")["orders"][2], SKU_BY_ID).value
    assert placed is not None
    assert placed.ship_to is None  # a pickup ships nowhere


def test_order_with_fractional_line_or_no_id_is_skipped_not_raised() -> None:
    order = load("orders_search")["orders"][0]
    order["line_items"][0]["quantity"] = "1.5"
    result = mapper.map_order(order, SKU_BY_ID)
    assert result.skipped
    assert result.messages[0].field_path == "line_items.0.quantity"
    assert mapper.map_order({"state": "OPEN"}, SKU_BY_ID).skipped
    assert mapper.map_order({**order, "state": "WEIRD"}, SKU_BY_ID).skipped
    assert mapper.map_order("not an order", SKU_BY_ID).skipped


def test_inventory_changes_map_and_our_writes_and_sales_are_ignored() -> None:
    changes = load("changes")["changes"]
    mapped = {change_id(c): mapper.map_inventory_change(c, SKU_BY_ID) for c in changes}
    assert mapped["PC-OURS-2"] is None  # reference_id "omnibridge:..." - no echo
    assert mapped["ADJ-SALE-5"] is None  # IN_STOCK -> SOLD comes from the orders feed
    events = {ref: result.value for ref, result in mapped.items() if result is not None}
    summary = {ref: (e.kind, e.sku, e.location_ref, e.quantity) for ref, e in events.items() if e}
    assert summary == {
        "PC-STOCKTAKE-1": (StockChangeKind.COUNT, "TEE-RED-M", "L1MAIN0000001", 40),
        "ADJ-RECEIVE-3": (StockChangeKind.RECEIPT, "TEE-RED-M", "L1MAIN0000001", 12),
        "ADJ-WASTE-4": (StockChangeKind.ADJUSTMENT, "mug-blue", "L1MAIN0000001", -1),
        "ADJ-RETURN-6": (StockChangeKind.ADJUSTMENT, "mug-blue", "L1MAIN0000001", 1),
    }


@pytest.mark.parametrize(
    ("from_state", "to_state", "ignored"),
    [
        ("IN_STOCK", "SOLD", True),
        ("IN_STOCK", "RESERVED_FOR_SALE", True),
        ("RESERVED_FOR_SALE", "IN_STOCK", True),
        ("SOLD", "RETURNED_BY_CUSTOMER", True),  # does not touch IN_STOCK
        ("IN_STOCK", "WASTE", False),
        ("WASTE", "IN_STOCK", False),
        ("RECEIVED_FROM_VENDOR", "IN_STOCK", False),
    ],
)
def test_which_adjustments_are_reported(from_state: str, to_state: str, ignored: bool) -> None:
    change = {
        "type": "ADJUSTMENT",
        "adjustment": {"id": "A", "from_state": from_state, "to_state": to_state, "reference_id": "manual"},
    }
    assert mapper.is_ignored_change(change) is ignored


def test_bad_change_is_a_message() -> None:
    change = load("changes")["changes"][0]
    change["physical_count"]["catalog_object_id"] = "VAR-UNKNOWN"
    result = mapper.map_inventory_change(change, SKU_BY_ID)
    assert result is not None
    assert result.skipped
    assert "VAR-UNKNOWN" in result.messages[0].message


def test_observed_count_keeps_unknown_sku_as_none_with_warning() -> None:
    raw = load("webhook_inventory_count_updated")["data"]["object"]["inventory_counts"][0]
    known = mapper.map_observed_count(raw, SKU_BY_ID, NOW).value
    assert known is not None
    assert (known.sku, known.location_ref, known.available, known.item_ref) == (
        "TEE-RED-M",
        "L1MAIN0000001",
        51,
        "VAR-TEE-RED-M",
    )
    unknown = mapper.map_observed_count(raw, {}, NOW)
    assert unknown.value is not None
    assert unknown.value.sku is None
    assert unknown.messages[0].level is MapLevel.WARNING


def test_request_bodies_conform_to_the_spec() -> None:
    target = StockTarget("TEE-RED-M", "L1MAIN0000001", 7, expected=5, expected_at=NOW - timedelta(minutes=3))
    change = mapper.physical_count_change(target, "VAR-TEE-RED-M", occurred_at=NOW, reference_id="omnibridge:r1")
    assert change["physical_count"]["quantity"] == "7"
    assert change["physical_count"]["occurred_at"] == "2025-08-21T12:00:00.000Z"
    bodies = [
        ("/v2/inventory/changes/batch-create", mapper.batch_change_body([change], "k-1")),
        ("/v2/catalog/search", mapper.catalog_search_body(["TEE-RED-M", "mug-blue"], "cur")),
        ("/v2/inventory/counts/batch-retrieve", mapper.counts_body(["VAR-TEE-RED-M"], ["L1MAIN0000001"], "c")),
        ("/v2/orders/search", mapper.orders_search_body(["L1MAIN0000001"], NOW, "c")),
        ("/v2/inventory/changes/batch-retrieve", mapper.changes_body(NOW, ["L1MAIN0000001"], "c")),
    ]
    for path, body in bodies:
        assert validate_request("POST", path, body) == [], path
    search = mapper.orders_search_body(["L1"], NOW)
    assert search["query"]["sort"] == {"sort_field": "UPDATED_AT", "sort_order": "ASC"}
    assert "updated_at" in search["query"]["filter"]["date_time_filter"]


def test_own_reference_is_prefixed_and_capped() -> None:
    assert mapper.own_reference("push-1") == "omnibridge:push-1"
    assert len(mapper.own_reference("x" * 400)) == 255


def test_change_index_reads_square_field_paths() -> None:
    assert mapper.change_index({"field": "changes[3].physical_count.catalog_object_id"}) == 3
    assert mapper.change_index({"field": "idempotency_key"}) is None
    assert mapper.change_index({}) is None
    assert mapper.describe_errors([{"code": "NOT_FOUND", "field": "changes[0]", "detail": "gone"}]) == (
        "NOT_FOUND (changes[0]): gone"
    )


def test_an_order_names_its_customer_with_the_recipients_contact_when_it_is_that_customer() -> None:
    order = load("orders_search")["orders"][0]
    anonymous = mapper.map_order({k: v for k, v in order.items() if k != "customer_id"}, SKU_BY_ID).value
    assert anonymous is not None
    assert anonymous.customer is None
    order["customer_id"] = "JDKYHBWT1D4F8MFH63DBMEN8Y4"
    order["fulfillments"] = [
        {
            "type": "SHIPMENT",
            "state": "PROPOSED",
            "shipment_details": {
                "recipient": {
                    "customer_id": "JDKYHBWT1D4F8MFH63DBMEN8Y4",
                    "email_address": "ada@example.com",
                    "phone_number": "+14155550132",
                    "address": {"country": "US"},
                }
            },
        }
    ]
    placed = mapper.map_order(order, SKU_BY_ID).value
    assert placed is not None
    assert placed.customer == CustomerRef("JDKYHBWT1D4F8MFH63DBMEN8Y4", email="ada@example.com", phone="+14155550132")
    order["fulfillments"][0]["shipment_details"]["recipient"]["customer_id"] = "SOMEONE-ELSE"
    placed = mapper.map_order(order, SKU_BY_ID).value
    assert placed is not None
    assert placed.customer == CustomerRef("JDKYHBWT1D4F8MFH63DBMEN8Y4")
