"""The sync engine: pulls and webhooks in, ledger in the middle, reconciled pushes out.

Two ways in, one way out:

* :meth:`SyncEngine.sync_once` — for every channel, pull events since its bookmark and apply them, then
  reconcile every SKU of the catalog on every channel. ``omnibridge sync --once`` runs exactly this.
* :meth:`SyncEngine.receive` + :meth:`SyncEngine.process_pending` — a webhook delivery is verified, stored in
  the inbox (deduplicated by the database) and acknowledged; a worker then applies it and reconciles the
  SKUs it touched on every channel. A delivery is acknowledged only after it is committed, so nothing
  acknowledged is lost; an entry that cannot be applied is marked dead with its reason, never dropped.

One channel failing never stops the others: every channel's pull and reconcile is isolated, and SKUs whose
reconcile failed stay dirty until a later pass succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from structlog.stdlib import BoundLogger

from omnibridge.errors import ConnectorError, OmnibridgeError, RetriableConnectorError, StoreError, WebhookError
from omnibridge.logs import get_logger
from omnibridge.sdk.channel import PushStatus
from omnibridge.store import InboxEntry, InboxStatus, Store
from omnibridge.sync.apply import ApplyOutcome, EventApplier
from omnibridge.sync.reconcile import ReconcileReport, projection, reconcile_channel
from omnibridge.sync.runtime import ChannelRuntime


def log() -> BoundLogger:
    """The sync logger (looked up per use: importing this module must not configure logging)."""
    return get_logger("omnibridge.sync")


@dataclass
class ChannelSyncReport:
    """One channel's part of a sync pass."""

    channel: str
    events: int = 0
    outcome: ApplyOutcome = field(default_factory=ApplyOutcome)
    reconcile: ReconcileReport | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        rec = self.reconcile
        return {
            "channel": self.channel,
            "events_pulled": self.events,
            "movements_applied": self.outcome.applied,
            "orders_recorded": self.outcome.orders,
            "duplicates": self.outcome.duplicates,
            "levels_checked": rec.checked if rec else 0,
            "levels_differing": rec.differing if rec else 0,
            "pushed": {status.value: rec.count(status) for status in PushStatus} if rec else {},
            "messages": list(self.outcome.messages),
            "error": self.error,
        }


@dataclass
class SyncReport:
    channels: list[ChannelSyncReport]

    @property
    def ok(self) -> bool:
        return all(channel.error is None for channel in self.channels)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "channels": [channel.as_dict() for channel in self.channels]}


@dataclass(frozen=True)
class Receipt:
    """How a webhook delivery was answered. ``http_status`` is what the vendor receives."""

    status: str
    http_status: int
    message: str = ""
    entry_id: int | None = None


@dataclass
class EngineCounters:
    received: int = 0
    duplicates: int = 0
    rejected: int = 0
    processed: int = 0
    dead: int = 0


