"""Channel bindings: which external id on which channel is which internal record."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from omnibridge.models.common import CanonicalModel


class BoundRecord(StrEnum):
    """The kind of internal record an external id stands for."""

    VARIANT = "variant"
    """Internal id is the master SKU (e.g. a Shopify InventoryItem gid, a Square ITEM_VARIATION id)."""
    PRODUCT = "product"
    """Internal id is the product id."""
    LOCATION = "location"
    """Internal id is the location id from the profile."""
    ORDER = "order"
    """Internal id is omnibridge's order id."""
    CUSTOMER = "customer"
    """Internal id is omnibridge's customer id."""
    SHIPMENT = "shipment"
    """Internal id is omnibridge's shipment id."""


class ChannelBinding(CanonicalModel):
    """``external_id`` on ``channel`` is the internal record ``internal_id`` of kind ``record``.

    Unique per (channel, record, external_id): one external id maps to one internal record. The reverse is
    also unique per channel: an internal record has one external id of each kind on a channel.
    """

    channel: str = Field(min_length=1)
    """Channel id."""
    record: BoundRecord
    """Kind of internal record."""
    external_id: str = Field(min_length=1)
    """The id on the channel."""
    internal_id: str = Field(min_length=1)
    """omnibridge's id (the master SKU for variants)."""
    extra: dict[str, str] = Field(
        default_factory=dict, description="Channel-specific companions, e.g. the Shopify variant gid"
    )
