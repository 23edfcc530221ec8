"""Pure ledger rules: the exact bucket changes a movement makes, and the checks that may refuse it.

No I/O here: :mod:`omnibridge.ledger.apply` feeds these functions the state it read under the position lock.

Counts and late events (a POS that was offline sends its sales up to 72 h late):

* A COUNT sets on_hand to the counted quantity *as of the count's time*: its on_hand delta is
  ``counted - (sum of on_hand deltas recorded at the position with occurred_at <= count time)``. Movements
  that occurred after the count and are already recorded keep their effect.
* A physical movement (one that changes on_hand) that occurred *before* the latest count recorded at the
  position is already reflected in that count: its on_hand delta is 0 and it is marked
  ``superseded_by_count``. Its other effects (committed, incoming) still apply.
* A COUNT older than the latest count is superseded in the same way (delta 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from omnibridge.errors import ConflictError, InsufficientStockError
from omnibridge.models import MOVEMENT_EFFECTS, InventoryPosition, MovementKind, StockMovement


@dataclass(frozen=True)
class Deltas:
    """The change a movement makes to each bucket of its position."""

    on_hand: int = 0
    committed: int = 0
    reserved: int = 0
    incoming: int = 0

    @property
    def available(self) -> int:
        """The change to available (safety stock is not changed by movements)."""
        return self.on_hand - self.committed - self.reserved


def changes_on_hand(kind: MovementKind) -> bool:
    """Whether ``kind`` is a physical movement or count, i.e. one whose on_hand effect a count can see."""
    return kind is MovementKind.COUNT or "on_hand" in MOVEMENT_EFFECTS[kind]


def is_superseded(movement: StockMovement, latest_count_at: datetime | None) -> bool:
    """Whether a count already recorded at the position, taken after ``movement`` occurred, has seen it."""
    return latest_count_at is not None and changes_on_hand(movement.kind) and movement.occurred_at < latest_count_at


def deltas_for(
    movement: StockMovement, position: InventoryPosition, *, superseded: bool, on_hand_at_time: int
) -> Deltas:
    """The bucket changes of ``movement`` given the current ``position``.

    ``on_hand_at_time`` is the sum of on_hand deltas recorded at the position with occurred_at at or before
    the movement's (only used by a non-superseded COUNT).
    """
    q = movement.quantity
    effect = MOVEMENT_EFFECTS[movement.kind]
    if movement.kind is MovementKind.COUNT:
        on_hand = 0 if superseded else q - on_hand_at_time
    else:
        on_hand = 0 if superseded else effect.get("on_hand", 0) * q
    incoming = effect.get("incoming", 0) * q
    if movement.kind is MovementKind.RECEIPT:
        incoming -= min(q, max(position.incoming, 0))
    return Deltas(
        on_hand=on_hand,
        committed=effect.get("committed", 0) * q,
        reserved=effect.get("reserved", 0) * q,
        incoming=incoming,
    )


def check(
    movement: StockMovement,
    position: InventoryPosition,
    deltas: Deltas,
    *,
    allow_backorder: bool,
    allow_shortfall: bool,
) -> int:
    """Refuse a movement that breaks an invariant; otherwise return the shortfall to report.

    Raises :class:`ConflictError` for a RELEASE above reserved, or a COMMITMENT_RELEASE or FULFILMENT above
    committed. Raises :class:`InsufficientStockError` when the movement lowers available below zero for a SKU
    that does not allow backorders, unless ``allow_shortfall``. The returned shortfall is how far below zero
    available is afterwards, for a non-backorder SKU applied with ``allow_shortfall`` (else 0).
    """
    q = movement.quantity
    where = f"{movement.sku!r} at {movement.location_id!r}"
    if movement.kind is MovementKind.RELEASE and q > position.reserved:
        raise ConflictError(f"cannot release {q} of {where}: only {position.reserved} reserved")
    if movement.kind in (MovementKind.COMMITMENT_RELEASE, MovementKind.FULFILMENT) and q > position.committed:
        raise ConflictError(
            f"cannot {movement.kind.value.replace('_', ' ')} {q} of {where}: only {position.committed} committed"
        )
    after = position.available + deltas.available
    if allow_backorder:
        return 0
    if after < 0 and deltas.available < 0 and not allow_shortfall:
        raise InsufficientStockError(
            sku=movement.sku,
            location_id=movement.location_id,
            requested=-deltas.available,
            available=position.available,
        )
    return max(0, -after) if allow_shortfall else 0


def check_safety_stock(position: InventoryPosition, quantity: int, *, allow_backorder: bool) -> None:
    """Refuse a safety stock that would lower available below zero for a SKU without backorders."""
    if quantity < 0:
        raise ValueError(f"safety stock cannot be negative, got {quantity}")
    change = position.safety_stock - quantity
    if not allow_backorder and change < 0 and position.available + change < 0:
        raise InsufficientStockError(
            sku=position.sku, location_id=position.location_id, requested=-change, available=position.available
        )
