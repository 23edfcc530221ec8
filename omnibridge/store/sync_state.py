"""Sync state: where each channel's pull got to, and the webhook inbox.

The inbox is what makes webhook handling exactly-once: a delivery is inserted (``INSERT … ON CONFLICT DO
NOTHING`` on ``(channel, dedupe_key)``) and committed *before* it is acknowledged, so a re-delivery of the same
event is recognised by the database, and a crash after the acknowledgement loses nothing — the entry stays
``pending`` until it is processed.

A pending entry whose fetch failed retriably stays pending with its attempts counted, the reason
(``last_error``) and when it may be tried again (``next_attempt_at``, see :func:`retry_later`); the sync engine
decides the schedule and the order (:mod:`omnibridge.sync.inbox_retry`).
"""

from __future__ import annotations

from collections.abc import Collection, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.sdk.webhooks import WebhookDelivery
from omnibridge.store.inbox_headers import stored_headers
from omnibridge.store.sealed import open_bytes, seal_bytes
from omnibridge.store.sql import insert_ignore_key, upsert
from omnibridge.store.tables import INBOX, SYNC_BOOKMARKS

RAW_BODY = "webhook_inbox.raw_body"
"""The encryption context of a stored webhook body (see :mod:`omnibridge.store.sealed`)."""


class InboxStatus(StrEnum):
    PENDING = "pending"
    """Stored and acknowledged; not yet applied (due now, or waiting for its retry until ``next_attempt_at``)."""
    DONE = "done"
    """Applied."""
    DEAD = "dead"
    """Could not be applied (malformed payload, unknown record...); kept with its reason for replay."""
    DISCARDED = "discarded"
    """A dead entry a person set aside for good, with when and why (``discarded_at``, ``discard_reason``); kept
    for audit, never replayed, not counted as dead."""


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """One stored webhook delivery.

    ``attempts`` counts the tries to apply it (each retriable failure, and the final done or dead); ``error`` is
    why it is dead; ``next_attempt_at`` is set while a pending entry waits for its retry (None: due now) and
    ``last_error`` is why its latest try failed; ``discarded_at`` and ``discard_reason`` say when and why a
    discarded entry was set aside (``error`` still says why it died).
    """

    id: int
    channel: str
    delivery: WebhookDelivery
    status: InboxStatus
    attempts: int
    error: str | None
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    discarded_at: datetime | None = None
    discard_reason: str | None = None

    def waiting(self, now: datetime) -> bool:
        """True while this entry waits for its retry: it must not be tried before ``next_attempt_at``."""
        return self.status is InboxStatus.PENDING and self.next_attempt_at is not None and self.next_attempt_at > now


def get_bookmark(session: Session, channel: str) -> str | None:
    return session.execute(sa.select(SYNC_BOOKMARKS.c.value).where(SYNC_BOOKMARKS.c.channel == channel)).scalar()


def set_bookmark(session: Session, channel: str, value: str, now: datetime) -> None:
    upsert(session, SYNC_BOOKMARKS, {"channel": channel, "value": value, "updated_at": now}, key=["channel"])


DELIVERY_ID_MAX = 255
"""The longest delivery id and event id the inbox keeps (``webhook_inbox.delivery_id``, ``event_id``)."""
TOPIC_MAX = 128
"""The longest topic the inbox keeps (``webhook_inbox.topic``)."""


@dataclass(frozen=True, slots=True)
class Admission:
    """What storing one delivery did: ``entry_id`` is None for a duplicate (same event id, delivery id or signed
    body on that channel); ``dead_reason`` is set when the delivery could not be stored as received (a NUL byte,
    an id longer than its column) and was kept as a dead letter with that reason instead."""

    entry_id: int | None
    dead_reason: str | None = None


def unstorable(delivery: WebhookDelivery) -> str | None:
    """Why ``delivery`` cannot be stored as it is (PostgreSQL refuses NUL in text and over-long values), or None."""
    fields = {"delivery id": (delivery.delivery_id, DELIVERY_ID_MAX), "topic": (delivery.topic, TOPIC_MAX)}
    if delivery.event_id is not None:
        fields["event id"] = (delivery.event_id, DELIVERY_ID_MAX)
    for name, (value, limit) in fields.items():
        if "\x00" in value:
            return f"the {name} contains a NUL byte"
        if len(value) > limit:
            return f"the {name} is {len(value)} characters long; at most {limit} are kept"
    for header, value in delivery.headers.items():
        if "\x00" in header or "\x00" in value:
            return f"header {_clean(header, 64)!r} contains a NUL byte"
    return None


