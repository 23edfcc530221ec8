"""Channel events into ledger movements, exactly once.

Every movement's idempotency key is built from the vendor's own ids, so an event applied again — a duplicate
webhook, an overlapping poll window, a replay — is a DUPLICATE in the ledger and changes nothing (orders are
also kept as canonical order records, see :mod:`omnibridge.sync.orders`):

=====================================  ==================================================================
event                                  movement (key)
=====================================  ==================================================================
order PLACED, per line                 commitment   ``<channel>:order:<order>:<line>:commit``
order COMPLETED, per line              sale         ``<channel>:order:<order>:<line>:sale`` — or fulfilment of
                                                    the open commitment when the order was seen PLACED first
order CANCELLED, per line              commitment_release of what is still committed
                                                    ``<channel>:order:<order>:<line>:cancel``
refund line, restock ``return``        return       ``<channel>:refund:<refund>:<line>:return``
refund line, restock ``cancel``        commitment_release ``<channel>:refund:<refund>:<line>:release``
stock change (receipt/adjust/count)    receipt / adjustment / count ``<channel>:stock:<change>``
stock observed                         none (the engine re-reads and reconciles that SKU)
=====================================  ==================================================================

Orders and stock changes are facts that already happened on the channel, so they are applied with
``allow_shortfall``: the ledger records them even when they take available below zero, and the shortfall is
reported (the oversell resolver, :mod:`omnibridge.sync.oversell`, acts on it; completions and cancellations
of a line it moved to another location are applied there). Lines without a SKU, SKUs outside the catalog and unmapped
locations are skipped with a message; they never fail the rest of the event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from omnibridge.errors import ConflictError
from omnibridge.models import MovementKind, MovementStatus, StockMovement
from omnibridge.sdk.channel import (
    ChannelEvent,
    OrderEvent,
    OrderEventKind,
    RefundEvent,
    RestockType,
    StockChangeEvent,
    StockChangeKind,
    StockObservedEvent,
)
from omnibridge.store import Store
from omnibridge.sync.orders import record_order
from omnibridge.sync.runtime import ChannelRuntime

Position = tuple[str, str]
"""(master SKU, location id)."""


@dataclass
class ApplyOutcome:
    """What applying a batch of events did."""

    applied: int = 0
    duplicates: int = 0
    orders: int = 0
    """Order records created or updated."""
    touched: set[Position] = field(default_factory=set)
    observed: list[tuple[Position, int | None, datetime]] = field(default_factory=list)
    shortfalls: list[tuple[Position, int]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def merge(self, other: ApplyOutcome) -> None:
        self.applied += other.applied
        self.duplicates += other.duplicates
        self.orders += other.orders
        self.touched |= other.touched
        self.observed.extend(other.observed)
        self.shortfalls.extend(other.shortfalls)
        self.messages.extend(other.messages)


class EventApplier:
    """Applies one channel's events to the store (see the module docstring for the rules)."""

    def __init__(self, store: Store, channel: ChannelRuntime) -> None:
        self.store = store
        self.channel = channel
        self._known_skus: set[str] | None = None

    def apply_all(self, events: Iterable[ChannelEvent]) -> ApplyOutcome:
        outcome = ApplyOutcome()
        for event in events:
            if isinstance(event, OrderEvent):
                self._order(event, outcome)
            elif isinstance(event, RefundEvent):
                self._refund(event, outcome)
            elif isinstance(event, StockChangeEvent):
                self._stock_change(event, outcome)
            elif isinstance(event, StockObservedEvent):
                self._observed(event, outcome)
        return outcome

    # -- events ------------------------------------------------------------------------------------------

    def _order(self, event: OrderEvent, outcome: ApplyOutcome) -> None:
        try:
            if record_order(self.store, self.channel, event, self._catalog()) is not None:
                outcome.orders += 1
        except ConflictError as exc:
            outcome.messages.append(f"{self.channel.id}: order {event.ref}: {exc}")
        if event.kind is OrderEventKind.UPDATED:
            return
        for line in event.lines:
            where = self._position(line.sku, line.location_ref, f"order {event.ref} line {line.line_ref}", outcome)
            if where is None or line.quantity <= 0:
                continue
            reference = f"{self.channel.id}:order:{event.ref}:{line.line_ref}"
            if event.kind is not OrderEventKind.PLACED:
                where = self._commitment_location(where, reference)
            if event.kind is OrderEventKind.PLACED:
                self._move(
                    MovementKind.COMMITMENT,
                    where,
                    line.quantity,
                    f"{reference}:commit",
                    event.occurred_at,
                    reference,
                    outcome,
                )
            elif event.kind is OrderEventKind.COMPLETED:
                if self.store.find_movement(f"{reference}:fulfil") is not None:
                    outcome.duplicates += 1
                    continue
                open_commitment = self._outstanding_commitment(where, reference)
                if self.store.find_movement(f"{reference}:sale") is None and open_commitment > 0:
                    self._move(
                        MovementKind.FULFILMENT,
                        where,
                        min(open_commitment, line.quantity),
                        f"{reference}:fulfil",
                        event.occurred_at,
                        reference,
                        outcome,
                    )
                else:
                    self._move(
                        MovementKind.SALE,
                        where,
                        line.quantity,
                        f"{reference}:sale",
                        event.occurred_at,
                        reference,
                        outcome,
                    )
            elif event.kind is OrderEventKind.CANCELLED:
                key = f"{reference}:cancel"
                if self.store.find_movement(key) is not None:
                    outcome.duplicates += 1
                    continue
                open_commitment = self._outstanding_commitment(where, reference)
                if open_commitment > 0:
                    self._move(
                        MovementKind.COMMITMENT_RELEASE,
                        where,
                        min(open_commitment, line.quantity),
                        key,
                        event.occurred_at,
                        reference,
                        outcome,
                    )

    def _refund(self, event: RefundEvent, outcome: ApplyOutcome) -> None:
        for line in event.lines:
            if line.restock_type is RestockType.NO_RESTOCK or line.quantity <= 0:
                continue
            where = self._position(line.sku, line.location_ref, f"refund {event.ref} line {line.line_ref}", outcome)
            if where is None:
                continue
            order_reference = f"{self.channel.id}:order:{event.order_ref}:{line.line_ref}"
            key = f"{self.channel.id}:refund:{event.ref}:{line.line_ref}"
            if line.restock_type is RestockType.RETURN:
                self._move(
                    MovementKind.RETURN,
                    where,
                    line.quantity,
                    f"{key}:return",
                    event.occurred_at,
                    order_reference,
                    outcome,
                )
                continue
            if self.store.find_movement(f"{key}:release") is not None:
                outcome.duplicates += 1
                continue
            open_commitment = self._outstanding_commitment(where, order_reference)
            if open_commitment > 0:
                self._move(
                    MovementKind.COMMITMENT_RELEASE,
                    where,
                    min(open_commitment, line.quantity),
                    f"{key}:release",
                    event.occurred_at,
                    order_reference,
                    outcome,
                )

    def _stock_change(self, event: StockChangeEvent, outcome: ApplyOutcome) -> None:
        where = self._position(event.sku, event.location_ref, f"stock change {event.ref}", outcome)
        if where is None:
            return
        kind = {
            StockChangeKind.RECEIPT: MovementKind.RECEIPT,
            StockChangeKind.ADJUSTMENT: MovementKind.ADJUSTMENT,
            StockChangeKind.COUNT: MovementKind.COUNT,
        }[event.kind]
        if kind is not MovementKind.COUNT and event.quantity == 0:
            return
        quantity = event.quantity
        if kind is MovementKind.RECEIPT and quantity < 0:
            kind = MovementKind.ADJUSTMENT
        self._move(kind, where, quantity, f"{self.channel.id}:stock:{event.ref}", event.occurred_at, None, outcome)

    def _observed(self, event: StockObservedEvent, outcome: ApplyOutcome) -> None:
        location_id = self.channel.location_id(event.location_ref)
        if event.sku is None or location_id is None:
            return
        position = (self.channel.master_sku(event.sku), location_id)
        outcome.observed.append((position, event.available, event.observed_at))

    # -- helpers -----------------------------------------------------------------------------------------

    def _position(
        self, channel_sku: str | None, location_ref: str | None, what: str, outcome: ApplyOutcome
    ) -> Position | None:
        if not channel_sku:
            outcome.messages.append(f"{self.channel.id}: {what} has no SKU; skipped")
            return None
        sku = self.channel.master_sku(channel_sku)
        if sku not in self._catalog():
            outcome.messages.append(f"{self.channel.id}: {what}: SKU {sku!r} is not in the catalog; skipped")
            return None
        location_id = self.channel.location_id(location_ref)
        if location_id is None:
            outcome.messages.append(
                f"{self.channel.id}: {what}: location {location_ref!r} is not mapped (mappings.location_map); skipped"
            )
            return None
        return sku, location_id

    def _catalog(self) -> set[str]:
        if self._known_skus is None:
            self._known_skus = {variant.sku for variant in self.store.list_variants()}
        return self._known_skus

    def _commitment_location(self, where: Position, reference: str) -> Position:
        """Where the line's commitment is now: the location the oversell resolver moved it to, if it did."""
        moved = self.store.find_movement(f"{reference}:realloc")
        return where if moved is None else (where[0], moved.movement.location_id)

    def _outstanding_commitment(self, where: Position, reference: str) -> int:
        """Units still committed for one order line: commitments minus releases and fulfilments."""
        total = 0
        for recorded in self.store.movements(where[0], where[1]):
            if recorded.movement.reference == reference:
                total += recorded.delta_committed
        return total

    def _move(
        self,
        kind: MovementKind,
        where: Position,
        quantity: int,
        key: str,
        occurred_at: datetime,
        reference: str | None,
        outcome: ApplyOutcome,
    ) -> None:
        movement = StockMovement(
            idempotency_key=key,
            source=self.channel.id,
            kind=kind,
            sku=where[0],
            location_id=where[1],
            quantity=quantity,
            occurred_at=occurred_at,
            reference=reference,
        )
        try:
            result = self.store.apply(movement, allow_shortfall=True, shown_on=self.channel.id)
        except ConflictError as exc:
            outcome.messages.append(f"{self.channel.id}: {key}: {exc}")
            return
        if result.status is MovementStatus.DUPLICATE:
            outcome.duplicates += 1
            return
        outcome.applied += 1
        outcome.touched.add(where)
        if result.shortfall:
            outcome.shortfalls.append((where, result.shortfall))
