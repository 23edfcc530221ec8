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
from omnibridge.store.tables import AUDIT_LOG, INBOX, OUTBOX, SYNC_BOOKMARKS

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


def timeline(context: ConsoleContext, channel: str) -> list[Event]:
    """The newest :data:`LIMIT` events of ``channel``."""
    with read_session(context.store.engine) as session:
        writes = session.execute(
            sa.select(OUTBOX.c.sku, OUTBOX.c.location_id, OUTBOX.c.quantity, OUTBOX.c.status, OUTBOX.c.message,
                      OUTBOX.c.created_at, OUTBOX.c.finished_at)
            .where(OUTBOX.c.channel == channel).order_by(OUTBOX.c.id.desc()).limit(LIMIT)
        ).all()  # fmt: skip
        hooks = session.execute(
            sa.select(INBOX.c.topic, INBOX.c.status, INBOX.c.error, INBOX.c.received_at)
            .where(INBOX.c.channel == channel).order_by(INBOX.c.id.desc()).limit(LIMIT)
        ).all()  # fmt: skip
        syncs = session.execute(sa.select(SYNC_BOOKMARKS.c.updated_at).where(SYNC_BOOKMARKS.c.channel == channel)).all()
        changes = session.execute(
            sa.select(AUDIT_LOG.c.at, AUDIT_LOG.c.actor, AUDIT_LOG.c.action, AUDIT_LOG.c.subject)
            .where(AUDIT_LOG.c.subject.contains(channel) | AUDIT_LOG.c.action.startswith("config"))
            .order_by(AUDIT_LOG.c.id.desc()).limit(LIMIT)
        ).all()  # fmt: skip
    events: list[Event] = [Event(at, "sync", "orders and stock read (bookmark moved)") for (at,) in syncs]
    for sku, location, quantity, status, message, created, finished in writes:
        kind = "failure" if status == "failed" else "write"
        detail = f" ({_clean(message)})" if message else ""
        events.append(Event(finished or created, kind, f"{sku} at {location} set to {quantity}: {status}{detail}"))
    for topic, status, error, received in hooks:
        kind = "failure" if status == "dead" else "webhook"
        detail = f" ({_clean(error)})" if error else ""
        events.append(Event(received, kind, f"{topic}: {status}{detail}"))
    events.extend(Event(at, "change", f"{action} {subject}", actor) for at, actor, action, subject in changes)
    return sorted(events, key=lambda event: event.at, reverse=True)[:LIMIT]
