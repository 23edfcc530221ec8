"""A label purchase whose outcome is unknown, with EasyPost (the vendor refuses a second purchase, so a restart
simply completes), and the purchase states in the store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from connectors.easypost.client import EasyPostConnector
from connectors.easypost.emulator import EasyPostEmulator
from connectors.easypost.emulator.inprocess import connect
from connectors.easypost.settings import EasyPostSettings
from omnibridge.errors import ConflictError
from omnibridge.models import Address, Location, LocationType, Shipment, ShipmentLine
from omnibridge.sdk import HttpFatalError, HttpRetriableError, RetryPolicy
from omnibridge.sdk.carrier import Label, Parcel, repeat_purchase_safe
from omnibridge.shipping import ShippingError, ShippingService, load_tracking_map, shipment_id_for
from omnibridge.store import Store
from omnibridge.store.carrier_shipments import (
    CarrierShipment,
    CarrierShipmentState,
    get_carrier_shipment,
    insert_carrier_shipment,
    move_carrier_shipment,
)
from omnibridge.store.engine import read_session, write_session
from omnibridge.store.shipments import save_shipment

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
SID = shipment_id_for("ord-1", "wh-sf", LINES)
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def state_of(store: Store, shipment_id: str = SID) -> CarrierShipmentState | None:
    with read_session(store.engine) as session:
        record = get_carrier_shipment(session, shipment_id)
    return None if record is None else record.state


class NetworkDropsAfterBuy(httpx.AsyncBaseTransport):
    """EasyPost applies the purchase; its answer is lost and the network stays down for this process."""

    def __init__(self, emu: EasyPostEmulator) -> None:
        self.inner = httpx.ASGITransport(app=emu.app)
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("network is unreachable", request=request)
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/buy"):
            self.down = True
            raise httpx.ReadTimeout("no answer", request=request)
        return response


async def _no_sleep(seconds: float) -> None:
    """Retries without waiting."""


def settings_for(emu: EasyPostEmulator) -> EasyPostSettings:
    return EasyPostSettings.model_validate(
        {
            "base_url": "http://easypost.emulator/v2",
            "api_key": emu.config.api_key,
            "requests_per_second": 1000.0,
            "burst": 1000,
            "max_attempts": 2,
            "initial_backoff_seconds": 0.0,
        }
    )


def dropping_connector(emu: EasyPostEmulator) -> EasyPostConnector:
    policy = RetryPolicy(max_attempts=2, initial_backoff=0.0, jitter=0.0)
    return EasyPostConnector(
        settings_for(emu), transport=NetworkDropsAfterBuy(emu), retry_policy=policy, sleep=_no_sleep
    )


class RefuseFirstBuy(EasyPostConnector):
    """The real connector; EasyPost answers the first purchase with 402 (nothing bought)."""

    def __init__(self, emu: EasyPostEmulator) -> None:
        super().__init__(settings_for(emu), transport=httpx.ASGITransport(app=emu.app), sleep=_no_sleep)
        self.emu = emu
        self.refuse = True

    async def buy_label(self, shipment_ref: str, rate_id: str) -> Label:
        if self.refuse:
            self.refuse = False
            self.emu.fail_next(402)
        return await super().buy_label(shipment_ref, rate_id)


def test_easypost_declares_a_repeated_purchase_safe() -> None:
    assert repeat_purchase_safe(connect(EasyPostEmulator())) is True
    assert repeat_purchase_safe(object()) is False  # a connector that says nothing is not trusted to repeat


@pytest.mark.anyio
async def test_easypost_completes_a_restart_after_an_unknown_outcome_with_exactly_one_label(store: Store) -> None:
    store.upsert_location(WAREHOUSE)
    emu = EasyPostEmulator()
    dropping = dropping_connector(emu)
    try:
        with pytest.raises(HttpRetriableError):  # the buy's answer lost, then the re-read cannot reach EasyPost
            await ShippingService(store, dropping, load_tracking_map()).ship("ord-1", "wh-sf", LINES, CUSTOMER, PARCEL)
    finally:
        await dropping.aclose()
    assert state_of(store) is CarrierShipmentState.BUYING
    assert emu.state.labels_bought.total() == 1

    restarted_connector = connect(emu)  # a new process: new connector, new service
    try:
        restarted = ShippingService(store, restarted_connector, load_tracking_map())
        shipment = await restarted.ship("ord-1", "wh-sf", LINES, CUSTOMER, PARCEL)
    finally:
        await restarted_connector.aclose()
    (vendor_id,) = [sid for sid, count in emu.state.labels_bought.items() if count]
    assert emu.labels_bought(vendor_id) == 1  # the second purchase met SHIPMENT.POSTAGE.EXISTS
    assert emu.calls["POST /v2/shipments/{id}/buy"] == 2
    assert emu.calls["POST /v2/shipments"] == 1  # not quoted again
    assert shipment.tracking_number == emu.state.shipments[vendor_id]["tracking_code"]
    assert state_of(store) is CarrierShipmentState.BOUGHT


@pytest.mark.anyio
async def test_a_purchase_easypost_refuses_returns_to_quoted_and_is_offered_again(store: Store) -> None:
    store.upsert_location(WAREHOUSE)
    emu = EasyPostEmulator()
    connector = RefuseFirstBuy(emu)
    service = ShippingService(store, connector, load_tracking_map())
    try:
        with pytest.raises(HttpFatalError) as refused:  # e.g. the account's balance cannot pay for postage
            await service.ship("ord-1", "wh-sf", LINES, CUSTOMER, PARCEL)
        assert refused.value.status_code == 402
        assert state_of(store) is CarrierShipmentState.QUOTED
        assert emu.state.labels_bought.total() == 0
        shipment = await service.ship("ord-1", "wh-sf", LINES, CUSTOMER, PARCEL)
    finally:
        await connector.aclose()
    assert shipment.tracking_number
    assert emu.state.labels_bought.total() == 1
    assert emu.calls["POST /v2/shipments"] == 1


def test_purchase_state_transitions_are_compare_and_set(store: Store) -> None:
    """Runs on SQLite and, marked ``postgres`` by the ``store`` fixture, on PostgreSQL."""
    shipment = Shipment(
        id="shp-1", order_id="ord-1", from_location_id="wh-sf", carrier="ups", lines=LINES, created_at=NOW
    )
    quoted = CarrierShipment("shp-1", "ups", "kr1.ref", CarrierShipmentState.QUOTED, NOW, rate_id="ups_ground")
    with write_session(store.engine) as session:
        save_shipment(session, shipment)
        assert insert_carrier_shipment(session, quoted)
    quoted_, buying, bought = CarrierShipmentState.QUOTED, CarrierShipmentState.BUYING, CarrierShipmentState.BOUGHT
    with write_session(store.engine) as session:
        assert move_carrier_shipment(session, "shp-1", quoted_, buying, NOW)
    with write_session(store.engine) as session:
        assert not move_carrier_shipment(session, "shp-1", quoted_, buying, NOW)  # a second process loses
        assert not move_carrier_shipment(session, "shp-404", quoted_, buying, NOW)
    assert state_of(store, "shp-1") is buying  # stored as text: no migration for the new state
    with write_session(store.engine) as session:
        assert move_carrier_shipment(session, "shp-1", buying, quoted_, NOW)
        assert move_carrier_shipment(session, "shp-1", quoted_, buying, NOW)
        assert move_carrier_shipment(session, "shp-1", buying, bought, NOW)
    assert state_of(store, "shp-1") is bought


@pytest.mark.anyio
async def test_resolve_names_what_cannot_be_resolved(store: Store) -> None:
    store.upsert_location(WAREHOUSE)
    connector = connect(EasyPostEmulator())
    service = ShippingService(store, connector, load_tracking_map())
    other = ShippingService(store, connector, load_tracking_map(), connector_id="parcels-eu")
    try:
        with pytest.raises(ShippingError, match="unknown shipment 'shp-nope'"):
            service.resolve_not_bought("shp-nope")
        with pytest.raises(ShippingError, match="needs the label's tracking code"):
            service.resolve_bought("shp-nope", "  ")
        shipment = await service.ship("ord-1", "wh-sf", LINES, CUSTOMER, PARCEL)
        with pytest.raises(ConflictError, match="was made with 'easypost', not 'parcels-eu'"):
            other.resolve_not_bought(SID)
        with pytest.raises(ConflictError, match="cannot be marked not bought"):
            service.resolve_not_bought(SID)
        assert shipment.tracking_number is not None
        assert service.resolve_bought(SID, shipment.tracking_number) == shipment
    finally:
        await connector.aclose()
    bare = Shipment(id="shp-2", order_id="ord-2", from_location_id="wh-sf", carrier="ups", lines=LINES, created_at=NOW)
    with write_session(store.engine) as session:
        save_shipment(session, bare)
    with pytest.raises(ShippingError, match="not made through a carrier channel"):
        service.resolve_not_bought("shp-2")
