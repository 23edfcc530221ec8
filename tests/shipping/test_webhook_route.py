"""EasyPost webhooks through the daemon's receiver (``POST /webhooks/<carrier channel>``) into shipments' tracking:
the real connector and emulator, the daemon's app and worker, a SQLite store in tmp_path."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from connectors.easypost.emulator import EasyPostEmulator
from connectors.easypost.emulator.inprocess import connect, signed_deliveries
from connectors.easypost.webhooks import SIGNATURE_HEADER, sign
from omnibridge.daemon.app import daemon_app
from omnibridge.daemon.jobs import JobRunner
from omnibridge.daemon.metrics import Counter, Gauge
from omnibridge.daemon.schedule import JobQueue
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.daemon.worker import Worker
from omnibridge.models import Address, Location, LocationType, Shipment, ShipmentLine, TrackingStatus
from omnibridge.sdk.carrier import Parcel
from omnibridge.shipping import ShippingService, load_tracking_map
from omnibridge.shipping.runtime import CarrierChannel, CarrierRuntime
from omnibridge.store import InboxStatus, Store, open_store
from omnibridge.sync import SyncEngine

pytestmark = pytest.mark.anyio

CHANNEL = "parcels"
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


class SteppingClock:
    """One minute further at every reading: each tracking step gets its own timestamp."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@dataclass
class Scraped:
    metrics: DaemonMetrics
    text: str

    def value(self, name: str, **labels: str) -> float:
        assert f"\n{name}" in self.text or self.text.startswith(name), f"{name} is not exported"
        metric = self.metrics.registry.get(name)
        assert isinstance(metric, Counter | Gauge), name
        return metric.value(**labels)


@dataclass
class Route:
    client: httpx.AsyncClient
    store: Store
    emu: EasyPostEmulator
    service: ShippingService
    engine: SyncEngine
    worker: Worker
    daemon_metrics: DaemonMetrics
    woken: list[int]

    async def post(self, headers: dict[str, str], body: bytes, channel: str = CHANNEL) -> httpx.Response:
        return await self.client.post(f"/webhooks/{channel}", content=body, headers=headers)

    async def metrics(self) -> Scraped:
        response = await self.client.get("/metrics")  # a scrape refreshes what is read at scrape time
        assert response.status_code == 200
        return Scraped(self.daemon_metrics, response.text)

    async def ship(self, order_id: str = "ord-1") -> Shipment:
        shipment = await self.service.ship(order_id, WAREHOUSE.id, LINES, CUSTOMER, PARCEL)
        assert shipment.tracking_number is not None
        return shipment

    def stored(self, shipment_id: str) -> Shipment:
        shipment = self.store.get_shipment(shipment_id)
        assert shipment is not None
        return shipment


@pytest.fixture
async def route(tmp_path: Path) -> AsyncIterator[Route]:
    with open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}") as store:
        store.upsert_location(WAREHOUSE)
        emu = EasyPostEmulator(clock=SteppingClock())  # no webhook URL: deliveries are kept for the test to post
        connector = connect(emu)
        service = ShippingService(
            store, connector, load_tracking_map(), connector_id=CHANNEL, tracking_source="easypost"
        )
        carriers = CarrierRuntime(store, [CarrierChannel(CHANNEL, connector, service)])
        engine = SyncEngine(store, [], foreign_channels=carriers.channels)
        state, metrics = DaemonState(()), DaemonMetrics()
        worker = Worker(engine, JobQueue(), JobRunner(engine, state, metrics, carriers), metrics, carriers=carriers)
        woken: list[int] = []
        app = daemon_app(engine, state, metrics, on_stored=lambda: woken.append(1), carriers=carriers)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon") as client:
            yield Route(client, store, emu, service, engine, worker, metrics, woken)
        await carriers.aclose()


