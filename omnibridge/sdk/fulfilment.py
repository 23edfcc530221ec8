"""The contract between omnibridge's fulfilment side and the connectors that carry a routing decision out.

Three optional capabilities, each a :class:`typing.Protocol` a connector implements when its vendor can do it:

* :class:`LineAssigner` (a sales channel that routes orders itself, Shopify): put an order's lines where
  omnibridge decided, on the channel, so staff pick where the stock was reserved;
* :class:`ShipmentConfirmer` (Shopify ``fulfillmentCreate``, Amazon ``confirmShipment``, Square shipment
  fulfillments): tell the channel an order's units left, with carrier and tracking number;
* :class:`FulfilmentProvider` (a 3PL such as ShipBob, a dropship supplier's file feed): hand units of an order
  to someone else to ship.

Flow::

    router decision ─► LineAssigner.assign_lines (channel)       ─► staff pick at the chosen location
                   └─► FulfilmentProvider.submit_fulfilment      ─► provider ships
    shipment (label bought, provider's FulfilmentEvent)          ─► ShipmentConfirmer.confirm_shipment (channel)

Contracts every implementation keeps:

* Every call is safe to repeat with the same request: ``reference`` is omnibridge's idempotency key and the
  connector sends it where the vendor deduplicates (ShipBob ``reference_id``, a PO file named after it) or
  checks what the vendor already holds before writing (an existing Shopify fulfillment for the same lines).
  A repeat of a request that already landed returns the same answer with ``duplicate=True``; it never raises.
* A definite refusal by the vendor (a 4xx that names the problem) is returned as a result with ``accepted=False``
  and the vendor's reason, so omnibridge can re-route; infrastructure failures (timeouts, 5xx, 429) raise
  :class:`~omnibridge.errors.RetriableConnectorError` and bad credentials
  :class:`~omnibridge.errors.FatalConnectorError`, and the caller retries later with the same request.
* Location refs are the vendor's own (a Shopify location gid, an Amazon supply source id, a ShipBob fulfilment
  centre id); omnibridge maps its location ids to them through the channel's ``location_map``.
* A provider reports what it shipped as :class:`~omnibridge.sdk.channel.FulfilmentEvent` (from ``pull_events`` or
  ``webhook_events``) whose ``order_ref`` is the :attr:`FulfilmentRequest.reference` it was given, and what it
  accepted or refused as :class:`FulfilmentStatusEvent`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from omnibridge.sdk.channel import FulfilmentStatus, FulfilmentStatusEvent, ShipTo

__all__ = [
    "AssignmentResult",
    "ConfirmationResult",
    "ConfirmedLine",
    "FulfilmentLine",
    "FulfilmentProvider",
    "FulfilmentRequest",
    "FulfilmentStatus",
    "FulfilmentStatusEvent",
    "LineAssigner",
    "LineAssignment",
    "ShipmentConfirmation",
    "ShipmentConfirmer",
    "Submission",
]


# -- a sales channel that routes its own orders (Shopify fulfillment orders) ---------------------------------------


@dataclass(frozen=True, slots=True)
class LineAssignment:
    """``quantity`` units of the order line ``line_ref`` (the line's ref in the channel's order events) are to
    ship from the channel location ``location_ref``."""

    line_ref: str
    quantity: int
    location_ref: str


@dataclass(frozen=True, slots=True)
class AssignmentResult:
    """What :meth:`LineAssigner.assign_lines` achieved. ``accepted``: every assignment now stands on the channel.
    Otherwise ``refused`` lists ``(line_ref, location_ref, vendor's reason)`` for each assignment the channel
    would not take (e.g. Shopify ``locationsForMove`` says the location never stocked the item) and nothing that
    was refused was changed."""

    accepted: bool
    duplicate: bool = False
    refused: tuple[tuple[str, str, str], ...] = ()
    message: str = ""


@runtime_checkable
class LineAssigner(Protocol):
    """Optional (declare ``fulfillment.write``): a channel that assigns an order's lines to locations itself.

    Shopify: hold the order's fulfillment orders with omnibridge's handle, check ``locationsForMove``, move or
    split them to the assigned locations, release the hold. Called again with the same assignments after they
    landed, it changes nothing and answers ``duplicate=True``. ``exclude_refs`` (optional) asks the channel to
    re-rank by its own rules without those locations (Shopify ``fulfillmentOrdersReroute``) instead of moving to
    ``assignments``' locations; connectors that cannot do that ignore it.
    """

    async def assign_lines(
        self, order_ref: str, assignments: Sequence[LineAssignment], *, exclude_refs: Sequence[str] = ()
    ) -> AssignmentResult:
        """Make ``assignments`` true on the channel for the order ``order_ref`` (the ref of its events)."""
        ...


# -- shipment confirmation back to the channel the order came from --------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfirmedLine:
    """``quantity`` units of order line ``line_ref`` (its ref in the channel's order events) left."""

    line_ref: str
    quantity: int


@dataclass(frozen=True, slots=True)
class ShipmentConfirmation:
    """One package that left ``location_ref`` (the channel's location ref; Amazon: the supply source id) for the
    channel order ``order_ref``. ``reference`` is omnibridge's shipment id (the idempotency key). ``carrier`` is
    the carrier's common name (``UPS``, ``FedEx``, ``USPS``, ``DHL Express``); connectors map it to the channel's
    carrier codes."""

    reference: str
    order_ref: str
    lines: tuple[ConfirmedLine, ...]
    shipped_at: datetime
    location_ref: str | None = None
    carrier: str | None = None
    service: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None


@dataclass(frozen=True, slots=True)
class ConfirmationResult:
    """``accepted``: the channel now shows the units shipped (``channel_ref``: its id of the fulfilment, when it
    gives one). A refusal carries the vendor's reason in ``message``."""

    accepted: bool
    channel_ref: str | None = None
    duplicate: bool = False
    message: str = ""


@runtime_checkable
class ShipmentConfirmer(Protocol):
    """Optional (declare ``fulfillment.write``): a channel told that an order's units shipped, with tracking."""

    async def confirm_shipment(self, confirmation: ShipmentConfirmation) -> ConfirmationResult:
        """Record ``confirmation`` on the channel; safe to repeat (``duplicate=True`` the second time)."""
        ...


# -- someone else ships it: a 3PL or a dropship supplier ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FulfilmentLine:
    """``quantity`` units of master SKU ``sku`` (as the provider spells it, after ``sku_aliases``) for the order
    line ``line_ref`` (omnibridge's line record id)."""

    line_ref: str
    sku: str
    quantity: int
    name: str = ""


@dataclass(frozen=True, slots=True)
class FulfilmentRequest:
    """Units of one order to be shipped by a provider from its location ``location_ref`` (a ShipBob fulfilment
    centre id; a supplier's own id). ``reference`` is omnibridge's idempotency key (stable across retries; the
    provider's ``FulfilmentEvent.order_ref`` echoes it). ``order_name`` is what the customer sees."""

    reference: str
    order_name: str
    location_ref: str
    lines: tuple[FulfilmentLine, ...]
    ship_to: ShipTo | None
    placed_at: datetime
    shipping_method: str = "Standard"


@dataclass(frozen=True, slots=True)
class Submission:
    """The provider's answer to :meth:`FulfilmentProvider.submit_fulfilment`. ``provider_ref``: its id of the
    order (ShipBob order id, the PO file's name). A refusal carries the reason in ``message``."""

    reference: str
    accepted: bool
    provider_ref: str | None = None
    duplicate: bool = False
    message: str = ""


@runtime_checkable
class FulfilmentProvider(Protocol):
    """Optional (declare ``fulfillment.write`` on a connector of kind ``3pl`` or a supplier feed): ships orders
    from its own locations. Reports shipments as ``FulfilmentEvent`` (``order_ref`` = the request's
    ``reference``) and acknowledgements or refusals as :class:`FulfilmentStatusEvent`."""

    async def submit_fulfilment(self, request: FulfilmentRequest) -> Submission:
        """Hand ``request`` to the provider; a repeat of one it already has answers ``duplicate=True``."""
        ...
