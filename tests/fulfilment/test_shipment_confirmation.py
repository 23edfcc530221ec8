"""A label bought for a routed order enqueues its confirmation on the order's channel, in the transaction that
stores the label, and marks the assignment shipped; an order never routed is left alone."""

from __future__ import annotations

from decimal import Decimal

import pytest
from support import TickingClock

from connectors.easypost.emulator import EasyPostEmulator
from connectors.easypost.emulator.inprocess import connect
from fulfilment.fakes import SalesChannel, add_assignment, place_order, runtime, seed
from omnibridge.fulfilment import assignments, queue
from omnibridge.models import Address, Location, LocationType, ShipmentLine
from omnibridge.sdk.carrier import Parcel
from omnibridge.shipping import ShippingService, load_tracking_map
from omnibridge.store import Store

pytestmark = pytest.mark.anyio

ORDER = "web:1001"
SHOP = Location(
    id="shop",
    name="SF Shop",
    type=LocationType.STORE,
    address=Address(line1="417 Montgomery St", city="San Francisco", region="CA", postal_code="94104", country="US"),
)
CUSTOMER = Address(
    name="Ada Lovelace", line1="179 N Harbor Dr", city="Redondo Beach", region="CA", postal_code="90277", country="US"
)
LINES = [ShipmentLine(sku="A", quantity=2, order_line_id="L1")]
PARCEL = Parcel(weight_oz=Decimal("40"))


@pytest.fixture
def shipping(store: Store, clock: TickingClock) -> ShippingService:
    seed(store)
    store.upsert_location(SHOP)
    place_order(store, runtime("web", SalesChannel(["W"]), {"W": "wh"}))
    return ShippingService(
        store, connect(EasyPostEmulator()), load_tracking_map(), connector_id="easypost", clock=clock
    )


def _tasks(store: Store) -> list[queue.TaskView]:
    with store.unit_of_work() as uow:
        return queue.list_tasks(uow.session)


async def test_a_label_for_a_routed_order_enqueues_its_confirmation(store: Store, shipping: ShippingService) -> None:
    assignment = add_assignment(store, ORDER, "shop")
    shipment = await shipping.ship(ORDER, "shop", LINES, CUSTOMER, PARCEL)
    await shipping.ship(ORDER, "shop", LINES, CUSTOMER, PARCEL)  # a repeat returns the stored label
    (task,) = _tasks(store)
    assert (task.id, task.kind, task.channel, task.status) == (f"confirm:{shipment.id}", "confirm", "web", "pending")
    with store.unit_of_work() as uow:
        found = assignments.get(uow.session, assignment)
    assert found is not None
    assert found.status == "shipped"


async def test_the_confirmation_payload_names_channel_lines_and_tracking(
    store: Store, shipping: ShippingService
) -> None:
    add_assignment(store, ORDER, "shop")
    shipment = await shipping.ship(ORDER, "shop", LINES, CUSTOMER, PARCEL)
    with store.unit_of_work() as uow:
        claimed = queue.claim(uow.session, f"confirm:{shipment.id}", uow.now(), uow.now())
    assert claimed is not None
    payload = claimed.task.payload
    assert payload["order_ref"] == "1001"
    assert payload["lines"] == [{"line_ref": "L1", "quantity": 2}]
    assert (payload["location_id"], payload["tracking_number"]) == ("shop", shipment.tracking_number)
    assert payload["carrier"] == "USPS"
    assert payload["service"] == shipment.service


async def test_a_label_for_an_order_never_routed_confirms_nothing(store: Store, shipping: ShippingService) -> None:
    await shipping.ship(ORDER, "shop", LINES, CUSTOMER, PARCEL)
    assert _tasks(store) == []
