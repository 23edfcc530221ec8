"""The channel timeline: syncs (bookmarks), writes and read-backs (the outbox), webhooks (the inbox), failures
and configuration changes with who made them (the audit log), newest first. Nothing here shows a request body:
errors and messages pass through :func:`omnibridge.logs.redact_mapping` first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from omnibridge.console.context import ConsoleContext
from omnibridge.logs import redact_mapping
from omnibridge.store.engine import read_session
from omnibridge.store.tables import AUDIT_LOG, INBOX, INCIDENTS, OUTBOX, SYNC_BOOKMARKS

LIMIT = 100


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the timeline."""

    at: datetime
    kind: str
    """``sync``, ``write``, ``webhook``, ``failure`` or ``change``."""
    what: str
    who: str = ""


def _clean(text: str | None) -> str:
    return str(redact_mapping({"message": text or ""})["message"])


def timeline(context: ConsoleContext, channel: str, kind: str = "") -> list[Event]:
    """The newest :data:`LIMIT` events of ``channel`` (of one ``kind`` when given)."""
    with read_session(context.store.engine) as session:
        writes = session.execute(
            sa.select(OUTBOX.c.sku, OUTBOX.c.location_id, OUTBOX.c.quantity, OUTBOX.c.status, OUTBOX.c.message,
                      OUTBOX.c.created_at, OUTBOX.c.finished_at)
            .where(OUTBOX.c.channel == channel).order_by(OUTBOX.c.id.desc()).limit(LIMIT)
        ).all()  # fmt: skip
        hooks = session.execute(
            sa.select(INBOX.c.id, INBOX.c.topic, INBOX.c.status, INBOX.c.error, INBOX.c.received_at)
            .where(INBOX.c.channel == channel).order_by(INBOX.c.id.desc()).limit(LIMIT)
        ).all()  # fmt: skip
        incident_ids = session.execute(
            sa.select(INCIDENTS.c.id).where(INCIDENTS.c.channel == channel).order_by(INCIDENTS.c.id.desc()).limit(LIMIT)
        ).scalars()
        # what people did to this channel's deliveries, incidents and orders (order ids start with the channel)
        subjects = [f"inbox:{row[0]}" for row in hooks] + [f"incident:{number}" for number in incident_ids]
        syncs = session.execute(sa.select(SYNC_BOOKMARKS.c.updated_at).where(SYNC_BOOKMARKS.c.channel == channel)).all()
        changes = session.execute(
            sa.select(AUDIT_LOG.c.at, AUDIT_LOG.c.actor, AUDIT_LOG.c.action, AUDIT_LOG.c.subject)
            .where(
                AUDIT_LOG.c.subject.in_(subjects)
                | AUDIT_LOG.c.subject.startswith(f"{channel}:")
                | AUDIT_LOG.c.subject.startswith(f"order:{channel}:")
                | AUDIT_LOG.c.action.startswith("config")
            )
            .order_by(AUDIT_LOG.c.id.desc()).limit(LIMIT)
        ).all()  # fmt: skip
    events: list[Event] = [Event(at, "sync", "orders and stock read (bookmark moved)") for (at,) in syncs]
    for sku, location, quantity, status, message, created, finished in writes:
        what = "failure" if status == "failed" else "write"
        detail = f" ({_clean(message)})" if message else ""
        events.append(Event(finished or created, what, f"{sku} at {location} set to {quantity}: {status}{detail}"))
    for entry_id, topic, status, error, received in hooks:
        what = "failure" if status == "dead" else "webhook"
        detail = f" ({_clean(error)})" if error else ""
        events.append(Event(received, what, f"delivery {entry_id} {topic}: {status}{detail}"))
    events.extend(Event(at, "change", f"{action} {subject}", actor) for at, actor, action, subject in changes)
    kept = [event for event in events if not kind or event.kind == kind]
    return sorted(kept, key=lambda event: event.at, reverse=True)[:LIMIT]
