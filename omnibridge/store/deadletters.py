"""Dead letters: inbox entries that could not be applied, listed and put back in the queue.

An entry is marked ``dead`` by the sync worker with the reason it could not be applied (a malformed payload, a
record the channel no longer has, a connector bug). Nothing is dropped: once the cause is fixed (a mapping
added, a connector upgraded), :func:`requeue` sets the entries back to ``pending`` and the next worker pass
applies them exactly once, like any other delivery — movements are keyed by the vendor's ids, so an entry that
was partly applied before it died changes nothing twice. A requeued entry starts with a fresh retry budget.

A dead letter that will never apply (an order deleted at the vendor, a test notification) is set aside with
:func:`discard`: status ``discarded``, with when and why, kept for audit. A discarded entry is no longer dead: it
is not counted (metrics, alerts), not listed by :func:`dead_letters` and never requeued.

:func:`retrying` lists the entries on their way there: pending, waiting for a retry after a retriable failure.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Final, Literal

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.access import audit
from omnibridge.access.actors import Actor
from omnibridge.store.engine import read_session, write_session
from omnibridge.store.store import Store
from omnibridge.store.sync_state import InboxEntry, InboxStatus, entries
from omnibridge.store.tables import INBOX

ALL: Final = "all"
"""Pass to :func:`requeue` to requeue every dead entry (optionally of one channel)."""

DEFAULT_LIMIT = 10_000


@dataclass
class RequeueResult:
    """What :func:`requeue` did: the entries set back to pending, and the ids it refused with the reason."""

    requeued: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    """Entry id -> why it was not requeued (``no such inbox entry`` or ``status is done``/``pending``)."""


@dataclass
class DiscardResult:
    """What :func:`discard` did: the entries set aside, and the ids it refused with the reason."""

    discarded: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    """Entry id -> why it was not discarded (``no such inbox entry`` or ``status is done``/``pending``...)."""


def dead_letters(
    store: Store, *, channel: str | None = None, limit: int = DEFAULT_LIMIT, discarded: bool = False
) -> list[InboxEntry]:
    """Dead inbox entries, oldest first, optionally of one channel; with ``discarded``, the discarded ones too."""
    statuses = (InboxStatus.DEAD, InboxStatus.DISCARDED) if discarded else (InboxStatus.DEAD,)
    with read_session(store.engine) as session:
        return entries(session, status=statuses, channel=channel, limit=limit)


def discard(store: Store, entry_ids: Collection[int], reason: str, actor: Actor | None = None) -> DiscardResult:
    """Set dead entries aside for good in one write transaction: status ``discarded``, ``discarded_at`` now (the
    store's clock) and ``discard_reason``; why each died (``error``) is kept.

    ``reason`` must say why (it is what an auditor reads). An id that does not exist or is not dead is not
    touched and is reported in :attr:`DiscardResult.refused`. With ``actor``, each discarded entry is recorded in
    the audit log (``deadletter.discard``) in the same transaction.
    """
    why = " ".join(reason.split())
    if not why:
        raise ValueError("a discard needs a reason")
    result = DiscardResult()
    wanted = sorted(set(entry_ids))
    with write_session(store.engine) as session:
        errors = _dead_errors(session, wanted)
        changed = session.execute(
            sa.update(INBOX)
            .where(INBOX.c.id.in_(wanted), INBOX.c.status == InboxStatus.DEAD.value)
            .values(status=InboxStatus.DISCARDED.value, discarded_at=store.now(), discard_reason=why)
            .returning(INBOX.c.id)
        )
        result.discarded = sorted(int(entry_id) for entry_id in changed.scalars())
        if actor is not None:
            after = {"status": InboxStatus.DISCARDED.value, "reason": why}
            _audit(session, actor, "deadletter.discard", result.discarded, errors, after, store)
        others = sa.select(INBOX.c.id, INBOX.c.status).where(INBOX.c.id.in_(set(wanted) - set(result.discarded)))
        statuses = {int(row.id): str(row.status) for row in session.execute(others)}
        for entry_id in wanted:
            if entry_id not in result.discarded:
                status = statuses.get(entry_id)
                result.refused[entry_id] = "no such inbox entry" if status is None else f"status is {status}, not dead"
    return result


def retrying(store: Store, *, channel: str | None = None, limit: int = DEFAULT_LIMIT) -> list[InboxEntry]:
    """Pending inbox entries that failed retriably and wait for their next try, oldest first, optionally of one
    channel (each with its attempts, ``next_attempt_at`` and ``last_error``)."""
    with read_session(store.engine) as session:
        return entries(session, status=InboxStatus.PENDING, channel=channel, retrying=True, limit=limit)


def _dead_errors(session: Session, entry_ids: Collection[int] | None) -> dict[int, str | None]:
    """Why each dead entry of ``entry_ids`` (None: every one) died, for the audit log."""
    query = sa.select(INBOX.c.id, INBOX.c.error).where(INBOX.c.status == InboxStatus.DEAD.value)
    if entry_ids is not None:
        query = query.where(INBOX.c.id.in_(list(entry_ids)))
    return {int(row.id): row.error for row in session.execute(query)}


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    entry_ids: list[int],
    errors: dict[int, str | None],
    after: dict[str, str],
    store: Store,
) -> None:
    for entry_id in entry_ids:
        before = {"status": InboxStatus.DEAD.value, "error": errors.get(entry_id)}
        audit.record(session, actor, action, f"inbox:{entry_id}", before, after, at=store.now())


def requeue(
    store: Store,
    entry_ids: Collection[int] | Literal["all"],
    *,
    channel: str | None = None,
    actor: Actor | None = None,
) -> RequeueResult:
    """Set dead entries back to ``pending`` in one write transaction, as if just received: error, attempts, next
    try and last error cleared, so a replayed entry gets the whole retry budget again.

    ``entry_ids`` is a collection of inbox ids, or :data:`ALL` for every dead entry (of ``channel`` when given;
    ``channel`` is ignored with explicit ids). An id that does not exist or is not dead is not touched and is
    reported in :attr:`RequeueResult.refused`, never silently ignored. Either every listed dead entry is
    requeued or, if the database fails, none is. With ``actor``, each requeued entry is recorded in the audit log
    (``deadletter.replay``) in the same transaction.
    """
    result = RequeueResult()
    with write_session(store.engine) as session:
        query = sa.select(INBOX.c.id, INBOX.c.status).order_by(INBOX.c.id)
        wanted: list[int] | None = None
        if isinstance(entry_ids, str):
            if entry_ids != ALL:
                raise ValueError(f"entry_ids must be inbox ids or {ALL!r}, got {entry_ids!r}")
            query = query.where(INBOX.c.status == InboxStatus.DEAD.value)
            if channel is not None:
                query = query.where(INBOX.c.channel == channel)
        else:
            wanted = sorted(set(entry_ids))
            query = query.where(INBOX.c.id.in_(wanted))
        statuses = {int(row.id): str(row.status) for row in session.execute(query)}
        if wanted is not None:
            for entry_id in wanted:
                status = statuses.get(entry_id)
                if status is None:
                    result.refused[entry_id] = "no such inbox entry"
                elif status != InboxStatus.DEAD.value:
                    result.refused[entry_id] = f"status is {status}, not dead"
        result.requeued = [entry_id for entry_id, status in statuses.items() if status == InboxStatus.DEAD.value]
        if result.requeued:
            if actor is not None:
                errors = _dead_errors(session, result.requeued)
                after = {"status": InboxStatus.PENDING.value}
                _audit(session, actor, "deadletter.replay", result.requeued, errors, after, store)
            session.execute(
                sa.update(INBOX)
                .where(INBOX.c.id.in_(result.requeued), INBOX.c.status == InboxStatus.DEAD.value)
                .values(
                    status=InboxStatus.PENDING.value,
                    error=None,
                    processed_at=None,
                    attempts=0,
                    next_attempt_at=None,
                    last_error=None,
                )
            )
    return result
