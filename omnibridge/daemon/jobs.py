"""What each queued job does against the engine. Only the daemon's worker calls these, one at a time.

A job never raises: its outcome (``ok``, ``partial`` when some channels failed, ``failed``) is logged and
counted in ``omnibridge_job_runs_total``, and the daemon goes on.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from structlog.stdlib import BoundLogger

from omnibridge.config.schema import PrivacySection
from omnibridge.daemon.schedule import (
    EXPIRE_RESERVATIONS,
    EXPORT,
    FULFILMENT,
    POLL,
    PRIVACY,
    PRIVACY_PURGE,
    READBACK,
    RESOLVE_LOCATIONS,
    TRACKING_REFRESH,
    VERIFY,
    WAREHOUSE_EXPORT,
    Job,
)
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.errors import OmnibridgeError
from omnibridge.fulfilment.dispatcher import Dispatcher
from omnibridge.logs import get_logger
from omnibridge.pickup.expiry import expire_due
from omnibridge.pickup.settings import PickupSettings
from omnibridge.shipping.runtime import CarrierRuntime
from omnibridge.store import Incident, Store, utc_now
from omnibridge.store.retention import purge
from omnibridge.sync import SyncEngine
from omnibridge.sync.file_exports import ExportSink, export_changes

STARTUP = "startup"
"""Label of the catch-up read-back run once at start-up (the same work as ``readback``)."""


def log() -> BoundLogger:
    return get_logger("omnibridge.daemon")


def expire_reservations(store: Store, settings: PickupSettings | None = None) -> int:
    """Release the pickup holds past their expiry (:func:`omnibridge.pickup.expiry.expire_due`: through the
    ledger, once each, with an incident and a task telling the channel); returns how many were released."""
    return len(expire_due(store, settings if settings is not None else PickupSettings()).released)


def verify_ledger(store: Store) -> str:
    """Run the ledger's consistency check; each inconsistency is logged and recorded once as an incident (kind
    ``verify``, keyed by what was found, so a changed finding is a new incident). ``ok`` or ``inconsistent``."""
    found = store.verify()
    for inconsistency in found:
        log().error(
            "verify.inconsistent",
            check=inconsistency.check,
            subject=inconsistency.subject,
            detail=inconsistency.detail,
        )
        store.add_incident(
            Incident(
                kind="verify",
                decision="inconsistent",
                summary=f"{inconsistency.check}: {inconsistency.subject}: {inconsistency.detail}",
                dedupe_key=f"verify:{inconsistency.check}:{inconsistency.subject}:{inconsistency.found}",
                data=inconsistency.as_dict(),
            )
        )
    return "inconsistent" if found else "ok"


def purge_personal_data(store: Store, privacy: PrivacySection) -> str:
    """Remove raw webhook bodies and personal data past their retention (:mod:`omnibridge.store.retention`);
    logs what went as ``privacy.purged`` when anything did."""
    report = purge(
        store.engine,
        utc_now(),
        raw_body_days=privacy.raw_body_days,
        personal_data_days=privacy.personal_data_days_after_complete,
    )
    if report.raw_bodies or report.order_addresses or report.shipment_addresses:
        log().info(
            "privacy.purged",
            raw_bodies=report.raw_bodies,
            order_addresses=report.order_addresses,
            shipment_addresses=report.shipment_addresses,
        )
    return "ok"


class JobRunner:
    """Runs one :class:`~omnibridge.daemon.schedule.Job` against the engine (and the carrier channels) and
    records its outcome."""

    def __init__(
        self,
        engine: SyncEngine,
        state: DaemonState,
        metrics: DaemonMetrics,
        carriers: CarrierRuntime | None = None,
        dispatcher: Dispatcher | None = None,
        privacy: PrivacySection | None = None,
        *,
        privacy_dir: Path | None = None,
        pickup: PickupSettings | None = None,
        warehouse_dir: Path | None = None,
    ) -> None:
        self.engine = engine
        self.pickup = pickup
        """Hold lengths and the channels told of an expiry (None: the ``pickup:`` defaults)."""
        self.privacy = privacy if privacy is not None else PrivacySection()
        self.state = state
        self.metrics = metrics
        self.carriers = carriers
        self.dispatcher = dispatcher
        self.privacy_dir = privacy_dir
        self.warehouse_dir = warehouse_dir

    async def run(self, job: Job, *, label: str | None = None) -> str:
        """Run ``job``; returns its outcome. ``label`` overrides the job name in logs and metrics."""
        name = label or job.kind
        started = time.monotonic()
        try:
            outcome = await self._dispatch(job)
        except OmnibridgeError as exc:
            log().error("job.failed", job=name, channel=job.channel, reason=str(exc))
            outcome = "failed"
        except Exception:  # the daemon outlives any one bad job
            log().exception("job.crashed", job=name, channel=job.channel)
            outcome = "failed"
        seconds = time.monotonic() - started
        self.metrics.job_runs.inc(job=name, outcome=outcome)
        self.metrics.job_seconds.observe(seconds, job=name)
        quiet = job.kind == EXPIRE_RESERVATIONS and outcome == "ok"  # every minute: each release logs itself
        (log().debug if quiet else log().info)(
            "job.done", job=name, channel=job.channel, outcome=outcome, seconds=round(seconds, 3)
        )
        return outcome

    async def _dispatch(self, job: Job) -> str:
        if job.kind == READBACK:
            return await self._readback()
        if job.kind == POLL:
            return await self._poll(job.channel)
        if job.kind == EXPIRE_RESERVATIONS:
            released = expire_reservations(self.engine.store, self.pickup)
            self.metrics.reservations_expired.inc(released)
            return "ok"
        if job.kind == RESOLVE_LOCATIONS:
            return await self.resolve()
        if job.kind == EXPORT:
            return self._export(job.channel)
        if job.kind == TRACKING_REFRESH:
            return await self._refresh_tracking(job.channel)
        if job.kind == VERIFY:
            return verify_ledger(self.engine.store)
        if job.kind == FULFILMENT:
            return await self._fulfil()
        if job.kind == PRIVACY_PURGE:
            return purge_personal_data(self.engine.store, self.privacy)
        if job.kind == PRIVACY:
            return await self._privacy_requests()
        if job.kind == WAREHOUSE_EXPORT:
            return await self._warehouse_export()
        raise OmnibridgeError(f"unknown job kind {job.kind!r}")

    async def _warehouse_export(self) -> str:
        """Write the rows changed since the last warehouse export (counted as ``exported_records_total`` with
        channel ``warehouse`` and the table as kind), in a thread: a first export of a large store takes a
        while, and webhooks must still be acknowledged meanwhile."""
        from omnibridge.warehouse import export_warehouse

        if self.warehouse_dir is None:
            raise OmnibridgeError("warehouse export: no folder is configured (the profile's 'warehouse: directory')")
        report = await asyncio.to_thread(export_warehouse, self.engine.store, self.warehouse_dir)
        for table, rows in report.rows.items():
            self.metrics.exported_records.inc(rows, channel="warehouse", kind=table)
        self.metrics.export_files.inc(len(report.files), channel="warehouse")
        return "ok"

    async def _privacy_requests(self) -> str:
        """Act on open privacy requests (erasure asked of every channel that can erase); ``partial`` when
        something could not be erased (the request says what)."""
        from omnibridge.customers.privacy import PrivacyService
        from omnibridge.customers.requests import PrivacyRequests
        from omnibridge.sdk.privacy import CustomerEraser

        if self.privacy_dir is None:
            raise OmnibridgeError("privacy requests: no folder for data-request exports is configured")
        erasers = {
            channel_id: channel.connector
            for channel_id, channel in self.engine.channels.items()
            if isinstance(channel.connector, CustomerEraser)
        }
        requests = PrivacyRequests(PrivacyService(self.engine.store, erasers), self.privacy_dir)
        done = await requests.process()
        for request in done:
            log().info(
                "privacy.request_done", id=request.id, channel=request.channel, kind=request.kind, status=request.status
            )
        return "ok" if all(r.status == "done" for r in done) else "partial"

    async def resolve(self) -> str:
        failures = await self.engine.resolve_locations()
        self.state.resolved(failures)
        for channel, reason in failures.items():
            log().warning("daemon.locations_unresolved", channel=channel, reason=reason)
        return "ok" if not failures else "partial"

    async def _readback(self) -> str:
        report = await self.engine.sync_once()
        self.metrics.record_sync(report)
        self.state.synced(channel.channel for channel in report.channels if channel.error is None)
        failed = {channel.channel: channel.error for channel in report.channels if channel.error is not None}
        if self.state.unresolved:  # sync_once retried them; ask the engine which are still failing
            await self.resolve()
        for channel, reason in failed.items():
            log().warning("readback.channel_failed", channel=channel, reason=reason)
        return "ok" if not failed else "partial"

    async def _poll(self, channel_id: str | None) -> str:
        channel = self.engine.channels.get(channel_id or "")
        if channel is None:
            raise OmnibridgeError(f"poll: no channel {channel_id!r} in this profile")
        if channel_id in self.state.unresolved:
            await self.resolve()
            if channel_id in self.state.unresolved:
                return "skipped"
        events, outcome = await self.engine.pull(channel)
        self.metrics.poll_events.inc(events, channel=channel.id)
        await self.engine.flush()
        self.state.synced([channel.id])
        log().info("poll.done", channel=channel.id, events=events, applied=outcome.applied)
        return "ok"

    def _export(self, channel_id: str | None) -> str:
        """Write the orders and shipments changed since the channel's last export (nothing when none did)."""
        channel = self.engine.channels.get(channel_id or "")
        if channel is None or not isinstance(channel.connector, ExportSink):
            raise OmnibridgeError(f"export: no channel {channel_id!r} that takes export files in this profile")
        report = export_changes(self.engine.store, channel.id, channel.connector)
        self.metrics.exported_records.inc(report.orders, channel=channel.id, kind="orders")
        self.metrics.exported_records.inc(report.shipments, channel=channel.id, kind="shipments")
        self.metrics.export_files.inc(len(report.files), channel=channel.id)
        if report.files:
            log().info("export.done", channel=channel.id, orders=report.orders, shipments=report.shipments)
        return "ok"

    async def _fulfil(self) -> str:
        """One pass of the fulfilment dispatcher; ``partial`` when a task was refused, failed or waits for a retry
        (each is logged, counted and, where an operator must act, an incident)."""
        if self.dispatcher is None:
            raise OmnibridgeError("fulfilment: this daemon has no fulfilment dispatcher")
        report = await self.dispatcher.run_once()
        if report.outcomes:
            log().info(
                "fulfilment.pass",
                tasks=len(report.outcomes),
                done=report.count("done"),
                refused=report.count("refused"),
                retrying=report.count("retrying"),
                failed=report.count("failed"),
            )
        return "ok" if report.ok else "partial"

    async def _refresh_tracking(self, channel_id: str | None) -> str:
        """Refresh the tracking of the carrier channel's open shipments; ``partial`` when some failed."""
        if self.carriers is None or channel_id is None or channel_id not in self.carriers:
            raise OmnibridgeError(f"tracking_refresh: no carrier channel {channel_id!r} in this profile")
        report = await self.carriers.refresh_tracking(channel_id)
        log().info(
            "tracking.refreshed",
            channel=channel_id,
            shipments=report.refreshed,
            events=report.events,
            failed=len(report.failed),
        )
        return "ok" if not report.failed else "partial"
