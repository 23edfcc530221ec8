"""Movements on positions a unit of work locked earlier (the lock is not taken twice, the row only read)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omnibridge.models import MovementKind, MovementStatus, StockMovement
from omnibridge.store import Store
from omnibridge.store.unit_of_work import UnitOfWork

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def receipt(key: str, quantity: int, location: str) -> StockMovement:
    return StockMovement(
        idempotency_key=key,
        source="test",
        kind=MovementKind.RECEIPT,
        sku="SKU-1",
        location_id=location,
        quantity=quantity,
        occurred_at=T0,
    )


class Undo(Exception):
    pass


def lock_then_undo(uow: UnitOfWork) -> None:
    with uow.savepoint():
        uow.lock_positions([("SKU-1", "new-loc")])  # creates the row, then the savepoint takes it away
        raise Undo


def test_a_position_whose_creation_a_savepoint_undid_is_created_again(store: Store) -> None:
    with store.unit_of_work() as uow:
        with pytest.raises(Undo):
            lock_then_undo(uow)
        result = uow.apply(receipt("r1", 4, "new-loc"))
    assert result.status is MovementStatus.APPLIED
    assert store.position("SKU-1", "new-loc").on_hand == 4


def test_a_locked_position_is_read_under_the_lock_and_duplicates_are_still_caught(store: Store) -> None:
    store.apply(receipt("r1", 3, "wh"))
    with store.unit_of_work() as uow:
        uow.lock_and_read([("SKU-1", "wh")])
        again = uow.apply(receipt("r1", 3, "wh"))
        more = uow.apply(receipt("r2", 2, "wh"))
    assert again.status is MovementStatus.DUPLICATE
    assert more.status is MovementStatus.APPLIED
    assert more.position.on_hand == 5
    assert store.position("SKU-1", "wh").on_hand == 5
