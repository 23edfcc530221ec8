"""Shipment confirmation on Square: the connector completes a web order's SHIPMENT fulfillment with tracking through
UpdateOrder against the emulator (every request checked against Square's OpenAPI spec); repeats, stale versions,
POS sales and refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.square.client import SquareConnector
from connectors.square.emulator.openapi import validate_request
from connectors.square.shipments import idempotency_key, shipment_details
from omnibridge.errors import RetriableConnectorError
from omnibridge.sdk.emulator import RequestRecorder, read_recorded
from omnibridge.sdk.fulfilment import ConfirmedLine, ShipmentConfirmation, ShipmentConfirmer

from .test_client_emulator import World

RECIPIENT = {
    "display_name": "Jaiden Urie",
    "address": {"address_line_1": "1955 Broadway", "locality": "Boulder", "postal_code": "80302", "country": "US"},
}
UPDATE = "PUT /v2/orders/{order_id}"


def recorded_world(tmp_path: Path) -> World:
    world = World()
    world.emu.recorder = RequestRecorder("square", tmp_path / "requests.jsonl")
    return world


def spec_problems(tmp_path: Path) -> list[str]:
    rows = read_recorded(tmp_path / "requests.jsonl")
    return [p for row in rows for p in validate_request(str(row["method"]), str(row["path"]), row.get("body"))]


def confirmation(order: dict[str, Any], **extra: Any) -> ShipmentConfirmation:
    values: dict[str, Any] = {
        "reference": "ship-1",
        "carrier": "UPS",
        "service": "Ground",
        "tracking_number": "1Z999AA10123456784",
        "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
    }
    values.update(extra)
    lines = tuple(ConfirmedLine(line["uid"], int(line["quantity"])) for line in order["line_items"])
    return ShipmentConfirmation(
        order_ref=order["id"], lines=lines, shipped_at=datetime(2026, 3, 2, 16, tzinfo=UTC), **values
    )


def web_order(w: World) -> dict[str, Any]:
    return w.emu.online_order(w.main, [("TEE-RED-M", 1), ("MUG-BLUE", 2)], RECIPIENT)


def shipment(w: World, order_id: str) -> dict[str, Any]:
    fulfillment: dict[str, Any] = w.emu.state.orders[order_id]["fulfillments"][0]
    return fulfillment


def test_the_connector_is_a_shipment_confirmer() -> None:
    assert issubclass(SquareConnector, ShipmentConfirmer)


def test_details_fill_only_the_writable_fields_within_squares_limits() -> None:
    order = {"id": "O", "line_items": [{"uid": "L", "quantity": "1"}]}
    details = shipment_details(confirmation(order, carrier="X" * 80, tracking_url=None))
    assert details == {"carrier": "X" * 50, "shipping_type": "Ground", "tracking_number": "1Z999AA10123456784"}
    assert idempotency_key("ship-1", 3) == "ship-1:v3"
    assert len(idempotency_key("r" * 300, 3)) == 64


def test_a_web_order_is_completed_with_its_tracking(tmp_path: Path) -> None:
    world = recorded_world(tmp_path)

    async def scenario(w: World) -> None:
        order = web_order(w)
        result = await w.client.confirm_shipment(confirmation(order))
        fulfillment = shipment(w, order["id"])
        assert (result.accepted, result.duplicate, result.channel_ref) == (True, False, fulfillment["uid"])
        assert fulfillment["state"] == "COMPLETED"
        details = fulfillment["shipment_details"]
        assert (details["carrier"], details["shipping_type"], details["tracking_number"]) == (
            "UPS",
            "Ground",
            "1Z999AA10123456784",
        )
        assert details["tracking_url"].startswith("https://www.ups.com/")
        assert "shipped_at" in details
        assert details["recipient"] == RECIPIENT
        assert w.emu.state.orders[order["id"]]["version"] == 2
        assert w.emu.calls[UPDATE] == 1
        assert [e["type"] for e in w.emu.events[-1:]] == ["order.updated"]

    world.run(scenario)
    assert spec_problems(tmp_path) == []


def test_a_repeat_once_completed_is_a_duplicate_without_a_write(tmp_path: Path) -> None:
    world = recorded_world(tmp_path)

    async def scenario(w: World) -> None:
        order = web_order(w)
        assert (await w.client.confirm_shipment(confirmation(order))).accepted
        again = await w.client.confirm_shipment(confirmation(order))
        assert (again.accepted, again.duplicate, again.message) == (True, True, "")
        other = await w.client.confirm_shipment(confirmation(order, reference="ship-2", tracking_number="1ZOTHER"))
        assert (other.accepted, other.duplicate) == (True, True)
        assert "already completed with tracking number 1Z999AA10123456784" in other.message
        assert w.emu.calls[UPDATE] == 1
        assert w.emu.state.orders[order["id"]]["version"] == 2

    world.run(scenario)
    assert spec_problems(tmp_path) == []


def test_a_stale_version_is_read_again_and_retried_once() -> None:
    world = World()

    async def scenario(w: World) -> None:
        order = web_order(w)
        call = w.client.shipments._call
        moved = 0

        async def staff_accepts_first(method: str, path: str, op: str, *args: Any, **kwargs: Any) -> Any:
            nonlocal moved
            if method == "PUT" and moved == 0:
                moved += 1
                w.emu.set_fulfillment_state(order["id"], "RESERVED")  # staff accepted it in the POS meanwhile
            return await call(method, path, op, *args, **kwargs)

        w.client.shipments._call = staff_accepts_first
        result = await w.client.confirm_shipment(confirmation(order))
        assert (result.accepted, result.duplicate) == (True, False)
        assert w.emu.calls[UPDATE] == 2
        assert shipment(w, order["id"])["state"] == "COMPLETED"
        assert w.emu.state.orders[order["id"]]["version"] == 3

    world.run(scenario)


def test_an_order_that_keeps_changing_raises_retriable() -> None:
    world = World()

    async def scenario(w: World) -> None:
        order = web_order(w)
        call = w.client.shipments._call

        async def always_moved(method: str, path: str, op: str, *args: Any, **kwargs: Any) -> Any:
            if method == "PUT":
                w.emu.state.orders[order["id"]]["version"] += 1
            return await call(method, path, op, *args, **kwargs)

        w.client.shipments._call = always_moved
        with pytest.raises(RetriableConnectorError, match="kept changing"):
            await w.client.confirm_shipment(confirmation(order))
        assert shipment(w, order["id"])["state"] == "PROPOSED"

    world.run(scenario)


def test_a_pos_sale_has_nothing_to_confirm() -> None:
    world = World()

    async def scenario(w: World) -> None:
        sale = w.emu.pos_sale(w.main, [("TEE-RED-M", 1)])
        result = await w.client.confirm_shipment(confirmation(sale))
        assert not result.accepted
        assert "no open SHIPMENT fulfillment" in result.message
        assert w.emu.calls[UPDATE] == 0

    world.run(scenario)


def test_refusals_are_results_with_squares_reason() -> None:
    world = World()

    async def scenario(w: World) -> None:
        order = web_order(w)
        unknown_line = await w.client.confirm_shipment(
            ShipmentConfirmation("ship-1", order["id"], (ConfirmedLine("NOPE", 1),), datetime(2026, 3, 2, tzinfo=UTC))
        )
        missing = await w.client.confirm_shipment(confirmation({**order, "id": "NO-SUCH-ORDER"}))
        cancelled_order = web_order(w)
        w.emu.set_order_state(cancelled_order["id"], "CANCELED")
        cancelled = await w.client.confirm_shipment(confirmation(cancelled_order))
        assert (unknown_line.accepted, missing.accepted, cancelled.accepted) == (False, False, False)
        assert "has no line item NOPE" in unknown_line.message
        assert "Square has no order NO-SUCH-ORDER" in missing.message
        assert "is CANCELED" in cancelled.message
        assert w.emu.calls[UPDATE] == 0

    world.run(scenario)
