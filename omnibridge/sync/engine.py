"""The sync engine: pulls and webhooks in, ledger in the middle, reconciled pushes out.

Two ways in, one way out:

* :meth:`SyncEngine.sync_once` — for every channel, pull events since its bookmark and apply them, then
  reconcile every SKU of the catalog on every channel. ``omnibridge sync --once`` runs exactly this.
* :meth:`SyncEngine.receive` + :meth:`SyncEngine.process_pending` — a webhook delivery is verified, stored in
  the inbox (deduplicated by the database) and acknowledged; a worker then applies it and reconciles the
  SKUs it touched on every channel. A delivery is acknowledged only after it is committed, so nothing
  acknowledged is lost; an entry that cannot be applied is marked dead with its reason, never dropped; one whose
  fetch failed retriably waits for its next try, its stream behind it (:mod:`omnibridge.sync.inbox_retry`).

Each delivery is applied in one unit of work (:meth:`omnibridge.store.Store.unit_of_work`) with everything it
decides: the order line records and movements (:mod:`omnibridge.sync.lines`), the oversell decision, the levels it
reported, the SKUs it leaves to push (kept in the store as pending work) and its ``done`` mark.

One channel failing never stops the others: every channel's pull and reconcile is isolated, a channel's pending
work stays in the store until its reconcile succeeds (across database errors and restarts), and a channel that keeps
failing is backed off on its own (exponentially, up to :data:`MAX_BACKOFF`) while the others go on.

What each channel should show comes from the profile's availability policy (:mod:`omnibridge.policy`); changes
the channel made by itself are waited for, then treated as drift (:mod:`omnibridge.sync.drift`); orders for more
than a location has go to the oversell resolver (:mod:`omnibridge.sync.oversell`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from structlog.stdlib import BoundLogger

from omnibridge.config import LoadedProfile
from omnibridge.config.availability import AvailabilityPolicy
from omnibridge.errors import (
    ConflictError,
    ConnectorError,
    OmnibridgeError,
    RetriableConnectorError,
    StoreError,
    WebhookError,
)
from omnibridge.logs import get_logger
from omnibridge.policy import AvailabilityPlanner, ChannelFeed
from omnibridge.sdk.channel import CatalogAware, ChannelEvent, OrderCanceller, PullResult, PushResult, PushStatus
from omnibridge.sdk.mapping import MapLevel
from omnibridge.sdk.metadata import Capability
from omnibridge.sdk.webhooks import WebhookDelivery
from omnibridge.store import InboxEntry, InboxStatus, Incident, Store
from omnibridge.store.unit_of_work import UnitOfWork
from omnibridge.sync import vanish
from omnibridge.sync.apply import ApplyOutcome, EventApplier
from omnibridge.sync.guard import MassChangeGuard
from omnibridge.sync.inbox_retry import DEFAULT_INBOX_RETRY, InboxPlan, InboxRetry, plan
from omnibridge.sync.oversell import OversellDecision, resolve_oversell
from omnibridge.sync.placement import OrderPlacer
from omnibridge.sync.reconcile import (
    DEFAULT_DRIFT_GRACE,
    ReconcileReport,
    available_by_location,
    reconcile_channel,
    resume_pushes,
)
from omnibridge.sync.runtime import ChannelRuntime, build_channels
from omnibridge.sync.writers import ChannelWriters

Position = tuple[str, str]
Fetched = tuple[InboxEntry, ChannelRuntime, "list[ChannelEvent] | Exception"]
"""A pending delivery ready to apply: what its fetch returned, or the error it failed with."""

DAEMON_FETCH_WAIT = 0.05
"""How long a worker pass of the daemon (and the demo) waits for what deliveries name before applying what came."""
DEFAULT_OBSERVE_GRACE = 1.0
"""Seconds a reported level may stay unexplained before its channel is pulled."""
GRACE_END_MARGIN_SECONDS = 1.0
"""How long after a waiting decrease's grace ends its SKU is reconciled again (so that reconcile finds it ended)."""
MIN_BACKOFF = 5.0
MAX_BACKOFF = 300.0
DEFAULT_STORE_THREADS = 4
"""Threads the engine's blocking store calls run on, off the event loop (see ``store_threads``)."""

_P = ParamSpec("_P")
_T = TypeVar("_T")

if TYPE_CHECKING:
    from omnibridge.pickup.settings import PickupSettings


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
            "not_listed": list(rec.not_listed) if rec else [],
            "never_counted": [{"sku": sku, "location_id": loc} for sku, loc in rec.never_counted] if rec else [],
            "held": [{"sku": sku, "location_id": loc} for sku, loc in rec.held] if rec else [],
            "messages": list(self.outcome.messages),
            "rejected": list(self.outcome.rejected),
            "error": self.error,
        }


@dataclass
class SyncReport:
    channels: list[ChannelSyncReport]

    @property
    def ok(self) -> bool:
        """No channel failed, no batch (an ERP/WMS file) was refused and no mass change was held."""
        return all(
            channel.error is None
            and not channel.outcome.rejected
            and not (channel.reconcile is not None and channel.reconcile.held)
            for channel in self.channels
        )

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
    """Running totals since the engine started (exported as metrics by the daemon)."""

    received: int = 0
    duplicates: int = 0
    rejected: int = 0
    processed: int = 0
    dead: int = 0
    retried: int = 0
    pushes_applied: int = 0
    pushes_unchanged: int = 0
    pushes_stale: int = 0
    pushes_failed: int = 0
    pushes_unknown: int = 0
    pushes_resumed: int = 0
    """Writes a previous process left pending, found at start: abandoned (never sent again) and re-planned."""
    reconcile_failures: int = 0
    drift_incidents: int = 0
    oversell_incidents: int = 0
    skipped: int = 0
    """Event lines skipped or refused (each one logged as ``apply.skipped`` with its reason)."""


