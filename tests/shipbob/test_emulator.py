"""The ShipBob emulator keeps ShipBob's contract: bearer auth, the 150-a-minute window and its 429, reference_id
uniqueness, requests and answers held to the official 1.0 document, and control routes that ship and cancel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from connectors.shipbob.emulator import ShipBobEmulator
from connectors.shipbob.emulator.openapi import response_problems

from .conftest import CENTRE, FakeTime

pytestmark = pytest.mark.anyio

ORDER: dict[str, Any] = {
    "reference_id": "r-1",
    "shipping_method": "Standard",
    "location_id": CENTRE,
    "recipient": {
        "name": "Ada",
        "address": {"type": "MarkFor", "address1": "1 Main", "city": "Chicago", "country": "US"},
    },
    "products": [{"reference_id": "SKU-1", "name": "Shirt", "quantity": 2}],
}


@pytest.fixture
async def http(emulator: ShipBobEmulator) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {emulator.config.token}", "shipbob_channel_id": "1001"}
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sb", headers=headers) as client:
        yield client


async def test_no_token_is_401(emulator: ShipBobEmulator) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.app), base_url="http://sb") as anonymous:
        assert (await anonymous.get("/1.0/fulfillmentCenter")).status_code == 401
        wrong = await anonymous.get("/1.0/fulfillmentCenter", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401


async def test_the_151st_call_in_a_minute_is_429_with_shipbobs_body_and_headers(
    http: httpx.AsyncClient, fake_time: FakeTime
) -> None:
    for index in range(150):
        answer = await http.get("/1.0/fulfillmentCenter")
        assert answer.headers["x-remaining-calls"] == str(149 - index)
        fake_time.now += 0.1
    refused = await http.post("/1.0/order", json=ORDER)
    assert refused.status_code == 429
    assert refused.text == "Rate limit is exceeded. Try again in 45 seconds"
    assert refused.headers["x-retry-after"] == "45"
    fake_time.now += 45
    assert (await http.get("/1.0/fulfillmentCenter")).status_code == 200


async def test_a_repeated_reference_id_is_422_duplicate(http: httpx.AsyncClient, emulator: ShipBobEmulator) -> None:
    first = await http.post("/1.0/order", json=ORDER)
    assert first.status_code == 201
    again = await http.post("/1.0/order", json=ORDER)
    assert again.status_code == 422
    assert again.json() == {
        "reference_id": [
            "Duplicate reference ID: You have already created a product or order with the same reference_id"
        ]
    }
    assert len(emulator.state.orders) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"products": [{"reference_id": "SKU-1", "quantity": "two"}]}, "products[0].quantity"),
        ({"recipient": {"name": "Ada"}}, "recipient.address"),
        ({"shipping_method": None}, "shipping_method"),
        ({"colour": "red"}, ""),
    ],
)
async def test_a_body_that_breaks_the_spec_is_400_naming_the_field(
    http: httpx.AsyncClient, emulator: ShipBobEmulator, change: dict[str, Any], field: str
) -> None:
    answer = await http.post("/1.0/order", json={**ORDER, **change})
    assert answer.status_code == 400
    assert field in answer.json()
    assert emulator.state.orders == {}


async def test_a_write_without_the_channel_header_is_400(http: httpx.AsyncClient) -> None:
    answer = await http.post("/1.0/order", json=ORDER, headers={"shipbob_channel_id": ""})
    assert answer.status_code == 400


async def test_answers_are_in_the_specs_shapes(http: httpx.AsyncClient) -> None:
    created = (await http.post("/1.0/order", json=ORDER)).json()
    await http.post("/_emulator/orders/r-1/ship")
    for method, path in [
        ("GET", "/1.0/channel"),
        ("GET", "/1.0/fulfillmentCenter"),
        ("GET", "/1.0/product"),
        ("GET", "/1.0/order"),
        ("GET", f"/1.0/order/{created['id']}"),
        ("GET", f"/1.0/order/{created['id']}/shipment"),
    ]:
        answer = await http.request(method, path)
        assert answer.status_code == 200
        assert response_problems(method, path, 200, answer.json()) == {}, path


async def test_control_routes_set_stock_ship_and_cancel(http: httpx.AsyncClient, emulator: ShipBobEmulator) -> None:
    stocked = await http.post("/_emulator/inventory", json={"sku": "SKU-9", "fulfillment_center_id": 10, "on_hand": 4})
    assert stocked.json()["fulfillable"] == 4
    await http.post("/1.0/order", json=ORDER)
    await http.post("/1.0/order", json={**ORDER, "reference_id": "r-2"})
    shipped = (await http.post("/_emulator/orders/r-1/ship", json={"carrier": "UPS"})).json()
    assert shipped["tracking"]["carrier"] == "UPS"
    order = (await http.get("/1.0/order", params={"ReferenceIds": "r-1"})).json()[0]
    assert order["shipments"][0]["tracking"]["tracking_number"] == shipped["tracking"]["tracking_number"]
    assert (await http.post("/_emulator/orders/r-2/cancel")).json()["status"] == "Cancelled"
    refused = await http.post("/_emulator/orders/r-1/cancel")
    assert refused.status_code == 400
    state = (await http.get("/_emulator/state")).json()
    assert [(o["reference_id"], o["status"]) for o in state["orders"]] == [("r-1", "Fulfilled"), ("r-2", "Cancelled")]
    [cicero] = [row for row in state["inventory"] if row["sku"] == "SKU-1"]
    assert (cicero["on_hand"], cicero["committed"], cicero["fulfillable"]) == (8, 0, 8)
    assert [d.topic for d in emulator.webhooks.deliveries] == ["order_shipped", "shipment_cancelled"]


async def test_fail_next_and_latency_knobs(http: httpx.AsyncClient) -> None:
    await http.post("/_emulator/fail-next", json={"status": 503, "count": 1})
    assert (await http.get("/1.0/channel")).status_code == 503
    assert (await http.get("/1.0/channel")).status_code == 200
    assert (await http.post("/_emulator/latency", json={"min_ms": 5, "max_ms": 1})).status_code == 400


async def test_the_api_cancel_answers_a_canceled_order_and_sends_shipment_cancelled(
    http: httpx.AsyncClient, emulator: ShipBobEmulator
) -> None:
    order = (await http.post("/1.0/order", json=ORDER)).json()
    answer = await http.post(f"/1.0/order/{order['id']}/cancel")
    assert answer.status_code == 200
    assert response_problems("POST", f"/1.0/order/{order['id']}/cancel", 200, answer.json()) == {}
    assert answer.json()["order"]["status"] == "Cancelled"
    assert [d.topic for d in emulator.webhooks.deliveries] == ["shipment_cancelled"]


def test_omnibridge_emulator_shipbob_takes_its_settings_and_seeds_the_catalog() -> None:
    from omnibridge.cli.emulator import build_emulator
    from omnibridge.errors import ConfigError

    server, _ = build_emulator("shipbob", settings={"requests_per_minute": "10", "channel_id": "7"})
    emu = server.emulator
    assert (emu.config.requests_per_minute, emu.config.channel_id) == (10, 7)
    assert emu.state.products  # the demo catalog, stocked at the first centre
    assert all(product.on_hand == {6: 25} for product in emu.state.products.values())
    with pytest.raises(ConfigError, match="unknown emulator setting 'rate'"):
        build_emulator("shipbob", settings={"rate": "1"})
