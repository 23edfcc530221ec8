"""Square emulator, PICKUP fulfillments: created with pickup_details (expires_at at most 7 days ahead), moved
forward only by UpdateOrder with Square's stamps and an order.fulfillment.updated webhook, changed at the till
without any webhook; errors in Square's shape."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.square.emulator.state import format_time

from .emulator_support import SKU, Shop, make_shop, run

RECIPIENT = {"display_name": "Jaiden Urie", "phone_number": "+13035550100"}


def _call(shop: Shop, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    async def call() -> httpx.Response:
        async with shop.client() as client:
            return await client.request(method, path, json=body)

    return run(call)


def _create(shop: Shop, **details: Any) -> httpx.Response:
    fulfillment = {
        "type": "PICKUP",
        "pickup_details": {"recipient": RECIPIENT, "pickup_at": shop.iso(3600), "pickup_window_duration": "PT30M"}
        | details,
    }
    order = {
        "location_id": shop.location_id,
        "line_items": [{"catalog_object_id": shop.variation_id, "quantity": "1"}],
        "fulfillments": [fulfillment],
    }
    return _call(
        shop, "POST", "/v2/orders", {"order": order, "idempotency_key": f"create-{len(shop.emu.state.orders)}"}
    )


def _move(
    shop: Shop, order_id: str, state: str | None, *, version: int | None = None, **details: Any
) -> httpx.Response:
    order = shop.emu.state.orders[order_id]
    fulfillment: dict[str, Any] = {"uid": order["fulfillments"][0]["uid"]}
    if state:
        fulfillment["state"] = state
    if details:
        fulfillment["pickup_details"] = details
    sparse = {
        "location_id": order["location_id"],
        "version": version or order["version"],
        "fulfillments": [fulfillment],
    }
    return _call(shop, "PUT", f"/v2/orders/{order_id}", {"order": sparse})


def _error(response: httpx.Response) -> tuple[int, str, str, str]:
    (error,) = response.json()["errors"]
    return response.status_code, error["category"], error["code"], error.get("field", "")


def test_create_order_keeps_pickup_details_and_stamps_placed_at() -> None:
    shop = make_shop(requests_per_second=1000.0, burst=1000)
    answer = _create(shop, expires_at=shop.iso(6 * 86400), is_curbside_pickup=True, placed_at="2000-01-01T00:00:00Z")
    assert answer.status_code == 200, answer.text
    (fulfillment,) = answer.json()["order"]["fulfillments"]
    details = fulfillment["pickup_details"]
    assert (fulfillment["type"], fulfillment["state"]) == ("PICKUP", "PROPOSED")
    assert details["pickup_window_duration"] == "PT30M"
    assert details["schedule_type"] == "SCHEDULED"
    assert details["is_curbside_pickup"] is True
    assert details["placed_at"] == format_time(shop.clock.now)  # Square's own stamp, not the one sent
    assert [e["type"] for e in shop.emu.events] == ["order.created"]


def test_an_expiry_more_than_seven_days_ahead_is_refused_on_create_and_update() -> None:
    shop = make_shop(requests_per_second=1000.0, burst=1000)
    refused = _create(shop, expires_at=shop.iso(7 * 86400 + 60))
    assert _error(refused) == (
        400,
        "INVALID_REQUEST_ERROR",
        "INVALID_VALUE",
        "order.fulfillments[0].pickup_details.expires_at",
    )
    assert shop.emu.state.orders == {}
    order = shop.emu.pickup_order(shop.location_id, [(SKU, 1)], RECIPIENT)
    answer = _move(shop, order["id"], "RESERVED", expires_at=shop.iso(8 * 86400))
    assert _error(answer)[2:] == ("INVALID_VALUE", "order.fulfillments[0].pickup_details.expires_at")
    assert shop.emu.state.orders[order["id"]]["fulfillments"][0]["state"] == "PROPOSED"


def test_update_order_walks_the_pickup_with_squares_stamps_and_one_webhook_per_update() -> None:
    shop = make_shop(requests_per_second=1000.0, burst=1000)
    order = shop.emu.pickup_order(shop.location_id, [(SKU, 1)], RECIPIENT)
    steps = (("RESERVED", "accepted_at"), ("PREPARED", "ready_at"), ("COMPLETED", "picked_up_at"))
    for state, stamp in steps:
        shop.clock.advance(60)
        answer = _move(shop, order["id"], state, ready_at="2000-01-01T00:00:00Z")
        assert answer.status_code == 200, answer.text
        details = answer.json()["order"]["fulfillments"][0]["pickup_details"]
        assert details[stamp] == format_time(shop.clock.now)
    final = shop.emu.state.orders[order["id"]]
    assert (final["version"], final["state"]) == (4, "OPEN")
    types = [e["type"] for e in shop.emu.events]
    assert types == ["order.created"] + ["order.fulfillment.updated", "order.updated"] * 3
    last = shop.emu.events[-2]["data"]
    assert last["type"] == "order_fulfillment_updated"
    assert last["id"] == order["id"]
    assert last["object"]["order_fulfillment_updated"]["fulfillment_update"] == [
        {"fulfillment_uid": final["fulfillments"][0]["uid"], "old_state": "PREPARED", "new_state": "COMPLETED"}
    ]


def test_illegal_moves_and_stale_versions_are_squares_400s() -> None:
    shop = make_shop(requests_per_second=1000.0, burst=1000)
    order = shop.emu.pickup_order(shop.location_id, [(SKU, 1)], RECIPIENT)
    assert _move(shop, order["id"], "PREPARED").status_code == 200
    back = _move(shop, order["id"], "RESERVED")
    assert _error(back) == (400, "INVALID_REQUEST_ERROR", "INVALID_VALUE", "order.fulfillments[0].state")
    stale = _move(shop, order["id"], "COMPLETED", version=1)
    assert _error(stale)[2:] == ("VERSION_MISMATCH", "order.version")
    assert _move(shop, order["id"], "CANCELED", cancel_reason="Out of stock").status_code == 200
    finished = _move(shop, order["id"], "COMPLETED")
    assert _error(finished)[2:] == ("INVALID_VALUE", "order.fulfillments[0].state")
    bad_enum = _move(shop, order["id"], "READY")
    assert bad_enum.status_code == 400
    details = shop.emu.state.orders[order["id"]]["fulfillments"][0]["pickup_details"]
    assert (details["cancel_reason"], "canceled_at" in details) == ("Out of stock", True)


def test_shipment_details_on_a_pickup_and_pickup_details_on_a_shipment_are_refused() -> None:
    shop = make_shop(requests_per_second=1000.0, burst=1000)
    order = shop.emu.online_order(shop.location_id, [(SKU, 1)], {"display_name": "A", "address": {"country": "US"}})
    answer = _move(shop, order["id"], "RESERVED", pickup_at=shop.iso(3600))
    assert _error(answer)[2:] == ("INVALID_VALUE", "order.fulfillments[0].pickup_details")


def test_a_change_at_the_till_and_a_curbside_arrival_fire_no_webhook() -> None:
    shop = make_shop(requests_per_second=1000.0, burst=1000)
    order = shop.emu.pickup_order(shop.location_id, [(SKU, 1)], RECIPIENT, is_curbside_pickup=True)
    shop.clock.advance(60)
    answer = _call(shop, "POST", f"/_emulator/orders/{order['id']}/till-pickup", {"state": "PREPARED"})
    assert answer.status_code == 200, answer.text
    shop.clock.advance(60)
    arrived = {"arrived": True, "note": "Red car, bay 2"}
    answer = _call(shop, "POST", f"/_emulator/orders/{order['id']}/till-pickup", arrived)
    fulfillment = answer.json()["order"]["fulfillments"][0]
    assert fulfillment["state"] == "PREPARED"
    curbside = fulfillment["pickup_details"]["curbside_pickup_details"]
    assert curbside == {"buyer_arrived_at": format_time(shop.clock.now), "curbside_details": "Red car, bay 2"}
    assert answer.json()["order"]["version"] == 3
    assert [e["type"] for e in shop.emu.events] == ["order.created"]  # only UpdateOrder fires webhooks
    back = _call(shop, "POST", f"/_emulator/orders/{order['id']}/till-pickup", {"state": "RESERVED"})
    assert back.status_code == 400
    assert "cannot move back" in back.json()["error"]
