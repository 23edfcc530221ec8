"""Square emulator, online orders to ship: the control route and CreateOrder make an OPEN order with a SHIPMENT
fulfillment, fire ``order.created``, and SquareConnector maps its recipient to the order's ship-to, PLACED until
the fulfillment is COMPLETED."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from connectors.square.emulator.openapi import validate_request
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, ShipTo

from .test_client_emulator import World

RECIPIENT = {
    "display_name": "Jaiden Urie",
    "phone_number": "1-303-555-0182",
    "address": {
        "address_line_1": "1955 Broadway",
        "address_line_2": "Suite 600",
        "locality": "Boulder",
        "administrative_district_level_1": "CO",
        "postal_code": "80302",
        "country": "US",
    },
}
SHIP_TO = ShipTo(
    country="US",
    name="Jaiden Urie",
    line1="1955 Broadway",
    line2="Suite 600",
    city="Boulder",
    region="CO",
    postal_code="80302",
    phone="1-303-555-0182",
)


def _http(w: World) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=w.emu.app),
        base_url="http://square.emulator",
        headers={"Authorization": "Bearer EAAA-roundtrip-token"},
    )


async def _order_events(w: World) -> list[OrderEvent]:
    await w.emu.webhooks.drain()
    deliveries = [w.client.verify_webhook(body, headers, "http://internal/hook") for headers, body in w.received]
    w.received.clear()
    events = [e for d in deliveries for e in await w.client.webhook_events(d)]
    return [e for e in events if isinstance(e, OrderEvent)]


def test_an_online_order_ships_to_its_recipient_until_its_fulfillment_completes() -> None:
    async def scenario(w: World) -> None:
        first = await w.client.pull_events(None)
        async with _http(w) as http:
            made = await http.post(
                "/_emulator/orders",
                json={
                    "location_id": w.main,
                    "lines": [{"sku": "TEE-RED-M", "quantity": 2}],
                    "recipient": RECIPIENT,
                    "reference_id": "WEB-3001",
                },
            )
            assert made.status_code == 200, made.text
            order = made.json()["order"]
            [fulfillment] = order["fulfillments"]
            assert (order["state"], fulfillment["type"], fulfillment["state"]) == ("OPEN", "SHIPMENT", "PROPOSED")
            assert [e["type"] for e in w.emu.events] == ["order.created"]
            [placed] = await _order_events(w)
            assert (placed.ref, placed.kind, placed.name, placed.ship_to) == (
                order["id"],
                OrderEventKind.PLACED,
                "WEB-3001",
                SHIP_TO,
            )
            assert [(ln.sku, ln.quantity, ln.location_ref) for ln in placed.lines] == [("TEE-RED-M", 2, w.main)]
            w.clock.now += timedelta(minutes=1)
            polled = await w.client.pull_events(first.bookmark)
            assert [(e.ref, e.kind, e.ship_to) for e in polled.events if isinstance(e, OrderEvent)] == [
                (order["id"], OrderEventKind.PLACED, SHIP_TO)
            ]
            found = await http.post("/v2/orders/batch-retrieve", json={"order_ids": [order["id"]]})
            assert found.json()["orders"][0]["fulfillments"][0]["shipment_details"]["recipient"] == RECIPIENT

            done = await http.post(f"/_emulator/orders/{order['id']}/fulfillment-state", json={"state": "COMPLETED"})
            assert done.status_code == 200, done.text
            assert done.json()["order"]["state"] == "OPEN"  # only the fulfillment completed
            [completed] = await _order_events(w)
            assert (completed.kind, completed.ship_to) == (OrderEventKind.COMPLETED, SHIP_TO)
            nowhere = await http.post("/_emulator/orders/NOPE/fulfillment-state", json={"state": "COMPLETED"})
            assert nowhere.status_code == 400  # an unknown order is a clear error

    World().run(scenario)


def _create(w: World, **order: Any) -> dict[str, Any]:
    line = {"catalog_object_id": w.emu.state.variation_for_sku("MUG-BLUE"), "quantity": "1"}
    fulfillment = {"type": "SHIPMENT", "shipment_details": {"recipient": RECIPIENT}}
    body = {"location_id": w.mall, "line_items": [line], "fulfillments": [fulfillment]} | order
    return {"idempotency_key": "create-1", "order": body}


def test_create_order_is_validated_idempotent_and_searchable() -> None:
    async def scenario(w: World) -> None:
        body = _create(w)
        assert validate_request("POST", "/v2/orders", body) == []
        async with _http(w) as http:
            created = await http.post("/v2/orders", json=body)
            assert created.status_code == 200, created.text
            order = created.json()["order"]
            again = await http.post("/v2/orders", json=body)
            assert again.json()["order"]["id"] == order["id"]  # the same key replays the first answer
            assert [e["type"] for e in w.emu.events] == ["order.created"]
            reused = await http.post("/v2/orders", json=_create(w, reference_id="other"))
            assert reused.json()["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"

            bad_type = _create(w, fulfillments=[{"type": "TELEPORT"}]) | {"idempotency_key": "create-2"}
            wrong = await http.post("/v2/orders", json=bad_type)
            assert wrong.status_code == 400
            assert wrong.json()["errors"][0]["code"] == "INVALID_ENUM_VALUE"  # checked against the spec
            no_recipient = _create(w, fulfillments=[{"type": "SHIPMENT"}]) | {"idempotency_key": "create-3"}
            missing = await http.post("/v2/orders", json=no_recipient)
            assert missing.json()["errors"][0]["field"] == "order.fulfillments[0].shipment_details.recipient"
            unknown = await http.post("/v2/orders", json=_create(w, location_id="NOPE") | {"idempotency_key": "c4"})
            assert unknown.status_code == 404

            search = {"location_ids": [w.mall], "query": {"filter": {"state_filter": {"states": ["OPEN"]}}}}
            [listed] = (await http.post("/v2/orders/search", json=search)).json()["orders"]
            assert listed["id"] == order["id"]
            assert listed["fulfillments"][0]["shipment_details"]["recipient"]["address"]["postal_code"] == "80302"
            assert listed["total_money"] == {"amount": 1200, "currency": "USD"}
        [placed] = await _order_events(w)
        assert (placed.kind, placed.ship_to) == (OrderEventKind.PLACED, SHIP_TO)

    World().run(scenario)
