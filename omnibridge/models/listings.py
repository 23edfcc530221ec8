"""What each channel offers of a SKU, and at what price."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from omnibridge.models.common import CanonicalModel, Money, Sku


class ListingStatus(StrEnum):
    ACTIVE = "active"
    """Offered for sale."""
    INACTIVE = "inactive"
    """Exists on the channel but is not offered."""
    PENDING = "pending"
    """Submitted, not yet live (e.g. an Amazon submission that was ACCEPTED)."""
    ERROR = "error"
    """The channel rejected the listing; see its messages."""


class Listing(CanonicalModel):
    """A SKU as one channel lists it: its own title and price, and the quantity it currently shows."""

    channel: str
    """Channel id."""
    sku: Sku
    """Master SKU."""
    external_id: str | None = None
    """The channel's listing, variant or offer id."""
    title: str | None = None
    """Title on this channel."""
    price: Money | None = None
    """Price on this channel."""
    compare_at_price: Money | None = None
    """Strike-through price, where the channel has one."""
    status: ListingStatus = ListingStatus.ACTIVE
    """Whether the channel offers it."""
    shown_quantity: int | None = None
    """The quantity the channel last showed."""
    updated_at: datetime | None = None
    """When the channel last changed it."""
