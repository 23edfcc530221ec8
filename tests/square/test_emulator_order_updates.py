"""Square emulator, UpdateOrder: fulfillment states move forward only, versions are checked, idempotency keys
replay, finished orders and fulfillments stay as they are, bodies are held to Square's OpenAPI spec."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .emulator_support import SKU, Shop, make_shop, run

RECIPIENT = {"display_name": "Jaiden Urie", "address": {"locality": "Boulder", "country": "US"}}


def _order(shop: Shop) -> dict[str, Any]:
    return shop.emu.online_order(shop.location_id, [(SKU, 1)], RECIPIENT)


def _update(shop: Shop, order_id: str, body: dict[str, Any]) -> httpx.Response:
    async def call() -> httpx.Response:
        async with shop.client() as client:
            return await client.put(f"/v2/orders/{order_id}", json=body)

    return run(call)


def _move(
    shop: Shop,
    order: dict[str, Any],
    state: str | None,
    *,
    version: int | None = None,
    key: str | None = None,
    **kw: Any,
) -> httpx.Response:
    current = shop.emu.state.orders[order["id"]]
    fulfillment: dict[str, Any] = {"uid": current["fulfillments"][0]["uid"], **kw}
    if state is not None:
        fulfillment["state"] = state
    sparse = {
        "location_id": order["location_id"],
        "version": version or current["version"],
        "fulfillments": [fulfillment],
    }
    body: dict[str, Any] = {"order": sparse}
    if key is not None:
        body["idempotency_key"] = key
    return _update(shop, order["id"], body)


def _codes(response: httpx.Response) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


def test_a_shipment_walks_its_states_with_square_stamping_the_times() -> None:
    shop = make_shop(requests_per_second=1000.0, burst=1000)
    order = _order(shop)
    for state, stamp in (("RESERVED", "in_progress_at"), ("PREPARED", "packaged_at"), ("COMPLETED", "shipped_at")):
        answer = _move(shop, order, state, shipment_details={"tracking_number": "1Z1"})
        assert answer.status_code == 200, answer.text
        fulfillment = answer.json()["order"]["fulfillments"][0]
        assert fulfillment["state"] == state
        assert stamp in fulfillment["shipment_details"]
    final = shop.emu.state.orders[order["id"]]
    assert (final["version"], final["state"]) == (4, "OPEN")
    assert final["fulfillments"][0]["shipment_details"]["recipient"] == RECIPIENT
    # UpdateOrder fires order.fulfillment.updated (naming the fulfillment's old and new state) and order.updated.
    assert [e["type"] for e in shop.emu.events] == ["order.created"] + [
        "order.fulfillment.updated",
        "order.updated",
    ] * 3
    moves = [e["data"]["object"]["order_fulfillment_updated"]["fulfillment_update"] for e in shop.emu.events[1::2]]
    uid = final["fulfillments"][0]["uid"]
    assert [m[0]["fulfillment_uid"] for m in moves] == [uid] * 3
    assert [(m[0]["old_state"], m[0]["new_state"]) for m in moves] == [
        ("PROPOSED", "RESERVED"),
        ("RESERVED", "PREPARED"),
        ("PREPARED", "COMPLETED"),
    ]


def test_completing_in_one_step_is_allowed() -> None:
    shop = make_shop(requests_per_second=1000.0, burst=1000)
    order = _order(shop)
    answer = _move(shop, order, "COMPLETED", shipment_details={"carrier": "UPS", "tracking_number": "1Z1"})
    assert answer.status_code == 200
    assert answer.json()["order"]["fulfillments"][0]["shipment_details"]["carrier"] == "UPS"


def test_a_fulfillment_never_moves_back_and_a_finished_one_never_changes() -> None:
    shop = make_shop(requests_per_second=1000.0, burst=1000)
    order = _order(shop)
    assert _move(shop, order, "PREPARED").status_code == 200
    back = _move(shop, order, "RESERVED")
    assert back.status_code == 400
    assert _codes(back) == ["INVALID_VALUE"]
    assert "cannot move back from PREPARED to RESERVED" in back.json()["errors"][0]["detail"]
    assert _move(shop, order, "COMPLETED").status_code == 200
    for change in ({"state": "CANCELED"}, {"state": None, "shipment_details": {"tracking_number": "1Z2"}}):
        refused = _move(shop, order, **change)
        assert refused.status_code == 400
        assert "is COMPLETED and can no longer change" in refused.json()["errors"][0]["detail"]


def test_a_stale_version_is_version_mismatch() -> None:
    shop = make_shop(requests_per_second=1000.0, burst=1000)
    order = _order(shop)
    assert _move(shop, order, "RESERVED").status_code == 200
    stale = _move(shop, order, "COMPLETED", version=1)
    assert stale.status_code == 400
    assert _codes(stale) == ["VERSION_MISMATCH"]
    assert stale.json()["errors"][0]["field"] == "order.version"
    assert shop.emu.state.orders[order["id"]]["fulfillments"][0]["state"] == "RESERVED"


def test_an_idempotency_key_replays_and_refuses_another_body() -> None:
    shop = make_shop(requests_per_second=1000.0, burst=1000)
    order = _order(shop)
    first = _move(shop, order, "COMPLETED", version=1, key="ship-1")
    again = _move(shop, order, "COMPLETED", version=1, key="ship-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["order"]["version"] == 2  # the order as it is now, nothing applied twice
    reused = _move(shop, order, "COMPLETED", version=2, key="ship-1")
    assert reused.status_code == 400
    assert _codes(reused) == ["IDEMPOTENCY_KEY_REUSED"]


def test_a_failed_update_does_not_spend_its_key() -> None:
    shop = make_shop(requests_per_second=1000.0, burst=1000)
    order = _order(shop)
    shop.emu.set_fulfillment_state(order["id"], "RESERVED")
    assert _codes(_move(shop, order, "COMPLETED", version=1, key="ship-1")) == ["VERSION_MISMATCH"]
    assert _move(shop, order, "COMPLETED", version=2, key="ship-1").status_code == 200


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (
            {"order": {"location_id": "L", "version": 1}, "idempotency_key": "k" * 193},
            "VALUE_TOO_LONG",
            "idempotency_key",
        ),
        (
            {"order": {"location_id": "HERE", "version": 1, "fulfillments": [{"uid": "u", "state": "SHIPPED"}]}},
            "INVALID_ENUM_VALUE",
            "order.fulfillments[0].state",
        ),
        ({"order": {"location_id": "OTHER", "version": 1}}, "INVALID_VALUE", "order.location_id"),
        ({"order": {"location_id": "HERE"}}, "MISSING_REQUIRED_PARAMETER", "order.version"),
        ({"order": {"location_id": "HERE", "version": 1, "note": "x"}}, None, None),
        ({"order": {"location_id": "HERE", "version": 1, "fulfillments": [{"uid": "nope"}]}}, "INVALID_VALUE", None),
    ],
)
def test_invalid_updates_are_400_naming_the_field(body: dict[str, Any], code: str | None, field: str | None) -> None:
    shop = make_shop(requests_per_second=1000.0, burst=1000)
    order = _order(shop)
    sparse = body["order"]
    if sparse.get("location_id") == "HERE":
        sparse["location_id"] = shop.location_id
    answer = _update(shop, order["id"], body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["errors"][0]
    assert error["category"] == "INVALID_REQUEST_ERROR"
    if code is not None:
        assert error["code"] == code
    if field is not None:
        assert error["field"] == field
    assert shop.emu.state.orders[order["id"]]["version"] == 1


def test_finished_or_unknown_orders_cannot_be_updated() -> None:
    shop = make_shop(requests_per_second=1000.0, burst=1000)
    sale = shop.emu.pos_sale(shop.location_id, [(SKU, 1)])
    body = {"order": {"location_id": shop.location_id, "version": sale["version"]}}
    finished = _update(shop, sale["id"], body)
    assert finished.status_code == 400
    assert "COMPLETED state cannot be updated" in finished.json()["errors"][0]["detail"]
    assert _update(shop, "NO-SUCH-ORDER", body).status_code == 404
