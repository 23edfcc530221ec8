"""ShippingService with the real EasyPost connector and emulator and a real store (SQLite; PostgreSQL when marked)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from connectors.easypost.client import EasyPostConnector
from connectors.easypost.emulator import EasyPostEmulator
from connectors.easypost.emulator.inprocess import connect, signed_deliveries
from omnibridge.errors import ConflictError, WebhookError
from omnibridge.models import Address, Location, LocationType, Money, ShipmentLine, TrackingStatus
from omnibridge.sdk import WebhookDelivery
from omnibridge.sdk.carrier import CarrierQuote, Label, Parcel, ShipmentRequest, TrackingUpdate
from omnibridge.shipping import ShippingError, ShippingService, load_tracking_map, shipment_id_for
from omnibridge.store import Store
from omnibridge.store.carrier_shipments import CarrierShipmentState, get_carrier_shipment
from omnibridge.store.engine import read_session

WAREHOUSE = Location(
    id="wh-sf",
    name="SF Warehouse",
    type=LocationType.WAREHOUSE,
    address=Address(line1="417 Montgomery St", city="San Francisco", region="CA", postal_code="94104", country="US"),
)
CUSTOMER = Address(
    name="Ada Lovelace", line1="179 N Harbor Dr", city="Redondo Beach", region="CA", postal_code="90277", country="US"
)
LINES = [ShipmentLine(sku="TENT-2P", quantity=1, order_line_id="l1")]
PARCEL = Parcel(weight_oz=Decimal("40"), length_in=Decimal("12"), width_in=Decimal("8"), height_in=Decimal("6"))


class Crash(Exception):
    """The process died here."""


class CrashAfterBuy:
    """The real connector, except that the first ``buy_label`` dies after EasyPost applied it (answer never stored)."""

    def __init__(self, inner: EasyPostConnector) -> None:
        self.inner = inner
        self.crashes = 1

    async def quote(self, request: ShipmentRequest) -> CarrierQuote:
        return await self.inner.quote(request)

    async def buy_label(self, shipment_ref: str, rate_id: str) -> Label:
        label = await self.inner.buy_label(shipment_ref, rate_id)
        if self.crashes:
            self.crashes -= 1
            raise Crash("killed between the vendor's answer and our commit")
        return label

    async def track(self, tracking_code: str, carrier: str) -> list[TrackingUpdate]:
        return await self.inner.track(tracking_code, carrier)

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str], url: str) -> WebhookDelivery:
        return self.inner.verify_webhook(raw_body, headers, url)

    async def webhook_events(self, delivery: WebhookDelivery) -> list[TrackingUpdate]:
        return await self.inner.webhook_events(delivery)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Rig:
    emu: EasyPostEmulator
    connector: EasyPostConnector

    def webhooks(self) -> list[tuple[dict[str, str], bytes]]:
        return signed_deliveries(self.emu)


class SteppingClock:
    """Moves one minute per reading: every tracking step gets its own timestamp."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    emu = EasyPostEmulator(clock=SteppingClock())  # no webhook URL: deliveries are kept, not sent
    connector = connect(emu)
    yield Rig(emu, connector)
    await connector.aclose()


@pytest.fixture
def service(store: Store, rig: Rig) -> ShippingService:
    store.upsert_location(WAREHOUSE)
    return ShippingService(store, rig.connector, load_tracking_map())


async def ship(service: ShippingService, order_id: str = "ord-1") -> object:
    return await service.ship(order_id, "wh-sf", LINES, CUSTOMER, PARCEL)


@pytest.mark.anyio
async def test_ship_buys_the_cheapest_label_once_and_stores_it(service: ShippingService, rig: Rig) -> None:
    shipment = await service.ship("ord-1", "wh-sf", LINES, CUSTOMER, PARCEL)
    assert shipment.id == shipment_id_for("ord-1", "wh-sf", LINES)
    vendor = next(iter(rig.emu.state.shipments.values()))
    cheapest = min(vendor["rates"], key=lambda r: Decimal(r["rate"]))
    assert shipment.carrier == cheapest["carrier"].lower()
    assert shipment.service == cheapest["service"]
    assert shipment.cost == Money(amount=Decimal(cheapest["rate"]), currency="USD")
    assert shipment.tracking_number == vendor["tracking_code"]
    assert shipment.label_url == vendor["postage_label"]["label_url"]
    assert shipment.status is TrackingStatus.PENDING
    assert vendor["reference"] == shipment.id
    assert rig.emu.labels_bought(vendor["id"]) == 1
    assert service.store.get_shipment(shipment.id) == shipment
    with read_session(service.store.engine) as session:
        record = get_carrier_shipment(session, shipment.id)
    assert record is not None
    assert (record.state, record.vendor_shipment_id, record.rate_id) == (
        CarrierShipmentState.BOUGHT,
        vendor["id"],
        cheapest["id"],
    )
    assert (record.tracking_code, record.label_url) == (shipment.tracking_number, shipment.label_url)
    requests = rig.emu.answered
    assert await service.ship("ord-1", "wh-sf", LINES, CUSTOMER, PARCEL) == shipment
    assert rig.emu.answered == requests  # once bought, ship() calls nothing


