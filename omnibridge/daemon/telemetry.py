"""The daemon's metrics: what they are, how events feed them, and what is read at scrape time.

Every metric is documented in docs/operations.md. Counters fed by events (webhooks answered, job runs, pushes
seen in sync reports) are incremented as they happen; the rest is read when ``/metrics`` is scraped: the inbox
per channel (one aggregate query), the engine's counters, each connector's rate-limit bucket and HTTP calls
(:class:`~omnibridge.sdk.http_stats.HttpStats`), the age of the last successful sync per channel, and the stock
writes that landed since the last scrape (the propagation-lag histogram).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from omnibridge.daemon.metrics import Registry
from omnibridge.daemon.state import DaemonState
from omnibridge.sdk import Bucket
from omnibridge.sdk.channel import PushStatus
from omnibridge.sdk.http import ConnectorHttpClient
from omnibridge.store import InboxStatus, Store
from omnibridge.store.engine import read_session
from omnibridge.store.tables import INBOX, OUTBOX

if TYPE_CHECKING:
    from omnibridge.shipping.runtime import CarrierRuntime
    from omnibridge.sync import SyncEngine, SyncReport

PREFIX = "omnibridge_"
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
LAG_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
LANDED = ("applied", "unchanged")


def http_clients(connector: object) -> list[ConnectorHttpClient]:
    """The shared HTTP clients a connector holds (most hold one as ``http``; Amazon's also ``files``)."""
    fields = vars(connector).values() if hasattr(connector, "__dict__") else ()
    return [value for value in fields if isinstance(value, ConnectorHttpClient)]


def landed_writes(store: Store, since: datetime) -> list[tuple[str, float, datetime]]:
    """``(channel, seconds from recorded to done, done at)`` of each stock write that landed after ``since``."""
    out = OUTBOX.c
    query = (
        sa.select(out.channel, out.created_at, out.finished_at)
        .where(out.status.in_(LANDED), out.finished_at > since)
        .order_by(out.finished_at)
    )
    with read_session(store.engine) as session:
        return [
            (channel, max(0.0, (_aware(done) - _aware(created)).total_seconds()), _aware(done))
            for channel, created, done in session.execute(query)
        ]


@dataclasses.dataclass(frozen=True)
class InboxStats:
    """Per channel: pending entries, the oldest pending entry's receive time, dead entries, and the pending
    entries waiting for a retry after a retriable failure."""

    pending: dict[str, int]
    oldest_pending: dict[str, datetime]
    dead: dict[str, int]
    retrying: dict[str, int] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class ScrapeReads:
    """What one scrape reads from the store: the inbox's counts and the stock writes that landed since the last."""

    inbox: InboxStats
    landed: list[tuple[str, float, datetime]]


def inbox_stats(store: Store) -> InboxStats:
    """One aggregate query over the inbox (cheap at any backlog; no payload is read)."""
    pending: dict[str, int] = {}
    oldest: dict[str, datetime] = {}
    dead: dict[str, int] = {}
    retrying: dict[str, int] = {}
    query = (
        sa.select(
            INBOX.c.channel,
            INBOX.c.status,
            sa.func.count(),
            sa.func.min(INBOX.c.received_at),
            sa.func.count(INBOX.c.next_attempt_at),
        )
        .where(INBOX.c.status.in_([InboxStatus.PENDING.value, InboxStatus.DEAD.value]))
        .group_by(INBOX.c.channel, INBOX.c.status)
    )
    with read_session(store.engine) as session:
        for channel, status, count, first, waiting in session.execute(query):
            if status == InboxStatus.PENDING.value:
                pending[channel] = int(count)
                if first is not None:
                    oldest[channel] = _aware(first)
                if waiting:
                    retrying[channel] = int(waiting)
            else:
                dead[channel] = int(count)
    return InboxStats(pending, oldest, dead, retrying)


def _aware(value: datetime | str) -> datetime:
    # min() over a timestamp column comes back as text on SQLite (the type decorator is not applied to it)
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class DaemonMetrics:
    """The registry and every metric the daemon exports."""

    def __init__(self, registry: Registry | None = None, *, lag_since: datetime | None = None) -> None:
        """``lag_since``: the propagation-lag histogram counts writes that landed after it (default: now)."""
        r = self.registry = registry or Registry()
        self.up = r.gauge(PREFIX + "up", "1 while the daemon runs")
        self.ready = r.gauge(PREFIX + "ready", "1 when /readyz answers 200")
        self.channel_resolved = r.gauge(
            PREFIX + "channel_locations_resolved", "1 when the channel's locations are resolved", ["channel"]
        )
        self.webhooks_received = r.counter(
            PREFIX + "webhooks_received_total", "Webhook deliveries stored in the inbox", ["channel"]
        )
        self.webhooks_duplicates = r.counter(
            PREFIX + "webhooks_duplicates_total", "Webhook deliveries already in the inbox (acknowledged)", ["channel"]
        )
        self.webhooks_rejected = r.counter(
            PREFIX + "webhooks_rejected_total",
            "Webhook deliveries refused: bad signature (401) or unknown channel (404)",
            ["channel"],
        )
        self.webhooks_unavailable = r.counter(
            PREFIX + "webhooks_unavailable_total",
            "Webhook deliveries answered 503 because the store could not keep them (the vendor retries)",
            ["channel"],
        )
        self.webhook_ack_seconds = r.histogram(
            PREFIX + "webhook_ack_seconds",
            "Time from request to acknowledgement (after commit)",
            ["channel"],
            ACK_BUCKETS,
        )
        self.inbox_pending = r.gauge(PREFIX + "inbox_pending", "Inbox entries stored but not yet applied", ["channel"])
        self.inbox_retrying = r.gauge(
            PREFIX + "inbox_retrying",
            "Pending inbox entries waiting for a retry after a retriable failure ('omnibridge deadletters retrying')",
            ["channel"],
        )
        self.inbox_dead = r.gauge(
            PREFIX + "inbox_dead",
            "Dead inbox entries waiting for 'omnibridge deadletters replay' (discarded ones are not counted)",
            ["channel"],
        )
        self.dead_letters = r.counter(
            PREFIX + "dead_letters_total",
            "Inbox entries marked dead by this process (engine and carrier channels' counters 'dead')",
        )
        self.http_refused = r.counter(
            PREFIX + "http_refused_total",
            "HTTP requests refused or aborted before reaching a channel (too large, too slow, evicted...), by reason",
            ["reason"],
        )
        self._refused_exported: dict[str, int] = {}
        self.sync_lag = r.gauge(
            PREFIX + "sync_lag_seconds", "Age of the oldest pending inbox entry (0 when none)", ["channel"]
        )
        self.last_sync_age = r.gauge(
            PREFIX + "last_sync_age_seconds",
            "Seconds since the channel's last successful pull or read-back (since start-up if none yet)",
            ["channel"],
        )
        self.pushes = r.counter(
            PREFIX + "pushes_total",
            "Level writes seen in read-back reports, by outcome (webhook-driven pushes are not included)",
            ["channel", "status"],
        )
        self.throttle_waits = r.counter(
            PREFIX + "throttle_waits_total", "Requests that waited for the connector's rate-limit bucket", ["channel"]
        )
        self.throttle_wait_seconds = r.counter(
            PREFIX + "throttle_wait_seconds_total", "Time requests spent waiting for the rate-limit bucket", ["channel"]
        )
        self.job_runs = r.counter(PREFIX + "job_runs_total", "Queued jobs run, by outcome", ["job", "outcome"])
        self.job_seconds = r.histogram(
            PREFIX + "job_duration_seconds", "Time to run a queued job", ["job"], JOB_BUCKETS
        )
        self.jobs_coalesced = r.counter(
            PREFIX + "jobs_coalesced_total", "Scheduler ticks merged into a job that was still queued", ["job"]
        )
        self.job_queue = r.gauge(PREFIX + "job_queue_depth", "Jobs waiting for the worker")
        self.reservations_expired = r.counter(
            PREFIX + "reservations_expired_total", "Reservations released because their hold expired"
        )
        self.inbox_passes = r.counter(PREFIX + "inbox_passes_total", "Worker passes over the inbox", ["outcome"])
        self.poll_events = r.counter(
            PREFIX + "poll_events_total",
            "Events pulled by poll jobs (for a file feed: stock-count rows read from its files)",
            ["channel"],
        )
        self.exported_records = r.counter(
            PREFIX + "exported_records_total", "Records written to export files, by kind", ["channel", "kind"]
        )
        self.export_files = r.counter(PREFIX + "export_files_total", "Export files written", ["channel"])
        self.api_calls = r.counter(
            PREFIX + "api_calls_total",
            "HTTP calls (attempts) to a channel's API, by operation and outcome (ok, throttled, denied, "
            "client_error, server_error, transport_error)",
            ["channel", "operation", "outcome"],
        )
        self.api_retries = r.counter(
            PREFIX + "api_retries_total",
            "HTTP calls to a channel's API retried, by operation",
            ["channel", "operation"],
        )
        self.api_refusals = r.counter(
            PREFIX + "api_refusals_total",
            "HTTP calls a channel's API refused: throttled (429 or a throttled answer) or denied (401/403)",
            ["channel", "operation", "reason"],
        )
        self.api_budget = r.gauge(
            PREFIX + "api_budget_remaining_ratio",
            "Share of the connector's rate-limit bucket available now (1 = full, 0 = empty or in debt)",
            ["channel"],
        )
        self.propagation_lag = r.histogram(
            PREFIX + "propagation_lag_seconds",
            "Seconds from a stock write being recorded in the outbox to the channel applying it",
            ["channel"],
            LAG_BUCKETS,
        )
        self.store_write_turns = r.counter(
            PREFIX + "store_write_turns_total",
            "Write transactions this process ran on its SQLite store (none exported on PostgreSQL)",
        )
        self.store_write_wait = r.counter(
            PREFIX + "store_write_wait_seconds_total",
            "Time this process's SQLite write transactions waited for one another, added up",
        )
        self.store_write_hold = r.counter(
            PREFIX + "store_write_hold_seconds_total",
            "Time this process was writing its SQLite store (its rate near 1: every writer queues)",
        )
        self._lag_seen = lag_since or datetime.now(UTC)

    def record_webhook(self, channel: str, status: str, seconds: float) -> None:
        """Count one answered delivery by the receipt status the receiver answered with."""
        counter = {
            "stored": self.webhooks_received,
            "duplicate": self.webhooks_duplicates,
            "rejected": self.webhooks_rejected,
            "unknown_channel": self.webhooks_rejected,
            "unavailable": self.webhooks_unavailable,
        }.get(status)
        if counter is not None:
            counter.inc(channel=channel)
        self.webhook_ack_seconds.observe(seconds, channel=channel)

    def record_sync(self, report: SyncReport) -> None:
        for channel in report.channels:
            if channel.reconcile is None:
                continue
            for status in PushStatus:
                count = channel.reconcile.count(status)
                if count:
                    self.pushes.inc(count, channel=channel.channel, status=status.value)

    def count_connector(self, channel: str, connector: object) -> None:
        """Read a connector's rate-limit bucket (waits, budget left) and its HTTP clients' calls."""
        bucket = getattr(connector, "bucket", None)
        if isinstance(bucket, Bucket):
            self.throttle_waits.set_total(bucket.waits, channel=channel)
            self.throttle_wait_seconds.set_total(bucket.waited_seconds, channel=channel)
            bucket.wait_time(0.0)  # brings `available` up to now
            self.api_budget.set(max(0.0, (bucket.available - bucket.in_flight) / bucket.capacity), channel=channel)
        self.count_api_calls(channel, http_clients(connector))

    def count_api_calls(self, channel: str, clients: list[ConnectorHttpClient]) -> None:
        """Mirror the calls, retries and refusals of ``channel``'s HTTP clients (summed over its clients)."""
        calls: dict[tuple[str, str], int] = {}
        retries: dict[str, int] = {}
        for client in clients:
            client_calls, client_retries = client.stats.snapshot()
            for key, count in client_calls.items():
                calls[key] = calls.get(key, 0) + count
            for operation, count in client_retries.items():
                retries[operation] = retries.get(operation, 0) + count
        for (operation, outcome), count in calls.items():
            self.api_calls.set_total(count, channel=channel, operation=operation, outcome=outcome)
            if outcome in ("throttled", "denied"):
                self.api_refusals.set_total(count, channel=channel, operation=operation, reason=outcome)
        for operation, count in retries.items():
            self.api_retries.set_total(count, channel=channel, operation=operation)

    def observe_propagation(self, store: Store) -> None:
        """Observe the lag of every stock write that landed since the last scrape (since start-up at first)."""
        self._observe_landed(landed_writes(store, self._lag_seen))

    def _observe_landed(self, landed: list[tuple[str, float, datetime]]) -> None:
        for channel, seconds, done in landed:
            if done > self._lag_seen:
                self.propagation_lag.observe(seconds, channel=channel)
        self._lag_seen = max([self._lag_seen, *(done for _, _, done in landed)])

    def read_store(self, store: Store) -> ScrapeReads:
        """What :meth:`collect` reads from the store (blocking: the daemon calls it in a worker thread)."""
        return ScrapeReads(inbox_stats(store), landed_writes(store, self._lag_seen))

    def count_refusals(self, totals: Mapping[str, int]) -> None:
        """Bring ``http_refused_total`` up to ``totals`` (a :class:`~omnibridge.sync.webhook_limits.RefusalLog`'s)."""
        for reason, total in totals.items():
            self.http_refused.inc(total - self._refused_exported.get(reason, 0), reason=reason)
            self._refused_exported[reason] = total

    def collect(
        self,
        engine: SyncEngine,
        state: DaemonState,
        *,
        ready: bool,
        queue_depth: int,
        carriers: CarrierRuntime | None = None,
        reads: ScrapeReads | None = None,
    ) -> None:
        """Refresh the values read at scrape time; ``reads``: what :meth:`read_store` read (read now when None)."""
        self.up.set(1)
        self.ready.set(1 if ready else 0)
        self.job_queue.set(queue_depth)
        now = datetime.now(UTC)
        reads = reads if reads is not None else self.read_store(engine.store)
        stats = reads.inbox
        connectors: dict[str, object] = {
            channel_id: runtime.connector for channel_id, runtime in engine.channels.items()
        }
        if carriers is not None:
            connectors.update({channel_id: carrier.connector for channel_id, carrier in carriers.channels.items()})
        for channel_id, connector in connectors.items():
            for counter in (
                self.webhooks_received,
                self.webhooks_duplicates,
                self.webhooks_rejected,
                self.webhooks_unavailable,
            ):
                counter.inc(0, channel=channel_id)  # every channel's series exists from the first scrape
            self.inbox_pending.set(stats.pending.get(channel_id, 0), channel=channel_id)
            self.inbox_retrying.set(stats.retrying.get(channel_id, 0), channel=channel_id)
            oldest = stats.oldest_pending.get(channel_id)
            self.sync_lag.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0, channel=channel_id)
            self.count_connector(channel_id, connector)
        self._observe_landed(reads.landed)
        turns = engine.store.write_turns()
        if turns is not None:
            self.store_write_turns.set_total(turns.turns)
            self.store_write_wait.set_total(turns.waiting)
            self.store_write_hold.set_total(turns.holding)
        for channel_id in engine.channels:
            self.channel_resolved.set(0 if channel_id in state.unresolved else 1, channel=channel_id)
            self.last_sync_age.set(state.last_sync_age(channel_id), channel=channel_id)
        self.inbox_dead.clear()
        for channel_id in sorted(set(connectors) | set(stats.dead)):
            self.inbox_dead.set(stats.dead.get(channel_id, 0), channel=channel_id)
        carrier_dead = sum(counters.dead for counters in carriers.counters.values()) if carriers is not None else 0
        self.dead_letters.set_total(getattr(engine.counters, "dead", 0) + carrier_dead)
        for item in dataclasses.fields(engine.counters):
            value = getattr(engine.counters, item.name)
            if isinstance(value, int) and not isinstance(value, bool):
                self.registry.counter(
                    f"{PREFIX}engine_{item.name}_total", f"Sync engine counter '{item.name}' since start-up"
                ).set_total(value)
        if carriers is not None:
            for channel_id, counters in carriers.counters.items():
                for item in dataclasses.fields(counters):
                    self.registry.counter(
                        f"{PREFIX}carrier_{item.name}_total",
                        f"Carrier channel counter '{item.name}' since start-up",
                        ["channel"],
                    ).set_total(getattr(counters, item.name), channel=channel_id)
