"""The profile's carrier channels, live: their webhooks into the inbox, then into shipments' tracking.

A carrier channel (a ``channels:`` entry whose connector is a carrier, e.g. ``connector: easypost``) is not synced
by the sync engine; :class:`CarrierRuntime` is its counterpart for the running service:

* :meth:`CarrierRuntime.receive` — the webhook receiver hands it deliveries for carrier channels. Same contract as
  :meth:`omnibridge.sync.SyncEngine.receive`: verified (401 and nothing stored when forged), stored in the inbox
  deduplicated by the vendor's delivery id, acknowledged only after the commit (503 when the store cannot keep it).
* :meth:`CarrierRuntime.process_pending` — applies the pending deliveries of carrier channels, in arrival order,
  through :meth:`ShippingService.apply_tracking` (canonical tracking events, each applied once by its ref). An
  authentic delivery that cannot be read is marked dead with the connector's message (it names the field); one
  that fails on a retriable error stays pending for the next pass.
* :meth:`CarrierRuntime.refresh_tracking` — polls the carrier for every shipment of a channel that is bought, not
  yet delivered or cancelled and younger than :data:`TRACKING_WINDOW` (the safety net for lost webhooks).

The sync engine must leave these channels' inbox entries alone: build it with
``foreign_channels=carriers.channels``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select
from structlog.stdlib import BoundLogger

from omnibridge.config import LoadedProfile
from omnibridge.errors import ConfigError, ConnectorError, RetriableConnectorError, StoreError, WebhookError
from omnibridge.logs import get_logger
from omnibridge.models import TrackingStatus
from omnibridge.sdk.carrier import CarrierConnector
from omnibridge.sdk.metadata import ConnectorKind
from omnibridge.shipping.service import ShippingService
from omnibridge.shipping.tracking_status import TrackingMap, load_tracking_map
from omnibridge.store import InboxStatus, Store
from omnibridge.store.carrier_shipments import CarrierShipmentState
from omnibridge.store.engine import read_session
from omnibridge.store.tables import CarrierShipmentRow, ShipmentRow
from omnibridge.sync.engine import Receipt
from omnibridge.sync.inbox_retry import DEFAULT_INBOX_RETRY, InboxRetry

__all__ = [
    "FINAL_STATUSES",
    "TRACKING_WINDOW",
    "CarrierChannel",
    "CarrierCounters",
    "CarrierRuntime",
    "RefreshReport",
    "open_shipments",
]

FINAL_STATUSES = frozenset({TrackingStatus.DELIVERED, TrackingStatus.CANCELLED})
"""Shipments in these statuses are no longer refreshed."""
TRACKING_WINDOW = timedelta(days=60)
"""Shipments created longer ago are no longer refreshed (a parcel lost for good would be polled forever)."""


def log() -> BoundLogger:
    return get_logger("omnibridge.shipping")


@dataclass
class CarrierCounters:
    """One carrier channel's running totals since start-up (exported as metrics by the daemon)."""

    received: int = 0
    """Deliveries stored in the inbox."""
    duplicates: int = 0
    rejected: int = 0
    processed: int = 0
    """Deliveries applied (done)."""
    dead: int = 0
    tracking_events: int = 0
    """Tracking events appended to shipments from webhooks."""
    tracking_repeats: int = 0
    """Tracking events in deliveries that were already applied (EasyPost repeats the history in every Event)."""
    unmatched: int = 0
    """Tracking events whose tracking code is on no shipment of this channel (labels bought elsewhere)."""
    refreshed: int = 0
    """Shipments refreshed by polling."""
    refresh_events: int = 0
    """Tracking events appended by polling."""
    refresh_failures: int = 0


@dataclass
class CarrierChannel:
    """One enabled carrier channel: its id, its live connector and the shipping service over it."""

    id: str
    connector: CarrierConnector
    service: ShippingService
    counters: CarrierCounters = field(default_factory=CarrierCounters)


@dataclass
class RefreshReport:
    """What one tracking refresh of a channel did: shipments refreshed, events added, failures by shipment id."""

    channel: str
    refreshed: int = 0
    events: int = 0
    failed: dict[str, str] = field(default_factory=dict)