async def test_a_signed_tracker_update_lands_on_the_shipment_with_its_canonical_status(route: Route) -> None:
    shipment = await route.ship()
    assert shipment.tracking_number is not None
    route.emu.advance_tracking(shipment.tracking_number)
    route.emu.advance_tracking(shipment.tracking_number)
    deliveries = signed_deliveries(route.emu)  # tracker.created, then two tracker.updated
    answers = [await route.post(headers, body) for headers, body in deliveries]
    assert [(a.status_code, a.json()["status"]) for a in answers] == [(200, "stored")] * 3
    assert route.woken == [1, 1, 1]
    assert route.stored(shipment.id).tracking_history == []  # acknowledged first, applied by the worker

    assert await route.worker.inbox_pass() == 3
    stored = route.stored(shipment.id)
    assert [e.status for e in stored.tracking_history] == [TrackingStatus.PENDING, TrackingStatus.IN_TRANSIT]
    assert [e.carrier_status for e in stored.tracking_history] == ["pre_transit", "in_transit"]
    assert stored.status is TrackingStatus.IN_TRANSIT
    assert [e.status for e in route.store.inbox()] == [InboxStatus.DONE] * 3

    scraped = await route.metrics()
    assert scraped.value("omnibridge_webhooks_received_total", channel=CHANNEL) == 3
    assert scraped.value("omnibridge_carrier_processed_total", channel=CHANNEL) == 3
    assert scraped.value("omnibridge_carrier_tracking_events_total", channel=CHANNEL) == 2
    assert scraped.value("omnibridge_carrier_tracking_repeats_total", channel=CHANNEL) == 1  # history repeated
    assert scraped.value("omnibridge_inbox_pending", channel=CHANNEL) == 0
    assert scraped.value("omnibridge_dead_letters_total") == 0


async def test_a_repeated_delivery_is_stored_and_applied_once(route: Route) -> None:
    shipment = await route.ship()
    assert shipment.tracking_number is not None
    route.emu.advance_tracking(shipment.tracking_number)
    headers, body = signed_deliveries(route.emu)[-1]
    first, again = await route.post(headers, body), await route.post(headers, body)
    assert [first.json()["status"], again.json()["status"]] == ["stored", "duplicate"]
    assert len(route.store.inbox()) == 1
    assert await route.worker.inbox_pass() == 1
    late = await route.post(headers, body)  # EasyPost retries after we acknowledged and applied it
    assert (late.status_code, late.json()["status"]) == (200, "duplicate")
    assert await route.worker.inbox_pass() == 0
    assert [e.status for e in route.stored(shipment.id).tracking_history] == [TrackingStatus.PENDING]
    scraped = await route.metrics()
    assert scraped.value("omnibridge_webhooks_duplicates_total", channel=CHANNEL) == 2
    assert scraped.value("omnibridge_carrier_tracking_events_total", channel=CHANNEL) == 1


async def test_a_forged_or_unsigned_delivery_gets_401_and_nothing_is_stored(route: Route) -> None:
    shipment = await route.ship()
    assert shipment.tracking_number is not None
    route.emu.advance_tracking(shipment.tracking_number)
    headers, body = signed_deliveries(route.emu)[-1]
    event = json.loads(body)
    event["result"]["tracking_details"][-1]["status"] = "delivered"
    forged = await route.post(headers, json.dumps(event).encode())
    unsigned = await route.post({k: v for k, v in headers.items() if k != SIGNATURE_HEADER}, body)
    assert (forged.status_code, forged.json()["status"]) == (401, "rejected")
    assert "does not match the body" in forged.json()["message"]
    assert unsigned.status_code == 401
    assert route.woken == []
    assert route.store.inbox() == []
    assert await route.worker.inbox_pass() == 0
    assert route.stored(shipment.id).tracking_history == []
    assert (await route.metrics()).value("omnibridge_webhooks_rejected_total", channel=CHANNEL) == 2


