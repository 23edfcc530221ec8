"""The routing service: decide where an order ships from, reserve it there, record why, and hand it on.

Each decision runs inside one unit of work (:class:`~omnibridge.store.unit_of_work.UnitOfWork`) that also holds
its reservations, so a concurrent order can never take the same units:

1. lock every position the decision may read or touch: each SKU of the lines at every active location not
   excluded, and where the lines are committed now (one sorted lock, :meth:`UnitOfWork.lock_positions`);
2. read what is available there (a line's own commitment counts as available to itself) and how many orders
   each location was assigned today (the merchant's local day, for daily capacity);
3. run the router (:func:`omnibridge.routing.route`), pure;
4. reserve: a new order's lines are committed at the routed location as they are recorded
   (:meth:`LineBook.placed <omnibridge.sync.lines.LineBook.placed>` ``at=``); a recorded line moves its
   commitment there (:meth:`LineBook.move <omnibridge.sync.lines.LineBook.move>`, refused if the place lacks
   the units);
5. record the decision (attempt 1, 2, ...), one assignment per chosen location and the fulfilment tasks
   (:mod:`omnibridge.routing.recording`).

A line ships whole from one location: a line the router splits across locations (or allocates in part) stays
where it is committed, and the decision says so (``unallocated``). An order the router cannot route keeps its
units committed where the channel named them (the oversell resolver sees any shortfall) and is *parked*: its
latest decision is ``unroutable`` (or ``partial``), which ``omnibridge orders list --status unroutable`` lists.

A rejection (:meth:`RoutingService.reject`) re-routes the rejected lines with every location that rejected the
order excluded, moving their reservation in the same transaction; after ``max_reroutes`` re-routes, or for an
order the customer collects (pickup, curbside), the order is parked instead. Pickup orders are never re-routed
to shipping by the routing rules: :meth:`RoutingService.pickup_fallback` hands a refused pickup to the pickup
fallback (:mod:`omnibridge.pickup.fallback`: the next store, else shipping only under the pickup policy).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from omnibridge.access import audit
from omnibridge.access.actors import Actor
from omnibridge.errors import InsufficientStockError, OmnibridgeError
from omnibridge.models import Address, FulfilmentMethod, LineStatus, Location, Order, OrderLineRecord, OrderStatus
from omnibridge.routing.distance import DistanceSource
from omnibridge.routing.model import (
    Allocation,
    LocationState,
    RouteLine,
    RouteOutcome,
    RouteRequest,
    RoutingDecision,
    Verdict,
    VerdictKind,
)
from omnibridge.routing.recording import RoutedLine, record_decision, whole_lines
from omnibridge.routing.router import route
from omnibridge.routing.rules import RoutingRules
from omnibridge.sdk.channel import OrderEvent
from omnibridge.store import Store
from omnibridge.store import orders as orders_repo
from omnibridge.store import routing_records as records
from omnibridge.store.engine import read_session
from omnibridge.store.fulfilment_tasks import ASSIGN, SUBMIT
from omnibridge.store.routing_records import Assignment, DecisionRecord
from omnibridge.store.unit_of_work import UnitOfWork
from omnibridge.sync.lines import ROUTING_SOURCE, LineBook, LineFact
from omnibridge.sync.orders import ship_to_address
from omnibridge.sync.outcome import ApplyOutcome

__all__ = ["Assignment", "RoutingError", "RoutingService", "ServiceRules"]

COLLECTED = frozenset({FulfilmentMethod.PICKUP_IN_STORE, FulfilmentMethod.CURBSIDE})
"""Methods where the customer comes to the store: never re-routed to shipping."""
PARKED_OUTCOMES = frozenset({RouteOutcome.UNROUTABLE.value, RouteOutcome.PARTIAL.value})

Router = Callable[[RouteRequest, Sequence[LocationState]], RoutingDecision]
"""The pure router with the merchant's rules bound (``functools.partial(route, rules=..., distance=...)``)."""


