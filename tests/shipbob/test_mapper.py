"""The ShipBob mapper: requests become spec-valid CreateOrder bodies; shipments name omnibridge's order lines."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from connectors.shipbob import mapper
from connectors.shipbob.emulator.openapi import request_problems
from omnibridge.sdk.channel import FulfilmentEvent, FulfilmentLineEvent, FulfilmentStatus, FulfilmentStatusEvent, ShipTo

from .conftest import START, request


def test_a_request_becomes_a_spec_valid_create_order() -> None:
    body = mapper.order_body(request(), "Standard").value
    assert body is not None
    assert request_problems("POST", "/1.0/order", {}, {"shipbob_channel_id": "1"}, body) == {}
    assert body["reference_id"] == "submit:a-1"
    assert body["location_id"] == 6
    assert body["type"] == "DTC"
    assert body["recipient"]["address"] == {
        "type": "MarkFor",
        "country": "US",
        "address1": "1 Main St",
        "address2": "Apt 2",
        "city": "Chicago",
        "state": "IL",
        "zip_code": "60601",
    }
    assert body["products"] == [{"reference_id": "SKU-1", "quantity": 2, "external_line_id": 1, "name": "Blue shirt"}]
    assert body["tags"] == [{"name": "omnibridge_line:1", "value": "shopify:1001:L1"}]


def test_a_request_without_street_or_centre_id_is_skipped_with_the_reason() -> None:
    no_street = replace(request(), ship_to=ShipTo("US", city="Chicago"))
    assert "lacks line1" in mapper.order_body(no_street, "Standard").messages[0].message
    assert "not a ShipBob fulfilment centre id" in mapper.order_body(request(location="CHI"), "x").messages[0].message


def _order(shipped: dict[str, int], lines: list[tuple[str, str, int]]) -> dict[str, Any]:
    return {
        "id": 1,
        "reference_id": "submit:a-1",
        "tags": [{"name": f"omnibridge_line:{i}", "value": ref} for i, (ref, _, _) in enumerate(lines, 1)],
        "products": [
            {"reference_id": sku, "quantity": qty, "external_line_id": i} for i, (_, sku, qty) in enumerate(lines, 1)
        ],
        "shipments": [
            {
                "id": 9,
                "status": "Completed",
                "actual_fulfillment_date": START.isoformat(),
                "tracking": {"tracking_number": "1Z", "carrier": "UPS"},
                "location": {"id": 6},
                "products": [
                    {"reference_id": sku, "inventory_items": [{"quantity": qty}]} for sku, qty in shipped.items()
                ],
            }
        ],
    }


def test_shipped_units_are_spread_over_the_lines_of_their_sku_in_order() -> None:
    order = _order({"A": 3, "B": 1}, [("L1", "A", 2), ("L2", "A", 2), ("L3", "B", 1)])
    [event], messages = mapper.order_events(order)
    assert isinstance(event, FulfilmentEvent)
    assert event.lines == (
        FulfilmentLineEvent("L1", "A", 2),
        FulfilmentLineEvent("L2", "A", 1),
        FulfilmentLineEvent("L3", "B", 1),
    )
    assert messages == []


def test_a_line_split_over_two_parcels_is_counted_once_per_parcel() -> None:
    order = _order({"A": 2}, [("L1", "A", 2), ("L2", "A", 2)])
    second = {**order["shipments"][0], "id": 10, "tracking": {"tracking_number": "1Z2", "carrier": "UPS"}}
    order["shipments"].append(second)
    events, _ = mapper.order_events(order)
    assert [(e.ref, e.lines) for e in events if isinstance(e, FulfilmentEvent)] == [
        ("9", (FulfilmentLineEvent("L1", "A", 2),)),
        ("10", (FulfilmentLineEvent("L2", "A", 2),)),
    ]
    webhook = mapper.shipment_event(second, order).value  # the second parcel's webhook alone: the same lines
    assert webhook is not None
    assert webhook.lines == (FulfilmentLineEvent("L2", "A", 2),)


def test_a_cancelled_shipment_is_a_cancelled_status_event() -> None:
    order = _order({"A": 1}, [("L1", "A", 1)])
    order["status"] = "Cancelled"
    order["shipments"][0].update(status="Cancelled", last_update_at="2026-12-02T10:00:00Z")
    events, _ = mapper.order_events(order)
    assert events == [
        FulfilmentStatusEvent(
            "9:cancelled",
            "submit:a-1",
            FulfilmentStatus.CANCELLED,
            datetime(2026, 12, 2, 10, 0, tzinfo=UTC),
            "cancelled at ShipBob",
        )
    ]


def test_an_unshipped_shipment_reports_nothing() -> None:
    order = _order({"A": 1}, [("L1", "A", 1)])
    order["shipments"][0].update(status="Processing", tracking=None)
    assert mapper.order_events(order) == ([], [])


def test_shipbob_error_bodies_read_as_one_line() -> None:
    assert (
        mapper.error_text({"reference_id": ["Duplicate reference ID: x"]}) == "reference_id: Duplicate reference ID: x"
    )
    assert mapper.duplicate_reference({"reference_id": ["Duplicate reference ID: You have already created"]})
    assert not mapper.duplicate_reference({"location_id": ["bad"]})
