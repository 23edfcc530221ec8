"""Locking many positions at once, for a decision that reads a whole network (routing).

:func:`lock_many` does what :func:`omnibridge.ledger.apply.lock_position` does for each position, in two
statements instead of two per position: missing rows are created (one ``INSERT ... ON CONFLICT DO NOTHING`` for
them all, in sorted order), then every row is locked with one ``SELECT ... ORDER BY sku, location_id FOR UPDATE``
(PostgreSQL locks the rows in that order, the same fixed order every unit of work uses; SQLite's write
transaction already holds the database's write lock). The rows that exist are locked first; the missing ones are
then created and locked (new rows no other transaction can see yet).
"""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.models import InventoryPosition
from omnibridge.store.sql import dialect_insert
from omnibridge.store.tables import POSITIONS

Position = tuple[str, str]
_P = POSITIONS.c


def lock_many(session: Session, positions: Collection[Position]) -> dict[Position, InventoryPosition]:
    """Create and lock ``positions`` (sorted); their state under the lock."""
    ordered = sorted(set(positions))
    if not ordered:
        return {}
    found = _select(session, ordered, lock=True)
    missing = [position for position in ordered if position not in found]
    if missing:
        rows = [
            {"sku": sku, "location_id": location_id, "on_hand": 0, "committed": 0, "reserved": 0, "safety_stock": 0,
             "incoming": 0, "updated_at": None}
            for sku, location_id in missing
        ]  # fmt: skip
        session.execute(dialect_insert(session, POSITIONS).on_conflict_do_nothing(), rows)
        found.update(_select(session, missing, lock=True))
    return found


def _select(session: Session, ordered: list[Position], *, lock: bool) -> dict[Position, InventoryPosition]:
    query = sa.select(POSITIONS).where(sa.tuple_(_P.sku, _P.location_id).in_(ordered))
    if lock:
        query = query.order_by(_P.sku, _P.location_id).with_for_update()
    # rows straight from the table: no validation needed
    return {
        (row.sku, row.location_id): InventoryPosition.model_construct(
            sku=row.sku,
            location_id=row.location_id,
            on_hand=row.on_hand,
            committed=row.committed,
            reserved=row.reserved,
            safety_stock=row.safety_stock,
            incoming=row.incoming,
            updated_at=row.updated_at,
        )
        for row in session.execute(query)
    }


def read_many(session: Session, positions: Collection[Position]) -> dict[Position, InventoryPosition]:
    """The rows of ``positions`` that exist, unlocked (a preview reads; nothing is created)."""
    return _select(session, sorted(set(positions)), lock=False) if positions else {}
