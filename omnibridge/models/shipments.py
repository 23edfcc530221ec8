"""Shipments, carrier tracking and returns."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from omnibridge.models.common import Address, CanonicalModel, Money, Sku


class TrackingStatus(StrEnum):
    """One status set for every carrier; each carrier's codes map onto it (``mappings/``)."""

    PENDING = "pending"
    """Label created, no carrier scan yet."""
    IN_TRANSIT = "in_transit"
    """Moving through the carrier's network."""
    OUT_FOR_DELIVERY = "out_for_delivery"
    """On the vehicle for delivery today."""
    READY_FOR_PICKUP = "ready_for_pickup"
    """Waiting at a carrier point for the recipient."""
    DELIVERED = "delivered"
    """Delivered."""
    DELIVERY_FAILED = "delivery_failed"
    """A delivery attempt failed."""
    EXCEPTION = "exception"
    """Held, delayed or damaged: needs attention."""
    RETURN_TO_SENDER = "return_to_sender"
    """On its way back to the sender."""
    CANCELLED = "cancelled"
    """The label was voided."""
    UNKNOWN = "unknown"
    """No usable status from the carrier (or tracking expired)."""


class TrackingEvent(CanonicalModel):
    status: TrackingStatus
    """Canonical tracking status."""
    carrier_status: str = Field(description="The carrier's own code, kept for audit")
    occurred_at: datetime
    """When the carrier recorded it."""
    message: str | None = None
    """The carrier's description."""
    location: str | None = None
    """Where it happened, as the carrier reports it."""


class ShipmentLine(CanonicalModel):
    sku: Sku
    """Master SKU."""
    quantity: int = Field(gt=0)
    """Units in the parcel."""
    order_line_id: str | None = None
    """The order line these units belong to."""


class Shipment(CanonicalModel):
    """A parcel sent for (part of) an order from one location."""

    id: str
    """omnibridge's shipment id."""
    order_id: str
    """Order the parcel belongs to."""
    from_location_id: str
    """Location it ships from."""
    carrier: str = Field(description="usps, ups, fedex, dhl_express, ...")
    service: str | None = None
    """Carrier service, e.g. `Priority`, `GROUND`."""
    tracking_number: str | None = None
    """Carrier tracking number, once a label is bought."""
    label_url: str | None = None
    """Where the label can be downloaded."""
    cost: Money | None = None
    """What the label cost."""
    ship_to: Address | None = None
    """Destination address."""
    lines: list[ShipmentLine] = Field(min_length=1)
    """What is in the parcel."""
    status: TrackingStatus = TrackingStatus.PENDING
    """Latest canonical tracking status."""
    tracking_history: list[TrackingEvent] = Field(default_factory=list)
    """Every tracking event, oldest first."""
    created_at: datetime
    """When the shipment was created."""


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    """The customer asked to return it."""
    IN_TRANSIT = "in_transit"
    """On its way back."""
    RECEIVED = "received"
    """Arrived, not yet inspected."""
    RESTOCKED = "restocked"
    """Back on sale; RETURN movements were recorded."""
    REJECTED = "rejected"
    """Not accepted (e.g. outside the return window)."""
    OPEN = "open"
    """Approved, the customer may send or bring it (:class:`~omnibridge.sdk.returns.ReturnState`)."""
    CLOSED = "closed"
    """Every unit has a disposition (:mod:`omnibridge.returns`)."""
    DECLINED = "declined"
    """Refused by the channel or the merchant."""
    CANCELLED = "cancelled"
    """Withdrawn before anything arrived."""


class ReturnLine(CanonicalModel):
    sku: Sku
    """Master SKU."""
    quantity: int = Field(gt=0)
    """Units coming back."""
    restock: bool = Field(default=True, description="False for damaged goods that do not go back on sale")
    reason: str | None = None
    """Customer's reason, as given."""


class Return(CanonicalModel):
    """Goods coming back from a customer. Restocked lines become RETURN movements at ``location_id``."""

    id: str
    """omnibridge's return id."""
    order_id: str
    """The order being returned."""
    channel: str
    """Channel the return was raised on."""
    external_id: str | None = None
    """The channel's return or refund id."""
    location_id: str | None = None
    """Where the goods come back to."""
    status: ReturnStatus = ReturnStatus.REQUESTED
    """Where the return stands."""
    lines: list[ReturnLine] = Field(min_length=1)
    """What comes back."""
    refund: Money | None = None
    """Amount refunded."""
    created_at: datetime
    """When the return was raised."""