@pytest.mark.anyio
async def test_a_lost_buy_response_still_buys_exactly_one_label(service: ShippingService, rig: Rig) -> None:
    rig.emu.lose_next_response(count=2)  # the quote's answer is lost too: it is simply re-sent
    shipment = await service.ship("ord-1", "wh-sf", LINES, CUSTOMER, PARCEL)
    bought = [sid for sid, count in rig.emu.state.labels_bought.items() if count]
    assert len(bought) == 1
    assert rig.emu.labels_bought(bought[0]) == 1
    assert shipment.tracking_number == rig.emu.state.shipments[bought[0]]["tracking_code"]


@pytest.mark.anyio
async def test_a_crash_between_persist_and_buy_resumes_without_buying_again(store: Store, rig: Rig) -> None:
    store.upsert_location(WAREHOUSE)
    crashing = ShippingService(store, CrashAfterBuy(rig.connector), load_tracking_map())
    with pytest.raises(Crash):
        await crashing.ship("ord-1", "wh-sf", LINES, CUSTOMER, PARCEL)
    sid = shipment_id_for("ord-1", "wh-sf", LINES)
    with read_session(store.engine) as session:
        record = get_carrier_shipment(session, sid)
    assert record is not None
    assert record.state is CarrierShipmentState.BUYING  # the attempt was committed before the buy; outcome unknown
    saved = store.get_shipment(sid)
    assert saved is not None
    assert saved.tracking_number is None

    restarted = ShippingService(store, rig.connector, load_tracking_map())
    shipment = await restarted.ship("ord-1", "wh-sf", LINES, CUSTOMER, PARCEL)
    assert rig.emu.calls["POST /v2/shipments"] == 1  # not quoted again
    assert rig.emu.labels_bought(record.vendor_shipment_id) == 1  # the resume met SHIPMENT.POSTAGE.EXISTS
    assert rig.emu.calls["POST /v2/shipments/{id}/buy"] == 2  # EasyPost is repeat_purchase_safe: it bought again
    assert shipment.tracking_number == rig.emu.state.shipments[record.vendor_shipment_id]["tracking_code"]


class QuoteTogether(CrashAfterBuy):
    """The real connector, except that two ``quote`` calls wait for each other: two ship() calls interleave."""

    def __init__(self, inner: EasyPostConnector) -> None:
        super().__init__(inner)
        self.crashes = 0
        self.barrier = asyncio.Barrier(2)

    async def quote(self, request: ShipmentRequest) -> CarrierQuote:
        quote = await self.inner.quote(request)
        await self.barrier.wait()
        return quote


@pytest.mark.anyio
async def test_concurrent_ship_calls_buy_one_label(store: Store, rig: Rig) -> None:
    store.upsert_location(WAREHOUSE)
    service = ShippingService(store, QuoteTogether(rig.connector), load_tracking_map())
    first, second = await asyncio.gather(
        service.ship("ord-1", "wh-sf", LINES, CUSTOMER, PARCEL), service.ship("ord-1", "wh-sf", LINES, CUSTOMER, PARCEL)
    )
    assert first == second
    assert len(rig.emu.state.shipments) == 2  # both quoted; the quote persisted second was abandoned unbought
    assert rig.emu.state.labels_bought.total() == 1