class SyncEngine:
    """Drives every sales channel of a profile against one store. Not thread-safe: one event loop."""

    def __init__(self, store: Store, channels: list[ChannelRuntime]) -> None:
        self.store = store
        self.channels: dict[str, ChannelRuntime] = {channel.id: channel for channel in channels}
        self.counters = EngineCounters()
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._resolved: set[str] = set()

    # -- start-up ----------------------------------------------------------------------------------------

    async def resolve_locations(self) -> dict[str, str]:
        """Map each channel's locations; returns the channels that failed, with the reason."""
        failures: dict[str, str] = {}
        for channel in self.channels.values():
            if channel.id in self._resolved:
                continue
            try:
                await channel.resolve_locations()
                self._resolved.add(channel.id)
            except OmnibridgeError as exc:
                failures[channel.id] = str(exc)
        return failures

    async def aclose(self) -> None:
        for channel in self.channels.values():
            with contextlib.suppress(Exception):
                await channel.connector.aclose()

    # -- polling -----------------------------------------------------------------------------------------

    async def pull(self, channel: ChannelRuntime) -> tuple[int, ApplyOutcome]:
        """Pull ``channel``'s events since its bookmark, apply them, then move the bookmark."""
        result = await channel.connector.pull_events(self.store.get_bookmark(channel.id))
        outcome = EventApplier(self.store, channel).apply_all(result.events)
        outcome.messages.extend(
            f"{channel.id}: {m.record_id or 'record'}: {m.field_path or '-'}: {m.message}" for m in result.messages
        )
        if result.bookmark is not None:
            self.store.set_bookmark(channel.id, result.bookmark)
        return len(result.events), outcome

    async def sync_once(self) -> SyncReport:
        """Pull every channel, then reconcile the whole catalog on every channel."""
        failures = await self.resolve_locations()
        reports = {channel_id: ChannelSyncReport(channel_id) for channel_id in self.channels}
        for channel_id, error in failures.items():
            reports[channel_id].error = error
        live = [channel for channel in self.channels.values() if channel.id not in failures]
        for channel in live:
            try:
                reports[channel.id].events, reports[channel.id].outcome = await self.pull(channel)
            except ConnectorError as exc:
                reports[channel.id].error = f"pull failed: {exc}"
        skus = [variant.sku for variant in self.store.list_variants() if variant.tracked]
        for channel in live:
            try:
                reports[channel.id].reconcile = await reconcile_channel(self.store, channel, skus)
            except ConnectorError as exc:
                reports[channel.id].error = f"push failed: {exc}"
        return SyncReport(list(reports.values()))

    # -- webhooks ----------------------------------------------------------------------------------------

    def receive(self, channel_id: str, raw_body: bytes, headers: Mapping[str, str], url: str) -> Receipt:
        """Verify and store one delivery; answer only after it is committed (or found to be a duplicate)."""
        channel = self.channels.get(channel_id)
        if channel is None:
            self.counters.rejected += 1
            return Receipt("unknown_channel", 404, f"no channel {channel_id!r} in this profile")
        try:
            delivery = channel.connector.verify_webhook(raw_body, headers, url)
        except WebhookError as exc:
            self.counters.rejected += 1
            log().warning("webhook.rejected", channel=channel_id, reason=str(exc))
            return Receipt("rejected", 401, str(exc))
        try:
            entry_id = self.store.add_delivery(channel_id, delivery)
        except StoreError as exc:
            log().error("webhook.store_failed", channel=channel_id, reason=str(exc))
            return Receipt("unavailable", 503, "could not store the delivery; send it again")
        if entry_id is None:
            self.counters.duplicates += 1
            return Receipt("duplicate", 200, "already received")
        self.counters.received += 1
        self._wake.set()
        return Receipt("stored", 200, "", entry_id)

    async def process_pending(self) -> int:
        """Apply every pending inbox entry, then reconcile what they touched; returns entries processed."""
        outcome = ApplyOutcome()
        live: list[tuple[InboxEntry, ChannelRuntime]] = []
        for entry in self.store.inbox(status=InboxStatus.PENDING):
            channel = self.channels.get(entry.channel)
            if channel is None:
                self.store.finish_delivery(entry.id, InboxStatus.DEAD, f"channel {entry.channel!r} is not configured")
                self.counters.dead += 1
            else:
                live.append((entry, channel))
        # What the deliveries name is fetched for all of them at once, so a connector can batch the calls (a rush
        # of POS sales is one Square order fetch); the events are then applied one delivery at a time, in order.
        fetched = await asyncio.gather(
            *(channel.connector.webhook_events(entry.delivery) for entry, channel in live), return_exceptions=True
        )
        done = 0
        for (entry, channel), events in zip(live, fetched, strict=True):
            try:
                if isinstance(events, BaseException):
                    raise events
                applied = EventApplier(self.store, channel).apply_all(events)
                await self._follow_observations(channel, applied)
            except RetriableConnectorError as exc:
                log().warning("webhook.retry_later", channel=channel.id, entry=entry.id, reason=str(exc))
                continue
            except (ConnectorError, WebhookError) as exc:
                self.store.finish_delivery(entry.id, InboxStatus.DEAD, str(exc))
                self.counters.dead += 1
                continue
            except StoreError:
                raise  # the database is down: the entry stays pending, the worker tries again later
            except Exception as exc:  # a bug in a connector must not wedge the inbox: keep it dead, with why
                log().exception("webhook.internal_error", channel=channel.id, entry=entry.id)
                self.store.finish_delivery(entry.id, InboxStatus.DEAD, f"internal error: {type(exc).__name__}: {exc}")
                self.counters.dead += 1
                continue
            self.store.finish_delivery(entry.id, InboxStatus.DONE)
            self.counters.processed += 1
            outcome.merge(applied)
            done += 1
        self._dirty |= {sku for sku, _ in outcome.touched}
        await self.flush()
        return done

    async def _follow_observations(self, channel: ChannelRuntime, applied: ApplyOutcome) -> None:
        """A level the channel reports that the ledger does not explain means a change we have not pulled
        yet (a receipt or count made on the channel, or an order whose notification is still on its way):
        pull that channel now. A level equal to the projection is our own write coming back: nothing to do."""
        unexplained = [
            position
            for position, available in applied.observed
            if available is None or available != projection(self.store, *position)
        ]
        if not unexplained:
            return
        _, pulled = await self.pull(channel)
        applied.merge(pulled)
        applied.touched |= set(unexplained)

    async def flush(self) -> None:
        """Reconcile every dirty SKU on every channel; SKUs stay dirty for channels that failed."""
        if not self._dirty:
            return
        skus, self._dirty = self._dirty, set()
        await self.resolve_locations()
        for channel in self.channels.values():
            if channel.id not in self._resolved:
                self._dirty |= skus
                continue
            try:
                report = await reconcile_channel(self.store, channel, skus)
            except ConnectorError as exc:
                log().warning("reconcile.failed", channel=channel.id, reason=str(exc))
                self._dirty |= skus
                continue
            self._dirty |= {
                channel.master_sku(result.target.sku) for result in report.results if result.status is PushStatus.STALE
            }

    async def run_worker(self, stop: asyncio.Event, *, idle_seconds: float = 1.0) -> None:
        """Process the inbox whenever a delivery arrives (or every ``idle_seconds``) until ``stop`` is set."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(idle_seconds):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.process_pending()
            except OmnibridgeError as exc:
                log().error("worker.pass_failed", reason=str(exc))
            except Exception:  # the worker outlives any one bad pass; the inbox keeps what was not done
                log().exception("worker.pass_crashed")
