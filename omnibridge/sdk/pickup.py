"""The contract between omnibridge's pickup flow (click-and-collect, curbside) and the channels that sell it.

A pickup order is a routing outcome: its units are held at one store for a pickup window and released when the
hold expires uncollected. Channels take part in two directions:

* :class:`PickupEvent` (from ``pull_events``, ``webhook_events`` or a read-back): what happened to a pickup on the
  channel itself (staff marked it prepared at the till, the customer arrived at the kerb, it was collected or
  cancelled there). Square's ``order.fulfillment.updated`` fires only for API updates, so a Square connector also
  reports till changes it finds on read-back.
* :class:`PickupStatusWriter` (Square pickup fulfillments, Shopify ``PICK_UP`` fulfillment orders, Amazon in-store
  pickup ``updateShipmentStatus``): tell the channel what omnibridge decided or staff did in omnibridge (reserved
  for a window, ready, collected, cancelled, expired).

Lifecycle (omnibridge's states; each channel maps them to its own)::

    reserved ─► ready ─► collected
        │         │
        └─────────┴─► cancelled | expired | rejected (the store refused it: the pickup flow falls back)

Contracts every implementation keeps: every call is safe to repeat (``duplicate=True`` when the channel already
shows the state); a definite refusal by the vendor is returned with ``accepted=False`` and its reason;
infrastructure failures raise :class:`~omnibridge.errors.RetriableConnectorError`, bad credentials
:class:`~omnibridge.errors.FatalConnectorError`. ``order_ref`` is the channel's order id (the ref of its
:class:`~omnibridge.sdk.channel.OrderEvent`); ``location_ref`` the channel's location ref.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

__all__ = [
    "PickupDetails",
    "PickupEvent",
    "PickupState",
    "PickupStatusWriter",
    "PickupUpdate",
    "PickupUpdateResult",
]


class PickupState(StrEnum):
    """Where a pickup stands (omnibridge's words; Square PROPOSED/RESERVED/PREPARED/COMPLETED/CANCELED, Shopify
    fulfillment order ``PICK_UP`` open/prepared/closed, Amazon ISPU ReadyForPickup/PickedUp/RefusedPickup)."""

    RESERVED = "reserved"
    """Units held at the store for a window; staff have not prepared it yet."""
    READY = "ready"
    """Prepared: waiting at the counter (or for the kerb)."""
    ARRIVED = "arrived"
    """Curbside: the customer says they are outside (Square ``curbside_pickup_details.buyer_arrived_at``)."""
    COLLECTED = "collected"
    """Handed over: the units left the store."""
    CANCELLED = "cancelled"
    """Cancelled by the customer, the merchant or the channel: the hold is released."""
    EXPIRED = "expired"
    """Not collected before the hold expired: the hold is released."""
    REJECTED = "rejected"
    """The store cannot fill it (or the customer refused it at the counter, Amazon ``RefusedPickup``)."""


@dataclass(frozen=True, slots=True)
class PickupDetails:
    """How an order is to be collected, as its channel gives it (:attr:`OrderEvent.pickup
    <omnibridge.sdk.channel.OrderEvent.pickup>`): at the store ``location_ref`` (None: the channel leaves the choice
    to omnibridge), in the window starting ``pickup_at`` (None: the first window with capacity) lasting
    ``window_minutes``, at the kerb when ``curbside``. ``expires_at``: when the channel itself lets the hold lapse
    (Square), if it says."""

    location_ref: str | None = None
    pickup_at: datetime | None = None
    window_minutes: int | None = None
    curbside: bool = False
    expires_at: datetime | None = None
    state: PickupState = PickupState.RESERVED
    """Where the pickup stands on the channel when the order event was read."""


@dataclass(frozen=True, slots=True)
class PickupEvent:
    """A pickup's state changed on the channel. ``ref`` identifies this change on the channel (stable across
    deliveries: the fulfillment uid plus its new state, a webhook event id); ``order_ref`` is the channel's order;
    ``line_refs`` the order lines it covers (empty: the whole order); ``reason`` the channel's words, if any."""

    ref: str
    order_ref: str
    state: PickupState
    occurred_at: datetime
    location_ref: str | None = None
    line_refs: tuple[str, ...] = ()
    curbside: bool = False
    reason: str = ""
    note: str = ""
    """Free text the customer left for curbside (a car's colour and plate); personal data, kept minimal."""

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware")


@dataclass(frozen=True, slots=True)
class PickupUpdate:
    """Make the channel show ``state`` for the pickup of order ``order_ref`` at ``location_ref``.

    ``reference`` is omnibridge's idempotency key for this update (the pickup id plus the state). ``pickup_at``
    and ``window_minutes`` are the booked window and ``expires_at`` when the hold lapses (Square ``pickup_at``,
    ``pickup_window_duration`` and ``expires_at``, at most 7 days ahead); ``prep_minutes`` the store's prep time
    (Square ``prep_time_duration``)."""

    reference: str
    order_ref: str
    state: PickupState
    location_ref: str | None = None
    line_refs: tuple[str, ...] = ()
    pickup_at: datetime | None = None
    window_minutes: int | None = None
    prep_minutes: int | None = None
    expires_at: datetime | None = None
    curbside: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PickupUpdateResult:
    """``accepted``: the channel now shows the state. A refusal carries the vendor's reason in ``message``."""

    accepted: bool
    duplicate: bool = False
    message: str = ""


@runtime_checkable
class PickupStatusWriter(Protocol):
    """Optional (declare ``fulfillment.write``): a channel told how a pickup stands."""

    pickup_states: frozenset[PickupState]
    """The states this channel can show (others are not sent to it; Shopify has no 'reserved' window)."""

    async def update_pickup(self, update: PickupUpdate) -> PickupUpdateResult:
        """Make the channel show ``update.state``; safe to repeat (``duplicate=True`` the second time)."""
        ...