class PickupPlanner(Protocol):
    """Where a refused pickup goes (:class:`omnibridge.pickup.fallback.PickupFallbackPlanner`)."""

    def plan(
        self, uow: UnitOfWork, service: RoutingService, order: Order, rejected: Collection[str], trigger: str
    ) -> RoutingDecision | None: ...


class RoutingError(OmnibridgeError):
    """An order cannot be routed, accepted or rejected as asked (the message says what and what was expected)."""


@dataclass(frozen=True, slots=True)
class ServiceRules:
    """What the service itself needs from the profile's ``routing:`` section."""

    routed_channels: frozenset[str] | None = None
    """Channels whose new orders are routed (None: every channel given to the service's caller)."""
    max_reroutes: int = 3
    timezone: str = "UTC"
    """The merchant's time zone: a location's daily capacity counts the assignments of its local day."""

    def routes_channel(self, channel: str) -> bool:
        return self.routed_channels is None or channel in self.routed_channels


@dataclass(frozen=True, slots=True)
class _OrderView:
    """What routing reads of an order (a new one is not saved yet when it is routed)."""

    id: str
    channel: str
    external_id: str
    ship_to: Address | None
    fulfilment_method: FulfilmentMethod
    pickup_location_id: str | None
    prices: Mapping[str, Decimal | None]

    @classmethod
    def of(cls, order: Order) -> _OrderView:
        return cls(
            order.id,
            order.channel,
            order.external_id,
            order.ship_to,
            order.fulfilment_method,
            order.pickup_location_id,
            {line.line_id: line.unit_price.amount if line.unit_price else None for line in order.lines},
        )


@dataclass
class _Decided:
    """A decision taken under the locks, before it is reserved and recorded."""

    order_id: str
    channel: str
    order_ref: str
    decision: RoutingDecision
    lines: tuple[RoutedLine, ...]
    excluded: tuple[str, ...]
    reserved: dict[str, str]
    notes: list[str] = field(default_factory=list)


class _Placement:
    """A new order's decision: the applier commits its lines where :meth:`location_for` says, then records it."""

    def __init__(self, service: RoutingService, decided: _Decided) -> None:
        self.service = service
        self.decided = decided

    def location_for(self, line_id: str) -> str | None:
        return self.decided.reserved.get(line_id)

    def record(self, uow: UnitOfWork) -> None:
        decided = self.decided
        current = {record.id: record for record in uow.lines_of_order(decided.channel, decided.order_ref)}
        # a line whose routed commitment was refused after all was committed where the channel named it
        for line in decided.lines:
            record = current.get(line.line_id)
            where = decided.reserved.get(line.line_id)
            if where is not None and (record is None or record.location_id != where):
                del decided.reserved[line.line_id]
                decided.notes.append(f"line {line.line_ref}: {where} could not take its units; left where named")
        self.service._record(uow, decided, "placed", current=list(current.values()))


