"""Shipping: buy carrier labels exactly once and keep canonical tracking (see :mod:`omnibridge.shipping.service`)."""

from omnibridge.shipping.service import (
    PurchaseUnsettledError,
    RateChooser,
    ShippingError,
    ShippingService,
    TrackingApplied,
    cheapest,
    shipment_id_for,
)
from omnibridge.shipping.tracking_status import TrackingMap, load_tracking_map

__all__ = [
    "PurchaseUnsettledError",
    "RateChooser",
    "ShippingError",
    "ShippingService",
    "TrackingApplied",
    "TrackingMap",
    "cheapest",
    "load_tracking_map",
    "shipment_id_for",
]
