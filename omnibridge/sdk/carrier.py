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
* ``repeat_purchase_safe`` (an optional class attribute, False when absent: read it with
  :func:`repeat_purchase_safe`) is True only when the *vendor* refuses or deduplicates a second purchase of the
  same shipment, so ``buy_label`` may be called again after an outcome that is unknown (a lost answer, a crash,
  a restart). The shipping service records each purchase attempt (state ``buying``) before calling
  ``buy_label``; after an unknown outcome it calls ``buy_label`` again only for such a connector, and otherwise
  asks a person to check the carrier account.
* An error ``buy_label`` raises when nothing was bought — the vendor refused the purchase (a 4xx: bad address,
  unknown service, throttled) or it was never sent — is recognised by :func:`purchase_refused`: an
  :class:`~omnibridge.sdk.http.HttpFatalError` with a 4xx status (or none: never sent), an
  :class:`~omnibridge.sdk.http.HttpRetriableError` with status 429, or any error that mixes in
  :class:`PurchaseRefused`. Every other failure leaves the outcome unknown.
* ``return_labels`` (optional class attribute, False when absent: :func:`return_labels`) is True when the
  connector sends :attr:`ShipmentRequest.is_return` to its vendor (EasyPost ``is_return: true``: the vendor swaps
  the addresses). For any other connector the shipping service swaps the addresses itself.
* ``verify_webhook`` is pure and raises :class:`~omnibridge.errors.WebhookError` for a forged, unsigned or
  malformed delivery; ``webhook_events`` turns a verified delivery into tracking updates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from omnibridge.sdk.http import AmbiguousWriteError, HttpFatalError, HttpRetriableError
from omnibridge.sdk.webhooks import WebhookDelivery

__all__ = [
    "CarrierAddress",
    "CarrierConnector",
    "CarrierQuote",
    "Label",
    "Parcel",
    "PurchaseRefused",
    "Rate",
    "ShipmentRequest",
    "TrackingUpdate",
    "purchase_refused",
    "repeat_purchase_safe",
    "return_labels",
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
    is_return: bool = False
    """A return label: the parcel travels from ``to_address`` back to ``from_address`` (sent only to a connector
    that declares ``return_labels``)."""


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
    """A live connection to one carrier account (or an aggregator such as EasyPost).

    Not a protocol member (so ``isinstance`` checks and existing connectors are unaffected), but part of the
    contract: ``repeat_purchase_safe: bool``, see the module docstring and :func:`repeat_purchase_safe`.
    """

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


class PurchaseRefused(Exception):
    """Mixed into an error ``buy_label`` raises when that call bought nothing: the vendor refused the purchase
    (bad address, unknown service, throttled) or the request was never sent. Example:
    ``class LabelRefused(FatalConnectorError, PurchaseRefused)``. The shipping service then offers the purchase
    again instead of asking a person whether the label was bought."""


def purchase_refused(error: BaseException) -> bool:
    """True when ``error``, raised by ``buy_label``, means that nothing was bought (see the module docstring);
    False when the purchase may have gone through."""
    if isinstance(error, PurchaseRefused):
        return True
    if isinstance(error, AmbiguousWriteError):
        return False
    if isinstance(error, HttpFatalError):
        return error.status_code is None or 400 <= error.status_code < 500
    if isinstance(error, HttpRetriableError):
        return error.status_code == 429
    return False


def repeat_purchase_safe(carrier: object) -> bool:
    """The connector's ``repeat_purchase_safe`` attribute (False when it has none): may ``buy_label`` be called
    again for a shipment whose earlier purchase has an unknown outcome?"""
    return getattr(carrier, "repeat_purchase_safe", False) is True


def return_labels(carrier: object) -> bool:
    """The connector's ``return_labels`` attribute (False when it has none): does it pass
    :attr:`ShipmentRequest.is_return` on to a vendor that swaps the addresses itself?"""
    return getattr(carrier, "return_labels", False) is True
