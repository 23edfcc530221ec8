"""Applying a movement: dedupe, lock, compute, check and update in one write transaction.

The order of steps is what makes the promises hold under concurrency:

1. Lock the position row (PostgreSQL: create it if missing with ``INSERT ... ON CONFLICT DO NOTHING``, then
   ``SELECT ... FOR UPDATE``; SQLite: the transaction began with ``BEGIN IMMEDIATE`` and already holds the
   database's write lock). Every later read of this position's ledger happens under that lock. A unit of work
   that locked the position already (a routing decision locks every position it reads, in one sorted pass)
   only reads it again, and skips the re-delivery fast path: the lock it would save is held anyway.
2. Compute the deltas from the state under the lock (:mod:`omnibridge.ledger.effects`).
3. Insert the movement with ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` on its idempotency key (the row
   returned is the record). The database decides whether the key is new, in the same transaction as the
   effect; if it is not, the movement is a duplicate (same fingerprint) or a reused key (different
   fingerprint), and nothing is changed.
4. Check the invariants; a refusal raises, and the transaction rolls back the insert with everything else, so
   the same key can be retried later.
5. Add the deltas to the position in one ``UPDATE`` (never read-modify-write).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from omnibridge.errors import IdempotencyKeyReusedError
from omnibridge.ledger import records
from omnibridge.ledger.effects import (
    Deltas,
    changes_on_hand,
    check,
    check_safety_stock,
    deltas_for,
    is_superseded,
)
from omnibridge.ledger.fingerprint import fingerprint
from omnibridge.ledger.records import by_key, position_from_row, recorded_from_row
from omnibridge.models import InventoryPosition, MovementKind, MovementResult, MovementStatus, StockMovement
from omnibridge.store.catalog import allows_backorder
from omnibridge.store.sql import insert_ignore
from omnibridge.store.tables import MOVEMENTS, POSITIONS


def apply_movement(
    session: Session, movement: StockMovement, *, allow_shortfall: bool, now: datetime, locked: bool = False
) -> MovementResult:
    """Apply ``movement`` inside the caller's write transaction (see the module docstring for the steps).
    ``locked``: the caller's transaction already locked the position (it exists), so it is only read.

    Returns APPLIED with the new position, or DUPLICATE with the original record and the current position.
    Raises :class:`~omnibridge.errors.IdempotencyKeyReusedError`, :class:`~omnibridge.errors.ConflictError` or
    :class:`~omnibridge.errors.InsufficientStockError`; the caller must then roll back (the store does).
    """
    digest = fingerprint(movement)
    if locked:
        current = _read_locked(session, movement.sku, movement.location_id)
    else:
        # Fast path for re-deliveries, the common case for webhooks: a key that is already recorded needs no
        # lock and no computation. It is only a shortcut: a key recorded concurrently is caught by the insert.
        earlier = by_key(session, movement.idempotency_key)
        if earlier is not None:
            return _duplicate(movement, earlier, digest, records.position(session, movement.sku, movement.location_id))
        current = lock_position(session, movement.sku, movement.location_id)
    # only a movement that changes on hand can be superseded by a later count
    superseded = changes_on_hand(movement.kind) and is_superseded(movement, _latest_count_at(session, movement))
    on_hand_at_time = _on_hand_at(session, movement) if movement.kind is MovementKind.COUNT and not superseded else 0
    deltas = deltas_for(movement, current, superseded=superseded, on_hand_at_time=on_hand_at_time)
    row = _row(movement, deltas, digest, superseded=superseded, now=now)
    original = _insert_movement(session, row)
    if original is None:  # the key is recorded already
        return _duplicate(movement, by_key(session, movement.idempotency_key), digest, current)
    shortfall = check(
        movement,
        current,
        deltas,
        allow_backorder=allows_backorder(session, movement.sku),
        allow_shortfall=allow_shortfall,
    )
    updated = _add(session, movement.sku, movement.location_id, deltas, now)
    return MovementResult(
        status=MovementStatus.APPLIED, recorded=recorded_from_row(original), position=updated, shortfall=shortfall
    )


def _duplicate(movement: StockMovement, original: Any, digest: str, current: InventoryPosition) -> MovementResult:
    """The answer to a key that is already recorded: DUPLICATE if the content matches, else a reused key."""
    if original.fingerprint != digest:
        raise IdempotencyKeyReusedError(
            f"idempotency key {movement.idempotency_key!r} already recorded a different movement "
            f"({original.kind} of {original.quantity} {original.sku!r} at {original.location_id!r}); "
            "the new one was not applied"
        )
    return MovementResult(status=MovementStatus.DUPLICATE, recorded=recorded_from_row(original), position=current)


def set_safety_stock(
    session: Session, sku: str, location_id: str, quantity: int, *, now: datetime
) -> InventoryPosition:
    """Set the safety stock of a position (a setting, not a movement: absolute and naturally idempotent).

    Raises :class:`~omnibridge.errors.InsufficientStockError` if it would lower available below zero for a SKU
    that does not allow backorders, and ValueError for a negative quantity.
    """
    current = lock_position(session, sku, location_id)
    check_safety_stock(current, quantity, allow_backorder=allows_backorder(session, sku))
    row = session.execute(
        sa.update(POSITIONS)
        .where(POSITIONS.c.sku == sku, POSITIONS.c.location_id == location_id)
        .values(safety_stock=quantity, updated_at=now)
        .returning(*POSITIONS.c)
    ).one()
    return position_from_row(row)


def lock_position(session: Session, sku: str, location_id: str) -> InventoryPosition:
    """Ensure the position row exists and lock it for the rest of the transaction; return its state."""
    insert_ignore(session, POSITIONS, _zero_position(sku, location_id))
    row = session.connection().execute(_POSITION_FOR_UPDATE, {"p_sku": sku, "p_location": location_id}).one()
    return position_from_row(row)


def _read_locked(session: Session, sku: str, location_id: str) -> InventoryPosition:
    """The position the transaction locked earlier (re-selected FOR UPDATE, so a savepoint rolled back since,
    which releases its locks on PostgreSQL, loses nothing); created as :func:`lock_position` does if a rolled
    back savepoint took its creation away."""
    row = session.connection().execute(_POSITION_FOR_UPDATE, {"p_sku": sku, "p_location": location_id}).first()
    return lock_position(session, sku, location_id) if row is None else position_from_row(row)


def _insert_movement(session: Session, row: dict[str, object]) -> Any | None:
    """Insert the movement ``row`` unless its key is recorded: the new row as stored, else None."""
    statement = _INSERT_MOVEMENT[session.get_bind().dialect.name == "postgresql"]
    return session.connection().execute(statement, row).first()


def _zero_position(sku: str, location_id: str) -> dict[str, object]:
    return {
        "sku": sku,
        "location_id": location_id,
        "on_hand": 0,
        "committed": 0,
        "reserved": 0,
        "safety_stock": 0,
        "incoming": 0,
        "updated_at": None,
    }


# The hot statements are built once with bind parameters, so SQLAlchemy builds and compiles each only once.
_M, _P = MOVEMENTS.c, POSITIONS.c
_AT_POSITION = sa.and_(_M.sku == sa.bindparam("p_sku"), _M.location_id == sa.bindparam("p_location"))
_POSITION_FOR_UPDATE = (
    sa.select(POSITIONS)
    .where(_P.sku == sa.bindparam("p_sku"), _P.location_id == sa.bindparam("p_location"))
    .with_for_update()
)
_INSERT_MOVEMENT = {
    postgres: (postgresql.insert(MOVEMENTS) if postgres else sqlite.insert(MOVEMENTS))
    .on_conflict_do_nothing()
    .returning(*MOVEMENTS.c)
    for postgres in (False, True)
}
"""Insert a movement unless its key is recorded; the new row (nothing when the key was recorded already)."""
_LATEST_COUNT = sa.select(sa.func.max(_M.occurred_at)).where(_AT_POSITION, _M.kind == MovementKind.COUNT.value)
_ON_HAND_AT = sa.select(sa.func.coalesce(sa.func.sum(_M.delta_on_hand), 0)).where(
    _AT_POSITION, _M.occurred_at <= sa.bindparam("p_at")
)
_ADD_DELTAS = (
    sa.update(POSITIONS)
    .where(_P.sku == sa.bindparam("p_sku"), _P.location_id == sa.bindparam("p_location"))
    .values(
        on_hand=_P.on_hand + sa.bindparam("d_on_hand"),
        committed=_P.committed + sa.bindparam("d_committed"),
        reserved=_P.reserved + sa.bindparam("d_reserved"),
        incoming=_P.incoming + sa.bindparam("d_incoming"),
        updated_at=sa.bindparam("p_now", type_=_P.updated_at.type),
    )
    .returning(*POSITIONS.c)
)


def _at(movement: StockMovement) -> dict[str, object]:
    return {"p_sku": movement.sku, "p_location": movement.location_id}


def _latest_count_at(session: Session, movement: StockMovement) -> datetime | None:
    latest: datetime | None = session.connection().execute(_LATEST_COUNT, _at(movement)).scalar()
    return latest


def _on_hand_at(session: Session, movement: StockMovement) -> int:
    total = session.connection().execute(_ON_HAND_AT, {**_at(movement), "p_at": movement.occurred_at}).scalar()
    return int(total or 0)


def _row(movement: StockMovement, deltas: Deltas, digest: str, *, superseded: bool, now: datetime) -> dict[str, object]:
    return {
        "idempotency_key": movement.idempotency_key,
        "fingerprint": digest,
        "source": movement.source,
        "kind": movement.kind.value,
        "sku": movement.sku,
        "location_id": movement.location_id,
        "quantity": movement.quantity,
        "counted_quantity": movement.quantity if movement.kind is MovementKind.COUNT else None,
        "delta_on_hand": deltas.on_hand,
        "delta_committed": deltas.committed,
        "delta_reserved": deltas.reserved,
        "delta_incoming": deltas.incoming,
        "occurred_at": movement.occurred_at,
        "recorded_at": now,
        "reference": movement.reference,
        "note": movement.note,
        "superseded_by_count": superseded,
    }


def _add(session: Session, sku: str, location_id: str, deltas: Deltas, now: datetime) -> InventoryPosition:
    parameters = {
        "p_sku": sku,
        "p_location": location_id,
        "d_on_hand": deltas.on_hand,
        "d_committed": deltas.committed,
        "d_reserved": deltas.reserved,
        "d_incoming": deltas.incoming,
        "p_now": now,
    }
    return position_from_row(session.connection().execute(_ADD_DELTAS, parameters).one())
