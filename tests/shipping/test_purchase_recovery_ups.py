"""A UPS label purchase (through karrio, against the UPS emulator) whose outcome is unknown is never bought
again by a new process: ShippingService stops and asks a person, and ``resolve`` settles it. Real store (SQLite,
and PostgreSQL through the ``store`` fixture)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal

import pytest

pytest.importorskip("karrio.mappers.ups", reason="karrio.ups is not installed (./dev setup installs it)")

from connectors.karrio.client import KarrioCarrierConnector
from connectors.karrio.conformance import CLIENT_ID, CLIENT_SECRET, UpsHarness
from connectors.karrio.emulators.ups import UpsEmulator
from omnibridge.errors import ConflictError, FatalConnectorError, RetriableConnectorError
from omnibridge.models import Address, Location, LocationType, Money, Shipment, ShipmentLine, TrackingStatus
from omnibridge.sdk import WebhookDelivery
from omnibridge.sdk.carrier import CarrierQuote, Label, Parcel, ShipmentRequest, TrackingUpdate
from omnibridge.sdk.emulator import run_server
from omnibridge.shipping import ShippingService, load_tracking_map, shipment_id_for
from omnibridge.shipping.service import PurchaseUnsettledError
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
PARCEL = Parcel(weight_oz=Decimal("20"), length_in=Decimal("10"), width_in=Decimal("6"), height_in=Decimal("4"))
SID = shipment_id_for("ord-1", "wh-sf", LINES)
UNSETTLED = (
    rf"the label purchase for shipment {SID} \(UPS, vendor shipment kr1\.\S+, started \S+\) may have gone "
    rf"through.*: check the carrier account; then run `omnibridge shipments resolve {SID} --bought TRACKING` "
    r"or `--not-bought`"
)


@dataclass
class Ups:
    emu: UpsEmulator
    url: str

    def connector(self) -> KarrioCarrierConnector:
        """A new connector, as a new process (a CLI run, a restarted daemon) builds it."""
        harness = UpsHarness()
        assert harness.spec.factory is not None
        connector = harness.spec.factory(harness.make_settings(self.url))
        assert isinstance(connector, KarrioCarrierConnector)
        return connector

    def labels(self) -> int:
        return self.emu.labels_by_reference[SID]

    def tracking_code(self) -> str:
        return next(number for number, parcel in self.emu.parcels.items() if parcel.reference == SID)


@pytest.fixture
async def ups(store: Store) -> AsyncIterator[Ups]:
    store.upsert_location(WAREHOUSE)
    emulator = UpsEmulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, account_number=UpsHarness.account_number)
    async with run_server(emulator.app) as server:
        yield Ups(emulator, server.url)


class AfterQuote:
    """The real connector, with ``hook`` run once its quote is done (to script the carrier's next answer)."""

    def __init__(self, inner: KarrioCarrierConnector, hook: Callable[[], None]) -> None:
        self.inner = inner
        self.hook = hook
        self.repeat_purchase_safe = inner.repeat_purchase_safe

    async def quote(self, request: ShipmentRequest) -> CarrierQuote:
        quote = await self.inner.quote(request)
        self.hook()
        return quote

    async def buy_label(self, shipment_ref: str, rate_id: str) -> Label:
        return await self.inner.buy_label(shipment_ref, rate_id)

    async def track(self, tracking_code: str, carrier: str) -> list[TrackingUpdate]:
        return await self.inner.track(tracking_code, carrier)

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str], url: str) -> WebhookDelivery:
        return self.inner.verify_webhook(raw_body, headers, url)

    async def webhook_events(self, delivery: WebhookDelivery) -> list[TrackingUpdate]:
        return await self.inner.webhook_events(delivery)

    async def aclose(self) -> None:
        await self.inner.aclose()


@asynccontextmanager
async def process(
    store: Store, ups: Ups, after_quote: Callable[[], None] | None = None
) -> AsyncIterator[ShippingService]:
    """One process's lifetime: a new ShippingService with a new UPS connector."""
    connector = ups.connector()
    carrier = connector if after_quote is None else AfterQuote(connector, after_quote)
    service = ShippingService(store, carrier, load_tracking_map(), connector_id="ups", tracking_source="ups")
    try:
        yield service
    finally:
        await carrier.aclose()


async def ship(service: ShippingService) -> Shipment:
    return await service.ship("ord-1", "wh-sf", LINES, CUSTOMER, PARCEL)


