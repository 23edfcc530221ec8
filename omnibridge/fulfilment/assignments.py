"""The assignment status changes the fulfilment side makes, over :mod:`omnibridge.store.routing_records` (routing
creates assignments and rejects them; see its docstring for the statuses): a provider's id and ``submitted``
when a provider took one, ``accepted`` on its acknowledgement, ``shipped`` when units left. A status only moves
forward from an open one (``assigned``, ``accepted``, ``submitted``); a rejected, cancelled or shipped assignment
is never changed here.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.store import routing_records as records
from omnibridge.store.routing_records import Assignment
from omnibridge.store.tables import FULFILMENT_ASSIGNMENTS

OPEN = frozenset({records.ASSIGNED, records.ACCEPTED, records.SUBMITTED})

__all__ = ["OPEN", "Assignment", "get", "live_at", "move", "submitted"]


def get(session: Session, assignment_id: str) -> Assignment | None:
    """The assignment ``assignment_id`` (a provider's reference), None when there is none."""
    order_id = assignment_id.rsplit("@", 1)[0]
    return next((a for a in records.assignments(session, order_id) if a.id == assignment_id), None)


def live_at(session: Session, order_id: str, location_id: str) -> Assignment | None:
    """The latest live assignment of ``order_id`` at ``location_id`` (a shipped one counts: a second parcel from
    the same place); None for an order never routed there."""
    found = [a for a in records.assignments(session, order_id) if a.location_id == location_id and a.live]
    return found[-1] if found else None


def move(
    session: Session, assignment: Assignment, status: str, now: datetime, *, allowed: frozenset[str] = OPEN
) -> bool:
    """Set ``status`` when the assignment is in ``allowed`` (default: open); False when it is not."""
    if assignment.status not in allowed or assignment.status == status:
        return False
    records.set_status(session, assignment.id, status, now)
    return True


def submitted(session: Session, assignment_id: str, provider_ref: str | None, now: datetime) -> None:
    """A provider took the assignment (its id of it: ``provider_ref``): ``assigned`` becomes ``submitted``."""
    values: dict[str, object] = {"updated_at": now}
    if provider_ref:
        values["provider_ref"] = provider_ref
    session.execute(
        sa.update(FULFILMENT_ASSIGNMENTS).where(FULFILMENT_ASSIGNMENTS.c.id == assignment_id).values(**values)
    )
    found = get(session, assignment_id)
    if found is not None:
        move(session, found, records.SUBMITTED, now, allowed=frozenset({records.ASSIGNED}))
