"""Taking and settling fulfilment tasks (:mod:`omnibridge.store.fulfilment_tasks`) safely under several dispatchers.

A dispatcher *claims* a due task with one conditional update that pushes its ``next_at`` to the end of a lease::

    UPDATE fulfilment_tasks SET next_at = :lease_until WHERE id = :id AND status = 'pending' AND next_at <= :now

The update that matches wins; any other dispatcher's update of the same row matches nothing (on PostgreSQL it
waits for the winner's commit and re-reads the row; SQLite has one writer at a time), so no task is run by two
dispatchers at once. A dispatcher that dies mid-call leaves nothing stuck: the task is due again when the lease
ends, and the vendor call is safe to repeat (the task id is its idempotency key). Settling a task is guarded by
the same lease (``next_at = :lease_until``): a dispatcher whose lease ran out and was taken over changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.store.fulfilment_tasks import PENDING, FulfilmentTask
from omnibridge.store.tables import FULFILMENT_TASKS

FAILED = "failed"
"""Given up (a fatal error, or retries exhausted): kept for an operator, with an incident; ``fulfilment retry``
puts it back to pending."""

STATUSES = (PENDING, "done", "refused", FAILED, "cancelled")


@dataclass(frozen=True, slots=True)
class ClaimedTask:
    """A task this dispatcher holds until ``lease_until``; ``attempts`` is how many tries failed before."""

    task: FulfilmentTask
    attempts: int
    lease_until: datetime


@dataclass(frozen=True, slots=True)
class TaskView:
    """A task as ``omnibridge fulfilment tasks`` lists it."""

    id: str
    kind: str
    order_id: str
    channel: str
    status: str
    attempts: int
    next_at: datetime
    last_error: str | None
    result: Mapping[str, Any] | None
    updated_at: datetime


def due_ids(session: Session, now: datetime, limit: int) -> list[str]:
    """Ids of pending tasks due at ``now``, oldest due first."""
    query = (
        sa.select(FULFILMENT_TASKS.c.id)
        .where(FULFILMENT_TASKS.c.status == PENDING, FULFILMENT_TASKS.c.next_at <= now)
        .order_by(FULFILMENT_TASKS.c.next_at, FULFILMENT_TASKS.c.id)
        .limit(limit)
    )
    return [row.id for row in session.execute(query)]


def claim(session: Session, task_id: str, now: datetime, lease_until: datetime) -> ClaimedTask | None:
    """Take ``task_id`` until ``lease_until`` if it is still pending and due; None when another dispatcher has it
    (or it was settled meanwhile)."""
    claimed = session.connection().execute(
        sa.update(FULFILMENT_TASKS)
        .where(
            FULFILMENT_TASKS.c.id == task_id,
            FULFILMENT_TASKS.c.status == PENDING,
            FULFILMENT_TASKS.c.next_at <= now,
        )
        .values(next_at=lease_until, updated_at=now)
    )
    if claimed.rowcount != 1:
        return None
    row = session.execute(sa.select(FULFILMENT_TASKS).where(FULFILMENT_TASKS.c.id == task_id)).mappings().one()
    task = FulfilmentTask(row["id"], row["kind"], row["order_id"], row["channel"], dict(row["payload"] or {}))
    return ClaimedTask(task, int(row["attempts"]), lease_until)


def settle(
    session: Session,
    claimed: ClaimedTask,
    now: datetime,
    *,
    status: str,
    result: Mapping[str, Any] | None = None,
    error: str | None = None,
    next_at: datetime | None = None,
    attempts: int | None = None,
) -> bool:
    """Record the outcome of a claimed task; False (nothing changed) when the lease was lost."""
    values: dict[str, Any] = {"status": status, "updated_at": now, "last_error": error}
    if result is not None:
        values["result"] = dict(result)
    if next_at is not None:
        values["next_at"] = next_at
    if attempts is not None:
        values["attempts"] = attempts
    changed = session.connection().execute(
        sa.update(FULFILMENT_TASKS)
        .where(
            FULFILMENT_TASKS.c.id == claimed.task.id,
            FULFILMENT_TASKS.c.status == PENDING,
            FULFILMENT_TASKS.c.next_at == claimed.lease_until,
        )
        .values(**values)
    )
    return changed.rowcount == 1


def requeue(session: Session, task_id: str, now: datetime) -> bool:
    """Put a failed or refused task back to pending, due now, with its attempts reset (an operator's retry)."""
    changed = session.connection().execute(
        sa.update(FULFILMENT_TASKS)
        .where(FULFILMENT_TASKS.c.id == task_id, FULFILMENT_TASKS.c.status.in_([FAILED, "refused"]))
        .values(status=PENDING, attempts=0, next_at=now, updated_at=now)
    )
    return changed.rowcount == 1


def list_tasks(
    session: Session, *, status: str | None = None, task_id: str | None = None, limit: int = 500
) -> list[TaskView]:
    """Tasks, oldest first (``status``: only those; ``task_id``: only that one)."""
    query = sa.select(FULFILMENT_TASKS).order_by(FULFILMENT_TASKS.c.created_at, FULFILMENT_TASKS.c.id).limit(limit)
    if status is not None:
        query = query.where(FULFILMENT_TASKS.c.status == status)
    if task_id is not None:
        query = query.where(FULFILMENT_TASKS.c.id == task_id)
    return [
        TaskView(
            id=row["id"],
            kind=row["kind"],
            order_id=row["order_id"],
            channel=row["channel"],
            status=row["status"],
            attempts=int(row["attempts"]),
            next_at=row["next_at"],
            last_error=row["last_error"],
            result=row["result"],
            updated_at=row["updated_at"],
        )
        for row in session.execute(query).mappings()
    ]


def counts(session: Session) -> dict[str, int]:
    """How many tasks are in each status."""
    query = sa.select(FULFILMENT_TASKS.c.status, sa.func.count()).group_by(FULFILMENT_TASKS.c.status)
    return {status: int(count) for status, count in session.execute(query)}