def state_of(store: Store) -> CarrierShipmentState | None:
    with read_session(store.engine) as session:
        record = get_carrier_shipment(session, SID)
    return None if record is None else record.state


@pytest.mark.anyio
async def test_a_lost_purchase_answer_is_not_bought_again_after_a_restart(store: Store, ups: Ups) -> None:
    ups.emu.lose_next_response()  # UPS sells the label; its answer never arrives
    async with process(store, ups) as first:
        with pytest.raises(PurchaseUnsettledError, match=UNSETTLED) as lost:
            await ship(first)
    assert "may have been bought" in str(lost.value)  # the connector's reason is in the message
    assert isinstance(lost.value.__cause__, FatalConnectorError)
    assert (state_of(store), ups.labels()) == (CarrierShipmentState.BUYING, 1)

    requests = ups.emu.api_requests
    async with process(store, ups) as restarted:  # a new `omnibridge shipments ship`: new process, new connector
        with pytest.raises(PurchaseUnsettledError, match=UNSETTLED) as again:
            await ship(restarted)
        assert (again.value.shipment_id, again.value.carrier) == (SID, "UPS")
        assert again.value.vendor_shipment_id.startswith("kr1.")
        assert ups.emu.api_requests == requests  # UPS was not even asked
        assert ups.labels() == 1

        code = ups.tracking_code()  # what the merchant finds in the UPS account
        cost = Money(amount=Decimal("12.19"), currency="USD")
        resolved = restarted.resolve_bought(SID, code, cost=cost)
        assert (resolved.tracking_number, resolved.carrier, resolved.service, resolved.cost) == (
            code,
            "ups",
            "ups_ground",
            cost,
        )
        assert restarted.resolve_bought(SID, code) == resolved  # repeating it changes nothing
        with pytest.raises(ConflictError, match=f"already has a bought label with tracking {code}"):
            restarted.resolve_bought(SID, "1ZOTHER")
        assert await ship(restarted) == resolved
        assert ups.emu.api_requests == requests  # returned as stored, no API call
        tracked = await restarted.refresh_tracking(SID)  # a label recorded by hand is tracked like any other
    assert state_of(store) is CarrierShipmentState.BOUGHT
    assert [event.status for event in tracked.tracking_history] == [TrackingStatus.PENDING]
    assert ups.labels() == 1


@pytest.mark.anyio
async def test_resolve_not_bought_lets_the_next_ship_buy_exactly_one(store: Store, ups: Ups) -> None:
    # UPS fails the purchase without selling anything (a 503 before processing): omnibridge cannot know that.
    async with process(store, ups, after_quote=lambda: ups.emu.fail_next(503)) as first:
        with pytest.raises(PurchaseUnsettledError, match=UNSETTLED):
            await ship(first)
    assert (state_of(store), ups.labels()) == (CarrierShipmentState.BUYING, 0)

    async with process(store, ups) as restarted:
        with pytest.raises(PurchaseUnsettledError):
            await ship(restarted)
        assert restarted.resolve_not_bought(SID).tracking_number is None  # the account shows no label
        assert state_of(store) is CarrierShipmentState.QUOTED
        assert restarted.resolve_not_bought(SID).tracking_number is None  # nothing to do the second time
        quotes = ups.emu.calls["rate"]
        shipment = await ship(restarted)
        assert await ship(restarted) == shipment
    assert ups.emu.calls["rate"] == quotes  # the stored quote was bought, not a new one
    assert ups.labels() == 1
    assert state_of(store) is CarrierShipmentState.BOUGHT
    assert shipment.tracking_number == ups.tracking_code()


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "error"), [(400, FatalConnectorError), (429, RetriableConnectorError)])
async def test_a_refused_purchase_returns_to_quoted_and_is_offered_again(
    store: Store, ups: Ups, status: int, error: type[Exception]
) -> None:
    async with process(store, ups, after_quote=lambda: ups.emu.fail_next(status)) as service:
        with pytest.raises(error) as refused:  # UPS answers the purchase with an error: nothing sold
            await ship(service)
        assert not isinstance(refused.value, PurchaseUnsettledError)
        assert (state_of(store), ups.labels()) == (CarrierShipmentState.QUOTED, 0)
        shipment = await ship(service)  # the merchant's retry, in the same process, buys it
    assert ups.labels() == 1
    assert shipment.tracking_number == ups.tracking_code()
