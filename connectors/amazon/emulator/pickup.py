"""In-store pickup (ISPU) in the Amazon emulator: ``updateShipmentStatus`` on orders created with a pickup
supply source.

The body is checked as ``UpdateShipmentStatusRequest`` (``marketplaceId`` the seller's, ``shipmentStatus`` one of
ReadyForPickup / PickedUp / RefusedPickup, ``orderItems`` naming the order's own items with a positive quantity).
The order must be an in-store pickup order (``IsISPU``) that is neither cancelled nor already collected or refused;
``ReadyForPickup`` comes first (Amazon notifies the buyer then), ``PickedUp`` or ``RefusedPickup`` end it. The same
status again is accepted and changes nothing. What follows on the order is the emulator's model (Orders v0 has no
pickup field): PickedUp → ``Shipped``, RefusedPickup → ``Canceled`` (its units go back to the listing).
"""

from __future__ import annotations

from typing import Any

from connectors.amazon.emulator.common import ApiError, invalid_input
from connectors.amazon.emulator.orders import StoredOrder

__all__ = ["SHIPMENT_STATUSES", "check_shipment_status"]

SHIPMENT_STATUSES = ("ReadyForPickup", "PickedUp", "RefusedPickup")
_FINAL = ("PickedUp", "RefusedPickup")
ORDER_STATUS_AFTER = {"PickedUp": "Shipped", "RefusedPickup": "Canceled"}


def check_shipment_status(stored: StoredOrder, body: Any, marketplace_id: str) -> str | None:
    """The status to apply to ``stored`` (None: it already has it), or :class:`ApiError` 400 ``InvalidInput``."""
    if not isinstance(body, dict):
        raise invalid_input("The request body must be a JSON object.", "body")
    if body.get("marketplaceId") != marketplace_id:
        raise invalid_input(f"'marketplaceId' must be the seller's marketplace {marketplace_id}.", "marketplaceId")
    status = body.get("shipmentStatus")
    if status not in SHIPMENT_STATUSES:
        raise invalid_input(
            f"'shipmentStatus' {status!r} is not one of {', '.join(SHIPMENT_STATUSES)}.", "shipmentStatus"
        )
    items = body.get("orderItems")
    if items is not None:
        known = {str(item["OrderItemId"]): int(item["QuantityOrdered"]) for item in stored.items}
        if not isinstance(items, list) or not items:
            raise invalid_input("'orderItems' must be a non-empty array when given.", "orderItems")
        for index, item in enumerate(items):
            item_id = item.get("orderItemId") if isinstance(item, dict) else None
            quantity = item.get("quantity") if isinstance(item, dict) else None
            if item_id not in known:
                raise invalid_input(f"OrderItemId {item_id} is invalid for this order.", f"orderItems[{index}]")
            if quantity is not None and (not isinstance(quantity, int) or not 0 < quantity <= known[item_id]):
                raise invalid_input(f"quantity {quantity!r} for {item_id} is invalid.", f"orderItems[{index}]")
    order_id = stored.order_id
    if stored.order.get("IsISPU") is not True:
        raise ApiError(400, "InvalidInput", f"Order {order_id} is not an in-store pickup order.", "IsISPU")
    if status == stored.pickup_status:
        return None
    if stored.pickup_status in _FINAL or stored.status in ("Canceled", "Shipped"):
        raise invalid_input(
            f"Order {order_id} is {stored.pickup_status or stored.status}: its pickup status cannot change.",
            "shipmentStatus",
        )
    return str(status)
