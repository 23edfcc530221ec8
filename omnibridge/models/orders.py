"""Orders as omnibridge sees them, whatever channel they came from."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from omnibridge.models.common import Address, CanonicalModel, Money, Sku


class FulfilmentMethod(StrEnum):
    """How the customer asked to receive the order."""

    SHIP = "ship"
    """Ship from a warehouse (or wherever routing decides)."""
    SHIP_FROM_STORE = "ship_from_store"
    """Shipped from a store's stock."""
    PICKUP_IN_STORE = "pickup_in_store"
    """The customer collects at a store."""
    CURBSIDE = "curbside"
    """Staff hand the order out at the kerb."""
    DROPSHIP = "dropship"
    """Shipped by a supplier location from its own stock."""


class OrderStatus(StrEnum):
    """The canonical order lifecycle. Each channel's statuses map onto these (``status_map`` in mappings)."""

    PENDING = "pending"
    """Received but not yet accepted (payment pending, fraud check)."""
    ACCEPTED = "accepted"
    """Accepted; stock is committed."""
    ON_HOLD = "on_hold"
    """Held by omnibridge or the merchant (e.g. an oversell decision), stock may not be committed."""
    PARTIALLY_FULFILLED = "partially_fulfilled"
    """Some lines or units have left, others are still open."""
    FULFILLED = "fulfilled"
    """Every line shipped, collected or handed over."""
    CANCELLED = "cancelled"
    """Cancelled; committed stock was released."""
    COMPLETED = "completed"
    """Fulfilled and closed (no further changes expected)."""


class OrderLine(CanonicalModel):
    """One line: ``quantity`` units of ``sku``. ``location_id`` is where the line is allocated, once routed."""

    line_id: str = Field(description="The channel's own line id, stable across updates")
    sku: Sku
    """Master SKU (mapped from the channel's SKU or id)."""
    quantity: int = Field(gt=0)
    """Units ordered."""
    unit_price: Money | None = None
    """Price per unit as charged."""
    location_id: str | None = None
    """Where the line is allocated, once routed."""
    cancelled_quantity: int = Field(default=0, ge=0)
    """Units cancelled."""
    fulfilled_quantity: int = Field(default=0, ge=0)
    """Units shipped or collected."""

    @property
    def open_quantity(self) -> int:
        return max(0, self.quantity - self.cancelled_quantity - self.fulfilled_quantity)


class Order(CanonicalModel):
    """An order from one channel. ``(channel, external_id)`` identifies it; ``id`` is omnibridge's own."""

    id: str
    """omnibridge's own order id."""
    channel: str
    """Channel id from the profile, e.g. `webstore`."""
    external_id: str
    """The channel's order id (a Shopify gid, a Square order id, an Amazon order id)."""
    number: str | None = Field(default=None, description="What the customer sees, e.g. '#1001'")
    status: OrderStatus
    """Canonical lifecycle status."""
    fulfilment_method: FulfilmentMethod = FulfilmentMethod.SHIP
    """How the customer asked to receive it."""
    pickup_location_id: str | None = None
    """For pickup and curbside: the chosen location."""
    lines: list[OrderLine] = Field(min_length=1)
    """The order lines; at least one."""
    ship_to: Address | None = None
    """Delivery address, for shipped methods."""
    customer_id: str | None = None
    """omnibridge customer id, when known."""
    total: Money | None = None
    """Order total as charged."""
    placed_at: datetime
    """When the customer placed it."""
    updated_at: datetime
    """When the channel last changed it."""
    priority: int = Field(default=0, description="Higher wins when two orders compete for the last unit")


class LineStatus(StrEnum):
    """Where an order line stands as far as stock is concerned (:class:`OrderLineRecord`)."""

    OPEN = "open"
    """Units still to leave; its open units are committed at ``location_id``."""
    ON_HOLD = "on_hold"
    """Open, but its commitment was released (the oversell resolver held it); nothing is committed."""
    SHIPPED = "shipped"
    """Every unit left (shipped, collected, sold at the till), some perhaps cancelled."""
    CANCELLED = "cancelled"
    """Cancelled before any unit left."""
    RETURNED = "returned"
    """Every unit that left came back."""


class OrderLineRecord(CanonicalModel):
    """One order line as the ledger tracks it: the record every commitment, release, move, shipment and return
    of the line refers to (``StockMovement.reference == id``).

    ``location_id`` is where its open units are allocated (and committed, ``committed`` of them);
    ``channel_location_id`` is the location the channel last named for it (a channel moving the line is a
    change of this; omnibridge moving it, e.g. the oversell resolver, changes only ``location_id``). ``version``
    grows with every change that moves stock, and the idempotency keys of those movements carry it, so a
    legitimate change is a new movement and the same fact arriving twice is one.
    """

    id: str
    """``<channel>:order:<order ref>:<line ref>``"""
    channel: str
    order_ref: str
    line_ref: str
    sku: Sku
    quantity: int = Field(ge=0)
    """Units ordered."""
    location_id: str | None = None
    channel_location_id: str | None = None
    status: LineStatus = LineStatus.OPEN
    committed: int = Field(default=0, ge=0)
    """Units of this line committed at ``location_id`` now."""
    shipped: int = Field(default=0, ge=0)
    cancelled: int = Field(default=0, ge=0)
    returned: int = Field(default=0, ge=0)
    version: int = Field(default=0, ge=0)
    placed_at: datetime
    updated_at: datetime

    @property
    def order_id(self) -> str:
        """omnibridge's id of the order (``<channel>:<order ref>``)."""
        return f"{self.channel}:{self.order_ref}"

    @property
    def open_quantity(self) -> int:
        """Units neither shipped nor cancelled."""
        return max(0, self.quantity - self.shipped - self.cancelled)

    @staticmethod
    def key(channel: str, order_ref: str, line_ref: str) -> str:
        return f"{channel}:order:{order_ref}:{line_ref}"