def open_shipments(store: Store, connector: str, since: datetime) -> list[str]:
    """Ids of the shipments whose label was bought through ``connector`` (the carrier channel's id), created at or
    after ``since`` and not in a :data:`FINAL_STATUSES` status; oldest first."""
    query = (
        select(CarrierShipmentRow.shipment_id)
        .join(ShipmentRow, col(ShipmentRow.id) == col(CarrierShipmentRow.shipment_id))
        .where(
            CarrierShipmentRow.connector == connector,
            CarrierShipmentRow.state == CarrierShipmentState.BOUGHT.value,
            col(CarrierShipmentRow.tracking_code).is_not(None),
            col(ShipmentRow.status).not_in([status.value for status in FINAL_STATUSES]),
            col(ShipmentRow.created_at) >= since,
        )
        .order_by(col(ShipmentRow.created_at), col(ShipmentRow.id))
    )
    with read_session(store.engine) as session:
        return list(session.exec(query).all())


class CarrierRuntime:
    """Every enabled carrier channel of a profile against one store (see the module docstring). One event loop."""

    def __init__(
        self, store: Store, channels: Iterable[CarrierChannel], *, retry: InboxRetry = DEFAULT_INBOX_RETRY
    ) -> None:
        self.store = store
        self.channels: dict[str, CarrierChannel] = {channel.id: channel for channel in channels}
        self.retry = retry
        """When a delivery whose fetch failed retriably is tried again, and after how many attempts it is dead."""

    @classmethod
    def for_profile(
        cls, store: Store, profile: LoadedProfile, tracking_map: TrackingMap | None = None
    ) -> CarrierRuntime:
        """A runtime over ``profile``'s enabled carrier channels (none: an empty runtime). The tracking map is
        loaded only when there is a carrier channel (default: :func:`load_tracking_map`). A shipment is known to a
        channel by the channel's id, as ``omnibridge shipments ship`` records it."""
        channels: list[CarrierChannel] = []
        for channel in profile.channels:
            if not channel.enabled or channel.spec.kind is not ConnectorKind.CARRIER or channel.spec.factory is None:
                continue
            connector = channel.spec.factory(channel.settings)
            if not isinstance(connector, CarrierConnector):
                raise ConfigError(
                    f"channel {channel.id!r}: connector {channel.connector!r} does not implement the carrier "
                    "contract (omnibridge.sdk.carrier.CarrierConnector)",
                    file=str(profile.path),
                    field=f"channels.{channel.id}.connector",
                )
            if tracking_map is None:
                tracking_map = load_tracking_map()
            service = ShippingService(
                store, connector, tracking_map, connector_id=channel.id, tracking_source=channel.connector
            )
            channels.append(CarrierChannel(channel.id, connector, service))
        return cls(store, channels)

    def __contains__(self, channel_id: object) -> bool:
        return channel_id in self.channels

    def __iter__(self) -> Iterator[str]:
        return iter(self.channels)

    def __len__(self) -> int:
        return len(self.channels)

    @property
    def counters(self) -> Mapping[str, CarrierCounters]:
        return {channel_id: channel.counters for channel_id, channel in self.channels.items()}

    # -- webhooks ----------------------------------------------------------------------------------------

    def receive(self, channel_id: str, raw_body: bytes, headers: Mapping[str, str], url: str) -> Receipt:
        """Verify and store one delivery for a carrier channel; answer only after it is committed (or found to be
        a duplicate). 404 for a channel that is not a carrier channel of this runtime."""
        channel = self.channels.get(channel_id)
        if channel is None:
            return Receipt("unknown_channel", 404, f"no carrier channel {channel_id!r} in this profile")
        try:
            delivery = channel.connector.verify_webhook(raw_body, headers, url)
        except WebhookError as exc:
            channel.counters.rejected += 1
            log().warning("webhook.rejected", channel=channel_id, reason=str(exc))
            return Receipt("rejected", 401, str(exc))
        try:
            admission = self.store.admit_delivery(channel_id, delivery)
        except StoreError as exc:
            log().error("webhook.store_failed", channel=channel_id, reason=str(exc))
            return Receipt("unavailable", 503, "could not store the delivery; send it again")
        entry_id = admission.entry_id
        if entry_id is None:
            channel.counters.duplicates += 1
            return Receipt("duplicate", 200, "already received")
        if admission.dead_reason is not None:  # authentic but unstorable: kept dead; a 2xx stops the retries
            log().warning("webhook.dead", channel=channel_id, entry=entry_id, reason=admission.dead_reason)
            channel.counters.dead += 1
            return Receipt("dead", 200, f"kept as a dead letter: {admission.dead_reason}", entry_id)
        channel.counters.received += 1
        return Receipt("stored", 200, "", entry_id)

    async def process_pending(self) -> int:
        """Apply every pending delivery of every carrier channel (arrival order per channel); returns how many
        were done. Raises :class:`StoreError` when the database is down (entries stay pending)."""
        done = 0
        for channel in self.channels.values():
            for entry in self.store.inbox(status=InboxStatus.PENDING, channel=channel.id):
                if entry.waiting(self.store.now()):
                    break  # waiting for its retry; later deliveries wait behind it (arrival order)
                try:
                    updates = await channel.connector.webhook_events(entry.delivery)
                    applied = await channel.service.apply_tracking(updates)
                except RetriableConnectorError as exc:
                    if self._retry_later(channel, entry.id, entry.attempts + 1, exc):
                        break  # later deliveries wait: tracking is applied in arrival order
                    continue
                except (ConnectorError, WebhookError) as exc:
                    self._dead(channel, entry.id, str(exc))
                    continue
                except StoreError:
                    raise
                except Exception as exc:  # a bug in a connector must not wedge the inbox: keep it dead, with why
                    log().exception("webhook.internal_error", channel=channel.id, entry=entry.id)
                    self._dead(channel, entry.id, f"internal error: {type(exc).__name__}: {exc}")
                    continue
                self.store.finish_delivery(entry.id, InboxStatus.DONE)
                counters = channel.counters
                counters.processed += 1
                counters.tracking_events += applied.applied
                counters.tracking_repeats += applied.duplicates
                counters.unmatched += len(applied.unmatched)
                done += 1
                log().info(
                    "shipping.webhook_applied",
                    channel=channel.id,
                    entry=entry.id,
                    topic=entry.delivery.topic,
                    events=applied.applied,
                    shipments=sorted(applied.shipments),
                )
        return done

    def _retry_later(self, channel: CarrierChannel, entry_id: int, attempts: int, exc: RetriableConnectorError) -> bool:
        """Count a retriable failure (same policy as the sales channels' inbox, :mod:`omnibridge.sync.inbox_retry`):
        True when the entry waits for its next try, False when it was its last attempt and it is dead-lettered."""
        if self.retry.exhausted(attempts):
            self._dead(channel, entry_id, f"gave up after {attempts} attempts: {exc}")
            return False
        next_attempt_at = self.store.now() + self.retry.delay(attempts, exc.retry_after)
        self.store.retry_delivery(entry_id, str(exc), next_attempt_at)
        log().warning(
            "webhook.retry_later",
            channel=channel.id,
            entry=entry_id,
            attempts=attempts,
            next_attempt_at=next_attempt_at.isoformat(),
            reason=str(exc),
        )
        return True

    def _dead(self, channel: CarrierChannel, entry_id: int, reason: str) -> None:
        log().warning("webhook.dead", channel=channel.id, entry=entry_id, reason=reason)
        self.store.finish_delivery(entry_id, InboxStatus.DEAD, reason)
        channel.counters.dead += 1

    # -- polling -----------------------------------------------------------------------------------------

    async def refresh_tracking(self, channel_id: str, *, now: datetime | None = None) -> RefreshReport:
        """Refresh every open shipment of ``channel_id`` (see :func:`open_shipments`) from the carrier.

        One shipment failing does not stop the others; a retriable error (the carrier is down or rate-limits)
        ends the run early, the shipments not reached are in the report's ``failed`` as well. Raises
        :class:`KeyError` for a channel that is not a carrier channel of this runtime."""
        channel = self.channels[channel_id]
        report = RefreshReport(channel_id)
        since = (now or datetime.now(UTC)) - TRACKING_WINDOW
        pending = open_shipments(self.store, channel_id, since)
        for index, shipment_id in enumerate(pending):
            before = self.store.get_shipment(shipment_id)
            try:
                shipment = await channel.service.refresh_tracking(shipment_id)
            except RetriableConnectorError as exc:
                for skipped in pending[index:]:
                    report.failed[skipped] = str(exc)
                break
            except ConnectorError as exc:
                report.failed[shipment_id] = str(exc)
                continue
            added = len(shipment.tracking_history) - (len(before.tracking_history) if before else 0)
            report.refreshed += 1
            report.events += max(0, added)
        channel.counters.refreshed += report.refreshed
        channel.counters.refresh_events += report.events
        channel.counters.refresh_failures += len(report.failed)
        if report.failed:
            log().warning("shipping.refresh_failed", channel=channel_id, failed=report.failed)
        return report

    async def aclose(self) -> None:
        for channel in self.channels.values():
            try:
                await channel.connector.aclose()
            except Exception:  # closing is best effort: one connector must not keep the others open
                log().exception("shipping.close_failed", channel=channel.id)
