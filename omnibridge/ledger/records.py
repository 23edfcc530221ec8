"""Reading the ledger: positions and recorded movements as canonical models."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.models import InventoryPosition, MovementKind, RecordedMovement, StockMovement
from omnibridge.store.tables import MOVEMENTS, POSITIONS


def position_from_row(row: Any) -> InventoryPosition:
    return InventoryPosition(
        sku=row.sku,
        location_id=row.location_id,
        on_hand=row.on_hand,
        committed=row.committed,
        reserved=row.reserved,
        safety_stock=row.safety_stock,
        incoming=row.incoming,
        updated_at=row.updated_at,
    )


def recorded_from_row(row: Any) -> RecordedMovement:
    return RecordedMovement(
        id=row.id,
        movement=StockMovement(
            idempotency_key=row.idempotency_key,
            source=row.source,
            kind=MovementKind(row.kind),
            sku=row.sku,
            location_id=row.location_id,
            quantity=row.quantity,
            occurred_at=row.occurred_at,
            reference=row.reference,
            note=row.note,
        ),
        delta_on_hand=row.delta_on_hand,
        delta_committed=row.delta_committed,
        delta_reserved=row.delta_reserved,
        delta_incoming=row.delta_incoming,
        recorded_at=row.recorded_at,
        superseded_by_count=row.superseded_by_count,
    )


def position(session: Session, sku: str, location_id: str) -> InventoryPosition:
    """The position of ``sku`` at ``location_id``; all zeros if nothing was ever recorded there."""
    row = session.execute(
        sa.select(POSITIONS).where(POSITIONS.c.sku == sku, POSITIONS.c.location_id == location_id)
    ).first()
    return InventoryPosition(sku=sku, location_id=location_id) if row is None else position_from_row(row)


def positions(session: Session, sku: str) -> list[InventoryPosition]:
    """Every position of ``sku``, sorted by location id."""
    rows = session.execute(sa.select(POSITIONS).where(POSITIONS.c.sku == sku).order_by(POSITIONS.c.location_id))
    return [position_from_row(row) for row in rows]


def positions_of(session: Session, skus: list[str]) -> dict[str, list[InventoryPosition]]:
    """Every position of each of ``skus``, each SKU's sorted by location id, in one query per 500 SKUs."""
    found: dict[str, list[InventoryPosition]] = {sku: [] for sku in skus}
    for start in range(0, len(skus), 500):
        query = (
            sa.select(POSITIONS)
            .where(POSITIONS.c.sku.in_(skus[start : start + 500]))
            .order_by(POSITIONS.c.sku, POSITIONS.c.location_id)
        )
        for row in session.execute(query):
            found[row.sku].append(position_from_row(row))
    return found


ESTABLISHING_KINDS: frozenset[MovementKind] = frozenset(
    {MovementKind.COUNT, MovementKind.RECEIPT, MovementKind.ADJUSTMENT, MovementKind.TRANSFER_IN}
)
"""The movements that make a position *known*: a person or a stock source said what is there (a count) or put
stock there on purpose (a receipt, an adjustment, a transfer in). A position with none of them is *unknown*, not
zero: a sale, an order's commitment, a return or a reservation there says nothing about what is on the shelf."""


def established_positions(session: Session, skus: list[str]) -> set[tuple[str, str]]:
    """The ``(sku, location_id)`` positions among ``skus`` that have an :data:`ESTABLISHING_KINDS` movement."""
    found: set[tuple[str, str]] = set()
    kinds = sorted(kind.value for kind in ESTABLISHING_KINDS)
    for start in range(0, len(skus), 500):
        query = (
            sa.select(MOVEMENTS.c.sku, MOVEMENTS.c.location_id)
            .where(MOVEMENTS.c.sku.in_(skus[start : start + 500]), MOVEMENTS.c.kind.in_(kinds))
            .distinct()
        )
        found.update((row.sku, row.location_id) for row in session.execute(query))
    return found


SOLD = (MovementKind.SALE, MovementKind.COMMITMENT)
"""The kinds a customer's purchase records: a sale handed over at once, or an order's commitment."""


def sold_since(session: Session, positions: Iterable[tuple[str, str]], since: datetime) -> dict[tuple[str, str], int]:
    """Units the ledger recorded as sold (:data:`SOLD`) at each of ``positions`` since ``since`` (by when they
    happened); positions with none are left out."""
    wanted = sorted(set(positions))
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(wanted), 200):
        chunk = wanted[start : start + 200]
        query = (
            sa.select(MOVEMENTS.c.sku, MOVEMENTS.c.location_id, sa.func.sum(MOVEMENTS.c.quantity))
            .where(
                sa.tuple_(MOVEMENTS.c.sku, MOVEMENTS.c.location_id).in_(chunk),
                MOVEMENTS.c.kind.in_([kind.value for kind in SOLD]),
                MOVEMENTS.c.occurred_at >= since,
            )
            .group_by(MOVEMENTS.c.sku, MOVEMENTS.c.location_id)
        )
        for sku, location_id, units in session.execute(query):
            found[(sku, location_id)] = int(units)
    return found


def movements(session: Session, sku: str, location_id: str | None = None) -> list[RecordedMovement]:
    """The movements recorded for ``sku`` (at one location if given), in the order they were recorded."""
    query = sa.select(MOVEMENTS).where(MOVEMENTS.c.sku == sku)
    if location_id is not None:
        query = query.where(MOVEMENTS.c.location_id == location_id)
    return [recorded_from_row(row) for row in session.execute(query.order_by(MOVEMENTS.c.id))]


def by_key(session: Session, idempotency_key: str) -> Any:
    """The movement row recorded under ``idempotency_key``, or None."""
    return session.connection().execute(_BY_KEY, {"p_key": idempotency_key}).first()


_BY_KEY = sa.select(MOVEMENTS).where(MOVEMENTS.c.idempotency_key == sa.bindparam("p_key"))
