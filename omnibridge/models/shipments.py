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
    OUT_FOR_DELIVERY = "out_for_delivery"
    READY_FOR_PICKUP = "ready_for_pickup"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    """A delivery attempt failed."""
    EXCEPTION = "exception"
    """Held, delayed or damaged: needs attention."""
    RETURN_TO_SENDER = "return_to_sender"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


class TrackingEvent(CanonicalModel):
    status: TrackingStatus
    carrier_status: str = Field(description="The carrier's own code, kept for audit")
    occurred_at: datetime
    message: str | None = None
    location: str | None = None


class ShipmentLine(CanonicalModel):
    sku: Sku
    quantity: int = Field(gt=0)
    order_line_id: str | None = None


class Shipment(CanonicalModel):
    """A parcel sent for (part of) an order from one location."""

    id: str
    order_id: str
    from_location_id: str
    carrier: str = Field(description="usps, ups, fedex, dhl_express, ...")
    service: str | None = None
    tracking_number: str | None = None
    label_url: str | None = None
    cost: Money | None = None
    ship_to: Address | None = None
    lines: list[ShipmentLine] = Field(min_length=1)
    status: TrackingStatus = TrackingStatus.PENDING
    tracking_history: list[TrackingEvent] = Field(default_factory=list)
    created_at: datetime


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    RESTOCKED = "restocked"
    REJECTED = "rejected"


class ReturnLine(CanonicalModel):
    sku: Sku
    quantity: int = Field(gt=0)
    restock: bool = Field(default=True, description="False for damaged goods that do not go back on sale")
    reason: str | None = None


class Return(CanonicalModel):
    """Goods coming back from a customer. Restocked lines become RETURN movements at ``location_id``."""

    id: str
    order_id: str
    channel: str
    external_id: str | None = None
    location_id: str | None = None
    status: ReturnStatus = ReturnStatus.REQUESTED
    lines: list[ReturnLine] = Field(min_length=1)
    refund: Money | None = None
    created_at: datetime