@pytest.mark.anyio
async def test_tracking_webhooks_become_canonical_events_once(service: ShippingService, rig: Rig) -> None:
    shipment = await service.ship("ord-1", "wh-sf", LINES, CUSTOMER, PARCEL)
    assert shipment.tracking_number is not None
    for _ in range(4):
        rig.emu.advance_tracking(shipment.tracking_number)
    results = [await service.receive_webhook(body, headers) for headers, body in rig.webhooks()]
    assert [r.applied for r in results] == [0, 1, 1, 1, 1]  # tracker.created has no events yet; each update adds one
    assert [r.duplicates for r in results] == [0, 0, 1, 2, 3]  # each Event repeats the history already applied
    stored = service.store.get_shipment(shipment.id)
    assert stored is not None
    assert [e.status for e in stored.tracking_history] == [
        TrackingStatus.PENDING,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.DELIVERED,
    ]
    assert [e.carrier_status for e in stored.tracking_history][-1] == "delivered"
    assert stored.status is TrackingStatus.DELIVERED
    headers, body = rig.webhooks()[-1]
    again = await service.receive_webhook(body, headers)  # EasyPost delivers at least once
    assert (again.applied, again.duplicates) == (0, 4)


@pytest.mark.anyio
async def test_polling_maps_statuses_and_agrees_with_webhooks(service: ShippingService, rig: Rig) -> None:
    shipment = await service.ship("ord-1", "wh-sf", LINES, CUSTOMER, PARCEL)
    assert shipment.tracking_number is not None
    rig.emu.advance_tracking(shipment.tracking_number)
    rig.emu.advance_tracking(shipment.tracking_number)
    refreshed = await service.refresh_tracking(shipment.id)
    assert [e.status for e in refreshed.tracking_history] == [TrackingStatus.PENDING, TrackingStatus.IN_TRANSIT]
    assert refreshed.status is TrackingStatus.IN_TRANSIT
    headers, body = rig.webhooks()[-1]
    late = await service.receive_webhook(body, headers)  # the webhook for what the poll already saw
    assert (late.applied, late.duplicates) == (0, 2)


@pytest.mark.anyio
async def test_a_forged_webhook_is_refused_and_applies_nothing(service: ShippingService, rig: Rig) -> None:
    shipment = await service.ship("ord-1", "wh-sf", LINES, CUSTOMER, PARCEL)
    assert shipment.tracking_number is not None
    rig.emu.advance_tracking(shipment.tracking_number)
    headers, body = rig.webhooks()[-1]
    event = json.loads(body)
    event["result"]["tracking_details"][-1]["status"] = "delivered"
    forged = json.dumps(event).encode()
    with pytest.raises(WebhookError):
        await service.receive_webhook(forged, headers)
    stored = service.store.get_shipment(shipment.id)
    assert stored is not None
    assert stored.tracking_history == []


@pytest.mark.anyio
async def test_updates_for_unknown_tracking_codes_are_reported_not_applied(service: ShippingService, rig: Rig) -> None:
    updates = await rig.connector.track("EZ4000000004", "USPS")
    result = await service.apply_tracking(updates)
    assert (result.applied, result.unmatched) == (0, ("EZ4000000004",) * 4)


@pytest.mark.anyio
async def test_bad_input_names_what_is_wrong(service: ShippingService, rig: Rig) -> None:
    with pytest.raises(ShippingError, match="to_address is missing line1, postal_code"):
        await service.ship("ord-1", "wh-sf", LINES, Address(name="Ada", city="X", country="US"), PARCEL)
    with pytest.raises(ShippingError, match="unknown location 'nowhere'"):
        await service.ship("ord-1", "nowhere", LINES, CUSTOMER, PARCEL)
    with pytest.raises(ShippingError, match="has no bought label"):
        await service.refresh_tracking("shp-unknown")
    await service.ship("ord-1", "wh-sf", LINES, CUSTOMER, PARCEL, shipment_id="shp-1")
    with pytest.raises(ConflictError, match="belongs to order 'ord-1'"):
        await service.ship("ord-2", "wh-sf", LINES, CUSTOMER, PARCEL, shipment_id="shp-1")
    assert rig.emu.state.labels_bought.total() == 1


def test_the_migration_creates_the_carrier_tables(store: Store) -> None:
    """Runs on SQLite and, marked ``postgres`` by the ``store`` fixture, on PostgreSQL."""
    inspector = sa.inspect(store.engine)
    columns = {c["name"] for c in inspector.get_columns("carrier_shipments")}
    assert columns >= {"shipment_id", "connector", "vendor_shipment_id", "rate_id", "state", "tracking_code"}
    assert {c["name"] for c in inspector.get_columns("carrier_tracking_refs")} == {
        "connector",
        "ref",
        "shipment_id",
        "applied_at",
    }
