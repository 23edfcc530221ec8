"""Booking a pickup: the order's units held at one store for a window, until the hold expires.

The hold itself is the lines' commitment at the store, which routing made when the order was recorded (a pickup
or curbside order is pinned to its store, :mod:`omnibridge.routing.service`); booking records the window, the
expiry and the lines held (:class:`~omnibridge.store.tables.PickupRow`) in the same unit of work, and tells the
channel (a ``pickup`` task in state ``reserved``: Square ``pickup_at`` and ``expires_at``).

``expires_at`` is the window's end plus ``pickup.hold_hours``, or the channel's own ``expires_at`` when that is
earlier. A channel order with a ``pickup_at`` books that window (its length: the channel's, else the store's);
otherwise the pickup decision's first window with a free place at the pinned store, counted in this unit of work
(:func:`omnibridge.pickup.slot.first_free_window`). A store with no such window within the horizon books
nothing: the order waits for a person (an incident), and is never shipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from omnibridge.models import Order, OrderLineRecord
from omnibridge.pickup import records
from omnibridge.pickup.notify import tell_channel
from omnibridge.pickup.settings import PickupSettings
from omnibridge.pickup.slot import first_free_window, no_window_incident
from omnibridge.sdk.channel import OrderEvent
from omnibridge.sdk.pickup import PickupState
from omnibridge.store.locations import get_location
from omnibridge.store.tables import PickupRow
from omnibridge.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from omnibridge.sync.runtime import ChannelRuntime

__all__ = ["book_pickup", "book_placed"]


def book_pickup(
    uow: UnitOfWork,
    order: Order,
    location_id: str,
    window_start: datetime,
    window_end: datetime,
    *,
    curbside: bool,
    lines: Sequence[OrderLineRecord],
    settings: PickupSettings,
    channel_expires_at: datetime | None = None,
) -> PickupRow:
    """Record a pickup of ``order``'s ``lines`` at ``location_id`` for the window, as a new attempt
    (``<order id>#<attempt>``), in ``uow``; its hold expires ``hold_hours`` after the window ends (or at
    ``channel_expires_at``, when earlier). The channel is told (``reserved``) through a ``pickup`` task."""
    if window_end <= window_start:
        raise ValueError(f"a pickup window ends after it starts (got {window_start} to {window_end})")
    attempt = len(records.of_order(uow.session, order.id)) + 1
    expires_at = window_end + settings.hold
    if channel_expires_at is not None:
        expires_at = min(expires_at, channel_expires_at)
    now = uow.now()
    pickup = PickupRow(
        id=f"{order.id}#{attempt}",
        order_id=order.id,
        channel=order.channel,
        attempt=attempt,
        location_id=location_id,
        window_start=window_start,
        window_end=window_end,
        curbside=curbside,
        status=PickupState.RESERVED.value,
        expires_at=expires_at,
        lines=[
            {"line_id": line.id, "line_ref": line.line_ref, "sku": line.sku, "quantity": line.open_quantity}
            for line in lines
        ],
        version=1,
        created_at=now,
        updated_at=now,
    )
    records.insert(uow.session, pickup)
    tell_channel(uow, pickup, order.external_id, PickupState.RESERVED, settings)
    return pickup


def book_placed(
    uow: UnitOfWork, channel: ChannelRuntime, event: OrderEvent, order: Order, settings: PickupSettings
) -> PickupRow | None:
    """Book the pickup of a channel order just placed with ``event.pickup`` (None: not a pickup, booked already,
    or nothing held at the store)."""
    details = event.pickup
    location_id = order.pickup_location_id
    if details is None or location_id is None or records.of_order(uow.session, order.id):
        return None
    lines = [
        line
        for line in uow.lines_of_order(channel.id, event.ref)
        if line.location_id == location_id and line.open_quantity > 0
    ]
    if not lines:
        return None
    if details.pickup_at is not None:
        length = timedelta(minutes=details.window_minutes) if details.window_minutes else settings.window(location_id)
        start, end = details.pickup_at, details.pickup_at + length
    else:
        location = get_location(uow.session, location_id)
        window = None if location is None else first_free_window(uow, location, settings)
        if window is None:
            uow.add_incident(no_window_incident(order.id, order.channel, location_id, settings))
            return None
        start, end = window.start, window.end
    return book_pickup(
        uow,
        order,
        location_id,
        start,
        end,
        curbside=details.curbside,
        lines=lines,
        settings=settings,
        channel_expires_at=details.expires_at,
    )
