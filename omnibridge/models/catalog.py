"""Products and their variants. A variant is the sellable unit and carries the merchant's master SKU."""

from __future__ import annotations

from pydantic import Field

from omnibridge.models.common import CanonicalModel, Money, Sku


class Variant(CanonicalModel):
    """One sellable unit, identified by the merchant's master ``sku``.

    ``allow_backorder`` lets the ledger take ``available`` below zero for this SKU; without it a movement
    that would do so is refused. ``tracked`` is false for items whose stock is not managed (gift cards,
    services): they are never pushed to channels.
    """

    sku: Sku
    """The merchant's master SKU; every channel's SKU or id is mapped onto it."""
    product_id: str
    """The product this variant belongs to."""
    title: str | None = None
    """Variant title, e.g. `Medium / Red`."""
    barcodes: list[str] = Field(default_factory=list, description="GTIN/EAN/UPC/ISBN, most specific first")
    option_values: dict[str, str] = Field(default_factory=dict, description="e.g. {'size': 'M', 'colour': 'red'}")
    price: Money | None = None
    """Base price; channels may list their own (see Listing)."""
    weight_grams: int | None = Field(default=None, ge=0)
    """Shipping weight in grams."""
    tracked: bool = True
    """False for items whose stock is not managed (gift cards, services)."""
    allow_backorder: bool = False
    """Whether the ledger may take available below zero for this SKU."""


class Product(CanonicalModel):
    """A product groups variants that differ only in options (size, colour)."""

    id: str
    """omnibridge's product id (the merchant's style or parent SKU works well)."""
    title: str
    """Product title."""
    product_type: str | None = None
    """Merchant's product type or category, e.g. `Jacket`."""
    vendor: str | None = None
    """Brand or manufacturer."""
    attributes: dict[str, str] = Field(default_factory=dict, description="Free-form merchant attributes")
    variants: list[Variant] = Field(default_factory=list)
    """The sellable variants; each has its own SKU."""
