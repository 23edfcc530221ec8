"""Pickups already booked per store and window, from the ``pickups`` table.

A pickup takes a place in its window while it is live: ``reserved``, ``ready`` or ``arrived``. One that was
collected, cancelled, expired or rejected frees its place (:class:`~omnibridge.sdk.pickup.PickupState`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.sdk.pickup import PickupState
from omnibridge.store.tables import PICKUPS

__all__ = ["LIVE_STATES", "Booked", "booked"]

LIVE_STATES = (PickupState.RESERVED.value, PickupState.READY.value, PickupState.ARRIVED.value)
"""The states that hold a place in a window."""

Booked = dict[tuple[str, datetime], int]
"""(location id, window start in UTC) -> live pickups booked there."""

_P = PICKUPS.c
_BOOKED = (
    sa.select(_P.location_id, _P.window_start, sa.func.count().label("booked"))
    .where(
        _P.location_id.in_(sa.bindparam("p_locations", expanding=True)),
        _P.status.in_(LIVE_STATES),
        _P.window_start >= sa.bindparam("p_since"),
        _P.window_start < sa.bindparam("p_until"),
    )
    .group_by(_P.location_id, _P.window_start)
)


def booked(session: Session, location_ids: Collection[str], since: datetime, until: datetime) -> Booked:
    """Live pickups per (store, window start) for windows of ``location_ids`` starting in [``since``, ``until``):
    one query for every store."""
    if not location_ids:
        return {}
    rows = session.connection().execute(
        _BOOKED, {"p_locations": sorted(set(location_ids)), "p_since": since, "p_until": until}
    )
    return {(row.location_id, _utc(row.window_start)): int(row.booked) for row in rows}


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
