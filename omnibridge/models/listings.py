"""What each channel offers of a SKU, and at what price."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from omnibridge.models.common import CanonicalModel, Money, Sku


class ListingStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    """Exists on the channel but is not offered."""
    PENDING = "pending"
    """Submitted, not yet live (e.g. an Amazon submission that was ACCEPTED)."""
    ERROR = "error"


class Listing(CanonicalModel):
    """A SKU as one channel lists it: its own title and price, and the quantity it currently shows."""

    channel: str
    sku: Sku
    external_id: str | None = None
    title: str | None = None
    price: Money | None = None
    compare_at_price: Money | None = None
    status: ListingStatus = ListingStatus.ACTIVE
    shown_quantity: int | None = None
    updated_at: datetime | None = None
