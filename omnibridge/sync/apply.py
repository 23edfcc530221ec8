"""Channel events into ledger movements, exactly once, through order line records.

Every event is applied in one unit of work (:meth:`omnibridge.store.Store.unit_of_work`): the order record, its
line records (:mod:`omnibridge.sync.lines`) and the movements they cause commit together or not at all. A caller
that must commit more with them (the inbox entry that carried them, the SKUs left to push) passes its own unit.

=====================================  ==================================================================
event                                  effect (see :mod:`omnibridge.sync.lines` for the keys)
=====================================  ==================================================================
order PLACED, per line                 the line is open: committed where the channel says (a routed
                                       channel's new order: where routing decides, see
                                       :mod:`omnibridge.sync.placement`); a change of location or
                                       quantity moves or resizes the commitment
order COMPLETED, per line              every open unit left: the commitment is fulfilled, the rest sold
order CANCELLED, per line              the commitment is released
fulfilment, per line                   the units left from the fulfilment's location, once per fulfilment
provider fulfilment / status           a 3PL's or supplier's word on an assignment (order_ref = its id):
                                       see :mod:`omnibridge.fulfilment.provider`
refund line, restock ``return``        return ``<channel>:refund:<refund>:<line>:return``
refund line, restock ``cancel``        commitment_release ``<channel>:refund:<refund>:<line>:release``
return (RMA) and its dispositions      the return recorded once per channel ref; a restock is a return
                                       ``<line>:return:<return id>:<position>:restock`` (:mod:`omnibridge.returns`)
stock change (receipt/adjust/count)    receipt / adjustment / count ``<channel>:stock:<change>``
stock observed                         none (the engine re-reads and reconciles that SKU)
privacy request                        recorded with its deadline (:mod:`omnibridge.customers.requests`)
order PLACED with pickup details       a pickup or curbside order pinned at its store; its pickup booked
                                       (:mod:`omnibridge.pickup.book`)
pickup (ready, arrived, collected,     the pickup's transition, as a staff action would make it
cancelled)                             (:mod:`omnibridge.pickup.channel_events`)
=====================================  ==================================================================

Orders and stock changes are facts that already happened on the channel, so they are applied with
``allow_shortfall``: the ledger records them even when they take available below zero, and the shortfall is
reported (the oversell resolver, :mod:`omnibridge.sync.oversell`, acts on it). Lines without a SKU, SKUs outside
the catalog and unmapped locations are skipped with a message (the engine logs and counts every message); they
never fail the rest of the event. A refusal of one line (``ConflictError``) undoes that line alone, with a
message. An idempotency key that already recorded a different movement (:class:`IdempotencyKeyReusedError`) fails
the whole event, so its delivery goes to the dead letters instead of being marked done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from omnibridge.customers.requests import record_request
from omnibridge.errors import ConflictError, IdempotencyKeyReusedError
from omnibridge.fulfilment.provider import ProviderEvents, is_provider
from omnibridge.fulfilment.tasks import is_collection_echo, is_confirmation_echo
from omnibridge.models import MovementKind, MovementStatus, Order, StockMovement
from omnibridge.pickup.method import pickup_method
from omnibridge.sdk.channel import (
    ChannelEvent,
    FulfilmentEvent,
    FulfilmentStatusEvent,
    OrderEvent,
    OrderEventKind,
    RefundEvent,
    RestockType,
    StockChangeEvent,
    StockChangeKind,
    StockObservedEvent,
)
from omnibridge.sdk.pickup import PickupEvent
from omnibridge.sdk.privacy import PrivacyRequestEvent
from omnibridge.sdk.returns import ReturnEvent
from omnibridge.store import Store
from omnibridge.store.routing_records import tasks_of_order
from omnibridge.store.unit_of_work import UnitOfWork
from omnibridge.sync import vanish
from omnibridge.sync.lines import LineBook, LineFact
from omnibridge.sync.orders import is_stale, record_order, refresh_fulfilment
from omnibridge.sync.outcome import ApplyOutcome, Position
from omnibridge.sync.placement import OrderPlacer, Placement
from omnibridge.sync.runtime import ChannelRuntime

if TYPE_CHECKING:
    from omnibridge.pickup.settings import PickupSettings

__all__ = ["ApplyOutcome", "EventApplier", "Position"]


class EventApplier:
    """Applies one channel's events to the store (see the module docstring for the rules)."""

    def __init__(
        self,
        store: Store,
        channel: ChannelRuntime,
        *,
        placer: OrderPlacer | None = None,
        pickup: PickupSettings | None = None,
    ) -> None:
        self.store = store
        self.channel = channel
        self.placer = placer
        """Routes a routed channel's new orders as they are recorded (:mod:`omnibridge.sync.placement`)."""
        self.pickup = pickup
        """Hold length and windows for the pickups of this channel's orders (None: the ``pickup:`` defaults)."""
        self._known_skus: set[str] = set()
        """SKUs this applier found in the catalog (it is only ever added to while the engine runs)."""
        self._provider = ProviderEvents(channel) if is_provider(channel) else None
        # imported here: omnibridge.returns builds on omnibridge.sync.lines, whose package imports this module
        from omnibridge.returns.events import ReturnEvents

        self._returns = ReturnEvents(channel.id, channel.location_id, channel.master_sku)

    def apply_all(self, events: Iterable[ChannelEvent], *, uow: UnitOfWork | None = None) -> ApplyOutcome:
        """Apply ``events`` in order: each in its own unit of work, or all in ``uow`` when one is given (it then
        commits with whatever else the caller does in it). Raises :class:`IdempotencyKeyReusedError` (nothing of
        the failing event is kept) and store errors; everything else becomes a message in the outcome."""
        outcome = ApplyOutcome()
        for event in events:
            if isinstance(event, StockObservedEvent):
                self._observed(event, outcome)
                continue
            unit: AbstractContextManager[UnitOfWork] = (
                nullcontext(uow) if uow is not None else self.store.unit_of_work()
            )
            with unit as work:
                if isinstance(event, OrderEvent):
                    self._order(work, event, outcome)
                elif isinstance(event, FulfilmentEvent):
                    self._fulfilment(work, event, outcome)
                elif isinstance(event, FulfilmentStatusEvent) and self._provider is not None:
                    assignment = self._provider.assignment_of(work, event.reference, outcome)
                    if assignment is not None:
                        self._provider.status(work, event, assignment, outcome)
                elif isinstance(event, RefundEvent):
                    self._refund(work, event, outcome)
                elif isinstance(event, StockChangeEvent):
                    self._stock_change(work, event, outcome)
                elif isinstance(event, PrivacyRequestEvent):
                    record_request(work.session, self.channel.id, event)
                elif isinstance(event, PickupEvent):
                    from omnibridge.pickup.channel_events import apply_pickup_event

                    apply_pickup_event(work, self.channel, event, outcome, self._pickup_settings())
                elif isinstance(event, ReturnEvent):
                    self._returns.apply(work, event, outcome)
        return outcome

    # -- events ------------------------------------------------------------------------------------------

    def _order(self, uow: UnitOfWork, event: OrderEvent, outcome: ApplyOutcome) -> None:
        existing = uow.find_order(self.channel.id, event.ref)
        placement: Placement | None = None
        stale = is_stale(existing, event)
        if event.kind is not OrderEventKind.UPDATED and not (stale and event.kind is OrderEventKind.PLACED):
            facts = [
                fact
                for fact in (
                    self._fact(
                        uow, event.ref, line.line_ref, line.sku, line.location_ref, line.quantity, event, outcome
                    )
                    for line in event.lines
                    if line.quantity > 0
                )
                if fact is not None
            ]
            if self.placer is not None and event.kind is OrderEventKind.PLACED and facts:
                pickup = pickup_method(self.channel, event.pickup) if event.pickup is not None else None
                placement = self.placer.plan_placement(uow, self.channel.id, event, facts, existing, pickup=pickup)
            if placement is None:
                self._lock(uow, facts)
            book = LineBook(uow, outcome)
            operation: Callable[[LineFact], None] = {
                OrderEventKind.PLACED: book.placed,
                OrderEventKind.COMPLETED: book.completed,
                OrderEventKind.CANCELLED: book.cancelled,
            }[event.kind]
            if placement is not None:
                routed = placement

                def operation(fact: LineFact) -> None:
                    book.placed(fact, at=routed.location_for(fact.line_id))

            for fact in facts:
                self._guarded(uow, outcome, f"order {event.ref} line {fact.line_ref}", operation, fact)
        order: Order | None = None
        try:
            with uow.savepoint():
                skus = {self.channel.master_sku(line.sku) for line in event.lines if line.sku}
                order = record_order(uow, self.channel, event, self._known(uow, skus), existing)
                if order is not None:
                    outcome.orders += 1
        except ConflictError as exc:
            outcome.messages.append(f"{self.channel.id}: order {event.ref}: {exc}")
        if placement is not None:
            placement.record(uow)
        if order is not None and event.pickup is not None and event.kind is OrderEventKind.PLACED:
            from omnibridge.pickup.book import book_placed

            book_placed(uow, self.channel, event, order, self._pickup_settings())
        elif order is not None and event.kind in (OrderEventKind.COMPLETED, OrderEventKind.CANCELLED):
            from omnibridge.pickup.channel_events import follow_order

            follow_order(uow, self.channel, event, self._pickup_settings())
        if self.placer is not None and event.kind is OrderEventKind.CANCELLED and not stale:
            self.placer.order_cancelled(uow, f"{self.channel.id}:{event.ref}")

    def _fulfilment(self, uow: UnitOfWork, event: FulfilmentEvent, outcome: ApplyOutcome) -> None:
        if self._provider is not None and self._provider.fulfilment(uow, event, outcome):
            return  # a provider shipped an assignment of another channel's order
        tasks = tasks_of_order(uow.session, f"{self.channel.id}:{event.order_ref}")
        if tasks and is_confirmation_echo(tasks, event.ref, event.tracking_number):
            outcome.duplicates += len(event.lines)  # our confirmation of a provider's shipment, already shipped
            return
        if tasks and is_collection_echo(tasks, event.tracking_number):
            outcome.duplicates += len(event.lines)  # our "collected" of a pickup: its units left the store then
            return
        facts = [
            fact
            for fact in (
                self._fact(
                    uow, event.order_ref, line.line_ref, line.sku, event.location_ref, line.quantity, event, outcome
                )
                for line in event.lines
                if line.quantity > 0
            )
            if fact is not None
        ]
        self._lock(uow, facts)
        book = LineBook(uow, outcome)
        for fact in facts:
            what = f"fulfilment {event.ref} line {fact.line_ref}"
            self._guarded(uow, outcome, what, lambda f: book.shipped(f, event.ref), fact)
        refresh_fulfilment(uow, self.channel.id, event.order_ref)
        if self.placer is not None and facts:
            self.placer.order_shipped(uow, f"{self.channel.id}:{event.order_ref}", facts[0].location_id)

    def _refund(self, uow: UnitOfWork, event: RefundEvent, outcome: ApplyOutcome) -> None:
        book = LineBook(uow, outcome)
        for line in event.lines:
            if line.restock_type is RestockType.NO_RESTOCK or line.quantity <= 0:
                continue
            fact = self._fact(
                uow, event.order_ref, line.line_ref, line.sku, line.location_ref, line.quantity, event, outcome
            )
            if fact is None:
                continue
            what = f"refund {event.ref} line {line.line_ref}"
            if line.restock_type is RestockType.RETURN:
                self._guarded(uow, outcome, what, lambda f: book.returned(f, event.ref), fact)
            else:
                self._guarded(uow, outcome, what, lambda f: book.refund_cancelled(f, event.ref), fact)

    def _stock_change(self, uow: UnitOfWork, event: StockChangeEvent, outcome: ApplyOutcome) -> None:
        where = self._position(uow, event.sku, event.location_ref, f"stock change {event.ref}", outcome)
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
        movement = StockMovement(
            idempotency_key=f"{self.channel.id}:stock:{event.ref}",
            source=self.channel.id,
            kind=kind,
            sku=where[0],
            location_id=where[1],
            quantity=quantity,
            occurred_at=event.occurred_at,
            reference=None,
        )
        try:
            result = uow.apply(movement, allow_shortfall=True, shown_on=self.channel.id, shown_at=event.occurred_at)
        except IdempotencyKeyReusedError:
            raise
        except ConflictError as exc:
            outcome.messages.append(f"{self.channel.id}: {movement.idempotency_key}: {exc}")
            return
        if result.status is MovementStatus.DUPLICATE:
            outcome.duplicates += 1
            return
        outcome.applied += 1
        outcome.touched.add(where)
        if result.shortfall:
            outcome.shortfalls.append((where, result.shortfall))

    def _observed(self, event: StockObservedEvent, outcome: ApplyOutcome) -> None:
        location_id = self.channel.location_id(event.location_ref)
        if event.sku is None or location_id is None:
            return
        position = (self.channel.master_sku(event.sku), location_id)
        outcome.observed.append((position, event.available, event.observed_at))

    # -- helpers -----------------------------------------------------------------------------------------

    def _fact(
        self,
        uow: UnitOfWork,
        order_ref: str,
        line_ref: str,
        sku: str | None,
        location_ref: str | None,
        quantity: int,
        event: OrderEvent | FulfilmentEvent | RefundEvent,
        outcome: ApplyOutcome,
    ) -> LineFact | None:
        kind = type(event).__name__.removesuffix("Event").lower()
        where = self._position(uow, sku, location_ref, f"{kind} {event.ref} line {line_ref}", outcome)
        if where is None:
            return None
        return LineFact(self.channel.id, order_ref, line_ref, where[0], quantity, where[1], event.occurred_at)

    @staticmethod
    def _lock(uow: UnitOfWork, facts: list[LineFact]) -> None:
        """Lock every position the facts can touch (where the channel says, where each line is now), in the
        fixed order, before any line is changed."""
        positions: set[Position] = {(fact.sku, fact.location_id) for fact in facts}
        for fact in facts:
            line = uow.peek_line(fact.line_id)
            if line is not None and line.location_id is not None:
                positions.add((line.sku, line.location_id))
        uow.lock_positions(positions)

    def _guarded(
        self,
        uow: UnitOfWork,
        outcome: ApplyOutcome,
        what: str,
        operation: Callable[[LineFact], None],
        fact: LineFact,
    ) -> None:
        """Run one line operation in a savepoint: a refusal undoes that line alone and becomes a message."""
        try:
            with uow.savepoint():
                operation(fact)
        except IdempotencyKeyReusedError:
            raise
        except ConflictError as exc:
            outcome.messages.append(f"{self.channel.id}: {what}: {exc}")

    def _position(
        self, uow: UnitOfWork, channel_sku: str | None, location_ref: str | None, what: str, outcome: ApplyOutcome
    ) -> Position | None:
        """Where a line lands in the ledger, or None: the line is skipped with a message (logged and counted by
        the engine) and an incident in ``uow`` (:mod:`omnibridge.sync.vanish`), so nothing is dropped unseen."""
        reason: str | None = None
        sku = self.channel.master_sku(channel_sku) if channel_sku else None
        location_id = self.channel.location_id(location_ref)
        if sku is None:
            reason = "has no SKU"
        elif sku not in self._known(uow, {sku}):
            reason = f"SKU {sku!r} is not in the catalog"
        elif location_id is None:
            reason = f"location {location_ref!r} is not mapped (mappings.location_map)"
        if reason is not None or sku is None or location_id is None:
            separator = " " if sku is None else ": "
            outcome.messages.append(f"{self.channel.id}: {what}{separator}{reason}; skipped")
            uow.add_incident(vanish.skipped_line(self.channel.id, what, str(reason), sku, location_ref))
            return None
        return sku, location_id

    def _pickup_settings(self) -> PickupSettings:
        from omnibridge.pickup.settings import PickupSettings

        if self.pickup is None:
            self.pickup = PickupSettings()
        return self.pickup

    def _known(self, uow: UnitOfWork, skus: set[str]) -> set[str]:
        """Those of ``skus`` that are in the catalog: looked up in ``uow`` (not the whole catalog: one order's
        SKUs), remembered for this applier's later events."""
        missing = skus - self._known_skus
        if missing:
            self._known_skus |= uow.known_skus(missing)
        return skus & self._known_skus
