"""Shipment confirmation on Amazon: the connector's ``confirm_shipment`` against the emulator (fake clock), every
request checked against Amazon's models; the carrier-code mapping and package reference ids."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.amazon.emulator import AmazonEmulatorConfig
from connectors.amazon.shipments import carrier_fields, confirmation_body, package_reference_id
from omnibridge.sdk.channel import OrderEvent
from omnibridge.sdk.emulator import read_recorded
from omnibridge.sdk.fulfilment import ConfirmedLine, ShipmentConfirmation, ShipmentConfirmer

from .test_client_emulator import World, world

SHIPPED = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


def confirmation(order_id: str, lines: list[tuple[str, int]], **extra: Any) -> ShipmentConfirmation:
    values: dict[str, Any] = {
        "reference": "ship-1",
        "carrier": "UPS",
        "service": "UPS Ground",
        "tracking_number": "1Z999AA10123456784",
    }
    values.update(extra)
    return ShipmentConfirmation(
        order_ref=order_id,
        lines=tuple(ConfirmedLine(line_ref, quantity) for line_ref, quantity in lines),
        shipped_at=SHIPPED,
        **values,
    )


def two_item_order(w: World) -> tuple[str, str, str]:
    for sku in ("TENT-1", "STOVE-2"):
        w.emu.control.seed_listing(sku, title=sku, price="10.00", quantity=5)
    order_id = w.emu.control.create_order(lines=[("TENT-1", 1), ("STOVE-2", 2)])
    first, second = (item["OrderItemId"] for item in w.emu.control.order_items(order_id))
    return order_id, first, second


def confirm_bodies(w: World) -> list[Any]:
    rows = read_recorded(w.record)
    return [row["body"] for row in rows if str(row.get("path", "")).endswith("/shipmentConfirmation")]


def test_the_connector_is_a_shipment_confirmer() -> None:
    from connectors.amazon.client import AmazonConnector

    assert issubclass(AmazonConnector, ShipmentConfirmer)


@pytest.mark.parametrize(
    ("carrier", "expected"),
    [
        ("UPS", {"carrierCode": "UPS", "carrierName": "UPS"}),
        ("FedEx", {"carrierCode": "FedEx", "carrierName": "FedEx"}),
        ("usps", {"carrierCode": "USPS", "carrierName": "usps"}),
        ("DHL Express", {"carrierCode": "DHL", "carrierName": "DHL Express"}),
        ("Purolator", {"carrierCode": "Other", "carrierName": "Purolator"}),
        (None, {"carrierCode": "Other", "carrierName": "Other"}),
    ],
)
def test_carrier_names_map_to_amazon_carrier_codes(carrier: str | None, expected: dict[str, str]) -> None:
    assert carrier_fields(carrier) == expected


def test_package_reference_ids_are_positive_numbers_stable_per_reference() -> None:
    derived = package_reference_id("omnibridge-shipment-42")
    assert derived.isdigit()
    assert int(derived) > 0
    assert package_reference_id("omnibridge-shipment-42") == derived
    assert package_reference_id("omnibridge-shipment-43") != derived
    assert package_reference_id("17") == "17"
    assert package_reference_id("0").isdigit()
    assert package_reference_id("0") != "0"


def test_the_body_names_items_supply_source_and_service() -> None:
    body = confirmation_body(
        confirmation("111-0000001-0000001", [("OI-1", 2)], location_ref="src-1", carrier="Purolator"),
        "ATVPDKIKX0DER",
    )
    package = body["packageDetail"]
    assert body["marketplaceId"] == "ATVPDKIKX0DER"
    assert package["carrierCode"] == "Other"
    assert package["carrierName"] == "Purolator"
    assert package["shipFromSupplySourceId"] == "src-1"
    assert package["shippingMethod"] == "UPS Ground"
    assert package["shipDate"] == "2026-03-02T15:30:00Z"
    assert package["orderItems"] == [{"orderItemId": "OI-1", "quantity": 2}]
    default = confirmation_body(confirmation("111-0000001-0000001", [("OI-1", 2)], location_ref="DEFAULT"), "M")
    assert "shipFromSupplySourceId" not in default["packageDetail"]


@pytest.mark.anyio
async def test_packages_confirm_the_order_until_it_is_shipped(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        order_id, first, second = two_item_order(w)
        source = w.emu.config.supply_source_ids[0]
        one = await w.client.confirm_shipment(confirmation(order_id, [(first, 1)], reference="a", location_ref=source))
        assert one.accepted
        assert not one.duplicate
        assert one.channel_ref == package_reference_id("a")
        assert w.emu.control.order(order_id)["OrderStatus"] == "PartiallyShipped"
        two = await w.client.confirm_shipment(
            confirmation(order_id, [(second, 2)], reference="b", carrier="DHL Express", tracking_number="JD01")
        )
        assert two.accepted
        assert not two.duplicate
        order = w.emu.control.order(order_id)
        assert (order["OrderStatus"], order["NumberOfItemsShipped"], order["NumberOfItemsUnshipped"]) == (
            "Shipped",
            3,
            0,
        )
        bodies = confirm_bodies(w)
        assert [b["packageDetail"]["carrierCode"] for b in bodies] == ["UPS", "DHL"]
        assert bodies[0]["packageDetail"]["shipFromSupplySourceId"] == source
        pulled = await w.client.pull_events(None)
        assert [e.kind.value for e in pulled.events if isinstance(e, OrderEvent)] == ["completed"]
        assert w.spec_problems() == []


@pytest.mark.anyio
async def test_a_repeat_is_a_duplicate_and_sends_no_second_confirmation(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        order_id, first, _ = two_item_order(w)
        shipment = confirmation(order_id, [(first, 1)])
        assert (await w.client.confirm_shipment(shipment)).accepted
        again = await w.client.confirm_shipment(shipment)
        assert again.accepted
        assert again.duplicate
        assert again.channel_ref == package_reference_id("ship-1")
        assert w.emu.control.calls()["confirmShipment"] == 1
        w.client.shipments._confirmed.clear()  # a restarted process: Amazon's packages say it landed
        after_restart = await w.client.confirm_shipment(shipment)
        assert after_restart.accepted
        assert after_restart.duplicate
        assert w.emu.control.calls()["confirmShipment"] == 1
        assert w.emu.control.order_items(order_id)[0]["QuantityShipped"] == 1
        assert w.spec_problems() == []


@pytest.mark.anyio
async def test_the_emulator_takes_a_repeated_package_id_as_an_edit(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        order_id, first, _ = two_item_order(w)
        assert (await w.client.confirm_shipment(confirmation(order_id, [(first, 1)]))).accepted
        w.client.shipments._confirmed.clear()
        edited = await w.client.confirm_shipment(confirmation(order_id, [(first, 1)], tracking_number="1ZNEW"))
        assert edited.accepted
        assert not edited.duplicate
        assert w.emu.control.calls()["confirmShipment"] == 2
        assert w.emu.control.packages(order_id)[package_reference_id("ship-1")]["trackingNumber"] == "1ZNEW"
        assert w.emu.control.order_items(order_id)[0]["QuantityShipped"] == 1  # edited, not shipped twice


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"location_ref": "unknown-source"}, "is not a supply source of this seller"),
        ({"line": "99999999999999"}, "OrderItemId 99999999999999 is invalid"),
        ({"quantity": 5}, "more than the 1 left to ship"),
        ({"tracking_number": None}, "Amazon needs a tracking number"),
    ],
)
async def test_a_refusal_is_a_result_with_amazons_message(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    async with world(tmp_path) as w:
        order_id, first, _ = two_item_order(w)
        line = (str(change.pop("line", first)), int(change.pop("quantity", 1)))
        result = await w.client.confirm_shipment(confirmation(order_id, [line], **change))
        assert not result.accepted
        assert message in result.message
        assert w.emu.control.order(order_id)["OrderStatus"] == "Unshipped"
        assert not w.record.exists() or w.spec_problems() == []


@pytest.mark.anyio
async def test_a_cancelled_or_unknown_order_is_refused(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        order_id, first, _ = two_item_order(w)
        w.emu.control.cancel_order(order_id)
        cancelled = await w.client.confirm_shipment(confirmation(order_id, [(first, 1)]))
        unknown = await w.client.confirm_shipment(confirmation("999-0000000-0000000", [(first, 1)]))
        assert not cancelled.accepted
        assert "Canceled" in cancelled.message
        assert not unknown.accepted
        assert "was not found" in unknown.message


@pytest.mark.anyio
async def test_confirmations_keep_to_two_a_second_with_a_burst_of_ten(tmp_path: Path) -> None:
    async with world(tmp_path, AmazonEmulatorConfig()) as w:
        w.emu.control.seed_listing("TENT-1", title="x", price="10.00", quantity=50)
        orders = [w.emu.control.create_order("TENT-1", 1) for _ in range(14)]
        slept_before = sum(w.time.slept)
        for order_id in orders:
            item = w.emu.control.order_items(order_id)[0]["OrderItemId"]
            assert (await w.client.confirm_shipment(confirmation(order_id, [(item, 1)]))).accepted
        assert w.emu.control.refused_requests() == 0
        assert w.emu.control.calls()["confirmShipment"] == 14
        waited = sum(w.time.slept) - slept_before
        # ten go at once (the full burst), the other four at 2/s
        assert 2.0 <= waited <= 2.5
