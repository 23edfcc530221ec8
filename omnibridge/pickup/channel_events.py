"""A channel's :class:`~omnibridge.sdk.pickup.PickupEvent`, applied by the engine (:mod:`omnibridge.sync.apply`).

The event names the channel's order; the change applies to that order's latest pickup, through the same
transitions as staff actions (:mod:`omnibridge.pickup.lifecycle`) but writes no task back: the channel knows.

* ``arrived``: the curbside customer is outside (a ``pickup.customer_waiting`` warning in the log);
* ``ready``, ``collected``, ``cancelled``: as staff would; ``expired`` is treated as ``cancelled``, ``rejected``
  (Amazon ``RefusedPickup``) as a cancellation too: the customer refused it, there is nothing to fall back to;
* ``reserved`` changes nothing (booking happens when the order is recorded).

An order the channel completes or cancels (an :class:`~omnibridge.sdk.channel.OrderEvent`) takes its open pickup
along (:func:`follow_order`).

Idempotent by construction: a repeated event, or the echo of omnibridge's own update, finds the pickup in that
state already and changes nothing; an event the pickup has moved past (a late ``ready`` after ``collected``) is
counted as a duplicate with a message, never an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from omnibridge.pickup import records
from omnibridge.pickup.lifecycle import PickupConflict, change
from omnibridge.pickup.settings import PickupSettings
from omnibridge.sdk.channel import OrderEvent, OrderEventKind
from omnibridge.sdk.pickup import PickupEvent, PickupState
from omnibridge.store.unit_of_work import UnitOfWork
from omnibridge.sync.outcome import ApplyOutcome

if TYPE_CHECKING:
    from omnibridge.sync.runtime import ChannelRuntime

_TARGET = {
    PickupState.READY: PickupState.READY,
    PickupState.ARRIVED: PickupState.ARRIVED,
    PickupState.COLLECTED: PickupState.COLLECTED,
    PickupState.CANCELLED: PickupState.CANCELLED,
    PickupState.EXPIRED: PickupState.CANCELLED,
    PickupState.REJECTED: PickupState.CANCELLED,
}


def apply_pickup_event(
    uow: UnitOfWork, channel: ChannelRuntime, event: PickupEvent, outcome: ApplyOutcome, settings: PickupSettings
) -> None:
    """Apply ``event`` to its order's latest pickup in ``uow`` (see the module docstring)."""
    target = _TARGET.get(event.state)
    if target is None:
        return
    pickups = records.of_order(uow.session, f"{channel.id}:{event.order_ref}")
    if not pickups:
        outcome.messages.append(f"{channel.id}: pickup event {event.ref}: order {event.order_ref} has no pickup")
        return
    try:
        with uow.savepoint():
            done = change(uow, pickups[-1].id, target, settings, reason=event.reason, tell=False, outcome=outcome)
    except PickupConflict as exc:
        outcome.duplicates += 1
        outcome.messages.append(f"{channel.id}: pickup event {event.ref}: {exc}; left as it is")
        return
    if not done.changed:
        outcome.duplicates += 1


def follow_order(uow: UnitOfWork, channel: ChannelRuntime, event: OrderEvent, settings: PickupSettings) -> None:
    """The channel completed or cancelled a pickup order (its lines already follow): its open pickup becomes
    ``collected`` or ``cancelled`` too, without a task back, so the expiry never releases it later."""
    target = {OrderEventKind.COMPLETED: PickupState.COLLECTED, OrderEventKind.CANCELLED: PickupState.CANCELLED}.get(
        event.kind
    )
    if target is None:
        return
    for pickup in records.of_order(uow.session, f"{channel.id}:{event.ref}"):
        if PickupState(pickup.status) in records.OPEN_STATES:
            change(uow, pickup.id, target, settings, reason=f"{event.kind.value} on {channel.id}", tell=False)
