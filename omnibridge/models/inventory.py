"""Stock positions and the movements that change them.

The ledger is append-only: a :class:`StockMovement` is never edited, and a position is the sum of the
movements recorded against it. Each movement stores the exact change it made to every bucket, so the sum is
exact even for movements whose effect depended on the state at the time (counts, receipts against incoming).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field, computed_field, model_validator

from omnibridge.models.common import CanonicalModel, Sku


class InventoryPosition(CanonicalModel):
    """What one location holds of one SKU.

    * ``on_hand``: physically present (includes committed, reserved and safety stock).
    * ``committed``: allocated to accepted orders that have not left yet.
    * ``reserved``: held for other reasons (pickup holds, carts, manual holds).
    * ``safety_stock``: kept back so it is never offered for sale.
    * ``incoming``: expected from suppliers or transfers; not part of ``on_hand``.
    * ``available`` = on_hand - committed - reserved - safety_stock.
    """

    sku: Sku
    """Master SKU."""
    location_id: str
    """Location holding the stock."""
    on_hand: int = 0
    """Physically present, including committed, reserved and safety stock."""
    committed: int = 0
    """Allocated to accepted orders that have not left yet."""
    reserved: int = 0
    """Held for other reasons: pickup holds, carts, manual holds."""
    safety_stock: int = Field(default=0, ge=0)
    """Kept back so it is never offered for sale."""
    incoming: int = 0
    """Expected from suppliers or transfers; not part of on_hand."""
    updated_at: datetime | None = None
    """When the last movement changed this position."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def available(self) -> int:
        return self.on_hand - self.committed - self.reserved - self.safety_stock


class MovementKind(StrEnum):
    """What happened to stock. The bucket effects are fixed per kind (see :data:`MOVEMENT_EFFECTS`)."""

    RECEIPT = "receipt"
    """Goods arrived: on_hand +q; incoming -min(q, incoming)."""
    EXPECTED = "expected"
    """Goods announced (purchase order, inbound transfer): incoming +q."""
    SALE = "sale"
    """Sold and handed over at once (a POS sale): on_hand -q."""
    COMMITMENT = "commitment"
    """An accepted order allocated here: committed +q."""
    COMMITMENT_RELEASE = "commitment_release"
    """An order line cancelled before it left: committed -q."""
    FULFILMENT = "fulfilment"
    """A committed order line shipped or was collected: on_hand -q, committed -q."""
    RETURN = "return"
    """A returned unit restocked: on_hand +q."""
    ADJUSTMENT = "adjustment"
    """A signed correction (damage, shrinkage, found stock): on_hand +q (q may be negative)."""
    COUNT = "count"
    """An absolute count: on_hand becomes q as of the count's time; stored as the count and its delta."""
    TRANSFER_OUT = "transfer_out"
    """Stock leaving for another location: on_hand -q."""
    TRANSFER_IN = "transfer_in"
    """Stock arriving from another location: on_hand +q."""
    RESERVATION = "reservation"
    """A hold (pickup, cart, manual): reserved +q."""
    RELEASE = "release"
    """A hold ends: reserved -q."""


MOVEMENT_EFFECTS: dict[MovementKind, dict[str, int]] = {
    MovementKind.RECEIPT: {"on_hand": 1},
    MovementKind.EXPECTED: {"incoming": 1},
    MovementKind.SALE: {"on_hand": -1},
    MovementKind.COMMITMENT: {"committed": 1},
    MovementKind.COMMITMENT_RELEASE: {"committed": -1},
    MovementKind.FULFILMENT: {"on_hand": -1, "committed": -1},
    MovementKind.RETURN: {"on_hand": 1},
    MovementKind.ADJUSTMENT: {"on_hand": 1},
    MovementKind.COUNT: {},
    MovementKind.TRANSFER_OUT: {"on_hand": -1},
    MovementKind.TRANSFER_IN: {"on_hand": 1},
    MovementKind.RESERVATION: {"reserved": 1},
    MovementKind.RELEASE: {"reserved": -1},
}
"""Per unit of ``quantity``, the sign of each bucket change. COUNT and RECEIPT's incoming part depend on the
state and are computed by the ledger."""


class StockMovement(CanonicalModel):
    """One event against one position, as submitted to the ledger.

    ``idempotency_key`` is unique across the whole ledger: submitting the same key again is a no-op reported
    as a duplicate. Build it from the source event's own id (``shopify:webhook:<event id>``,
    ``square:order:<id>:<line uid>``). ``source`` names where the event came from (a channel id, ``manual``,
    ``file:<name>``). ``quantity`` is positive, except for ADJUSTMENT (non-zero, signed) and COUNT (the
    counted absolute quantity, zero or more). ``occurred_at`` is when it happened in the real world; a count
    is turned into a delta against the ledger as it stood at that time.
    """

    idempotency_key: str = Field(min_length=1, max_length=255)
    """Unique across the ledger; built from the source event's own id. Re-submitting it is a no-op."""
    source: str = Field(min_length=1, max_length=128)
    """Where the event came from: a channel id, `manual`, `file:<name>`."""
    kind: MovementKind
    """What happened (see MovementKind)."""
    sku: Sku
    """Master SKU."""
    location_id: str
    """Location whose position changes."""
    quantity: int
    """Units; positive, except ADJUSTMENT (signed, non-zero) and COUNT (the counted absolute quantity)."""
    occurred_at: datetime
    """When it happened in the real world (timezone-aware)."""
    reference: str | None = Field(default=None, description="Order, transfer or document this belongs to")
    note: str | None = None
    """Free text for people reading the ledger."""

    @model_validator(mode="after")
    def _check_quantity(self) -> StockMovement:
        if self.kind is MovementKind.ADJUSTMENT:
            if self.quantity == 0:
                raise ValueError("an adjustment must change the quantity: expected a non-zero quantity")
        elif self.kind is MovementKind.COUNT:
            if self.quantity < 0:
                raise ValueError("a count cannot be negative: expected 0 or more")
        elif self.quantity <= 0:
            raise ValueError(f"a {self.kind.value} needs a positive quantity, got {self.quantity}")
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must carry a timezone (UTC recommended)")
        return self


class MovementStatus(StrEnum):
    APPLIED = "applied"
    """Recorded now; the position changed accordingly."""
    DUPLICATE = "duplicate"
    """The idempotency key was already recorded with the same content; nothing changed."""


class RecordedMovement(CanonicalModel):
    """A movement as the ledger stored it, with the exact change it made to each bucket."""

    id: int
    """Ledger sequence number."""
    movement: StockMovement
    """The movement as submitted."""
    delta_on_hand: int
    """Exact change made to on_hand."""
    delta_committed: int
    """Exact change made to committed."""
    delta_reserved: int
    """Exact change made to reserved."""
    delta_incoming: int
    """Exact change made to incoming."""
    recorded_at: datetime
    """When the ledger recorded it."""
    superseded_by_count: bool = Field(
        default=False,
        description="Arrived after a later count of the same position: the count already saw its effect "
        "on on_hand, so its on_hand delta was recorded as 0",
    )


class MovementResult(CanonicalModel):
    """What submitting a movement did. ``position`` is the position after the call."""

    status: MovementStatus
    """Applied, or a duplicate of an earlier submission."""
    recorded: RecordedMovement
    """The stored movement (the original one for a duplicate)."""
    position: InventoryPosition
    """The position after the call."""
    shortfall: int = Field(
        default=0,
        ge=0,
        description="Units by which available is below zero after a movement applied with allow_shortfall",
    )

    @property
    def duplicate(self) -> bool:
        return self.status is MovementStatus.DUPLICATE
