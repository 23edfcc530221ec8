"""The window a pickup is booked in: the pickup decision's first window with a free place at one store, counted
inside the booking's unit of work.

Two bookings at one store must not both take a window's last place. On PostgreSQL the store's ``locations`` row
is locked (``SELECT ... FOR UPDATE``) before the live pickups are counted, so a second booking at that store
waits and then counts the first one; on SQLite the write transaction (``BEGIN IMMEDIATE``) already serialises
writers. Callers lock positions before they book (routing does), so the lock order is always positions, then the
store.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from omnibridge.models import Location
from omnibridge.pickup.capacity import booked
from omnibridge.pickup.settings import PickupSettings
from omnibridge.pickup.windows import Window, windows
from omnibridge.store import Incident
from omnibridge.store.tables import LOCATIONS
from omnibridge.store.unit_of_work import UnitOfWork

__all__ = ["first_free_window", "no_window_incident"]


def first_free_window(uow: UnitOfWork, location: Location, settings: PickupSettings) -> Window | None:
    """The first window of ``location`` that starts at or after now + its prep time, within the horizon, with a
    place left (its ``capacity_per_window`` minus the live pickups booked there); None: no such window. A store
    with no ``pickup_hours`` at all has no windows to count: its window starts now + prep time."""
    own = settings.rules.store(location.id)
    now = uow.now()
    if not any(hours != "closed" for hours in location.pickup_hours.values()):
        # no pickup hours configured (a channel pinned the order there anyway): one window from now + prep
        start = now + timedelta(minutes=own.prep_minutes)
        return Window(start, start + timedelta(minutes=own.window_minutes))
    uow.session.connection().execute(sa.select(LOCATIONS.c.id).where(LOCATIONS.c.id == location.id).with_for_update())
    until = now + timedelta(days=settings.rules.horizon_days + 2)
    taken = booked(uow.session, [location.id], now, until)
    for window in windows(
        location.pickup_hours, ZoneInfo(settings.zone(location.id)), window_minutes=own.window_minutes, now=now,
        prep_minutes=own.prep_minutes, horizon_days=settings.rules.horizon_days,
    ):  # fmt: skip
        if taken.get((location.id, window.start), 0) < own.capacity_per_window:
            return window
    return None


def no_window_incident(order_id: str, channel: str, location_id: str, settings: PickupSettings) -> Incident:
    """The incident for an order pinned at a store with no free window within the horizon (booked nowhere)."""
    days = settings.rules.horizon_days
    return Incident(
        kind="pickup",
        decision="no_window",
        summary=(
            f"order {order_id}: {location_id} has no pickup window with a free place within {days} day(s) "
            "(pickup.horizon_days); nothing booked, the order waits for a person (it is never shipped)"
        ),
        dedupe_key=f"pickup:{order_id}:no_window:{location_id}",
        channel=channel,
        location_id=location_id,
        order_id=order_id,
        data={"location": location_id, "horizon_days": days},
    )
