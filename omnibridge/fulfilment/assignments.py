"""The few reads and status changes of fulfilment assignments (``fulfilment_assignments``) the fulfilment side
makes: which assignment a shipment belongs to, a provider's id for it, acknowledged and shipped.

Routing (:mod:`omnibridge.routing.service`) creates assignments and moves them on a re-route; a status here is
only ever moved forward from an open one, never out of a closed one (:data:`CLOSED`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.store.tables import FULFILMENT_ASSIGNMENTS

ACCEPTED = "accepted"
SHIPPED = "shipped"
CLOSED = ("shipped", "rejected", "cancelled", "superseded")
"""Statuses an assignment never leaves (by this module)."""


@dataclass(frozen=True, slots=True)
class Assignment:
    """Units of ``order_id`` handed to ``location_id`` (``lines``: as routing recorded them)."""

    id: str
    order_id: str
    location_id: str
    status: str
    lines: list[dict[str, Any]]
    provider_ref: str | None


def _assignment(row: Any) -> Assignment:
    return Assignment(
        row["id"], row["order_id"], row["location_id"], row["status"], list(row["lines"] or []), row["provider_ref"]
    )


def get(session: Session, assignment_id: str) -> Assignment | None:
    row = (
        session.execute(sa.select(FULFILMENT_ASSIGNMENTS).where(FULFILMENT_ASSIGNMENTS.c.id == assignment_id))
        .mappings()
        .first()
    )
    return None if row is None else _assignment(row)


def open_at(session: Session, order_id: str, location_id: str) -> Assignment | None:
    """The latest assignment of ``order_id`` to ``location_id`` that is not rejected, cancelled or superseded
    (a shipped one counts: a second parcel from the same place)."""
    row = (
        session.execute(
            sa.select(FULFILMENT_ASSIGNMENTS)
            .where(
                FULFILMENT_ASSIGNMENTS.c.order_id == order_id,
                FULFILMENT_ASSIGNMENTS.c.location_id == location_id,
                FULFILMENT_ASSIGNMENTS.c.status.not_in(["rejected", "cancelled", "superseded"]),
            )
            .order_by(FULFILMENT_ASSIGNMENTS.c.attempt.desc())
        )
        .mappings()
        .first()
    )
    return None if row is None else _assignment(row)


def advance(session: Session, assignment_id: str, status: str, now: datetime) -> bool:
    """Move an open assignment to ``status``; False when it is closed already (or unknown)."""
    changed = session.connection().execute(
        sa.update(FULFILMENT_ASSIGNMENTS)
        .where(FULFILMENT_ASSIGNMENTS.c.id == assignment_id, FULFILMENT_ASSIGNMENTS.c.status.not_in(CLOSED))
        .values(status=status, updated_at=now)
    )
    return changed.rowcount == 1


def set_provider_ref(session: Session, assignment_id: str, provider_ref: str, now: datetime) -> None:
    """Record the provider's id of the assignment (its ShipBob order id, its PO file's name)."""
    session.execute(
        sa.update(FULFILMENT_ASSIGNMENTS)
        .where(FULFILMENT_ASSIGNMENTS.c.id == assignment_id)
        .values(provider_ref=provider_ref, updated_at=now)
    )
