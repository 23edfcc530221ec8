"""Pickups as rows of the ``pickups`` table (:class:`~omnibridge.store.tables.PickupRow`), read and written inside
the caller's unit of work.

A pickup changes only inside a unit of work that first locks it (:func:`lock`: ``SELECT ... FOR UPDATE`` on
PostgreSQL; on SQLite the write transaction already holds the database's write lock) and checks its state there,
so two workers acting on the same pickup (the expiry job and staff marking it collected) queue, and the second
sees what the first did.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.sdk.pickup import PickupState
from omnibridge.store.tables import PICKUPS, PickupRow

_P = PICKUPS.c

OPEN_STATES = frozenset({PickupState.RESERVED, PickupState.READY, PickupState.ARRIVED})
"""States in which units are still held at the store (a hold that can expire, be collected or be refused)."""


def _row(values: Any) -> PickupRow:
    return PickupRow(**dict(values))


def get(session: Session, pickup_id: str) -> PickupRow | None:
    """The pickup ``pickup_id`` as it is (no lock)."""
    found = session.connection().execute(sa.select(PICKUPS).where(_P.id == pickup_id)).mappings().first()
    return None if found is None else _row(found)


def lock(session: Session, pickup_id: str) -> PickupRow | None:
    """The pickup ``pickup_id``, locked for the rest of the transaction (None: there is none)."""
    query = sa.select(PICKUPS).where(_P.id == pickup_id).with_for_update()
    found = session.connection().execute(query).mappings().first()
    return None if found is None else _row(found)


def of_order(session: Session, order_id: str) -> list[PickupRow]:
    """Every pickup of ``order_id``, first attempt first."""
    return [_row(found) for found in session.connection().execute(_OF_ORDER, {"p_order": order_id}).mappings()]


# Every completed or cancelled order of every channel looks for its pickups: built once, compiled once.
_OF_ORDER = sa.select(PICKUPS).where(_P.order_id == sa.bindparam("p_order")).order_by(_P.attempt)


def insert(session: Session, pickup: PickupRow) -> None:
    session.connection().execute(sa.insert(PICKUPS).values(**pickup.model_dump()))


def update(session: Session, pickup: PickupRow, now: datetime, **changes: Any) -> PickupRow:
    """Write ``changes`` to the (locked) ``pickup``, counting a new version; the pickup as it is now."""
    values = {**changes, "version": pickup.version + 1, "updated_at": now}
    session.connection().execute(sa.update(PICKUPS).where(_P.id == pickup.id).values(**values))
    return PickupRow(**{**pickup.model_dump(), **values})


def listed(
    session: Session, *, location_id: str | None = None, statuses: Collection[str] | None = None
) -> list[PickupRow]:
    """Pickups at ``location_id`` (None: everywhere) in ``statuses`` (None: any), by window then id."""
    query = sa.select(PICKUPS).order_by(_P.window_start, _P.id)
    if location_id is not None:
        query = query.where(_P.location_id == location_id)
    if statuses is not None:
        query = query.where(_P.status.in_(sorted(statuses)))
    return [_row(found) for found in session.connection().execute(query).mappings()]


def due(session: Session, now: datetime, *, limit: int | None = None) -> list[str]:
    """Ids of the holds past their expiry and still open (reserved, ready, arrived), oldest expiry first."""
    query = (
        sa.select(_P.id)
        .where(_P.status.in_(sorted(state.value for state in OPEN_STATES)), _P.expires_at <= now)
        .order_by(_P.expires_at, _P.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [str(value) for value in session.connection().execute(query).scalars()]
