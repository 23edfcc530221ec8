"""Driver for tests/square/test_official_client.py: Square's ``squareup`` SDK, run in a child process.

Usage: ``python -P official_client_driver.py SCENARIO JSON_ARGS``; prints one JSON document.
"""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any

from square import Square
from square.core.api_error import ApiError


def locations_and_search(client: Square, args: dict[str, Any]) -> Any:
    locations = client.locations.list()
    exact = client.catalog.search(
        object_types=["ITEM_VARIATION"],
        query={"set_query": {"attribute_name": "sku", "attribute_values": [args["sku"]]}},
    )
    partial = client.catalog.search(
        object_types=["ITEM_VARIATION"],
        query={"exact_query": {"attribute_name": "sku", "attribute_value": args["partial"]}},
    )
    return {
        "locations": [loc.id for loc in locations.locations or []],
        "exact": [o.id for o in exact.objects or []],
        "partial": sorted(o.item_variation_data.sku for o in partial.objects or [] if o.type == "ITEM_VARIATION"),
    }


def retrieve(client: Square, args: dict[str, Any]) -> Any:
    try:
        got = client.catalog.object.get(args["object_id"], include_related_objects=True)
    except ApiError as error:
        return {"status": error.status_code, "body": error.body}
    obj = got.object
    return {
        "id": obj.id,
        "type": obj.type,
        "sku": obj.item_variation_data.sku if obj.type == "ITEM_VARIATION" else None,
        "related": [o.type for o in got.related_objects or []],
    }


def set_price(client: Square, args: dict[str, Any]) -> Any:
    variation = client.catalog.object.get(args["object_id"]).object
    data = variation.item_variation_data.model_dump(exclude_none=True)
    data["price_money"] = {"amount": args["amount"], "currency": "USD"}
    client.catalog.object.upsert(
        idempotency_key=str(uuid.uuid4()),
        object={
            "type": "ITEM_VARIATION",
            "id": variation.id,
            "version": variation.version,
            "item_variation_data": data,
        },
    )
    again = client.catalog.object.get(args["object_id"]).object
    return {"amount": again.item_variation_data.price_money.amount}


def count(client: Square, args: dict[str, Any]) -> Any:
    client.inventory.batch_create_changes(
        idempotency_key=str(uuid.uuid4()),
        changes=[
            {
                "type": "PHYSICAL_COUNT",
                "physical_count": {
                    "catalog_object_id": args["object_id"],
                    "location_id": args["location_id"],
                    "state": "IN_STOCK",
                    "quantity": args["quantity"],
                    "occurred_at": args["occurred_at"],
                },
            }
        ],
    )
    pager = client.inventory.batch_get_counts(
        catalog_object_ids=[args["object_id"]], location_ids=[args["location_id"]]
    )
    return {"counts": [(c.state, c.quantity) for c in pager]}


def orders(client: Square, args: dict[str, Any]) -> Any:
    found = client.orders.search(location_ids=[args["location_id"]])
    got = client.orders.get(args["order_id"]).order
    return {
        "found": [o.id for o in found.orders or []],
        "state": got.state,
        "quantities": [line.quantity for line in got.line_items or []],
    }


def create_order(client: Square, args: dict[str, Any]) -> Any:
    recipient = {
        "display_name": "Jaiden Urie",
        "address": {"address_line_1": "1955 Broadway", "locality": "Boulder", "postal_code": "80302", "country": "US"},
    }
    created = client.orders.create(
        idempotency_key=str(uuid.uuid4()),
        order={
            "location_id": args["location_id"],
            "line_items": [{"catalog_object_id": args["object_id"], "quantity": "1"}],
            "fulfillments": [{"type": "SHIPMENT", "shipment_details": {"recipient": recipient}}],
        },
    ).order
    assert created is not None
    assert created.fulfillments
    details = created.fulfillments[0].shipment_details
    address = details.recipient.address if details and details.recipient else None
    return {"state": created.state, "fulfillment": created.fulfillments[0].state, "city": address and address.locality}


