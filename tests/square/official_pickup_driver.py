"""Driver for tests/square/test_pickup_official_client.py: Square's ``squareup`` SDK on pickups, refunds and
return orders, run in a child process (see tests/official_clients.py).

Usage: ``python -P official_pickup_driver.py SCENARIO JSON_ARGS``; prints one JSON document.
"""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any

from square import Square
from square.core.api_error import ApiError


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


SCENARIOS = {f.__name__: f for f in (pickup, refund)}

if __name__ == "__main__":
    scenario, raw = sys.argv[1], json.loads(sys.argv[2])
    client = Square(token=raw.pop("token"), base_url=raw.pop("base_url"))
    print(json.dumps(SCENARIOS[scenario](client, raw)))
