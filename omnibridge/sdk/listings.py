"""Listings and prices from one place: the optional contract for connectors that can change a SKU's title or price.

A connector declares ``listings.write`` (titles) and/or ``prices.write`` (prices) and implements
:class:`ListingWriter`. The core maps master SKUs to the channel's SKUs and sends one batch per channel.

Contracts:

* ``push_listings`` returns exactly one :class:`ListingResult` per update, in order; one bad update never fails
  the others. A whole-batch failure after retries raises a :class:`~omnibridge.errors.ConnectorError`.
* A field left ``None`` is not touched on the channel. A price is a decimal amount in ``currency`` (ISO 4217);
  connectors convert to the vendor's unit (Square and Clover use minor units).
* Writes are absolute (set, never add), so sending the same update twice leaves the channel as after once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

from omnibridge.sdk.channel import PushStatus

__all__ = ["ListingResult", "ListingUpdate", "ListingWriter"]


@dataclass(frozen=True, slots=True)
class ListingUpdate:
    """What one SKU should look like on the channel. ``sku`` is the channel's spelling."""

    sku: str
    title: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    reference: str = ""

    def __post_init__(self) -> None:
        if self.title is None and self.price is None:
            raise ValueError(f"listing update for {self.sku!r} changes nothing: give a title, a price or both")
        if self.price is not None and (self.currency is None or len(self.currency) != 3):
            raise ValueError(f"listing update for {self.sku!r}: a price needs a three-letter ISO 4217 currency")
        if self.price is not None and self.price < 0:
            raise ValueError(f"listing update for {self.sku!r}: price must not be negative, got {self.price}")


@dataclass(frozen=True, slots=True)
class ListingResult:
    """The outcome of one :class:`ListingUpdate`: ``APPLIED``, ``UNCHANGED``, ``UNKNOWN_SKU`` or ``FAILED``."""

    update: ListingUpdate
    status: PushStatus
    message: str = ""


@runtime_checkable
class ListingWriter(Protocol):
    """A connector that can set titles and/or prices (declare ``listings.write`` / ``prices.write``)."""

    async def push_listings(self, updates: Sequence[ListingUpdate]) -> list[ListingResult]:
        """Apply each update; one result per update, in order (see module doc)."""
        ...