def ship_order(client: Square, args: dict[str, Any]) -> Any:
    """Move an order's SHIPMENT fulfillment to RESERVED, then COMPLETED with tracking (UpdateOrder, sparse order
    with the latest version); a stale version comes back as the SDK's ApiError."""
    order = client.orders.get(args["order_id"]).order
    assert order is not None
    assert order.fulfillments
    uid = order.fulfillments[0].uid
    reserved = client.orders.update(
        args["order_id"],
        order={
            "location_id": order.location_id,
            "version": order.version,
            "fulfillments": [{"uid": uid, "state": "RESERVED"}],
        },
        idempotency_key=str(uuid.uuid4()),
    ).order
    assert reserved is not None
    try:
        client.orders.update(
            args["order_id"],
            order={"location_id": order.location_id, "version": order.version, "fulfillments": [{"uid": uid}]},
            idempotency_key=str(uuid.uuid4()),
        )
        stale = None
    except ApiError as error:
        stale = [e["code"] for e in error.body["errors"]]
    details = {"carrier": "UPS", "shipping_type": "Ground", "tracking_number": args["tracking_number"]}
    completed = client.orders.update(
        args["order_id"],
        order={
            "location_id": order.location_id,
            "version": reserved.version,
            "fulfillments": [{"uid": uid, "state": "COMPLETED", "shipment_details": details}],
        },
        idempotency_key=args["key"],
    ).order
    assert completed is not None
    assert completed.fulfillments
    shipped = completed.fulfillments[0]
    assert shipped.shipment_details is not None
    return {
        "versions": [order.version, reserved.version, completed.version],
        "stale": stale,
        "state": shipped.state,
        "tracking": shipped.shipment_details.tracking_number,
        "shipped_at": shipped.shipment_details.shipped_at is not None,
    }


def pickup(client: Square, args: dict[str, Any]) -> Any:
    """Create an order to collect with a window and an expiry, walk it RESERVED → PREPARED → COMPLETED with
    UpdateOrder; an expiry beyond 7 days and a move back come back as the SDK's ApiError."""
    details = {
        "recipient": {"display_name": "Jaiden Urie", "phone_number": "+13035550100"},
        "schedule_type": "SCHEDULED",
        "pickup_at": args["pickup_at"],
        "pickup_window_duration": "PT30M",
        "prep_time_duration": "PT1H",
        "is_curbside_pickup": True,
        "curbside_pickup_details": {"curbside_details": "Blue van"},
    }
    order = client.orders.create(
        idempotency_key=str(uuid.uuid4()),
        order={
            "location_id": args["location_id"],
            "line_items": [{"catalog_object_id": args["object_id"], "quantity": "1"}],
            "fulfillments": [{"type": "PICKUP", "pickup_details": details}],
        },
    ).order
    assert order is not None
    assert order.fulfillments
    uid = order.fulfillments[0].uid
    errors: list[str] = []
    version = order.version
    states = []
    for state, extra in (
        ("RESERVED", {"expires_at": args["too_late"]}),
        ("RESERVED", {"expires_at": args["expires_at"]}),
        ("PREPARED", {}),
        ("RESERVED", {}),
        ("COMPLETED", {}),
    ):
        fulfillment: dict[str, Any] = {"uid": uid, "state": state}
        if extra:
            fulfillment["pickup_details"] = extra
        try:
            updated = client.orders.update(
                order.id or "",
                order={"location_id": order.location_id, "version": version, "fulfillments": [fulfillment]},
                idempotency_key=str(uuid.uuid4()),
            ).order
        except ApiError as error:
            errors.append(error.body["errors"][0]["code"])
            continue
        assert updated is not None
        assert updated.fulfillments
        version = updated.version
        states.append(updated.fulfillments[0].state)
    final = client.orders.get(order.id or "").order
    assert final is not None
    assert final.fulfillments
    got = final.fulfillments[0].pickup_details
    assert got is not None
    return {
        "states": states,
        "errors": errors,
        "window": got.pickup_window_duration,
        "curbside": got.is_curbside_pickup,
        "stamps": [got.accepted_at is not None, got.ready_at is not None, got.picked_up_at is not None],
        "expires_at": got.expires_at,
    }


def refund(client: Square, args: dict[str, Any]) -> Any:
    """RefundPayment (money only), GetPaymentRefund, and a return order read with RetrieveOrder."""
    made = client.refunds.refund_payment(
        idempotency_key="goodwill-1",
        payment_id=args["payment_id"],
        amount_money={"amount": 500, "currency": "USD"},
        reason="Late",
    ).refund
    assert made is not None
    got = client.refunds.get(made.id).refund
    assert got is not None
    returned = client.orders.get(args["return_order_id"]).order
    assert returned is not None
    assert returned.returns
    lines = returned.returns[0].return_line_items or []
    return {
        "made": [made.status, made.order_id, made.amount_money.amount if made.amount_money else None],
        "got": got.status,
        "return": [returned.returns[0].source_order_id, [(ln.source_line_item_uid, ln.quantity) for ln in lines]],
    }


SCENARIOS = {
    f.__name__: f
    for f in (locations_and_search, retrieve, set_price, count, orders, create_order, ship_order, pickup, refund)
}

if __name__ == "__main__":
    scenario, raw = sys.argv[1], json.loads(sys.argv[2])
    client = Square(token=raw.pop("token"), base_url=raw.pop("base_url"))
    print(json.dumps(SCENARIOS[scenario](client, raw)))
