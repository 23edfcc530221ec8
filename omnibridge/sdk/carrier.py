"""The runtime contract between omnibridge's shipping service and a carrier connector.

A carrier connector (EasyPost, or a carrier account driven directly) rates a parcel, buys its label and reports
tracking. It speaks the carrier's vocabulary: tracking statuses come back as the carrier's own codes, and the
core maps them to :class:`~omnibridge.models.shipments.TrackingStatus` through ``mappings/tracking-status.yaml``.

Flow, as the shipping service drives it::

    quote(request) ──► CarrierQuote (vendor shipment id + rates)  ── persisted before anything is bought
    buy_label(quote.shipment_ref, rate_id) ──► Label (tracking code, label URL, cost)
    track(tracking_code, carrier) / webhook_events(delivery) ──► TrackingUpdate ──► canonical status

Contracts every implementation keeps:

* ``quote`` creates (or re-creates) the vendor's shipment; calling it again is harmless, it buys nothing.
* ``buy_label`` never buys twice: when the vendor says the shipment already has postage, it returns the label
  already bought. That is what makes a retry after a lost response safe.
* ``verify_webhook`` is pure and raises :class:`~omnibridge.errors.WebhookError` for a forged, unsigned or
  malformed delivery; ``webhook_events`` turns a verified delivery into tracking updates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from omnibridge.sdk.webhooks import WebhookDelivery

__all__ = [
    "CarrierAddress",
    "CarrierConnector",
    "CarrierQuote",
    "Label",
    "Parcel",
    "Rate",
    "ShipmentRequest",
    "TrackingUpdate",
]


@dataclass(frozen=True, slots=True)
class CarrierAddress:
    """A postal address as carriers want it. ``country`` is ISO 3166 alpha-2."""

    name: str
    street1: str
    city: str
    postal_code: str
    country: str
    street2: str | None = None
    state: str | None = None
    company: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Parcel:
    """Weight in ounces and dimensions in inches (EasyPost's and USPS's units)."""

    weight_oz: Decimal
    length_in: Decimal | None = None
    width_in: Decimal | None = None
    height_in: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ShipmentRequest:
    """One parcel to rate. ``reference`` is omnibridge's shipment id, attached to the vendor's shipment."""

    reference: str
    from_address: CarrierAddress
    to_address: CarrierAddress
    parcel: Parcel
    carrier_accounts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rate:
    """A price to ship the parcel with one carrier service. ``rate_id`` is what :meth:`buy_label` takes."""

    rate_id: str
    carrier: str
    service: str
    amount: Decimal
    currency: str
    delivery_days: int | None = None
    carrier_account_id: str | None = None


@dataclass(frozen=True, slots=True)
class CarrierQuote:
    """The vendor's shipment (``shipment_ref``) and its rates, cheapest first."""

    shipment_ref: str
    rates: tuple[Rate, ...]


@dataclass(frozen=True, slots=True)
class Label:
    """A bought label."""

    shipment_ref: str
    tracking_code: str
    carrier: str
    service: str
    label_url: str
    amount: Decimal
    currency: str
    tracker_ref: str | None = None


@dataclass(frozen=True, slots=True)
class TrackingUpdate:
    """One tracking event as the carrier reports it. ``carrier_status`` is the vendor's code (EasyPost's
    ``status`` such as ``in_transit``, or a carrier's own code); ``ref`` identifies the event for dedupe."""

    tracking_code: str
    carrier: str
    carrier_status: str
    occurred_at: datetime
    ref: str
    message: str | None = None
    location: str | None = None
    detail: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware")


@runtime_checkable
class CarrierConnector(Protocol):
    """A live connection to one carrier account (or an aggregator such as EasyPost)."""

    async def quote(self, request: ShipmentRequest) -> CarrierQuote:
        """Create the vendor's shipment for ``request`` and return its rates (buys nothing)."""
        ...

    async def buy_label(self, shipment_ref: str, rate_id: str) -> Label:
        """Buy the label for ``rate_id``; if the shipment already has one, return it (never buy twice)."""
        ...

    async def track(self, tracking_code: str, carrier: str) -> list[TrackingUpdate]:
        """Every tracking event known for the parcel, oldest first."""
        ...

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str], url: str) -> WebhookDelivery:
        """Check the signature and identify the delivery; raise ``WebhookError`` if forged or malformed."""
        ...

    async def webhook_events(self, delivery: WebhookDelivery) -> list[TrackingUpdate]:
        """The tracking updates a verified delivery carries."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