def _clean(text: str, limit: int) -> str:
    text = text.replace("\x00", "\\x00")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _quarantined(delivery: WebhookDelivery) -> WebhookDelivery:
    """A storable stand-in for an unstorable delivery: the raw body byte-exact, ids from its digest."""
    return WebhookDelivery(
        delivery_id=f"sha256:{delivery.body_sha256}",
        event_id=None,
        topic=_clean(delivery.topic, TOPIC_MAX) or "unknown",
        raw_body=delivery.raw_body,
        headers={_clean(name, 255): _clean(value, 4096) for name, value in delivery.headers.items()},
        received_at=delivery.received_at,
    )


def add_delivery(session: Session, channel: str, delivery: WebhookDelivery) -> int | None:
    """Store ``delivery``; its id, or None when this event was already stored (a duplicate). See
    :func:`admit_delivery`."""
    return admit_delivery(session, channel, delivery).entry_id


def admit_delivery(session: Session, channel: str, delivery: WebhookDelivery) -> Admission:
    """Store ``delivery`` pending, unless it is a duplicate: same event id (or delivery id when the vendor sends
    no event id), or same SHA-256 of the raw body, on ``channel``. A delivery that cannot be stored as received
    (see :func:`unstorable`) is stored ``dead`` with the reason, keyed by its body digest, so it is kept for
    inspection instead of failing the database insert on every retry of the vendor."""
    reason = unstorable(delivery)
    if reason is not None:
        delivery = _quarantined(delivery)
    key = insert_ignore_key(
        session,
        INBOX,
        {
            "channel": channel,
            "dedupe_key": delivery.event_id or delivery.delivery_id,
            "delivery_id": delivery.delivery_id,
            "event_id": delivery.event_id,
            "topic": delivery.topic,
            "raw_body": seal_bytes(session, delivery.raw_body, RAW_BODY),
            "headers": stored_headers(delivery.headers),
            "received_at": delivery.received_at,
            "status": (InboxStatus.PENDING if reason is None else InboxStatus.DEAD).value,
            "attempts": 0,
            "error": None if reason is None else f"unstorable delivery: {reason}",
            "processed_at": None if reason is None else delivery.received_at,
            "body_sha256": delivery.body_sha256,
        },
    )
    return Admission(None if key is None else int(key[0]), None if reason is None else f"unstorable delivery: {reason}")


def entries(
    session: Session,
    *,
    status: InboxStatus | Collection[InboxStatus] | None = None,
    channel: str | None = None,
    retrying: bool = False,
    limit: int = 500,
) -> list[InboxEntry]:
    """Stored deliveries, oldest first, optionally filtered (``retrying``: only those with a next try set)."""
    query = sa.select(INBOX).order_by(INBOX.c.id).limit(limit)
    if isinstance(status, InboxStatus):
        query = query.where(INBOX.c.status == status.value)
    elif status is not None:
        query = query.where(INBOX.c.status.in_([one.value for one in status]))
    if retrying:
        query = query.where(INBOX.c.next_attempt_at.is_not(None))
    if channel is not None:
        query = query.where(INBOX.c.channel == channel)
    return [_entry(session, row) for row in session.execute(query).mappings()]


def pending_entries(
    session: Session, channel: str, known: MutableMapping[int, WebhookDelivery], *, limit: int = 500
) -> list[InboxEntry]:
    """``channel``'s pending entries, oldest first, as :func:`entries` gives them, reading and opening only the
    deliveries not in ``known`` (entry id -> delivery: a stored delivery never changes, so a worker keeps them
    from one pass to the next). ``known`` is left holding the deliveries of the entries returned, and no others."""
    heads = session.connection().execute(_PENDING_HEADS, {"h_channel": channel, "h_limit": limit}).mappings().all()
    deliveries = {head["id"]: known.get(head["id"]) for head in heads}
    missing = [entry_id for entry_id, delivery in deliveries.items() if delivery is None]
    for start in range(0, len(missing), 500):
        rows = session.connection().execute(_DELIVERIES, {"d_ids": missing[start : start + 500]}).mappings()
        deliveries.update((row["id"], _delivery(session, row)) for row in rows)
    found = {entry_id: delivery for entry_id, delivery in deliveries.items() if delivery is not None}
    known.clear()  # only a cache: another pass of the same channel at the same time only reads more again
    known.update(found)
    return [_entry_from(head, found[head["id"]]) for head in heads]


