"""ShipBob return orders: requested action and what ShipBob did, mapped to omnibridge's returns, pulled once per
change with a bookmark; the emulator serves the return endpoints per the 1.0 document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.shipbob.client import ShipBobConnector
from connectors.shipbob.emulator import ShipBobEmulator
from connectors.shipbob.emulator.openapi import response_problems, validate_request
from connectors.shipbob.returns import return_event
from omnibridge.sdk.emulator import read_recorded
from omnibridge.sdk.returns import Disposition, ReturnEvent, ReturnState

from .conftest import CENTRE, FakeTime, request

pytestmark = pytest.mark.anyio


def returns_of(events: list[Any]) -> list[ReturnEvent]:
    return [event for event in events if isinstance(event, ReturnEvent)]


def shipped(emulator: ShipBobEmulator, client_order: str = "submit:a-1") -> None:
    emulator.ship(client_order)


def lines(event: ReturnEvent) -> list[tuple[str | None, int, Disposition | None, str | None]]:
    return [(line.sku, line.quantity, line.disposition, line.location_ref) for line in event.lines]


async def test_a_processed_return_maps_each_action_to_a_disposition_at_the_centre(
    client: ShipBobConnector, emulator: ShipBobEmulator
) -> None:
    await client.submit_fulfilment(request(quantity=4))
    shipped(emulator)
    ret = emulator.returns.seed("submit:a-1", [("SKU-1", 4, "Restock")], tracking_number="1ZRET")
    emulator.returns.process(ret["id"], {"SKU-1": [("Restock", 2), ("Quarantine", 1), ("Dispose", 1)]})
    pulled = await client.pull_events(None)
    [event] = returns_of(pulled.events)
    assert (event.ref, event.order_ref, event.state) == (str(ret["id"]), "submit:a-1", ReturnState.CLOSED)
    assert (event.location_ref, event.tracking_number) == (str(CENTRE), "1ZRET")
    assert lines(event) == [
        ("SKU-1", 2, Disposition.RESTOCK, str(CENTRE)),
        ("SKU-1", 1, Disposition.INSPECT, str(CENTRE)),
        ("SKU-1", 1, Disposition.DAMAGED, str(CENTRE)),
    ]
    assert len({line.return_line_ref for line in event.lines}) == 3


async def test_each_change_of_a_return_is_reported_once(
    client: ShipBobConnector, emulator: ShipBobEmulator, fake_time: FakeTime
) -> None:
    await client.submit_fulfilment(request(quantity=2))
    shipped(emulator)
    ret = emulator.returns.seed("submit:a-1")
    first = await client.pull_events(None)
    [opened] = returns_of(first.events)
    assert opened.state is ReturnState.OPEN
    assert lines(opened) == [("SKU-1", 2, None, None)]
    fake_time.now += 60
    again = await client.pull_events(first.bookmark)
    assert returns_of(again.events) == []
    emulator.returns.arrive(ret["id"])
    fake_time.now += 60
    arrived = await client.pull_events(again.bookmark)
    assert [e.state for e in returns_of(arrived.events)] == [ReturnState.RECEIVED]
    emulator.returns.process(ret["id"])  # requested Default: restocked
    fake_time.now += 60
    done = await client.pull_events(arrived.bookmark)
    [closed] = returns_of(done.events)
    assert lines(closed) == [("SKU-1", 2, Disposition.RESTOCK, str(CENTRE))]
    fake_time.now += 60
    after = await client.pull_events(done.bookmark)
    assert returns_of(after.events) == []
    assert json.loads(after.bookmark or "{}")["returns"]["open"] == {}


async def test_units_not_processed_on_a_completed_return_are_missing() -> None:
    ret = {
        "id": 9,
        "status": "Completed",
        "insert_date": "2026-12-01T12:00:00+00:00",
        "completed_date": "2026-12-02T12:00:00+00:00",
        "fulfillment_center": {"id": 6, "name": "Cicero (IL)"},
        "original_shipment_id": 5,
        "inventory": [
            {
                "id": 73001,
                "quantity": 3,
                "action_requested": {"action": "Quarantine"},
                "action_taken": [{"action": "Quarantine", "quantity_processed": 2, "action_reason": "odd smell"}],
            }
        ],
    }
    shipment = {"reference_id": "submit:x", "products": [{"reference_id": "SKU-1", "inventory_items": [{"id": 73001}]}]}
    event = return_event(ret, shipment).value
    assert event is not None
    assert [(line.quantity, line.disposition, line.reason) for line in event.lines] == [
        (2, Disposition.INSPECT, "odd smell"),
        (1, Disposition.MISSING, ""),
    ]
    assert event.order_ref == "submit:x"
    bad = return_event({**ret, "status": "Lost"}, shipment)
    assert bad.value is None
    assert "is not one of" in bad.messages[0].message


async def test_a_plain_instant_bookmark_from_before_still_works(
    client: ShipBobConnector, emulator: ShipBobEmulator
) -> None:
    await client.submit_fulfilment(request())
    shipped(emulator)
    emulator.returns.seed("submit:a-1")
    pulled = await client.pull_events("2026-11-30T00:00:00Z")
    assert len(returns_of(pulled.events)) == 1
    assert json.loads(pulled.bookmark or "{}")["orders"] >= "2026-12-01"


async def test_every_return_request_conforms_and_every_answer_too(
    client: ShipBobConnector, emulator: ShipBobEmulator, recorded: Path
) -> None:
    await client.submit_fulfilment(request())
    shipped(emulator)
    ret = emulator.returns.seed("submit:a-1")
    await client.pull_events(None)
    emulator.returns.process(ret["id"])
    await client.pull_events(None)
    rows = read_recorded(recorded, "shipbob")
    assert {(row["method"], row["path"]) for row in rows} >= {("GET", "/1.0/return"), ("GET", "/1.0/shipment/500001")}
    for row in rows:
        query = {name: values[0] for name, values in row["query"].items()}
        assert validate_request(row["method"], row["path"], query, row["headers"], row["body"]) == [], row
    assert emulator.problems == []
    assert response_problems("GET", "/1.0/return/1", 200, emulator.returns.get(ret["id"])) == {}


async def test_the_emulator_creates_lists_and_cancels_returns_per_spec(emulator: ShipBobEmulator) -> None:
    headers = {
        "Authorization": f"Bearer {emulator.config.token}",
        "shipbob_channel_id": str(emulator.config.channel_id),
    }
    inventory_id = emulator.state.products["SKU-1"].id + 70000
    body = {
        "reference_id": "RMA-1",
        "fulfillment_center": {"id": CENTRE},
        "inventory": [{"id": inventory_id, "quantity": 1, "requested_action": "Dispose"}],
    }
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.app), base_url="http://sb") as http:
        created = await http.post("/1.0/return", json=body, headers=headers)
        duplicate = await http.post("/1.0/return", json=body, headers=headers)
        bad = await http.post("/1.0/return", json={"reference_id": "RMA-2"}, headers=headers)
        listed = await http.get("/1.0/return", params={"Status": "AwaitingArrival"}, headers=headers)
        cancelled = await http.post(f"/1.0/return/{created.json()['id']}/cancel", headers=headers)
        processed = await http.post(f"/_emulator/returns/{created.json()['id']}/process", json={})
    assert created.status_code == 201
    assert created.json()["inventory"][0]["action_requested"]["action"] == "Dispose"
    assert duplicate.status_code == 422
    assert bad.status_code == 400
    assert [r["reference_id"] for r in listed.json()] == ["RMA-1"]
    assert cancelled.json()["status"] == "Cancelled"
    assert processed.status_code == 400
    assert "already Cancelled" in processed.json()["error"]


async def test_a_restocked_return_is_back_on_hand_at_the_centre(
    client: ShipBobConnector, emulator: ShipBobEmulator
) -> None:
    await client.submit_fulfilment(request(quantity=3))
    shipped(emulator)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.app), base_url="http://sb") as http:
        made = await http.post("/_emulator/returns", json={"order": "submit:a-1", "items": [["SKU-1", 2, "Restock"]]})
        await http.post(f"/_emulator/returns/{made.json()['id']}/process", json={})
        state = (await http.get("/_emulator/state")).json()
    assert emulator.state.products["SKU-1"].on_hand[CENTRE] == 7 + 2
    assert [r["status"] for r in state["returns"]] == ["Completed"]


async def test_a_return_of_another_integrations_order_is_not_reported(
    client: ShipBobConnector, emulator: ShipBobEmulator
) -> None:
    await client.submit_fulfilment(request())
    foreign = emulator.state.create_order(
        {
            "reference_id": "shopify-app-7",
            "shipping_method": "Standard",
            "recipient": {"name": "X", "address": {"type": "MarkFor", "address1": "a", "city": "b", "country": "US"}},
            "products": [{"reference_id": "SKU-1", "quantity": 1}],
        },
        channel_id=2002,
    )
    shipped(emulator)
    emulator.ship(foreign["id"])
    ours = emulator.returns.seed("submit:a-1")
    emulator.returns.seed(foreign["id"])
    pulled = await client.pull_events(None)
    assert [e.ref for e in returns_of(pulled.events)] == [str(ours["id"])]
