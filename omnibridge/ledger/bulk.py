"""Locking many positions at once, for a decision that reads a whole network (routing).

:func:`lock_many` does what :func:`omnibridge.ledger.apply.lock_position` does for each position, in two
statements instead of two per position: missing rows are created (one ``INSERT ... ON CONFLICT DO NOTHING`` for
them all, in sorted order), then every row is locked with one ``SELECT ... ORDER BY sku, location_id FOR UPDATE``
(PostgreSQL locks the rows in that order, the same fixed order every unit of work uses; SQLite's write
transaction already holds the database's write lock).
"""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.ledger.records import position_from_row
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
    key = sa.tuple_(_P.sku, _P.location_id)
    existing = {
        (row.sku, row.location_id) for row in session.execute(sa.select(_P.sku, _P.location_id).where(key.in_(ordered)))
    }
    missing = [position for position in ordered if position not in existing]
    if missing:
        rows = [
            {"sku": sku, "location_id": location_id, "on_hand": 0, "committed": 0, "reserved": 0, "safety_stock": 0,
             "incoming": 0, "updated_at": None}
            for sku, location_id in missing
        ]  # fmt: skip
        session.execute(dialect_insert(session, POSITIONS).on_conflict_do_nothing(), rows)
    query = sa.select(POSITIONS).where(key.in_(ordered)).order_by(_P.sku, _P.location_id).with_for_update()
    return {(row.sku, row.location_id): position_from_row(row) for row in session.execute(query)}


def read_many(session: Session, positions: Collection[Position]) -> dict[Position, InventoryPosition]:
    """The rows of ``positions`` that exist, unlocked (a preview reads; nothing is created)."""
    if not positions:
        return {}
    query = sa.select(POSITIONS).where(sa.tuple_(_P.sku, _P.location_id).in_(sorted(positions)))
    return {(row.sku, row.location_id): position_from_row(row) for row in session.execute(query)}
