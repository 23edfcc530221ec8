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
    product_id: str
    title: str | None = None
    barcodes: list[str] = Field(default_factory=list, description="GTIN/EAN/UPC/ISBN, most specific first")
    option_values: dict[str, str] = Field(default_factory=dict, description="e.g. {'size': 'M', 'colour': 'red'}")
    price: Money | None = None
    weight_grams: int | None = Field(default=None, ge=0)
    tracked: bool = True
    allow_backorder: bool = False


class Product(CanonicalModel):
    """A product groups variants that differ only in options (size, colour)."""

    id: str
    title: str
    product_type: str | None = None
    vendor: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict, description="Free-form merchant attributes")
    variants: list[Variant] = Field(default_factory=list)
