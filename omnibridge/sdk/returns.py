"""The contract between omnibridge's returns (RMAs) and the channels and providers where returns happen.

A return names the order lines coming back, why, where they come back (a store counter or the warehouse by
post) and, once received, the disposition of every unit: ``restock`` at a named location, ``damaged`` (recorded,
not sellable), ``inspect`` (held until decided) or ``missing``. Stock comes back to the ledger only through a
``restock`` disposition, once per unit: a connector that reports returns as :class:`ReturnEvent` must not also
restock the same units through a :class:`~omnibridge.sdk.channel.RefundEvent` (its refund lines for units covered
by a return carry ``RestockType.NO_RESTOCK``).

* :class:`ReturnEvent` (from ``pull_events``, ``webhook_events`` or a report): a return raised, approved,
  received or processed on the channel or by a 3PL (Shopify returns, Square return orders and refunds at the till,
  Amazon's returns report, ShipBob return orders).
* :class:`ReturnWriter` (Shopify ``returnCreate``/``returnRequest``+``returnApproveRequest`` and ``returnProcess``):
  create a return on the channel from omnibridge, and record its disposition and refund there.

Contracts every implementation keeps: every call is safe to repeat (``duplicate=True`` when the channel already
holds it); a definite refusal by the vendor is returned with ``accepted=False`` and its reason; infrastructure
failures raise :class:`~omnibridge.errors.RetriableConnectorError`, bad credentials
:class:`~omnibridge.errors.FatalConnectorError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

__all__ = [
    "Disposition",
    "ReturnEvent",
    "ReturnLineEvent",
    "ReturnRequest",
    "ReturnResult",
    "ReturnState",
    "ReturnWriter",
]


class ReturnState(StrEnum):
    """Where a return stands (omnibridge's words)."""

    REQUESTED = "requested"
    """The customer asked; not approved yet."""
    OPEN = "open"
    """Approved: the customer may send or bring it (Shopify ``OPEN``)."""
    RECEIVED = "received"
    """The goods arrived; dispositions follow (or come with it)."""
    CLOSED = "closed"
    """Every unit has a disposition (Shopify ``CLOSED``)."""
    DECLINED = "declined"
    """Refused (outside the window, not returnable)."""
    CANCELLED = "cancelled"
    """Withdrawn before anything arrived."""


class Disposition(StrEnum):
    """What became of a returned unit."""

    RESTOCK = "restock"
    """Back on sale at the named location: a RETURN movement, once."""
    DAMAGED = "damaged"
    """Not sellable: recorded, never restocked."""
    INSPECT = "inspect"
    """Held until someone decides (then restock or damaged)."""
    MISSING = "missing"
    """Expected but not in the parcel."""


@dataclass(frozen=True, slots=True)
class ReturnLineEvent:
    """Units of one order line in a return. ``line_ref`` is the order line's ref (as in
    :class:`~omnibridge.sdk.channel.OrderLineEvent`); ``return_line_ref`` the channel's id of the return line
    (stable; the idempotency key of its disposition). ``disposition`` and ``location_ref`` once the channel says
    what it did with the units (None: not decided yet)."""

    return_line_ref: str
    line_ref: str | None
    sku: str | None
    quantity: int
    reason: str = ""
    disposition: Disposition | None = None
    location_ref: str | None = None


@dataclass(frozen=True, slots=True)
class ReturnEvent:
    """A return raised or changed on the channel. ``ref`` is the channel's return id (Shopify return gid, Square
    return order id, Amazon's order id plus the report row's LPN/date, ShipBob return id); ``order_ref`` the
    channel's order it returns; ``at_store``: handed in at a store counter (``location_ref`` names it) rather
    than sent by post. ``refund`` is the amount refunded as a decimal string, with ``currency``."""

    ref: str
    order_ref: str
    state: ReturnState
    occurred_at: datetime
    lines: tuple[ReturnLineEvent, ...]
    at_store: bool = False
    location_ref: str | None = None
    tracking_number: str | None = None
    carrier: str | None = None
    refund: str | None = None
    currency: str | None = None

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware")


@dataclass(frozen=True, slots=True)
class ReturnRequest:
    """Create (``state`` OPEN: created approved; REQUESTED: requested, to be approved) or process (``state``
    CLOSED with every line's disposition and ``refund``) the return ``reference`` (omnibridge's RMA id, the
    idempotency key) for the channel order ``order_ref``. ``channel_return_ref``: the channel's id of the
    return once it has one (required to process it)."""

    reference: str
    order_ref: str
    state: ReturnState
    lines: tuple[ReturnLineEvent, ...]
    channel_return_ref: str | None = None
    tracking_number: str | None = None
    carrier: str | None = None
    label_url: str | None = None
    refund: str | None = None
    currency: str | None = None
    notify_customer: bool = False


@dataclass(frozen=True, slots=True)
class ReturnResult:
    """``accepted``: the channel holds what was asked (``channel_return_ref``: its id of the return). A refusal
    carries the vendor's reason in ``message``."""

    accepted: bool
    channel_return_ref: str | None = None
    duplicate: bool = False
    message: str = ""


@runtime_checkable
class ReturnWriter(Protocol):
    """Optional (declare ``returns.write``): a channel on which omnibridge creates and processes returns."""

    async def write_return(self, request: ReturnRequest) -> ReturnResult:
        """Create, approve or process the return as ``request.state`` says; safe to repeat."""
        ...
