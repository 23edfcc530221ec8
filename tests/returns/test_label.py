"""A return label bought through EasyPost (its emulator): ``is_return``, addresses swapped, stored on the return."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from returns_support import ACTOR, TEE, World, world

from connectors.easypost.emulator import EasyPostEmulator
from connectors.easypost.emulator.inprocess import connect
from omnibridge.models import Address, Location, LocationType
from omnibridge.returns.labels import buy_return_label
from omnibridge.sdk.carrier import CarrierQuote, ShipmentRequest
from omnibridge.shipping import ShippingError, ShippingService, load_tracking_map
from omnibridge.store import Store

pytestmark = pytest.mark.anyio
SPEC = Path("/work/shared/specs/easypost/shipments-create.json")
WAREHOUSE = Address(line1="417 Montgomery St", city="San Francisco", region="CA", postal_code="94104", country="US")
CUSTOMER = Address(
    name="Ada Lovelace", line1="179 N Harbor Dr", city="Redondo Beach", region="CA", postal_code="90277", country="US"
)


async def test_a_return_label_goes_from_the_customer_back_to_the_warehouse_once(store: Store) -> None:
    w = shipped_to_a_customer(store)
    rid = w.service.create("web:1001", [(TEE, 1)], reason="too small", by_post=True, actor=ACTOR).id
    emu = EasyPostEmulator()
    connector = connect(emu)
    shipping = ShippingService(store, connector, load_tracking_map())
    try:
        rma = await buy_return_label(w.service, shipping, rid, actor=ACTOR)
        again = await buy_return_label(w.service, shipping, rid, actor=ACTOR)
    finally:
        await connector.aclose()
    vendor = next(iter(emu.state.shipments.values()))
    assert len(emu.state.shipments) == 1
    assert emu.labels_bought(vendor["id"]) == 1
    assert vendor["is_return"] is True
    assert (vendor["from_address"]["street1"], vendor["to_address"]["street1"]) == (
        "179 N Harbor Dr",
        "417 Montgomery St",
    )
    assert rma.tracking_number == vendor["tracking_code"]
    assert (rma.label_url, again.tracking_number) == (vendor["postage_label"]["label_url"], rma.tracking_number)
    assert store.get_shipment(f"{rid}:label") is not None
    if SPEC.exists():  # the field as EasyPost names it
        assert "is_return" in json.loads(SPEC.read_text())


def shipped_to_a_customer(store: Store) -> World:
    w = world(store)
    store.upsert_location(Location(id="wh", name="Warehouse", type=LocationType.WAREHOUSE, address=WAREHOUSE))
    order = store.get_order("web:1001")
    assert order is not None
    store.save_order(order.model_copy(update={"ship_to": CUSTOMER}))
    return w


class RecordingCarrier:
    """A carrier connector without return labels (like karrio's): records what it is asked to rate, buys nothing."""

    def __init__(self) -> None:
        self.requests: list[ShipmentRequest] = []

    async def quote(self, request: ShipmentRequest) -> CarrierQuote:
        self.requests.append(request)
        raise ShippingError("recorded")

    async def aclose(self) -> None:
        return None


async def test_a_carrier_without_return_labels_gets_the_addresses_swapped(store: Store) -> None:
    w = shipped_to_a_customer(store)
    rid = w.service.create("web:1001", [(TEE, 1)], reason="too small", by_post=True, actor=ACTOR).id
    carrier = RecordingCarrier()
    shipping = ShippingService(store, carrier, load_tracking_map())  # type: ignore[arg-type]
    with pytest.raises(ShippingError, match="recorded"):
        await buy_return_label(w.service, shipping, rid, actor=ACTOR)
    sent = carrier.requests[0]
    assert (sent.from_address.street1, sent.to_address.street1, sent.is_return) == (
        "179 N Harbor Dr",
        "417 Montgomery St",
        False,
    )
