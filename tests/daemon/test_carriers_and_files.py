"""Carrier channels and file feeds in the daemon: the tracking refresh job against the EasyPost emulator, the export
job, file-feed polling, their schedule, the carrier runtime built from a profile, and all of it in a serving daemon."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import httpx
import pytest

from connectors.easypost.client import EasyPostConnector
from connectors.easypost.emulator import EasyPostEmulator
from connectors.easypost.emulator.inprocess import connect, signed_deliveries
from connectors.files import connector as files_spec
from connectors.files.client import FilesConnector
from connectors.files.settings import FilesSettings
from omnibridge.config import LoadedChannel, MappingTables, load_profile
from omnibridge.daemon.jobs import JobRunner
from omnibridge.daemon.schedule import EXPORT, POLL, TRACKING_REFRESH, Job, JobQueue, ScheduleOptions, build_scheduler
from omnibridge.daemon.service import Daemon, DaemonOptions
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.models import (
    Address,
    Location,
    LocationType,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Shipment,
    ShipmentLine,
    TrackingStatus,
    Variant,
)
from omnibridge.sdk.carrier import Parcel
from omnibridge.sdk.emulator import free_port
from omnibridge.shipping import ShippingService, load_tracking_map
from omnibridge.shipping.runtime import CarrierChannel, CarrierRuntime, open_shipments
from omnibridge.store import Store, open_store
from omnibridge.sync import ChannelRuntime, SyncEngine, build_channels

from .fakes import FakeConnector, runtime
from .promtext import Exposition, parse

pytestmark = pytest.mark.anyio
GUARD_S = 30.0
"""Only a guard against hangs; nothing asserts on time."""
CARRIER, FEED = "parcels", "erp"
OLD = 1_700_000_000.0
WAREHOUSE = Location(
    id="wh",
    name="Warehouse",
    type=LocationType.WAREHOUSE,
    address=Address(line1="417 Montgomery St", city="San Francisco", region="CA", postal_code="94104", country="US"),
)
CUSTOMER = Address(
    name="Ada Lovelace", line1="179 N Harbor Dr", city="Redondo Beach", region="CA", postal_code="90277", country="US"
)
PARCEL = Parcel(weight_oz=Decimal("40"))


def files_channel(root: Path) -> ChannelRuntime:
    """A file feed (channel ``erp``) whose ERP calls the warehouse ``WH-01``."""
    (root / "inbox").mkdir(parents=True, exist_ok=True)
    settings = FilesSettings.model_validate(
        {"inbox": root / "inbox", "outbox": root / "outbox", "locations": ["WH-01"], "export_format": "json"}
    )
    loaded = LoadedChannel(
        id=FEED,
        connector="files",
        spec=files_spec,
        settings=settings,
        profile_path=root / "files.yaml",
        mappings=MappingTables(location_map=MappingProxyType({"WH-01": WAREHOUSE.id})),
    )
    return ChannelRuntime(FEED, FilesConnector(settings), loaded)


@dataclass
class Rig:
    store: Store
    root: Path
    emu: EasyPostEmulator
    carriers: CarrierRuntime
    engine: SyncEngine
    runner: JobRunner
    metrics: DaemonMetrics

    @property
    def service(self) -> ShippingService:
        return self.carriers.channels[CARRIER].service

    async def ship(self, order_id: str) -> Shipment:
        lines = [ShipmentLine(sku="TENT", quantity=1, order_line_id="1")]
        shipment = await self.service.ship(order_id, WAREHOUSE.id, lines, CUSTOMER, PARCEL)
        assert shipment.tracking_number is not None
        return shipment

    def stored(self, shipment_id: str) -> Shipment:
        shipment = self.store.get_shipment(shipment_id)
        assert shipment is not None
        return shipment

    def scraped(self) -> Exposition:
        self.metrics.collect(self.engine, self.runner.state, ready=True, queue_depth=0, carriers=self.carriers)
        return parse(self.metrics.registry.render())


@asynccontextmanager
async def rigged(store: Store, root: Path) -> AsyncIterator[Rig]:
    store.upsert_location(WAREHOUSE)
    store.upsert_product(Product(id="P", title="Tent", variants=[Variant(sku="TENT", product_id="P")]))
    emu = EasyPostEmulator()  # no webhook URL: deliveries are kept for the test to post
    connector = connect(emu)
    service = ShippingService(store, connector, load_tracking_map(), connector_id=CARRIER, tracking_source="easypost")
    carriers = CarrierRuntime(store, [CarrierChannel(CARRIER, connector, service)])
    engine = SyncEngine(store, [files_channel(root)], foreign_channels=carriers.channels)
    metrics = DaemonMetrics()
    runner = JobRunner(engine, DaemonState(tuple(engine.channels)), metrics, carriers)
    try:
        yield Rig(store, root, emu, carriers, engine, runner, metrics)
    finally:
        await carriers.aclose()
        await engine.aclose()


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    with open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}") as store:
        async with rigged(store, tmp_path) as made:
            yield made


async def test_the_tracking_job_refreshes_open_shipments_from_the_emulator(store: Store, tmp_path: Path) -> None:
    """Runs on SQLite and, marked ``postgres`` by the ``store`` fixture, on PostgreSQL (it queries open shipments)."""
    async with rigged(store, tmp_path) as rig:
        done, moving = await rig.ship("ord-1"), await rig.ship("ord-2")
        assert done.tracking_number is not None
        assert moving.tracking_number is not None
        for _ in range(4):
            rig.emu.advance_tracking(done.tracking_number)
        rig.emu.advance_tracking(moving.tracking_number)
        assert open_shipments(store, CARRIER, datetime.now(UTC) - timedelta(days=1)) == sorted([done.id, moving.id])

        assert await rig.runner.run(Job(TRACKING_REFRESH, CARRIER)) == "ok"
        assert rig.stored(done.id).status is TrackingStatus.DELIVERED
        assert len(rig.stored(done.id).tracking_history) == 4
        assert [e.status for e in rig.stored(moving.id).tracking_history] == [TrackingStatus.PENDING]
        assert open_shipments(store, CARRIER, datetime.now(UTC) - timedelta(days=1)) == [moving.id]  # delivered: done
        assert open_shipments(store, CARRIER, datetime.now(UTC) + timedelta(minutes=1)) == []  # past the window

        rig.emu.advance_tracking(moving.tracking_number)
        assert await rig.runner.run(Job(TRACKING_REFRESH, CARRIER)) == "ok"
        assert rig.stored(moving.id).status is TrackingStatus.IN_TRANSIT
        assert len(rig.stored(done.id).tracking_history) == 4

        scraped = rig.scraped()
        assert scraped.value("omnibridge_job_runs_total", job=TRACKING_REFRESH, outcome="ok") == 2
        assert scraped.value("omnibridge_carrier_refreshed_total", channel=CARRIER) == 3  # ord-1 once, ord-2 twice
        assert scraped.value("omnibridge_carrier_refresh_events_total", channel=CARRIER) == 6
        assert scraped.value("omnibridge_carrier_refresh_failures_total", channel=CARRIER) == 0


async def test_a_carrier_that_is_down_makes_the_refresh_partial_and_the_next_run_catches_up(rig: Rig) -> None:
    shipment = await rig.ship("ord-1")
    assert shipment.tracking_number is not None
    rig.emu.advance_tracking(shipment.tracking_number)
    rig.emu.fail_next(503, count=10)  # more than the connector's attempts
    assert await rig.runner.run(Job(TRACKING_REFRESH, CARRIER)) == "partial"
    assert rig.stored(shipment.id).tracking_history == []
    rig.emu.fail_queue.clear()
    assert await rig.runner.run(Job(TRACKING_REFRESH, CARRIER)) == "ok"
    assert [e.status for e in rig.stored(shipment.id).tracking_history] == [TrackingStatus.PENDING]
    assert await rig.runner.run(Job(TRACKING_REFRESH, "nowhere")) == "failed"
    scraped = rig.scraped()
    assert scraped.value("omnibridge_carrier_refresh_failures_total", channel=CARRIER) == 1
    assert scraped.value("omnibridge_job_runs_total", job=TRACKING_REFRESH, outcome="partial") == 1


async def test_the_export_job_writes_each_change_once(rig: Rig) -> None:
    placed = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
    rig.store.save_order(
        Order(
            id="web:1001",
            channel="web",
            external_id="1001",
            status=OrderStatus.ACCEPTED,
            lines=[OrderLine(line_id="1", sku="TENT", quantity=2, location_id=WAREHOUSE.id)],
            placed_at=placed,
            updated_at=placed,
        )
    )
    assert await rig.runner.run(Job(EXPORT, FEED)) == "ok"
    assert await rig.runner.run(Job(EXPORT, FEED)) == "ok"  # nothing changed: no second file
    files = sorted((rig.root / "outbox").iterdir())
    assert [path.name.split("-")[0] for path in files] == ["orders"]
    assert '"web:1001"' in files[0].read_text()
    scraped = rig.scraped()
    assert scraped.value("omnibridge_export_files_total", channel=FEED) == 1
    assert scraped.value("omnibridge_exported_records_total", channel=FEED, kind="orders") == 1
    assert scraped.value("omnibridge_job_runs_total", job=EXPORT, outcome="ok") == 2


async def test_a_file_feed_is_polled_into_the_ledger_and_every_job_is_scheduled(rig: Rig) -> None:
    web = runtime("web", FakeConnector(["W1"]), {"W1": WAREHOUSE.id}, webhooks=True)
    queue = JobQueue()
    options = ScheduleOptions(poll_seconds=30, readback_minutes=5, tracking_minutes=20)
    scheduler = build_scheduler(queue, [web, *rig.engine.channels.values()], options, carriers=rig.carriers.channels)
    intervals = {job.id: job.trigger.interval.total_seconds() for job in scheduler.get_jobs()}
    assert intervals == {
        "readback": 300,
        f"poll:{FEED}": 30,  # a file feed has no webhooks: it is polled
        f"export:{FEED}": 30,
        "expire_reservations": 60,
        "verify": 3600,
        "privacy_purge": 3600,
        f"tracking_refresh:{CARRIER}": 1200,
    }

    counts = rig.root / "inbox" / "counts.csv.part"
    counts.write_text("sku,location,quantity\nTENT,WH-01,7\n", encoding="utf-8")
    os.utime(counts, (OLD, OLD))  # long unchanged: stable
    counts.rename(rig.root / "inbox" / "counts.csv")
    assert await rig.runner.resolve() == "ok"
    assert await rig.runner.run(Job(POLL, FEED)) == "ok"
    assert rig.store.position("TENT", WAREHOUSE.id).on_hand == 7
    assert rig.scraped().value("omnibridge_poll_events_total", channel=FEED) == 1


async def test_the_carrier_runtime_is_built_from_the_profiles_carrier_channels(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    (tmp_path / "easypost.yaml").write_text(
        "connector: easypost\nsettings: {base_url: 'http://127.0.0.1:9/v2', api_key: EZTK1, webhook_secret: s}\n"
    )
    (tmp_path / "files.yaml").write_text(f"connector: files\nsettings: {{inbox: '{tmp_path / 'inbox'}'}}\n")
    (tmp_path / "omnibridge.yaml").write_text(
        "version: 1\n"
        "merchant: {name: T, currency: USD, timezone: UTC}\n"
        "locations: [{id: wh, name: Warehouse, type: warehouse}]\n"
        "channels:\n"
        f"  - {{id: {CARRIER}, connector: easypost, profile: easypost.yaml}}\n"
        "  - {id: spare, connector: easypost, profile: easypost.yaml, enabled: false}\n"
        f"  - {{id: {FEED}, connector: files, profile: files.yaml}}\n"
    )
    profile = load_profile(tmp_path / "omnibridge.yaml")
    with open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}") as store:
        carriers = CarrierRuntime.for_profile(store, profile)
        try:
            assert list(carriers) == [CARRIER]
            channel = carriers.channels[CARRIER]
            assert isinstance(channel.connector, EasyPostConnector)
            assert (channel.service.connector_id, channel.service.tracking_source) == (CARRIER, "easypost")
            assert [c.id for c in build_channels(profile)] == [FEED]  # carriers are not the engine's
        finally:
            await carriers.aclose()


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    try:
        async with asyncio.timeout(GUARD_S):
            while not await check():
                await asyncio.sleep(0.02)
    except TimeoutError:
        pytest.fail(f"gave up waiting for {what}")


async def test_a_serving_daemon_refreshes_tracking_applies_carrier_webhooks_and_exports(rig: Rig) -> None:
    shipment = await rig.ship("ord-1")
    assert shipment.tracking_number is not None
    rig.emu.advance_tracking(shipment.tracking_number)
    options = DaemonOptions(
        port=free_port(), poll_seconds=0.05, readback_minutes=60, tracking_minutes=0.001, idle_seconds=0.01
    )
    daemon = Daemon(rig.engine, options, rig.carriers)
    serving = asyncio.get_running_loop().create_task(daemon.serve())
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{options.port}", timeout=5.0) as client:

            async def history() -> bool:  # the scheduled tracking_refresh job polled the emulator
                return len(rig.stored(shipment.id).tracking_history) == 1

            async def exported() -> bool:  # the scheduled export job wrote the new shipment
                return (rig.root / "outbox").exists()

            await until(history, "the tracking refresh job")
            await until(exported, "the export job")

            rig.emu.advance_tracking(shipment.tracking_number)
            headers, body = signed_deliveries(rig.emu)[-1]
            answer = await client.post(f"/webhooks/{CARRIER}", content=body, headers=headers)
            assert (answer.status_code, answer.json()["status"]) == (200, "stored")

            async def applied() -> bool:
                scraped = parse((await client.get("/metrics")).text)
                return scraped.value("omnibridge_carrier_processed_total", channel=CARRIER) == 1

            await until(applied, "the webhook to be applied")
            scraped = parse((await client.get("/metrics")).text)
    finally:
        daemon.request_stop()
        await asyncio.wait_for(serving, GUARD_S)
    assert rig.stored(shipment.id).status is TrackingStatus.IN_TRANSIT
    assert scraped.value("omnibridge_webhooks_received_total", channel=CARRIER) == 1
    assert scraped.value("omnibridge_inbox_pending", channel=CARRIER) == 0
    assert scraped.value("omnibridge_job_runs_total", job=TRACKING_REFRESH, outcome="ok") >= 1
    assert scraped.value("omnibridge_job_runs_total", job=EXPORT, outcome="ok") >= 1
    assert scraped.value("omnibridge_dead_letters_total") == 0
    # Only shipments changed; the job may export it again once the webhook moved its status (a second file).
    assert {path.name.split("-")[0] for path in (rig.root / "outbox").iterdir()} == {"shipments"}
