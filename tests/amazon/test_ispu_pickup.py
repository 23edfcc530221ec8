"""Amazon in-store pickup (ISPU): orders flagged IsISPU come in with their pickup store, and the connector's
``update_pickup`` drives ``updateShipmentStatus`` on the emulator, every request checked against Amazon's model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.amazon import mapper
from connectors.amazon.emulator import AmazonEmulatorConfig
from connectors.amazon.pickup import shipment_status_body
from omnibridge.sdk.channel import OrderEvent, OrderEventKind
from omnibridge.sdk.emulator import read_recorded
from omnibridge.sdk.pickup import PickupState, PickupStatusWriter, PickupUpdate

from .test_client_emulator import EMU_URL, World, world

STORE = "store-boulder-01"


def update(order_id: str, state: PickupState, **extra: Any) -> PickupUpdate:
    return PickupUpdate(reference=f"pickup-1:{state.value}", order_ref=order_id, state=state, **extra)


def pickup_order(w: World, quantity: int = 2) -> str:
    w.emu.control.seed_listing("TENT-1", title="Tent", price="10.00", quantity=20)
    return w.emu.control.create_order("TENT-1", quantity, pickup_at=STORE)


def status_bodies(w: World) -> list[Any]:
    return [row["body"] for row in read_recorded(w.record) if str(row.get("path", "")).endswith("/shipment")]


@pytest.mark.anyio
async def test_the_connector_is_a_pickup_status_writer_for_three_states(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        assert isinstance(w.client, PickupStatusWriter)
        assert w.client.pickup_states == {PickupState.READY, PickupState.COLLECTED, PickupState.REJECTED}


def test_an_ispu_order_maps_to_a_pickup_at_its_supply_source() -> None:
    order = {
        "AmazonOrderId": "111-0000001-0000001",
        "OrderStatus": "Unshipped",
        "FulfillmentChannel": "MFN",
        "LastUpdateDate": "2026-03-02T15:00:00Z",
        "IsISPU": True,
        "FulfillmentInstruction": {"FulfillmentSupplySourceId": STORE},
    }
    item = {"OrderItemId": "OI-1", "SellerSKU": "TENT-1", "QuantityOrdered": 1}
    event = mapper.map_order(order, [item]).value
    assert event is not None
    assert event.pickup is not None
    assert (event.pickup.location_ref, event.pickup.state) == (STORE, PickupState.RESERVED)
    shipped = mapper.map_order({**order, "OrderStatus": "Shipped"}, [item]).value
    assert shipped is not None
    assert shipped.pickup is not None
    assert shipped.pickup.state is PickupState.COLLECTED
    plain = mapper.map_order({**order, "IsISPU": False}, [item]).value
    assert plain is not None
    assert plain.pickup is None
    no_source = mapper.map_order({**order, "FulfillmentInstruction": {}}, [item]).value
    assert no_source is not None
    assert no_source.pickup is not None
    assert no_source.pickup.location_ref is None


def test_the_body_names_items_with_their_quantities_only_when_asked() -> None:
    whole = shipment_status_body(update("1", PickupState.READY), "ATVPDKIKX0DER")
    assert whole == {"marketplaceId": "ATVPDKIKX0DER", "shipmentStatus": "ReadyForPickup"}
    partial = shipment_status_body(update("1", PickupState.COLLECTED, line_refs=("OI-1",)), "M", {"OI-1": 2})
    assert partial["orderItems"] == [{"orderItemId": "OI-1", "quantity": 2}]
    assert shipment_status_body(update("1", PickupState.REJECTED), "M")["shipmentStatus"] == "RefusedPickup"


@pytest.mark.anyio
async def test_a_pickup_order_is_pulled_made_ready_and_collected(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        order_id = pickup_order(w)
        w.time.t += 180  # getOrders answers for windows ending two minutes ago
        pulled = await w.client.pull_events(None)
        events = [e for e in pulled.events if isinstance(e, OrderEvent)]
        assert [(e.ref, e.pickup.location_ref if e.pickup else None) for e in events] == [(order_id, STORE)]
        ready = await w.client.update_pickup(update(order_id, PickupState.READY))
        assert (ready.accepted, ready.duplicate) == (True, False)
        assert w.emu.control.pickup_status(order_id) == "ReadyForPickup"
        again = await w.client.update_pickup(update(order_id, PickupState.READY))
        assert (again.accepted, again.duplicate) == (True, True)
        assert w.emu.control.calls()["updateShipmentStatus"] == 1
        collected = await w.client.update_pickup(update(order_id, PickupState.COLLECTED))
        assert collected.accepted
        assert w.emu.control.pickup_status(order_id) == "PickedUp"
        assert w.emu.control.order(order_id)["OrderStatus"] == "Shipped"
        w.time.t += 180
        later = await w.client.pull_events(pulled.bookmark)
        final = [e for e in later.events if isinstance(e, OrderEvent) and e.ref == order_id]
        assert final[-1].kind is OrderEventKind.COMPLETED
        assert final[-1].pickup is not None
        assert final[-1].pickup.state is PickupState.COLLECTED
        assert [b["shipmentStatus"] for b in status_bodies(w)] == ["ReadyForPickup", "PickedUp"]
        assert w.spec_problems() == []


@pytest.mark.anyio
async def test_a_refused_pickup_cancels_the_order_and_names_items(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        order_id = pickup_order(w, quantity=3)
        item = w.emu.control.order_items(order_id)[0]["OrderItemId"]
        result = await w.client.update_pickup(update(order_id, PickupState.REJECTED, line_refs=(item,)))
        assert result.accepted
        assert w.emu.control.pickup_status(order_id) == "RefusedPickup"
        assert w.emu.control.order(order_id)["OrderStatus"] == "Canceled"
        assert status_bodies(w)[-1]["orderItems"] == [{"orderItemId": item, "quantity": 3}]
        assert w.spec_problems() == []


@pytest.mark.anyio
async def test_refusals_carry_amazons_message_and_unshown_states_send_nothing(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.emu.control.seed_listing("TENT-1", title="Tent", price="10.00", quantity=20)
        shipped_order = w.emu.control.create_order("TENT-1", 1)
        not_ispu = await w.client.update_pickup(update(shipped_order, PickupState.READY))
        assert not not_ispu.accepted
        assert "is not an in-store pickup order" in not_ispu.message
        order_id = pickup_order(w)
        assert (await w.client.update_pickup(update(order_id, PickupState.COLLECTED))).accepted
        too_late = await w.client.update_pickup(update(order_id, PickupState.REJECTED))
        assert not too_late.accepted
        assert "cannot change" in too_late.message
        reserved = await w.client.update_pickup(update(order_id, PickupState.RESERVED))
        assert not reserved.accepted
        assert "Amazon shows no 'reserved' pickup" in reserved.message
        assert w.emu.control.calls()["updateShipmentStatus"] == 3
        assert w.spec_problems() == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"marketplaceId": "ATVPDKIKX0DER", "shipmentStatus": "Collected"}, "'shipmentStatus' 'Collected'"),
        ({"shipmentStatus": "PickedUp"}, "'marketplaceId' must be"),
        (
            {"marketplaceId": "ATVPDKIKX0DER", "shipmentStatus": "PickedUp", "orderItems": [{"orderItemId": "9"}]},
            "OrderItemId 9 is invalid",
        ),
    ],
)
async def test_the_emulator_refuses_a_bad_body_in_amazons_error_shape(
    tmp_path: Path, body: dict[str, Any], message: str
) -> None:
    async with world(tmp_path) as w:
        order_id = pickup_order(w)
        token = w.emu.control.issue_access_token()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=w.emu.app), base_url=EMU_URL) as http:
            answer = await http.post(
                f"/orders/v0/orders/{order_id}/shipment", json=body, headers={"x-amz-access-token": token}
            )
        assert answer.status_code == 400
        [error] = answer.json()["errors"]
        assert error["code"] == "InvalidInput"
        assert message in error["message"]
        assert w.emu.control.pickup_status(order_id) is None


@pytest.mark.anyio
async def test_pickup_updates_keep_to_five_a_second_with_a_burst_of_fifteen(tmp_path: Path) -> None:
    async with world(tmp_path, AmazonEmulatorConfig()) as w:
        w.emu.control.seed_listing("TENT-1", title="Tent", price="10.00", quantity=50)
        orders = [w.emu.control.create_order("TENT-1", 1, pickup_at=STORE) for _ in range(19)]
        slept_before = sum(w.time.slept)
        for order_id in orders:
            assert (await w.client.update_pickup(update(order_id, PickupState.READY))).accepted
        assert w.emu.control.refused_requests() == 0
        waited = sum(w.time.slept) - slept_before
        # fifteen go at once (the full burst), the other four at 5/s
        assert 0.8 <= waited <= 1.0
