"""The overview: one row per channel judged against its expected freshness, and what is waiting for a person.

Freshness: a channel that takes webhooks is judged by the age of its oldest pending delivery against
:data:`REALTIME_TARGET_S`; a polled channel by the time since its last sync (its bookmark) against the daemon's
poll interval. Either is *on time* within the target, *late* up to twice it, *error* past twice it or when its
last write failed. Propagation lag is ``finished_at - created_at`` of the writes finished in the last hour.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from omnibridge.console.actions import ACTION_SOURCES
from omnibridge.console.context import ConsoleContext
from omnibridge.sdk.metadata import Capability
from omnibridge.store.engine import read_session
from omnibridge.store.tables import CHANNEL_LEVELS, INBOX, INCIDENTS, OUTBOX, SYNC_BOOKMARKS

REALTIME_TARGET_S = 60.0
"""How soon a webhook delivery should be applied (the real-time target of docs/operations.md)."""


@dataclass
class ChannelRow:
    """One channel's line of the overview."""

    channel: str
    mode: str
    """``webhooks`` or ``polled``."""
    status: str = "on time"
    why: str = ""
    last_sync: datetime | None = None
    lag_p50_s: float | None = None
    lag_p99_s: float | None = None
    backlog: int = 0
    oldest_pending_s: float | None = None
    failed_writes_1h: int = 0
    open_incidents: int = 0
    dead_letters: int = 0
    drift: int = 0


@dataclass
class Overview:
    """Everything the overview page shows."""

    channels: list[ChannelRow]
    waiting: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Action source name -> (title, how many items wait)."""
    lag_series: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    """Channel -> (hour, p99 lag in seconds) over the last 24 hours."""


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else max(0.0, (end - start).total_seconds())


def _channels(context: ConsoleContext, known: set[str]) -> list[tuple[str, str]]:
    if context.profile is None:
        return [(name, "polled") for name in sorted(known)]
    return [
        (channel.id, "webhooks" if Capability.WEBHOOKS in channel.spec.capabilities else "polled")
        for channel in context.profile.channels
        if channel.enabled and channel.spec.kind.value != "carrier"
    ]


def judge(row: ChannelRow, now: datetime, poll_seconds: float) -> None:
    """Set ``row.status`` and ``row.why`` (see the module docstring)."""
    age: float | None
    if row.mode == "webhooks":
        age, target, what = row.oldest_pending_s or 0.0, REALTIME_TARGET_S, "the oldest pending write"
    else:
        age, target, what = _seconds(row.last_sync, now), poll_seconds, "the last sync"
    if age is None:
        row.status, row.why = "late", "never synced yet"
        return
    if row.failed_writes_1h:
        row.status, row.why = "error", f"{row.failed_writes_1h} writes failed in the last hour"
    elif age > 2 * target:
        row.status, row.why = "error", f"{what} is {age:.0f} s old, past twice the {target:.0f} s target"
    elif age > target:
        row.status, row.why = "late", f"{what} is {age:.0f} s old, past the {target:.0f} s target"
    else:
        row.status, row.why = "on time", f"within the {target:.0f} s target"


def overview(context: ConsoleContext) -> Overview:
    """Read the overview from the store (a handful of grouped queries, none per SKU)."""
    store = context.store
    now = store.now()
    hour_ago, day_ago = now - timedelta(hours=1), now - timedelta(days=1)
    with read_session(store.engine) as session:
        finished = session.execute(
            sa.select(OUTBOX.c.channel, OUTBOX.c.status, OUTBOX.c.created_at, OUTBOX.c.finished_at).where(
                OUTBOX.c.finished_at >= day_ago
            )
        ).all()
        pending = session.execute(
            sa.select(OUTBOX.c.channel, sa.func.count(), sa.func.min(OUTBOX.c.created_at))
            .where(OUTBOX.c.status == "pending")
            .group_by(OUTBOX.c.channel)
        ).all()
        inbox = session.execute(
            sa.select(INBOX.c.channel, INBOX.c.status, sa.func.count(), sa.func.min(INBOX.c.received_at))
            .where(INBOX.c.status.in_(("pending", "dead")))
            .group_by(INBOX.c.channel, INBOX.c.status)
        ).all()
        incidents = session.execute(
            sa.select(INCIDENTS.c.channel, sa.func.count())
            .where(INCIDENTS.c.resolved_at.is_(None))
            .group_by(INCIDENTS.c.channel)
        ).all()
        drift = session.execute(
            sa.select(CHANNEL_LEVELS.c.channel, sa.func.count())
            .where(CHANNEL_LEVELS.c.unexplained_since.is_not(None))
            .group_by(CHANNEL_LEVELS.c.channel)
        ).all()
        bookmarks = session.execute(
            sa.select(SYNC_BOOKMARKS.c.channel, sa.func.max(SYNC_BOOKMARKS.c.updated_at)).group_by(
                SYNC_BOOKMARKS.c.channel
            )
        ).all()
    lags: dict[str, list[float]] = defaultdict(list)
    hourly: dict[str, dict[datetime, list[float]]] = defaultdict(lambda: defaultdict(list))
    failed: dict[str, int] = defaultdict(int)
    for channel, status, created, done in finished:
        lag = _seconds(created, done) or 0.0
        hourly[channel][done.replace(minute=0, second=0, microsecond=0)].append(lag)
        if done >= hour_ago:
            if status == "done":
                lags[channel].append(lag)
            elif status == "failed":
                failed[channel] += 1
    known = {str(row[0]) for row in (*pending, *inbox, *bookmarks, *finished)}
    rows = []
    for name, mode in _channels(context, known):
        row = ChannelRow(name, mode)
        row.lag_p50_s, row.lag_p99_s = percentile(lags[name], 0.5), percentile(lags[name], 0.99)
        row.failed_writes_1h = failed[name]
        for channel, count, oldest in pending:
            if channel == name:
                row.backlog, row.oldest_pending_s = int(count), _seconds(oldest, now)
        for channel, status, count, _oldest in inbox:
            if channel == name and status == "dead":
                row.dead_letters = int(count)
        row.open_incidents = sum(int(count) for channel, count in incidents if channel == name)
        row.drift = sum(int(count) for channel, count in drift if channel == name)
        row.last_sync = next((at for channel, at in bookmarks if channel == name), None)
        judge(row, now, context.poll_seconds)
        rows.append(row)
    waiting = {name: (source.title, len(source.items(context, {}))) for name, source in ACTION_SOURCES.items()}
    series = {
        channel: [(hour.strftime("%H:00"), percentile(values, 0.99) or 0.0) for hour, values in sorted(by_hour.items())]
        for channel, by_hour in hourly.items()
    }
    return Overview(rows, waiting, series)
