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
from omnibridge.console.api_calls import CallTotals, call_totals
from omnibridge.console.context import ConsoleContext
from omnibridge.sdk.metadata import Capability
from omnibridge.store.engine import read_session
from omnibridge.store.tables import CHANNEL_LEVELS, INBOX, INCIDENTS, OUTBOX, POSITIONS, SYNC_BOOKMARKS

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
    calls: list[tuple[str, CallTotals]] = field(default_factory=list)
    """(channel, its connector's calls of one operation), by channel then operation."""
    budgets: dict[str, str] = field(default_factory=dict)
    """Channel -> what is left of its API budget as of its latest call (``remaining / capacity``)."""


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


def stockouts(context: ConsoleContext) -> dict[str, int]:
    """Location -> positions with nothing available (on hand minus committed and reserved, 0 or less); one scan
    of every position, so it is drawn on the reports page rather than the overview."""
    with read_session(context.store.engine) as session:
        rows = session.execute(
            sa.select(POSITIONS.c.location_id, sa.func.count())
            .where(POSITIONS.c.on_hand - POSITIONS.c.committed - POSITIONS.c.reserved <= 0)
            .group_by(POSITIONS.c.location_id)
        ).all()
    return {str(location): int(count) for location, count in sorted(rows)}


def lag_by_hour(context: ConsoleContext, channel: str, hours: int = 24) -> list[tuple[str, float]]:
    """``(hour, p99 propagation lag in seconds)`` of ``channel``'s writes finished in the last ``hours``."""
    since = context.store.now() - timedelta(hours=hours)
    with read_session(context.store.engine) as session:
        rows = session.execute(
            sa.select(OUTBOX.c.created_at, OUTBOX.c.finished_at).where(
                OUTBOX.c.finished_at >= since, OUTBOX.c.channel == channel, OUTBOX.c.status == "done"
            )
        ).all()
    hourly: dict[datetime, list[float]] = defaultdict(list)
    for created, done in rows:
        hourly[done.replace(minute=0, second=0, microsecond=0)].append(_seconds(created, done) or 0.0)
    return [(hour.strftime("%H:00"), percentile(values, 0.99) or 0.0) for hour, values in sorted(hourly.items())]


def overview(context: ConsoleContext) -> Overview:
    """Read the overview from the store (a handful of grouped queries, none per SKU)."""
    store = context.store
    now = store.now()
    hour_ago = now - timedelta(hours=1)
    with read_session(store.engine) as session:
        finished = session.execute(
            sa.select(OUTBOX.c.channel, OUTBOX.c.status, OUTBOX.c.created_at, OUTBOX.c.finished_at).where(
                OUTBOX.c.finished_at >= hour_ago
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
        # ordered by the indexed column so SQLite reads ix_channel_levels_unexplained_since, not every level
        drifted = (
            sa.select(CHANNEL_LEVELS.c.channel)
            .where(CHANNEL_LEVELS.c.unexplained_since.is_not(None))
            .order_by(CHANNEL_LEVELS.c.unexplained_since)
            .subquery()
        )
        drift = session.execute(sa.select(drifted.c.channel, sa.func.count()).group_by(drifted.c.channel)).all()
        bookmarks = session.execute(
            sa.select(SYNC_BOOKMARKS.c.channel, sa.func.max(SYNC_BOOKMARKS.c.updated_at)).group_by(
                SYNC_BOOKMARKS.c.channel
            )
        ).all()
    lags: dict[str, list[float]] = defaultdict(list)
    failed: dict[str, int] = defaultdict(int)
    for channel, status, created, done in finished:
        if status == "done":
            lags[channel].append(_seconds(created, done) or 0.0)
        elif status == "failed":
            failed[channel] += 1
    totals = call_totals(store, now, context.calls.pending() if context.calls is not None else None)
    known = {str(row[0]) for row in (*pending, *inbox, *bookmarks, *finished)} | {t.connector for t in totals}
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
    connectors = connectors_of(context, [row.channel for row in rows])
    calls = [(channel, t) for channel, connector in connectors.items() for t in totals if t.connector == connector]
    budgets: dict[str, str] = {}
    if context.calls is not None:
        for channel, connector in connectors.items():
            if connector in context.calls.budgets:
                remaining, capacity = context.calls.budgets[connector]
                budgets[channel] = f"{max(0.0, remaining):.0f} / {capacity:.0f}"
    return Overview(rows, waiting, calls, budgets)


def connectors_of(context: ConsoleContext, channels: list[str]) -> dict[str, str]:
    """Channel -> the connector whose HTTP client makes its calls (the channel's own name without a profile)."""
    if context.profile is None:
        return {channel: channel for channel in channels}
    by_id = {channel.id: channel.connector for channel in context.profile.channels}
    return {channel: by_id.get(channel, channel) for channel in channels}