class RoutingService:
    """Routes orders and carries out what follows (see the module docstring).

    ``locations``: every location of the profile (the router sees them all and explains each). ``router``: the
    pure router with the rules bound. ``providers``: location id -> the channel that hands orders to it (a 3PL
    connector or a supplier's file feed), for ``submit`` tasks.
    """

    def __init__(
        self,
        store: Store,
        locations: Sequence[Location],
        router: Router,
        *,
        rules: ServiceRules | None = None,
        providers: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.locations = tuple(locations)
        self.router = router
        self.rules = rules or ServiceRules()
        self.providers = dict(providers or {})
        self._types = {location.id: location.type for location in self.locations}
        self._zone = ZoneInfo(self.rules.timezone)
        self.pickup_planner: PickupPlanner | None = None
        """The pickup fallback (:meth:`pickup_fallback`); ``service_for_profile`` sets it."""

    @classmethod
    def from_rules(
        cls,
        store: Store,
        locations: Sequence[Location],
        rules: RoutingRules,
        *,
        providers: Mapping[str, str] | None = None,
        distance: DistanceSource | None = None,
    ) -> RoutingService:
        """The service for the merchant's ``rules`` (the router is :func:`omnibridge.routing.route` with them)."""
        router: Router = partial(route, rules=rules, distance=distance)
        service_rules = ServiceRules(
            routed_channels=rules.channels if rules.enabled else frozenset(),
            max_reroutes=rules.max_reroutes,
            timezone=rules.timezone,
        )
        return cls(store, locations, router, rules=service_rules, providers=providers)

    # -- the public API ---------------------------------------------------------------------------------

    def route_order(
        self, uow: UnitOfWork, order_id: str, *, trigger: str = "placed", exclude: Collection[str] = ()
    ) -> RoutingDecision:
        """Decide, reserve, record and enqueue, in the caller's unit of work, for the order's open lines that no
        live assignment holds (all of them the first time; the rejected ones on a re-route). Raises
        :class:`RoutingError` when the order is unknown or has nothing left to route."""
        order = self._order(uow, order_id)
        lines = self._unassigned(uow, order)
        if not lines:
            raise RoutingError(
                f"order {order.id} has no open line to route: every open line is assigned "
                f"(see `omnibridge explain order {order.id}`)"
            )
        decided = self._decide(uow, _OrderView.of(order), lines, exclude, lock=True)
        book = LineBook(uow, ApplyOutcome())
        for line in decided.lines:
            where = decided.reserved.get(line.line_id)
            if where is None:
                continue
            record = uow.line(line.line_id)
            if record is None or record.location_id == where:
                continue
            try:
                with uow.savepoint():
                    book.move(record, where, source=ROUTING_SOURCE)
            except InsufficientStockError as exc:
                del decided.reserved[line.line_id]
                decided.notes.append(f"line {line.line_ref}: not moved to {where}: {exc}")
        self._record(uow, decided, trigger)
        return decided.decision

    def preview(self, order_id: str, *, exclude: Collection[str] = ()) -> RoutingDecision:
        """What :meth:`route_order` would decide now, for ``orders route --dry-run``: nothing is locked or
        written. An order whose lines are all assigned is previewed whole (as if routed again)."""
        with self._reading() as uow:
            order = self._order(uow, order_id)
            lines = self._unassigned(uow, order) or self._open_lines(uow, order)
            if not lines:
                raise RoutingError(f"order {order.id} has no open line (every unit shipped or was cancelled)")
            return self._decide(uow, _OrderView.of(order), lines, exclude, lock=False).decision

    def accept(self, order_id: str, location_id: str, *, actor: Actor | None = None) -> Assignment:
        """Staff at ``location_id`` take the order's assignment there (idempotent: an accepted one is returned
        as it is). Raises :class:`RoutingError` when the order has no assignment open there. ``actor``: the
        person or token acting, written to the audit log in the same transaction."""
        with self.store.unit_of_work() as uow:
            order = self._order(uow, order_id)
            assignment = self._open_assignment(uow, order.id, location_id, allow=(records.ACCEPTED,))
            if assignment.status == records.ACCEPTED:
                return assignment
            now = uow.now()
            records.set_status(uow.session, assignment.id, records.ACCEPTED, now)
            if actor is not None:
                audit.record(
                    uow,
                    actor,
                    "order.accept",
                    order.id,
                    {"assignment": assignment.id, "status": assignment.status},
                    {"assignment": assignment.id, "status": records.ACCEPTED},
                )
        return replace(assignment, status=records.ACCEPTED, updated_at=now)

    def reject(self, order_id: str, location_id: str, reason: str, *, actor: Actor | None = None) -> RoutingDecision:
        """``location_id`` refuses the order's assignment there: re-route its lines excluding every location
        that rejected the order, moving their reservation atomically; park the order instead when it was
        re-routed ``max_reroutes`` times already or the customer collects it. Returns the new decision.
        ``actor``: the person or token acting, written to the audit log in the same transaction."""
        reason = " ".join(reason.split()) or "no reason given"
        with self.store.unit_of_work() as uow:
            decision = self._reject(uow, order_id, location_id, reason)
            if actor is not None:
                after = {"outcome": decision.outcome.value, "locations": list(decision.locations)}
                audit.record(
                    uow, actor, "order.reject", decision.order_id, {"location": location_id, "reason": reason}, after
                )
            return decision

    def _reject(self, uow: UnitOfWork, order_id: str, location_id: str, reason: str) -> RoutingDecision:
        order = self._order(uow, order_id)
        assignment = self._open_assignment(uow, order.id, location_id)
        now = uow.now()
        records.set_status(uow.session, assignment.id, records.REJECTED, now, reason=reason)
        records.cancel_pending_tasks(uow.session, order.id, (f"{SUBMIT}:{assignment.id}",), (), now)
        rejected = {a.location_id for a in records.assignments(uow.session, order.id) if a.status == "rejected"}
        trigger = f"rejected at {location_id}: {reason}"
        if order.fulfilment_method in COLLECTED:
            fallback = self.pickup_fallback(uow, order, rejected, trigger)
            if fallback is not None:
                return fallback
            return self._park(
                uow,
                order,
                trigger,
                f"a {order.fulfilment_method.value} order is never re-routed to shipping; "
                "it waits for an operator (or the pickup fallback)",
            )
        reroutes = records.next_attempt(uow.session, order.id) - 2
        if reroutes >= self.rules.max_reroutes:
            return self._park(uow, order, trigger, f"re-routed {reroutes} times already (routing.max_reroutes): parked")
        return self.route_order(uow, order.id, trigger=trigger, exclude=rejected)

    def mark_shipped(self, uow: UnitOfWork, order_id: str, location_id: str) -> None:
        """The order's units left ``location_id``: its open assignment there is ``shipped`` (no assignment
        there, e.g. an order that was never routed: nothing changes)."""
        for assignment in records.assignments(uow.session, order_id, lock=True):
            if assignment.location_id == location_id and assignment.status in _OPEN:
                records.set_status(uow.session, assignment.id, records.SHIPPED, uow.now())

    def order_cancelled(self, uow: UnitOfWork, order_id: str) -> None:
        """The channel cancelled the order: its open assignments are ``cancelled`` and its pending tasks too (a
        provider that already has it is told by the dispatcher)."""
        now = uow.now()
        for assignment in records.assignments(uow.session, order_id, lock=True):
            if assignment.status in _OPEN:
                records.set_status(uow.session, assignment.id, records.CANCELLED, now, reason="order cancelled")
        records.cancel_pending_tasks(uow.session, order_id, (), (ASSIGN, SUBMIT), now, why="order cancelled")

    def order_shipped(self, uow: UnitOfWork, order_id: str, location_id: str) -> None:
        """The channel reported units leaving ``location_id``: each open assignment whose lines have no open
        units left is ``shipped`` (there) or ``cancelled`` (elsewhere: the units left from ``location_id``)."""
        order = orders_repo.get_order(uow.session, order_id)
        if order is None:
            return
        lines = {r.id: r for r in uow.lines_of_order(order.channel, order.external_id)}
        for assignment in records.assignments(uow.session, order_id, lock=True):
            if assignment.status not in _OPEN:
                continue
            if all(lines[a.line_id].open_quantity == 0 for a in assignment.lines if a.line_id in lines):
                if assignment.location_id == location_id:
                    records.set_status(uow.session, assignment.id, records.SHIPPED, uow.now())
                else:
                    reason = f"shipped from {location_id}"
                    records.set_status(uow.session, assignment.id, records.CANCELLED, uow.now(), reason=reason)

    def mark_submitted(self, uow: UnitOfWork, assignment_id: str, order_id: str) -> None:
        """The dispatcher handed assignment ``assignment_id`` to its supplier or 3PL."""
        for assignment in records.assignments(uow.session, order_id, lock=True):
            if assignment.id == assignment_id and assignment.status == records.ASSIGNED:
                records.set_status(uow.session, assignment.id, records.SUBMITTED, uow.now())

    def pickup_fallback(
        self, uow: UnitOfWork, order: Order, rejected: Collection[str], trigger: str
    ) -> RoutingDecision | None:
        """A pickup or curbside order refused at its store moves to the next store with stock and a window, ships
        (only under ``pickup.ship_if_unavailable``) or is parked: :class:`omnibridge.pickup.fallback.
        PickupFallbackPlanner` (``pickup_planner``). None (no planner): the caller parks the order."""
        if self.pickup_planner is None:
            return None
        return self.pickup_planner.plan(uow, self, order, rejected, trigger)

    def record_pickup_move(
        self, uow: UnitOfWork, order: Order, lines: Sequence[OrderLineRecord], location_id: str, trigger: str
    ) -> RoutingDecision:
        """Record that the pickup fallback moved ``lines`` (already committed there) to store ``location_id``."""
        reason = f"pickup fallback: the next store with the units and a free window ({trigger})"
        decision = RoutingDecision(
            order_id=order.id,
            outcome=RouteOutcome.ROUTED,
            allocations=tuple(Allocation(line.id, line.sku, location_id, line.open_quantity) for line in lines),
            verdicts=(Verdict(location_id, VerdictKind.CHOSEN, "pickup_fallback", reason, rank=1),),
            strategy="pickup_fallback",
            reason=reason,
        )
        routed = tuple(RoutedLine(r.id, r.line_ref, r.sku, r.open_quantity, r.location_id, r.committed) for r in lines)
        reserved = {line.id: location_id for line in lines}
        decided = _Decided(order.id, order.channel, order.external_id, decision, routed, (), reserved)
        self._record(uow, decided, trigger)
        return decision

    def ship_held(
        self, uow: UnitOfWork, order: Order, lines: Sequence[OrderLineRecord], trigger: str
    ) -> RoutingDecision:
        """The pickup policy ships instead (``pickup.ship_if_unavailable``): route the held ``lines`` as a
        shipment by the normal rules and commit them where it ships from (strict), in ``uow``."""
        shipped = order.model_copy(update={"fulfilment_method": FulfilmentMethod.SHIP, "pickup_location_id": None})
        routed = [RoutedLine(r.id, r.line_ref, r.sku, r.open_quantity, r.location_id, 0) for r in lines]
        decided = self._decide(uow, _OrderView.of(shipped), routed, (), lock=True)
        book = LineBook(uow, ApplyOutcome())
        for line in lines:
            where = decided.reserved.get(line.id)
            if where is None:
                continue
            try:
                with uow.savepoint():
                    book.recommit(line, where)
            except InsufficientStockError as exc:
                del decided.reserved[line.id]
                decided.notes.append(f"line {line.line_ref}: not committed at {where}: {exc}")
        uow.save_order(shipped.model_copy(update={"status": OrderStatus.ACCEPTED}))
        self._record(uow, decided, f"{trigger}; shipped instead (pickup.ship_if_unavailable)")
        return decided.decision

    def park_held(
        self, uow: UnitOfWork, order: Order, lines: Sequence[OrderLineRecord], trigger: str, reason: str
    ) -> RoutingDecision:
        """Park the order's held ``lines`` for an operator: an ``unroutable`` decision saying ``reason``."""
        decision = RoutingDecision(
            order_id=order.id,
            outcome=RouteOutcome.UNROUTABLE,
            allocations=(),
            verdicts=(),
            strategy="pickup_fallback",
            reason=reason,
            unallocated={line.id: line.open_quantity for line in lines},
        )
        routed = tuple(RoutedLine(r.id, r.line_ref, r.sku, r.open_quantity, r.location_id, 0) for r in lines)
        self._record(uow, _Decided(order.id, order.channel, order.external_id, decision, routed, (), {}), trigger)
        return decision

    # -- reading what happened --------------------------------------------------------------------------

    def decisions(self, order_id: str) -> list[DecisionRecord]:
        """The order's recorded decisions, first attempt first."""
        with self._reading() as uow:
            return records.decisions(uow.session, order_id)

    def assignments(self, order_id: str) -> list[Assignment]:
        """The order's assignments, first attempt first."""
        with self._reading() as uow:
            return records.assignments(uow.session, order_id)

    def tasks(self, order_id: str) -> list[dict[str, Any]]:
        """The order's fulfilment tasks (id, kind, channel, status, payload), oldest first."""
        with self._reading() as uow:
            return records.tasks_of_order(uow.session, order_id)

    def parked(self) -> list[DecisionRecord]:
        """Orders waiting for an operator: their latest decision left units without a location (unroutable or
        partial), newest first."""
        with self._reading() as uow:
            return records.latest_decisions(uow.session, PARKED_OUTCOMES)

    # -- the seam the event applier uses (omnibridge.sync.placement.OrderPlacer) ---------------------------

    def plan_placement(
        self,
        uow: UnitOfWork,
        channel: str,
        event: OrderEvent,
        facts: Sequence[LineFact],
        existing: Order | None,
        *,
        pickup: tuple[FulfilmentMethod, str | None] | None = None,
    ) -> _Placement | None:
        """Decide a new order of a routed channel before its lines are recorded (see
        :class:`~omnibridge.sync.placement.OrderPlacer`)."""
        if not self.rules.routes_channel(channel) or uow.lines_of_order(channel, event.ref):
            return None
        prices = {line.line_ref: _decimal(line.unit_price) for line in event.lines}
        if pickup is None:
            pickup = (existing.fulfilment_method, existing.pickup_location_id) if existing else None
        order = _OrderView(
            id=existing.id if existing else f"{channel}:{event.ref}",
            channel=channel,
            external_id=event.ref,
            ship_to=ship_to_address(event.ship_to) or (existing.ship_to if existing else None),
            fulfilment_method=pickup[0] if pickup else FulfilmentMethod.SHIP,
            pickup_location_id=pickup[1] if pickup else None,
            prices=prices,
        )
        lines = [RoutedLine(f.line_id, f.line_ref, f.sku, f.quantity) for f in facts]
        named = {(fact.sku, fact.location_id) for fact in facts}
        return _Placement(self, self._decide(uow, order, lines, (), lock=True, also=named))

    # -- internals ----------------------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[UnitOfWork]:
        """A read-only view of the store shaped as a unit of work (nothing it does is ever committed)."""
        with read_session(self.store.engine) as session:
            yield UnitOfWork(session, self.store.now)

    def _decide(
        self,
        uow: UnitOfWork,
        order: _OrderView,
        lines: Sequence[RoutedLine],
        exclude: Collection[str],
        *,
        lock: bool,
        also: Collection[tuple[str, str]] = (),
    ) -> _Decided:
        excluded = frozenset(exclude)
        skus = sorted({line.sku for line in lines})
        candidates = [loc.id for loc in self.locations if loc.active and loc.id not in excluded]
        own: dict[tuple[str, str], int] = {}
        for line in lines:
            if line.location_id is not None and line.committed:
                key = (line.sku, line.location_id)
                own[key] = own.get(key, 0) + line.committed
        wanted = {(sku, loc) for sku in skus for loc in candidates}
        # preview: a plain read; a decision: every position it reads or touches locked first, in one sorted pass
        held = uow.lock_and_read(wanted | set(also) | set(own)) if lock else uow.read_positions(wanted)
        now = uow.now()
        counts = records.assigned_since(uow.session, candidates, self._day_start(now))
        states = []
        for location in self.locations:
            available: dict[str, int] = {}
            if location.id in candidates:
                for sku in skus:
                    position = held.get((sku, location.id))
                    units = (position.available if position else 0) + own.get((sku, location.id), 0)
                    available[sku] = max(0, units)
            states.append(LocationState(location, available, counts.get(location.id, 0)))
        request = RouteRequest(
            order_id=order.id,
            channel=order.channel,
            lines=tuple(
                RouteLine(line.line_id, line.sku, line.quantity, order.prices.get(line.line_ref)) for line in lines
            ),
            destination=order.ship_to,
            now=now,
            method=order.fulfilment_method,
            excluded=excluded,
            pinned=order.pickup_location_id if order.fulfilment_method in COLLECTED else None,
        )
        decision = self.router(request, states)
        reserved = whole_lines(decision, lines)
        notes = [
            f"line {line.line_ref}: split or allocated in part by the router; a line ships whole from one "
            "location, so it stays where it is committed"
            for line in lines
            if line.line_id not in reserved and any(a.line_id == line.line_id for a in decision.allocations)
        ]
        return _Decided(
            order.id, order.channel, order.external_id, decision, tuple(lines), tuple(sorted(excluded)), reserved, notes
        )

    def _record(
        self, uow: UnitOfWork, decided: _Decided, trigger: str, *, current: Sequence[OrderLineRecord] | None = None
    ) -> int:
        return record_decision(
            uow,
            order_id=decided.order_id,
            channel=decided.channel,
            order_ref=decided.order_ref,
            decision=decided.decision,
            lines=decided.lines,
            excluded=decided.excluded,
            reserved=decided.reserved,
            trigger=trigger,
            location_types=self._types,
            providers=self.providers,
            notes=decided.notes,
            current=current,
        )

    def _park(self, uow: UnitOfWork, order: Order, trigger: str, reason: str) -> RoutingDecision:
        lines = self._unassigned(uow, order)
        decision = RoutingDecision(
            order_id=order.id,
            outcome=RouteOutcome.UNROUTABLE,
            allocations=(),
            verdicts=(),
            strategy="service",
            reason=reason,
            unallocated={line.line_id: line.quantity for line in lines},
        )
        decided = _Decided(order.id, order.channel, order.external_id, decision, tuple(lines), (), {})
        self._record(uow, decided, trigger)
        return decision

    def _order(self, uow: UnitOfWork, order_id: str) -> Order:
        order = orders_repo.get_order(uow.session, order_id)
        if order is None:
            raise RoutingError(f"no order {order_id!r} (see `omnibridge orders list`)")
        return order

    def _open_lines(self, uow: UnitOfWork, order: Order) -> list[RoutedLine]:
        return [
            RoutedLine(r.id, r.line_ref, r.sku, r.open_quantity, r.location_id, r.committed)
            for r in uow.lines_of_order(order.channel, order.external_id)
            if r.status is LineStatus.OPEN and r.open_quantity > 0
        ]

    def _unassigned(self, uow: UnitOfWork, order: Order) -> list[RoutedLine]:
        held = {
            line.line_id for a in records.assignments(uow.session, order.id, lock=True) if a.live for line in a.lines
        }
        return [line for line in self._open_lines(uow, order) if line.line_id not in held]

    def _open_assignment(
        self, uow: UnitOfWork, order_id: str, location_id: str, *, allow: Collection[str] = ()
    ) -> Assignment:
        found = [
            a
            for a in records.assignments(uow.session, order_id, lock=True)
            if a.location_id == location_id and (a.status in _OPEN or a.status in allow)
        ]
        if not found:
            raise RoutingError(
                f"order {order_id} has no open assignment at {location_id!r} "
                f"(see `omnibridge explain order {order_id}` for where it is assigned)"
            )
        return found[-1]

    def _day_start(self, now: datetime) -> datetime:
        """The start of ``now``'s day in the merchant's time zone."""
        return now.astimezone(self._zone).replace(hour=0, minute=0, second=0, microsecond=0)


_OPEN = frozenset({records.ASSIGNED, records.ACCEPTED, records.SUBMITTED})


def _decimal(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None
