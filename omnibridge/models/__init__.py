"""The canonical model: one shape for every channel's products, locations, stock, orders, shipments,
returns, customers and listings. Connectors map vendor payloads onto these and nothing else.

Field-by-field documentation lives in ``docs/model.md``.
"""

from omnibridge.models.bindings import BoundRecord, ChannelBinding
from omnibridge.models.catalog import Product, Variant
from omnibridge.models.common import Address, CanonicalModel, CountryCode, CurrencyCode, GeoPoint, Money, Sku
from omnibridge.models.customers import ChannelIdentity, Consent, Customer
from omnibridge.models.inventory import (
    MOVEMENT_EFFECTS,
    InventoryPosition,
    MovementKind,
    MovementResult,
    MovementStatus,
    RecordedMovement,
    StockMovement,
)
from omnibridge.models.listings import Listing, ListingStatus
from omnibridge.models.locations import WEEKDAYS, Location, LocationCapability, LocationType
from omnibridge.models.orders import FulfilmentMethod, LineStatus, Order, OrderLine, OrderLineRecord, OrderStatus
from omnibridge.models.shipments import (
    Return,
    ReturnLine,
    ReturnStatus,
    Shipment,
    ShipmentLine,
    TrackingEvent,
    TrackingStatus,
)

__all__ = [
    "MOVEMENT_EFFECTS",
    "WEEKDAYS",
    "Address",
    "BoundRecord",
    "CanonicalModel",
    "ChannelBinding",
    "ChannelIdentity",
    "Consent",
    "CountryCode",
    "CurrencyCode",
    "Customer",
    "FulfilmentMethod",
    "GeoPoint",
    "InventoryPosition",
    "LineStatus",
    "Listing",
    "ListingStatus",
    "Location",
    "LocationCapability",
    "LocationType",
    "Money",
    "MovementKind",
    "MovementResult",
    "MovementStatus",
    "Order",
    "OrderLine",
    "OrderLineRecord",
    "OrderStatus",
    "Product",
    "RecordedMovement",
    "Return",
    "ReturnLine",
    "ReturnStatus",
    "Shipment",
    "ShipmentLine",
    "Sku",
    "StockMovement",
    "TrackingEvent",
    "TrackingStatus",
    "Variant",
]