async def test_an_authentic_but_malformed_delivery_is_dead_lettered_naming_the_field(route: Route) -> None:
    secret = route.emu.config.webhook_secret
    body = json.dumps(
        {
            "object": "Event",
            "id": "evt_malformed",
            "description": "tracker.updated",
            "result": {"object": "Tracker", "id": "trk_1", "tracking_code": "EZ1", "carrier": "USPS"},
        }
    ).encode()
    answer = await route.post({SIGNATURE_HEADER: sign(secret, body), "content-type": "application/json"}, body)
    assert (answer.status_code, answer.json()["status"]) == (200, "stored")
    assert await route.worker.inbox_pass() == 0
    [entry] = route.store.inbox()
    assert entry.status is InboxStatus.DEAD
    assert entry.error is not None
    assert "tracking_details" in entry.error
    scraped = await route.metrics()
    assert scraped.value("omnibridge_carrier_dead_total", channel=CHANNEL) == 1
    assert scraped.value("omnibridge_dead_letters_total") == 1
    assert scraped.value("omnibridge_inbox_dead", channel=CHANNEL) == 1


async def test_the_sync_engine_leaves_carrier_deliveries_to_the_carrier_runtime(route: Route) -> None:
    shipment = await route.ship()
    assert shipment.tracking_number is not None
    route.emu.advance_tracking(shipment.tracking_number)
    headers, body = signed_deliveries(route.emu)[-1]
    assert (await route.post(headers, body)).status_code == 200
    await route.engine.process_pending()  # the engine's pass alone: the entry is not its to dead-letter
    assert [e.status for e in route.store.inbox()] == [InboxStatus.PENDING]
    assert await route.worker.inbox_pass() == 1
    assert route.stored(shipment.id).status is TrackingStatus.PENDING
    assert len(route.stored(shipment.id).tracking_history) == 1


async def test_unknown_channels_are_still_404_and_health_lists_the_carrier(route: Route) -> None:
    answer = await route.post({}, b"{}", channel="nowhere")
    assert answer.status_code == 404
    health = await route.client.get("/health")
    assert health.json()["channels"] == [CHANNEL]


async def test_a_carrier_delivery_failing_retriably_waits_its_turn_and_is_dead_after_the_cap(
    route: Route, monkeypatch: pytest.MonkeyPatch
) -> None:
    from omnibridge.errors import RetriableConnectorError
    from omnibridge.sync.inbox_retry import InboxRetry

    shipment = await route.ship()
    assert shipment.tracking_number is not None
    route.emu.advance_tracking(shipment.tracking_number)
    route.emu.advance_tracking(shipment.tracking_number)
    for headers, body in signed_deliveries(route.emu)[-2:]:
        assert (await route.post(headers, body)).status_code == 200
    runtime = route.worker.carriers
    assert runtime is not None
    runtime.retry = InboxRetry(max_attempts=2, first_delay=3600, max_delay=3600)
    channel = runtime.channels[CHANNEL]
    fetched: list[int] = []

    async def down(delivery: object) -> list[object]:
        fetched.append(1)
        raise RetriableConnectorError("easypost is down", connector="easypost", op="webhook_events")

    monkeypatch.setattr(channel.connector, "webhook_events", down)
    assert await runtime.process_pending() == 0
    first, second = route.store.inbox()
    assert (first.status, first.attempts) == (InboxStatus.PENDING, 1)
    assert "easypost is down" in (first.last_error or "")
    assert second.attempts == 0  # held behind the first: tracking is applied in arrival order
    assert await runtime.process_pending() == 0
    assert len(fetched) == 1  # not fetched again before its next try

    monkeypatch.setattr(route.store, "now", lambda: datetime.now(UTC) + timedelta(hours=2))
    assert await runtime.process_pending() == 0
    first, second = route.store.inbox()
    assert first.status is InboxStatus.DEAD
    assert "gave up after 2 attempts" in (first.error or "")
    assert (second.status, second.attempts) == (InboxStatus.PENDING, 1)  # its turn came, and it failed once
