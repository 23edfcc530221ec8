"""The engine's pending work, durable: SKUs still to reconcile on a channel.

Marking is an upsert that bumps a per-row sequence number, so a pass that read the work at sequence ``n``
finishes it with :func:`finish_work` (``seq <= n``) and leaves alone whatever was marked again while it ran.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from omnibridge.store.tables import PENDING_WORK

PUSH = "push"
"""A SKU whose targets must be reconciled on the channel."""

_W = PENDING_WORK.c


def mark_work(session: Session, channels: Iterable[str], kind: str, keys: Iterable[str], now: datetime) -> None:
    """Record ``keys`` as pending ``kind`` work for each of ``channels`` (again, if already pending)."""
    rows = [
        {"channel": channel, "kind": kind, "key": key, "seq": 1, "marked_at": now}
        for channel in sorted(set(channels))
        for key in sorted(set(keys))
    ]
    if not rows:
        return
    statement = _mark_statement(session.get_bind().dialect.name)
    connection = session.connection()
    for start in range(0, len(rows), 500):
        connection.execute(statement, rows[start : start + 500])


@functools.cache
def _mark_statement(dialect: str) -> sa.Insert:
    """The marking upsert in ``dialect``, built once (every delivery applied marks work)."""
    insert = postgresql.insert(PENDING_WORK) if dialect == "postgresql" else sqlite.insert(PENDING_WORK)
    return insert.on_conflict_do_update(
        index_elements=["channel", "kind", "key"],
        set_={"seq": _W.seq + 1, "marked_at": insert.excluded.marked_at},
    )


def pending_work(session: Session, channel: str | None, kind: str) -> dict[tuple[str, str], int]:
    """``(channel, key) -> seq`` of the pending ``kind`` work (of one channel, or every channel)."""
    query = sa.select(_W.channel, _W.key, _W.seq).where(_W.kind == kind)
    if channel is not None:
        query = query.where(_W.channel == channel)
    return {(row.channel, row.key): int(row.seq) for row in session.execute(query)}


def finish_work(session: Session, kind: str, done: Mapping[tuple[str, str], int]) -> None:
    """Remove the work in ``done`` (``(channel, key) -> seq`` as read) unless it was marked again since."""
    if not done:
        return
    statement = sa.delete(PENDING_WORK).where(
        _W.channel == sa.bindparam("k_channel"),
        _W.kind == kind,
        _W.key == sa.bindparam("k_key"),
        _W.seq <= sa.bindparam("k_seq"),
    )
    session.connection().execute(
        statement, [{"k_channel": channel, "k_key": key, "k_seq": seq} for (channel, key), seq in done.items()]
    )
