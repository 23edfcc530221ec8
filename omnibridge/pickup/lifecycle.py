"""A pickup's transitions, each one unit of work: the pickup locked, its state checked, the ledger moved, the
channel told, all together (so each happens once, however often it is asked for or whoever asks).

==========  =======================  =========================================================================
to          from                     effect on the lines held (:class:`~omnibridge.sync.lines.LineBook`)
==========  =======================  =========================================================================
ready       reserved                 none
arrived     reserved, ready          none (the customer is at the kerb: logged as a notice)
collected   reserved, ready,         every open unit left the store: the commitment is fulfilled there
            arrived                  (``completed``), the order's assignment there is shipped
expired     reserved, ready,         the hold is released (``expired``: ``<line>:v<version>:expire``), the open
            arrived                  units cancelled; an incident (kind ``pickup``) says so
cancelled   reserved, ready,         the hold is released (``<line>:v<version>:cancel``), the units cancelled
            arrived
rejected    reserved, ready,         the hold is released and the lines put on hold (``hold``): the pickup
            arrived                  fallback, or an operator, decides what happens next; never shipped
==========  =======================  =========================================================================

Asking for the state a pickup is in already changes nothing (``changed`` False); any other transition not in the
table is refused with :class:`PickupConflict`, naming the current state.
"""

from __future__ import annotations

from dataclasses import dataclass

from omnibridge.errors import OmnibridgeError
from omnibridge.logs import get_logger
from omnibridge.models import LineStatus, Order, OrderLineRecord, OrderStatus
from omnibridge.pickup import records
from omnibridge.pickup.notify import tell_channel
from omnibridge.pickup.settings import PickupSettings
from omnibridge.sdk.pickup import PickupState
from omnibridge.store import Incident, routing_records
from omnibridge.store import orders as orders_repo
from omnibridge.store.tables import PickupRow
from omnibridge.store.unit_of_work import UnitOfWork
from omnibridge.sync.lines import PICKUP_SOURCE, LineBook, LineFact
from omnibridge.sync.orders import refresh_fulfilment
from omnibridge.sync.outcome import ApplyOutcome

__all__ = ["ALLOWED", "Change", "PickupConflict", "PickupError", "PickupNotFound", "change"]

_HELD = frozenset({PickupState.RESERVED, PickupState.READY, PickupState.ARRIVED})
ALLOWED: dict[PickupState, frozenset[PickupState]] = {
    PickupState.READY: frozenset({PickupState.RESERVED}),
    PickupState.ARRIVED: frozenset({PickupState.RESERVED, PickupState.READY}),
    PickupState.COLLECTED: _HELD,
    PickupState.EXPIRED: _HELD,
    PickupState.CANCELLED: _HELD,
    PickupState.REJECTED: _HELD,
}
"""For each state a pickup can be moved to, the states it can be moved from."""
_RELEASED = frozenset({PickupState.EXPIRED, PickupState.CANCELLED, PickupState.REJECTED})


class PickupError(OmnibridgeError):
    """A pickup action cannot be carried out (the message says what and what was expected)."""


class PickupNotFound(PickupError):
    """No pickup has the id asked for."""


class PickupConflict(PickupError):
    """The pickup is not in a state the action can start from."""


@dataclass(frozen=True)
class Change:
    """What a transition did: the pickup after it, the state before, whether anything changed, and how many
    units the ledger moved (released or collected)."""

    pickup: PickupRow
    before: PickupState
    changed: bool
    units: int = 0


def log_name() -> str:
    return "omnibridge.pickup"