def pending_channels(session: Session) -> set[str]:
    """The channels with at least one pending entry."""
    return set(session.connection().execute(_PENDING_CHANNELS).scalars())


# A worker pass reads its channels' pending entries with these: built once, compiled once.
_DELIVERY_COLUMNS = ("delivery_id", "event_id", "topic", "raw_body", "headers", "received_at")
_PENDING_HEADS = (
    sa.select(*(column for column in INBOX.c if column.name not in _DELIVERY_COLUMNS))
    .where(INBOX.c.status == InboxStatus.PENDING.value, INBOX.c.channel == sa.bindparam("h_channel"))
    .order_by(INBOX.c.id)
    .limit(sa.bindparam("h_limit"))
)
_DELIVERIES = sa.select(INBOX.c.id, *(INBOX.c[name] for name in _DELIVERY_COLUMNS)).where(
    INBOX.c.id.in_(sa.bindparam("d_ids", expanding=True))
)
_PENDING_CHANNELS = sa.select(INBOX.c.channel).where(INBOX.c.status == InboxStatus.PENDING.value).distinct()


def get_entry(session: Session, entry_id: int) -> InboxEntry | None:
    row = session.execute(sa.select(INBOX).where(INBOX.c.id == entry_id)).mappings().first()
    return None if row is None else _entry(session, row)


def finish(session: Session, entry_id: int, status: InboxStatus, now: datetime, error: str | None = None) -> None:
    """Mark an entry done or dead (with the reason), counting the attempt; it no longer waits for a retry."""
    values: dict[str, object] = {
        "status": status.value,
        "error": error,
        "processed_at": now,
        "attempts": INBOX.c.attempts + 1,
        "next_attempt_at": None,
    }
    if error is not None:
        values["last_error"] = error
    session.execute(sa.update(INBOX).where(INBOX.c.id == entry_id).values(**values))


def take(session: Session, entry_id: int, now: datetime) -> bool:
    """Claim a pending entry and mark it done, in one statement: its row stays locked for the rest of the
    transaction, and the mark commits with whatever the transaction applies for it (rolled back, the entry is
    pending again). False when it is not pending (done or dead-lettered meanwhile): nothing is changed.

    Two transactions taking the same entry: the second waits on the row lock (PostgreSQL; SQLite serialises
    writers) until the first ends, then sees the entry as the first left it, so only one of them applies it.
    """
    taken = session.connection().execute(_TAKE, {"t_id": entry_id, "t_now": now}).first()
    return taken is not None


# The worker takes every delivery with this statement: built once, so SQLAlchemy compiles it only once.
_TAKE = (
    sa.update(INBOX)
    .where(INBOX.c.id == sa.bindparam("t_id"), INBOX.c.status == InboxStatus.PENDING.value)
    .values(
        status=InboxStatus.DONE.value,
        error=None,
        processed_at=sa.bindparam("t_now"),
        attempts=INBOX.c.attempts + 1,
        next_attempt_at=None,
    )
    .returning(INBOX.c.id)
)


def retry_later(session: Session, entry_id: int, error: str, next_attempt_at: datetime) -> int | None:
    """Count a failed try of a pending entry and keep it pending until ``next_attempt_at``, with ``error`` as its
    ``last_error``; its attempts so far, or None when the entry is not pending (left untouched)."""
    attempts = session.execute(
        sa.update(INBOX)
        .where(INBOX.c.id == entry_id, INBOX.c.status == InboxStatus.PENDING.value)
        .values(attempts=INBOX.c.attempts + 1, last_error=error, next_attempt_at=next_attempt_at)
        .returning(INBOX.c.attempts)
    ).scalar()
    return None if attempts is None else int(attempts)


def _entry(session: Session, row: sa.RowMapping) -> InboxEntry:
    return _entry_from(row, _delivery(session, row))


def _delivery(session: Session, row: sa.RowMapping) -> WebhookDelivery:
    return WebhookDelivery(
        delivery_id=row["delivery_id"],
        event_id=row["event_id"],
        topic=row["topic"],
        raw_body=open_bytes(session, bytes(row["raw_body"]), RAW_BODY),
        headers=dict(row["headers"]),
        received_at=row["received_at"],
    )


def _entry_from(row: sa.RowMapping, delivery: WebhookDelivery) -> InboxEntry:
    return InboxEntry(
        row["id"],
        row["channel"],
        delivery,
        InboxStatus(row["status"]),
        row["attempts"],
        row["error"],
        row["next_attempt_at"],
        row["last_error"],
        row["discarded_at"],
        row["discard_reason"],
    )
