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
    PICKUP_IN_STORE = "pickup_in_store"
    CURBSIDE = "curbside"
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
    FULFILLED = "fulfilled"
    """Every line shipped, collected or handed over."""
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    """Fulfilled and closed (no further changes expected)."""


class OrderLine(CanonicalModel):
    """One line: ``quantity`` units of ``sku``. ``location_id`` is where the line is allocated, once routed."""

    line_id: str = Field(description="The channel's own line id, stable across updates")
    sku: Sku
    quantity: int = Field(gt=0)
    unit_price: Money | None = None
    location_id: str | None = None
    cancelled_quantity: int = Field(default=0, ge=0)
    fulfilled_quantity: int = Field(default=0, ge=0)

    @property
    def open_quantity(self) -> int:
        return max(0, self.quantity - self.cancelled_quantity - self.fulfilled_quantity)


class Order(CanonicalModel):
    """An order from one channel. ``(channel, external_id)`` identifies it; ``id`` is omnibridge's own."""

    id: str
    channel: str
    external_id: str
    number: str | None = Field(default=None, description="What the customer sees, e.g. '#1001'")
    status: OrderStatus
    fulfilment_method: FulfilmentMethod = FulfilmentMethod.SHIP
    pickup_location_id: str | None = None
    lines: list[OrderLine] = Field(min_length=1)
    ship_to: Address | None = None
    customer_id: str | None = None
    total: Money | None = None
    placed_at: datetime
    updated_at: datetime
    priority: int = Field(default=0, description="Higher wins when two orders compete for the last unit")