@dataclass
class Backoff:
    """A failing channel's pause: no calls to it before ``until`` (monotonic seconds)."""

    failures: int = 0
    until: float = 0.0
    reason: str = ""


class SyncEngine:
    """Drives every sales channel of a profile against one store. Not thread-safe: one event loop.

    ``policy`` is the profile's availability policy (the default shows every channel the whole of each
    location's available); ``drift_grace`` is how long a change made on a channel may stay unexplained before
    the channel's drift policy decides it; ``observe_grace`` how long a level a channel reports may stay
    unexplained before the channel is pulled; ``fetch_wait`` the longest a worker pass waits for what deliveries
    name (None: until every fetch is done — tests and ``deadletters replay`` use that; the daemon a fraction of a
    second). ``foreign_channels`` are inbox channels another consumer applies (carrier channels, see
    :mod:`omnibridge.shipping.runtime`): their pending deliveries are left alone instead of dead-lettered.
    ``inbox_retry`` says how a delivery whose fetch failed retriably is tried again (see
    :mod:`omnibridge.sync.inbox_retry`). ``approve_mass_change`` names the channels whose mass change
    (:mod:`omnibridge.sync.guard`) this engine may write. ``store_threads`` is the size of the engine's own thread
    pool for the blocking store calls of the pass and the writers (applying a delivery, reading the inbox and the
    pending work), so the event loop stays free for webhooks during a long pass; on SQLite the store serialises
    writers itself (``BEGIN IMMEDIATE`` and the busy timeout, :mod:`omnibridge.store.engine`).

    Each writable channel has its own writer (:mod:`omnibridge.sync.writers`) while :meth:`run_writers` (or
    :meth:`run_worker`) runs; :meth:`flush` still writes every channel and waits.
    """

    def __init__(
        self,
        store: Store,
        channels: list[ChannelRuntime],
        *,
        policy: AvailabilityPolicy | None = None,
        drift_grace: timedelta = DEFAULT_DRIFT_GRACE,
        observe_grace: float = DEFAULT_OBSERVE_GRACE,
        fetch_wait: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        foreign_channels: Collection[str] = (),
        inbox_retry: InboxRetry = DEFAULT_INBOX_RETRY,
        approve_mass_change: Collection[str] = (),
        placer: OrderPlacer | None = None,
        pickup: PickupSettings | None = None,
        store_threads: int = DEFAULT_STORE_THREADS,
    ) -> None:
        self.store = store
        self._store_threads = store_threads
        self._executor = self._new_executor()
        self.writers = ChannelWriters(self.write_channel)
        self.placer = placer
        """Routes routed channels' new orders as they are applied (:class:`omnibridge.routing.RoutingService`)."""
        self.pickup = pickup
        """Hold lengths and windows for pickup orders (:mod:`omnibridge.pickup`; None: the ``pickup:`` defaults)."""
        self.guard = MassChangeGuard(approve_mass_change)
        self.inbox_retry = inbox_retry
        self.foreign_channels = frozenset(foreign_channels)
        self.channels: dict[str, ChannelRuntime] = {channel.id: channel for channel in channels}
        self.policy = policy or AvailabilityPolicy()
        self.drift_grace = drift_grace
        self.observe_grace = observe_grace
        self.counters = EngineCounters()
        self.backoff: dict[str, Backoff] = {}
        self._clock = clock
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        """The worker's event loop, while :meth:`run_worker` runs (a delivery stored on another thread wakes it)."""
        self._resolved: set[str] = set()
        self._planner: AvailabilityPlanner | None = None
        self._resumed: set[str] = set()
        self._fetching: dict[int, tuple[str, asyncio.Task[list[ChannelEvent]]]] = {}
        """Fetches of what pending deliveries name, by inbox id: (channel, task); they outlive a pass."""
        self._pending_deliveries: dict[str, dict[int, WebhookDelivery]] = {}
        """Each channel's pending deliveries as last read, by inbox id: a pass reads only the new ones."""
        self._pass_lock = asyncio.Lock()
        """Held by a worker pass (process_pending), so two passes never take the same entry."""
        self._channel_passes: dict[str, asyncio.Lock] = {}
        """Held by a pass over some channels only (a replica's job), per channel. Between processes the inbox row's
        claim (:meth:`UnitOfWork.take_delivery`) keeps an entry from being applied twice."""
        self.resume_every_write = False
        """Abandon what is left pending before every write of a channel, not only once per process: set by a
        replica (:mod:`omnibridge.replicas`), whose writes of a channel hold a lock fleet-wide, so what is left
        pending when one starts was left by a process that died."""
        self.fetch_wait = fetch_wait
        self._pull_due: dict[str, float] = {}
        """Channels to pull once their unexplained levels have waited ``observe_grace`` (monotonic seconds)."""
        self._pulling: dict[str, asyncio.Future[None]] = {}
        """Pulls running beside the worker, by channel (see :meth:`_pull_beside`)."""
        self._recheck: dict[str, float] = {}
        """SKUs with a change on a channel that the ledger does not explain yet: re-read when the grace ends."""

    @classmethod
    def for_profile(cls, store: Store, profile: LoadedProfile, **options: Any) -> SyncEngine:
        """An engine over ``profile``'s enabled sales channels with its availability policy."""
        return cls(store, build_channels(profile, store), policy=profile.availability, **options)

    # -- start-up ----------------------------------------------------------------------------------------

    async def resolve_locations(self, *, respect_backoff: bool = False) -> dict[str, str]:
        """Map each channel's locations; returns the channels that failed, with the reason. With
        ``respect_backoff`` a channel that is backed off is not called (and is reported as failed)."""
        failures: dict[str, str] = {}
        for channel in self.channels.values():
            if channel.id in self._resolved:
                continue
            if respect_backoff and not self.available(channel.id):
                failures[channel.id] = f"backed off: {self.backoff[channel.id].reason}"
                continue
            try:
                await channel.resolve_locations()
                self._resolved.add(channel.id)
                self._planner = None
                self._succeeded(channel.id)
            except OmnibridgeError as exc:
                failures[channel.id] = str(exc)
                self._failed(channel.id, str(exc))
        return failures

    # -- availability ------------------------------------------------------------------------------------

    @property
    def planner(self) -> AvailabilityPlanner:
        """The availability planner over the channels whose locations are resolved."""
        if self._planner is None:
            self._planner = AvailabilityPlanner(self.policy, self.feeds())
        return self._planner

    def feeds(self) -> list[ChannelFeed]:
        """Which locations feed each resolved channel: the policy's ``locations`` or else every mapped one,
        without inactive locations (they keep their history but are out of allocation)."""
        feeds: list[ChannelFeed] = []
        inactive = {location.id for location in self.store.list_locations() if not location.active}
        for channel in self.channels.values():
            if channel.id not in self._resolved or channel.stock_source:
                continue
            rule = self.policy.channels.get(channel.id)
            locations = rule.locations if rule is not None and rule.locations else channel.location_ids.values()
            feeds.append(ChannelFeed(channel.id, channel.channel.priority, frozenset(locations) - inactive))
        return feeds

    def target(self, channel_id: str, sku: str, location_id: str) -> int:
        """What ``channel_id`` should show for ``sku`` at ``location_id`` now."""
        quantities = self.planner.quantities(sku, available_by_location(self.store, sku))
        return quantities.get((channel_id, location_id), 0)

    # -- backoff -----------------------------------------------------------------------------------------

    def available(self, channel_id: str) -> bool:
        """False while ``channel_id`` is backed off after failures."""
        state = self.backoff.get(channel_id)
        return state is None or self._clock() >= state.until

    def _failed(self, channel_id: str, reason: str) -> None:
        state = self.backoff.setdefault(channel_id, Backoff())
        state.failures += 1
        state.reason = reason
        state.until = self._clock() + min(MAX_BACKOFF, MIN_BACKOFF * 2 ** (state.failures - 1))
        log().warning("channel.backoff", channel=channel_id, failures=state.failures, reason=reason)

    def _succeeded(self, channel_id: str) -> None:
        self.backoff.pop(channel_id, None)

    async def _offload(self, call: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run a blocking store call on the engine's thread pool (the loop stays free for webhooks)."""
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, functools.partial(call, *args, **kwargs)
        )

    def _new_executor(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=self._store_threads, thread_name_prefix="omnibridge-store")

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False)
        self._executor = self._new_executor()  # its threads start only if the engine is used again
        for _, task in self._fetching.values():
            task.cancel()
        self._fetching.clear()
        for pulling in list(self._pulling.values()):
            pulling.cancel()
        for channel in self.channels.values():
            with contextlib.suppress(Exception):
                await channel.connector.aclose()

    # -- polling -----------------------------------------------------------------------------------------

    async def pull(
        self, channel: ChannelRuntime, *, apply_lock: asyncio.Lock | None = None
    ) -> tuple[int, ApplyOutcome]:
        """Pull ``channel``'s events since its bookmark, apply them, then move the bookmark. The store calls run
        on the engine's threads; with ``apply_lock`` (a pull beside the worker: the pass lock) the events are
        applied under it, the vendor's read is not."""
        if isinstance(channel.connector, CatalogAware):
            catalog = {variant.sku for variant in await self._offload(self.store.list_variants)}
            mapped = channel.channel.mappings.location_map
            channel.connector.use_catalog(lambda sku: channel.master_sku(sku) in catalog, lambda ref: ref in mapped)
        result = await channel.connector.pull_events(await self._offload(self.store.get_bookmark, channel.id))
        async with apply_lock or contextlib.nullcontext():
            outcome, decisions = await self._offload(self._apply_pulled, channel, result)
        await self._after_oversells(decisions)
        self._report_messages(channel.id, outcome)
        return len(result.events), outcome

    def _apply_pulled(self, channel: ChannelRuntime, result: PullResult) -> tuple[ApplyOutcome, list[OversellDecision]]:
        """Apply a pull's events (each in its own unit of work), then decide oversells, mark the SKUs they touched
        and move the bookmark in one more."""
        outcome = ApplyOutcome()
        applier = EventApplier(self.store, channel, placer=self.placer, pickup=self.pickup)
        for event in result.events:
            try:
                outcome.merge(applier.apply_all([event]))
            except ConflictError as exc:  # a reused idempotency key: nothing of this event was kept
                outcome.messages.append(f"{channel.id}: {type(event).__name__} {getattr(event, 'ref', '')}: {exc}")
        for message in result.messages:
            where = ": ".join(part for part in (channel.id, message.record_id or "record", message.field_path) if part)
            outcome.messages.append(f"{where}: {message.message}")
            if message.level is MapLevel.ERROR:
                outcome.rejected.append(outcome.messages[-1])
        with self.store.unit_of_work() as uow:
            decisions = self._resolve_oversells(uow, outcome)
            uow.mark_work(self._writable(), {sku for sku, _ in outcome.touched})
            if result.bookmark is not None:
                uow.set_bookmark(channel.id, result.bookmark)
        return outcome, decisions

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
        work_before = self.store.pending_work()
        for channel in (channel for channel in live if not channel.stock_source):  # stock sources: pull only
            try:
                async with self.writers.lock(channel.id):  # never at the same time as the channel's writer
                    self.mark_dirty(self._resume(channel))
                    report = await self._reconcile(channel, skus)
                reports[channel.id].reconcile = report
                self._succeeded(channel.id)
            except ConnectorError as exc:
                reports[channel.id].error = f"push failed: {exc}"
                self._failed(channel.id, str(exc))
        if all(reports[channel.id].error is None for channel in self.channels.values()):
            # every channel was just reconciled on every SKU; only SKUs with a drift decision or a write of unknown
            # outcome need another pass
            followers = {
                position[0]
                for report in reports.values()
                if report.reconcile is not None
                for position in (*(decision.position for decision in report.reconcile.drift), *report.reconcile.unknown)
            }
            self.store.finish_work(
                {(channel, sku): seq for (channel, sku), seq in work_before.items() if sku in set(skus)}
            )
            self.mark_dirty(followers)
        await self.flush()
        return SyncReport(list(reports.values()))

    async def readback_channel(self, channel_id: str) -> ReconcileReport | None:
        """The write half of :meth:`sync_once` for one channel: read it and reconcile every tracked SKU (a replica's
        read-back, :mod:`omnibridge.replicas`); None when it is a stock source, unresolved or backed off. A
        :class:`ConnectorError` backs the channel off and is raised."""
        channel = self.channels.get(channel_id)
        await self.resolve_locations(respect_backoff=True)
        if channel is None or channel.stock_source or channel_id not in self._resolved:
            return None
        if not self.available(channel_id):
            return None
        skus = [variant.sku for variant in self.store.list_variants() if variant.tracked]
        try:
            async with self.writers.lock(channel.id):
                self.mark_dirty(self._resume(channel))
                report = await self._reconcile(channel, skus)
        except ConnectorError as exc:
            self._failed(channel.id, str(exc))
            raise
        self._succeeded(channel.id)
        return report

    async def _reconcile(
        self, channel: ChannelRuntime, skus: list[str] | set[str], *, trust_known: bool = False
    ) -> ReconcileReport:
        report = await reconcile_channel(
            self.store,
            channel,
            skus,
            self.planner,
            drift_grace=self.drift_grace,
            increase_grace=timedelta(seconds=3 * self.observe_grace),
            trust_known=trust_known,
            gate=self.guard,
            offload=self._offload,
        )
        self._count_pushes(report.results)
        self.counters.drift_incidents += len(report.drift)
        # a drift decision changes what others (a channel that won changed the ledger) or the channel itself
        # (its own unexplained decrease no longer counts) should show: one more pass on those SKUs
        self.mark_dirty({d.position[0] for d in report.drift})
        # what the channel is known to show changed under this reconcile: forgotten, reconciled again (after a read);
        # a write the channel refused (it moved since it was read) is reconciled again too, after a read
        self.mark_dirty({sku for sku, _ in report.raced}, [channel.id])
        stale = {channel.master_sku(r.target.sku) for r in report.results if r.status is PushStatus.STALE}
        self.mark_dirty(stale, [channel.id])
        # re-read when the short grace of an increase ends (a decrease that is still waiting is simply re-read
        # again later, until its own grace ends)
        now = self._clock()
        due = now + min(self.drift_grace.total_seconds(), 3 * self.observe_grace)
        for sku, _ in report.waiting:
            self._recheck.setdefault(sku, due)
        # a decrease left unread while waiting at its target: read once its grace has ended (drift is decided then)
        for (sku, _), seconds_left in report.grace_ends:
            ends = now + max(seconds_left, 0.0) + GRACE_END_MARGIN_SECONDS
            self._recheck[sku] = min(self._recheck.get(sku, ends), ends)
        return report

    def _resume(self, channel: ChannelRuntime) -> set[str]:
        """Once per process and channel: abandon what a previous process recorded but never finished (never sent
        again) and return its SKUs, to be re-planned from the ledger after a read."""
        if channel.id in self._resumed and not self.resume_every_write:
            return set()
        abandoned = resume_pushes(self.store, channel)
        self._resumed.add(channel.id)
        if abandoned:
            self.counters.pushes_resumed += len(abandoned)
            log().info("outbox.abandoned", channel=channel.id, writes=len(abandoned))
        return {item.sku for item in abandoned}

    def _count_pushes(self, results: list[PushResult]) -> None:
        for result in results:
            if result.status is PushStatus.APPLIED:
                self.counters.pushes_applied += 1
            elif result.status is PushStatus.UNCHANGED:
                self.counters.pushes_unchanged += 1
            elif result.status is PushStatus.STALE:
                self.counters.pushes_stale += 1
            elif result.status is PushStatus.FAILED:
                self.counters.pushes_failed += 1
            elif result.status is PushStatus.UNKNOWN:
                self.counters.pushes_unknown += 1

    def _resolve_oversells(self, uow: UnitOfWork, outcome: ApplyOutcome) -> list[OversellDecision]:
        """Run the oversell resolver, inside ``uow``, on every position applied events touched (it does nothing
        where the location is not oversold)."""
        decisions: list[OversellDecision] = []
        priorities = {channel.id: channel.channel.priority for channel in self.channels.values()}
        # backorderable SKUs report no shortfall, so every position an event touched is checked
        for sku, location_id in sorted(set(outcome.touched) | {position for position, _ in outcome.shortfalls}):
            for decision in resolve_oversell(uow, sku, location_id, priorities):
                decisions.append(decision)
                outcome.touched.add((sku, location_id))
                if decision.moved_to:
                    outcome.touched.add((sku, decision.moved_to))
                log().warning(
                    "oversell.decided",
                    sku=sku,
                    location=location_id,
                    order=decision.line.order_id,
                    line=decision.line.id,
                    decision=decision.decision,
                    moved_to=decision.moved_to,
                )
        self.counters.oversell_incidents += len(decisions)
        return decisions

    async def _after_oversells(self, decisions: list[OversellDecision]) -> None:
        """What follows a committed decision outside the database: ask the channel to cancel a held order."""
        for decision in decisions:
            if decision.decision == "held":
                await self._ask_to_cancel(decision)

    def _report_messages(self, channel_id: str, outcome: ApplyOutcome) -> None:
        """Log and count every line that was skipped or refused: nothing is dropped silently."""
        for message in outcome.messages:
            log().warning("apply.skipped", channel=channel_id, reason=message)
        self.counters.skipped += len(outcome.messages)

    def _writable(self) -> list[str]:
        """The channels omnibridge writes stock to (pending work is kept for these)."""
        return [channel.id for channel in self.channels.values() if not channel.stock_source]

    def mark_dirty(self, skus: Collection[str], channels: Collection[str] | None = None) -> None:
        """Record, durably, that ``skus`` must be reconciled on ``channels`` (default: every writable one), and wake
        their writers."""
        if skus:
            targets = self._writable() if channels is None else channels
            self.store.mark_work(targets, skus)
            self.writers.wake(targets)

    @property
    def dirty(self) -> set[str]:
        """SKUs still to reconcile on some channel (kept in the store across errors and restarts)."""
        return {sku for _, sku in self.store.pending_work()}

    async def _ask_to_cancel(self, decision: OversellDecision) -> None:
        """Ask the held order's channel to cancel it, where its connector can; the incident says what happened."""
        line = decision.line
        channel = self.channels.get(line.channel)
        connector = channel.connector if channel is not None else None
        if channel is None or not channel.can(Capability.ORDERS_CANCEL) or not isinstance(connector, OrderCanceller):
            return
        reason = f"omnibridge: {line.committed} of the items are no longer in stock at {decision.location_id}"
        try:
            await connector.cancel_order(line.order_ref, reason)
            outcome = f"cancel requested on {line.channel}"
        except ConnectorError as exc:
            outcome = f"cancel on {line.channel} failed: {exc}; cancel it by hand"
        self.store.add_incident(
            Incident(
                kind="oversell",
                decision="cancel_requested" if outcome.startswith("cancel requested") else "cancel_failed",
                summary=f"{line.channel} order {line.order_ref} was held: {outcome}",
                dedupe_key=f"oversell-cancel:{line.id}",
                channel=line.channel,
                order_id=line.order_id,
                location_id=decision.location_id,
            )
        )

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
            if exc.acknowledge:  # not a notification, but the vendor wants a 2xx (nothing is stored)
                log().info("webhook.acknowledged", channel=channel_id, reason=str(exc))
                return Receipt("acknowledged", 200, str(exc))
            self.counters.rejected += 1
            log().warning("webhook.rejected", channel=channel_id, reason=str(exc))
            return Receipt("rejected", 401, str(exc))
        try:
            admission = self.store.admit_delivery(channel_id, delivery)
        except StoreError as exc:
            log().error("webhook.store_failed", channel=channel_id, reason=str(exc))
            return Receipt("unavailable", 503, "could not store the delivery; send it again")
        entry_id = admission.entry_id
        if entry_id is None:
            self.counters.duplicates += 1
            return Receipt("duplicate", 200, "already received")
        if admission.dead_reason is not None:  # authentic but unstorable: kept dead; a 2xx stops the retries
            self._dead_on_arrival(channel_id, entry_id, delivery.topic, admission.dead_reason)
            return Receipt("dead", 200, f"kept as a dead letter: {admission.dead_reason}", entry_id)
        self.counters.received += 1
        self._wake_worker()
        return Receipt("stored", 200, "", entry_id)

    def _wake_worker(self) -> None:
        """Wake the worker; from any thread (the receiver stores deliveries on its own threads, see
        :mod:`omnibridge.sync.receiver`): an asyncio event is only set on its loop's thread."""
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or running is loop:
            self._wake.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def process_pending(self, channels: Collection[str] | None = None) -> int:
        """Apply every pending inbox entry (of ``channels`` only, when given), then reconcile what they touched;
        returns entries processed.

        Passes never overlap: a call made while another pass runs (a worker and a one-off caller) waits for it;
        passes over disjoint ``channels`` (a replica's per-channel jobs, :mod:`omnibridge.replicas`) may.
        """
        if channels is None:
            async with self._pass_lock:
                return await self._process_pending(None)
        async with contextlib.AsyncExitStack() as held:
            for channel_id in sorted(set(channels)):
                await held.enter_async_context(self._channel_passes.setdefault(channel_id, asyncio.Lock()))
            return await self._process_pending(set(channels))

    async def _process_pending(self, only: set[str] | None) -> int:
        await self.resolve_locations(respect_backoff=True)
        await self._offload(self._dead_letter_unconfigured)
        # A channel whose locations are not resolved (it is down) keeps its deliveries pending, and never holds
        # up the others' deliveries. An entry waiting for its retry is not fetched before it is due, and the
        # later entries of its stream wait behind it (see omnibridge.sync.inbox_retry).
        live: list[tuple[InboxEntry, ChannelRuntime]] = []
        resolved = [
            channel
            for channel in self.channels.values()
            if channel.id in self._resolved and (only is None or channel.id in only)
        ]
        plans = await self._offload(lambda: [self._inbox_plan(channel.id) for channel in resolved])
        for channel, queue in zip(resolved, plans, strict=True):
            live.extend((entry, channel) for entry in queue.due)
            for entry in queue.held:
                self._forget_fetch(entry.id)
        # What the deliveries name is fetched for all of them at once, so a connector can batch the calls (a rush
        # of POS sales is one Square order fetch). A pass waits at most ``fetch_wait`` for them: a channel whose
        # fetches are slow (waiting on its rate limit) never holds up the others; its fetches go on in the
        # background and are applied by a later pass. Each channel's deliveries are applied in arrival order within
        # their stream (orders and refunds; stock levels), so a stock notification is not held up by a slow order.
        tasks = [self._fetch(entry, channel) for entry, channel in live]
        if tasks:
            await asyncio.wait(tasks, timeout=self.fetch_wait)
        ready: list[Fetched] = []
        blocked: set[tuple[str, str]] = set()
        retrying: set[tuple[str, str]] = set()
        for (entry, channel), task in zip(live, tasks, strict=True):
            stream = (channel.id, _stream(entry))
            if stream in blocked or not task.done():
                blocked.add(stream)
                if stream in retrying:
                    self._forget_fetch(entry.id)
                continue
            del self._fetching[entry.id]
            if task.cancelled():  # the engine is closing: the entry stays pending, fetched again next time
                blocked.add(stream)
                continue
            error = task.exception()
            if error is not None and not isinstance(error, Exception):
                raise error
            if isinstance(error, RetriableConnectorError):
                if self._retry_later(entry, error):
                    blocked.add(stream)
                    retrying.add(stream)
                continue
            ready.append((entry, channel, task.result() if error is None else error))
        # every delivery ready is applied in one call on the store threads (each in its own unit of work, in
        # order): one hand-over to a thread per pass, not one per delivery, which a busy event loop made the
        # pass's pace
        applied, store_error = await self._offload(self._apply_ready, ready)
        done = 0
        for channel_id, outcome, decisions in applied:
            self.counters.processed += 1
            self._report_messages(channel_id, outcome)
            await self._after_oversells(decisions)
            done += 1
        if store_error is not None:
            raise store_error  # the database is down: the rest stays pending, the worker tries again later
        if self.writers.running:  # each channel's writer writes what the pass marked; the pass does not wait
            await self._mark_due()
            self.writers.wake(self._writable())
        else:
            await self.flush()
        return done

    def _apply_ready(
        self, ready: list[Fetched]
    ) -> tuple[list[tuple[str, ApplyOutcome, list[OversellDecision]]], StoreError | None]:
        """Apply each fetched delivery in order, each in its own unit of work (:meth:`_apply_delivery`); one whose
        fetch failed, or that cannot be applied, is dead-lettered with the reason. Stops at a database error,
        returned for the caller to raise (the rest stays pending). Runs on a store thread."""
        applied: list[tuple[str, ApplyOutcome, list[OversellDecision]]] = []
        for entry, channel, fetched in ready:
            try:
                if isinstance(fetched, Exception):
                    raise fetched
                outcome, decisions = self._apply_delivery(entry, channel, fetched)
            except AlreadyApplied:  # another process applied it since this pass read the inbox: nothing was kept
                continue
            except (ConnectorError, WebhookError, ConflictError) as exc:
                self._dead(entry, str(exc))
                continue
            except StoreError as exc:
                return applied, exc
            except Exception as exc:  # a bug in a connector must not wedge the inbox: keep it dead, with why
                log().exception("webhook.internal_error", channel=channel.id, entry=entry.id)
                self._dead(entry, f"internal error: {type(exc).__name__}: {exc}")
                continue
            applied.append((channel.id, outcome, decisions))
        return applied, None

    def _apply_delivery(
        self, entry: InboxEntry, channel: ChannelRuntime, events: list[ChannelEvent]
    ) -> tuple[ApplyOutcome, list[OversellDecision]]:
        """One unit of work: apply what the delivery carries, decide any oversell it caused, record the levels it
        reported, keep the SKUs it touched as pending work, and mark it done. Nothing of it is kept if any part
        fails (a reused idempotency key raises ``ConflictError``: the caller dead-letters the delivery)."""
        with self.store.unit_of_work() as uow:
            if not uow.take_delivery(entry.id):  # marked done now, committed only with what follows
                raise AlreadyApplied(entry.id)
            applier = EventApplier(self.store, channel, placer=self.placer, pickup=self.pickup)
            applied = applier.apply_all(events, uow=uow)
            decisions = self._resolve_oversells(uow, applied)
            # A reported level never makes a movement. Equal to what the channel is known to show: our own write
            # coming back, or its own sale already imported. Lower: most often a sale whose order notification is
            # still on its way; the difference is subtracted from every other channel at once (see
            # reconcile.available_by_location). If the channel's events have not explained it within
            # ``observe_grace``, the channel is pulled (a receipt or count made on the channel).
            unexplained = {
                position
                for position, available, observed_at in applied.observed
                if available is None or not uow.observe_level(channel.id, position, available, observed_at)
            }
            if unexplained:
                self._pull_due.setdefault(channel.id, self._clock() + self.observe_grace)
                applied.touched |= unexplained
            uow.mark_work(self._writable(), {sku for sku, _ in applied.touched})
        return applied, decisions

    def _dead_letter_unconfigured(self) -> None:
        """Dead-letter (100 at a time) the pending deliveries of channels this profile does not configure."""
        for channel_id in self.store.pending_inbox_channels():
            if channel_id not in self.channels and channel_id not in self.foreign_channels:
                for entry in self.store.inbox(status=InboxStatus.PENDING, channel=channel_id, limit=100):
                    self._dead(entry, f"channel {channel_id!r} is not configured")

    def _inbox_plan(self, channel_id: str) -> InboxPlan:
        """``channel_id``'s pending entries sorted into due now, waiting for their retry, and held behind one."""
        known = self._pending_deliveries.setdefault(channel_id, {})
        return plan(self.store.pending_inbox(channel_id, known), self.store.now(), _stream)

    def _retry_later(self, entry: InboxEntry, exc: RetriableConnectorError) -> bool:
        """Record a retriable failure of ``entry``: True when it waits for its next try, False when that was its
        last allowed attempt and it is dead-lettered."""
        attempts = entry.attempts + 1
        if self.inbox_retry.exhausted(attempts):
            self._dead(entry, f"gave up after {attempts} attempts: {exc}")
            return False
        next_attempt_at = self.store.now() + self.inbox_retry.delay(attempts, exc.retry_after)
        self.store.retry_delivery(entry.id, str(exc), next_attempt_at)
        self.counters.retried += 1
        log().warning(
            "webhook.retry_later",
            channel=entry.channel,
            entry=entry.id,
            attempts=attempts,
            next_attempt_at=next_attempt_at.isoformat(),
            reason=str(exc),
        )
        return True

    def _dead(self, entry: InboxEntry, reason: str) -> None:
        """Dead-letter ``entry`` with ``reason`` (kept with its payload for ``omnibridge deadletters replay``):
        logged, counted and recorded as an incident (:mod:`omnibridge.sync.vanish`)."""
        self.store.finish_delivery(entry.id, InboxStatus.DEAD, reason)
        self.counters.dead += 1
        log().warning("webhook.dead", channel=entry.channel, entry=entry.id, attempts=entry.attempts + 1, reason=reason)
        self.store.add_incident(vanish.dead_letter(entry.channel, entry.id, reason, entry.delivery.topic))

    def _dead_on_arrival(self, channel_id: str, entry_id: int, topic: str, reason: str) -> None:
        """A delivery stored dead on arrival (unstorable as received): logged, counted, an incident."""
        self.counters.dead += 1
        log().warning("webhook.dead", channel=channel_id, entry=entry_id, attempts=0, reason=reason)
        with contextlib.suppress(StoreError):  # the dead letter is committed; the incident is a courtesy
            clean = topic.replace("\x00", "\\x00")[:128]
            self.store.add_incident(vanish.dead_letter(channel_id, entry_id, reason, clean))

    def fetches_running(self, channel_id: str) -> list[asyncio.Task[list[ChannelEvent]]]:
        """The fetches of what ``channel_id``'s deliveries name that a pass of this engine started and that have not
        ended (a pass waits at most ``fetch_wait`` for them; a later pass of this engine applies what they bring)."""
        return [task for owner, task in self._fetching.values() if owner == channel_id and not task.done()]

    def _forget_fetch(self, entry_id: int) -> None:
        """Drop the finished fetch of an entry held behind a retry: it is fetched afresh when its turn comes."""
        running = self._fetching.get(entry_id)
        if running is not None and running[1].done():
            del self._fetching[entry_id]
            if not running[1].cancelled():
                running[1].exception()  # retrieved: a failure here is tried again with the fetch, not reported

    def _fetch(self, entry: InboxEntry, channel: ChannelRuntime) -> asyncio.Task[list[ChannelEvent]]:
        """The (possibly already running) fetch of what ``entry`` names; wakes the worker when it finishes."""
        running = self._fetching.get(entry.id)
        if running is not None:
            return running[1]
        task = asyncio.ensure_future(channel.connector.webhook_events(entry.delivery))
        task.add_done_callback(lambda _: self._wake.set())
        self._fetching[entry.id] = (channel.id, task)
        return task

    async def _pull_when_due(self) -> None:
        """Pull the channels whose unexplained levels have waited ``observe_grace``: once per channel. A channel
        with deliveries due now (being fetched, or to be fetched by the next pass) is not pulled yet: the events
        that explain its levels are most likely among them (a pull is the most expensive call there is on a
        rate-limited API). Deliveries waiting for a retry, and those held behind them, do not hold up the pull.

        While the writers run, a pull runs beside the worker (:meth:`_pull_beside`) instead of inside the pass: a
        pull waits on the channel's rate limit (seconds on a busy Shopify bucket) and must not hold up every other
        channel's deliveries."""
        now = self._clock()
        for channel_id, due in list(self._pull_due.items()):
            if due > now or not self.available(channel_id) or channel_id in self._pulling:
                continue
            waiting = (await self._offload(self._inbox_plan, channel_id)).due
            # another caller (a replica runs passes of different channels at once, and its sweep) may have taken
            # this pull while the inbox was read: it is taken once
            if self._pull_due.get(channel_id) != due or channel_id in self._pulling:
                continue
            if waiting:
                self._pull_due[channel_id] = now + self.observe_grace
                continue
            del self._pull_due[channel_id]
            if self.writers.running:
                self._pull_beside(channel_id)
            else:
                await self._pull_logged(channel_id)

    async def _pull_logged(self, channel_id: str, apply_lock: asyncio.Lock | None = None) -> None:
        try:
            await self.pull(self.channels[channel_id], apply_lock=apply_lock)
        except ConnectorError as exc:
            log().warning("pull.failed", channel=channel_id, reason=str(exc))
            self._failed(channel_id, str(exc))

    def _pull_beside(self, channel_id: str) -> None:
        """Pull ``channel_id`` in a task of its own, its events applied under the pass lock; the writers are woken
        when it ends. One pull per channel at a time (a level due meanwhile waits for the next pass after it)."""

        async def pull() -> None:
            try:
                await self._pull_logged(channel_id, self._pass_lock)
            except OmnibridgeError as exc:
                log().error("pull.failed", channel=channel_id, reason=str(exc))
            except Exception:  # the worker outlives any one bad pull
                log().exception("pull.crashed", channel=channel_id)
            finally:
                self._pulling.pop(channel_id, None)
                self.writers.wake(self._writable())

        self._pulling[channel_id] = asyncio.ensure_future(pull())

    async def flush(self) -> None:
        """Reconcile every SKU with pending work on every channel. The work is kept in the store and removed per
        channel only once that channel's reconcile succeeded, so a failing channel, a database error or a restart
        loses none of it.

        With the channels' writers running (:meth:`run_writers`) this is still "write everything now and wait": it
        takes each channel's turn from its writer (a per-channel lock)."""
        await self._mark_due()
        pending = self.store.pending_work()
        if not pending:
            return
        await self.resolve_locations(respect_backoff=True)
        ready = {channel_id for channel_id in self.channels if self.available(channel_id)}
        for round_ in range(3):  # a read on one channel can change what the others should show: follow up at once
            if round_:
                pending = self.store.pending_work()
            work = {key: seq for key, seq in pending.items() if key[0] in ready}
            if not work:
                return
            by_channel: dict[str, dict[tuple[str, str], int]] = {}
            for (channel_id, sku), seq in work.items():
                by_channel.setdefault(channel_id, {})[(channel_id, sku)] = seq
            # channels are independent (each its own API and limits): they are written at the same time; the task
            # group waits for every one of them, and cancels the others if one fails outside the connector
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(self._flush_channel(self.channels[channel_id], channel_work))
                    for channel_id, channel_work in by_channel.items()
                    if channel_id in self.channels
                ]
            followups = {sku for task in tasks if (report := task.result()) is not None for sku, _ in report.settled}
            self.mark_dirty(followups)
            # channels that failed in this pass wait for their back-off; what was marked meanwhile goes now
            ready = {channel_id for channel_id in ready if self.available(channel_id)}

    @property
    def wake_event(self) -> asyncio.Event:
        """Set when a delivery is stored or the fetch of what one names ends: a worker waiting on it runs a pass."""
        return self._wake

    async def mark_due(self) -> None:
        """Pull the channels and mark the SKUs whose grace ended (what a pass does first): a replica
        (:mod:`omnibridge.replicas`) calls it between its jobs, as it runs a pass only when a delivery came."""
        await self._mark_due()

    async def _mark_due(self) -> None:
        """Pull the channels whose unexplained levels are due, and mark the SKUs whose re-check is due."""
        await self._pull_when_due()
        now = self._clock()
        due = [sku for sku, when in self._recheck.items() if when <= now]
        for sku in due:
            del self._recheck[sku]
        self.mark_dirty(due)

    async def write_channel(self, channel_id: str) -> None:
        """One turn of ``channel_id``'s writer: reconcile its pending work; the SKUs a read settled are marked for
        every channel (what the others should show may change) and so wake their writers."""
        channel = self.channels.get(channel_id)
        if channel is None or channel_id not in self._resolved or not self.available(channel_id):
            return  # the work stays pending: the writer looks again on its next wake
        work = await self._offload(self.store.pending_work, channel_id)
        if not work:
            return
        report = await self._flush_channel(channel, work)
        if report is not None:
            self.mark_dirty({sku for sku, _ in report.settled})

    async def run_writers(self, stop: asyncio.Event, *, idle_seconds: float = 1.0) -> None:
        """Run one writer per writable channel (:mod:`omnibridge.sync.writers`) until ``stop`` is set."""
        await self.writers.run(self._writable(), stop, idle_seconds=idle_seconds)

    async def _flush_channel(self, channel: ChannelRuntime, work: dict[tuple[str, str], int]) -> ReconcileReport | None:
        async with self.writers.lock(channel.id):
            return await self._flush_channel_locked(channel, work)

    async def _flush_channel_locked(
        self, channel: ChannelRuntime, work: dict[tuple[str, str], int]
    ) -> ReconcileReport | None:
        if channel.stock_source:  # an ERP/WMS feed is pulled into the ledger, never written to
            self.store.finish_work(work)
            return None
        if channel.id not in self._resolved or not self.available(channel.id):
            return None  # the work stays pending for a later pass
        skus = {sku for _, sku in work}
        try:
            skus = skus | self._resume(channel)
            report = await self._reconcile(channel, skus, trust_known=True)
        except ConnectorError as exc:
            log().warning("reconcile.failed", channel=channel.id, reason=str(exc))
            self.counters.reconcile_failures += 1
            self._failed(channel.id, str(exc))
            return None
        await self._offload(self.store.finish_work, work)
        if report.unknown:  # writes whose outcome is unknown: backed off like a failure, re-read after it
            self._failed(channel.id, f"{len(report.unknown)} writes of unknown outcome")
            self.mark_dirty({sku for sku, _ in report.unknown}, [channel.id])
        else:
            self._succeeded(channel.id)
        return report

    async def run_worker(self, stop: asyncio.Event, *, idle_seconds: float = 1.0) -> None:
        """Process the inbox whenever a delivery arrives (or every ``idle_seconds``) until ``stop`` is set, with
        each channel's writer running beside it."""
        self._loop = asyncio.get_running_loop()
        writers = asyncio.ensure_future(self.run_writers(stop, idle_seconds=idle_seconds))
        stopping = asyncio.ensure_future(self._wake_when_set(stop))
        try:
            await self._work(stop, idle_seconds)
        finally:
            stop.set()
            stopping.cancel()
            await writers
            self._loop = None

    async def _wake_when_set(self, stop: asyncio.Event) -> None:
        """Wake the idle worker as soon as ``stop`` is set, so stopping never waits out its idle interval."""
        await stop.wait()
        self._wake.set()

    async def _work(self, stop: asyncio.Event, idle_seconds: float) -> None:
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


class AlreadyApplied(Exception):
    """The inbox entry was no longer pending when its unit of work claimed it: another process applied it."""


def _stream(entry: InboxEntry) -> str:
    """Deliveries that must be applied in arrival order share a stream: stock level notifications are independent
    of order and refund events. Vendors name their topic after inventory (Shopify ``inventory_levels/update``,
    Square ``inventory.count.updated``, Clover's item notifications) or after the quantity (Amazon
    ``LISTINGS_ITEM_MFN_QUANTITY_CHANGE``, whose order's fetch waits on ``getOrder``'s 0.5 requests/s)."""
    topic = entry.delivery.topic.lower()
    return "stock" if "inventory" in topic or "quantity" in topic else "orders"