def change(
    uow: UnitOfWork,
    pickup_id: str,
    target: PickupState,
    settings: PickupSettings,
    *,
    reason: str = "",
    tell: bool = True,
    outcome: ApplyOutcome | None = None,
) -> Change:
    """Move pickup ``pickup_id`` to ``target`` in ``uow`` (see the module docstring). ``tell``: write the
    ``pickup`` task for its channel (False when the channel itself reported the change). Raises
    :class:`PickupNotFound` or :class:`PickupConflict` (nothing changed)."""
    pickup = records.lock(uow.session, pickup_id)
    if pickup is None:
        raise PickupNotFound(f"no pickup {pickup_id!r}: expected an id as 'omnibridge pickups list' shows it")
    before = PickupState(pickup.status)
    if before is target:
        return Change(pickup, before, changed=False)
    if before not in ALLOWED[target]:
        allowed = " or ".join(state.value for state in sorted(ALLOWED[target]))
        raise PickupConflict(
            f"pickup {pickup.id} is {before.value}: it cannot become {target.value} (expected it {allowed})"
        )
    outcome = outcome if outcome is not None else ApplyOutcome()
    units = _move_stock(uow, pickup, target, outcome)
    order = orders_repo.get_order(uow.session, pickup.order_id)
    after = records.update(uow.session, pickup, uow.now(), status=target.value, reason=reason or pickup.reason)
    if order is not None:
        _follow_order(uow, order, after, target)
    if units and target in _RELEASED:
        uow.mark_work(settings.sales_channels, {str(line["sku"]) for line in pickup.lines})
    if target is PickupState.EXPIRED:
        uow.add_incident(_expired_incident(after, units))
    if target is PickupState.ARRIVED:
        get_logger(log_name()).warning(
            "pickup.customer_waiting", pickup=after.id, location=after.location_id, order=after.order_id
        )
    if tell and order is not None:
        tell_channel(uow, after, order.external_id, target, settings)
    return Change(after, before, changed=True, units=units)


def _move_stock(uow: UnitOfWork, pickup: PickupRow, target: PickupState, outcome: ApplyOutcome) -> int:
    if target not in _RELEASED and target is not PickupState.COLLECTED:
        return 0
    ids = [str(line["line_id"]) for line in pickup.lines]
    peeked = [line for line in (uow.peek_line(line_id) for line_id in ids) if line is not None]
    uow.lock_positions({(line.sku, line.location_id) for line in peeked if line.location_id is not None})
    book = LineBook(uow, outcome)
    units = 0
    for line_id in ids:
        line = uow.line(line_id)
        if line is None or line.status not in (LineStatus.OPEN, LineStatus.ON_HOLD):
            continue
        if target is PickupState.COLLECTED:
            units += line.open_quantity
            book.completed(_fact(line, pickup.location_id, uow))
        elif target is PickupState.REJECTED:
            units += line.committed
            book.hold(line, source=PICKUP_SOURCE)
        else:
            units += line.committed
            book.expired(line, action="expire" if target is PickupState.EXPIRED else "cancel")
    return units


def _fact(line: OrderLineRecord, location_id: str, uow: UnitOfWork) -> LineFact:
    where = line.location_id or location_id
    return LineFact(line.channel, line.order_ref, line.line_ref, line.sku, line.quantity, where, uow.now())


def _follow_order(uow: UnitOfWork, order: Order, pickup: PickupRow, target: PickupState) -> None:
    """Bring the order's record and its assignment at the store in line with the pickup."""
    if target is PickupState.COLLECTED:
        refresh_fulfilment(uow, order.channel, order.external_id)
        for assignment in routing_records.assignments(uow.session, order.id, lock=True):
            if assignment.location_id == pickup.location_id and assignment.status in _OPEN_ASSIGNMENT:
                routing_records.set_status(uow.session, assignment.id, routing_records.SHIPPED, uow.now())
        return
    if target not in _RELEASED:
        return
    refresh_fulfilment(uow, order.channel, order.external_id)
    status = OrderStatus.ON_HOLD if target is PickupState.REJECTED else OrderStatus.CANCELLED
    current = orders_repo.get_order(uow.session, order.id) or order
    uow.save_order(current.model_copy(update={"status": status}))
    for assignment in routing_records.assignments(uow.session, order.id, lock=True):
        if assignment.location_id == pickup.location_id and assignment.status in _OPEN_ASSIGNMENT:
            new = routing_records.REJECTED if target is PickupState.REJECTED else routing_records.CANCELLED
            routing_records.set_status(uow.session, assignment.id, new, uow.now(), reason=pickup.reason or target)


_OPEN_ASSIGNMENT = frozenset({routing_records.ASSIGNED, routing_records.ACCEPTED, routing_records.SUBMITTED})


def _expired_incident(pickup: PickupRow, units: int) -> Incident:
    return Incident(
        kind="pickup",
        decision="expired",
        summary=(
            f"pickup {pickup.id} at {pickup.location_id} was not collected by {pickup.expires_at.isoformat()}: "
            f"{units} held unit(s) released"
        ),
        dedupe_key=f"pickup:{pickup.id}:expired",
        channel=pickup.channel,
        location_id=pickup.location_id,
        order_id=pickup.order_id,
        data={"pickup": pickup.id, "units": units, "expires_at": pickup.expires_at.isoformat()},
    )
