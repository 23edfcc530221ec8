"""confirmShipment (Orders v0) and the order's packages (Orders 2026-01-01 getOrder) in the Amazon emulator.

A confirmation is one package of a merchant-fulfilled order, kept by its ``packageReferenceId``:

* the body must validate against ``ConfirmShipmentRequest`` (ordersV0.json), else 400 ``InvalidInput`` naming
  the field; ``marketplaceId`` must be the seller's; ``packageReferenceId`` a positive number ("Only positive
  numeric values are supported"); ``shipDate`` ISO 8601 (Amazon's sandbox answers ``02/21/2022`` with 400);
  ``carrierName`` is required when ``carrierCode`` is ``Other``; ``shipFromSupplySourceId``, when given, must be
  one of the seller's supply sources (:attr:`AmazonEmulatorConfig.supply_source_ids`: the emulator keeps a list of
  ids instead of serving the Supply Sources API);
* every ``orderItemId`` must be an item of the order (Amazon's message: "OrderItemId ... is invalid, please obtain
  the value through the getOrderItems API or Manage Orders page") and the package may not ship more units than
  are left unshipped;
* the order must be Unshipped or PartiallyShipped (or Shipped, to edit one of its packages);
* a second confirmation with a ``packageReferenceId`` the order already has *edits* that package (Amazon: "If you
  need to make an edit to the shipment, submit another confirmShipment operation with the same
  packageReferenceID") and answers 204 again; a new package for an order with nothing left to ship is 400 ("order
  already fulfilled");
* on success (204, no body) the items' ``QuantityShipped``, the order's ``NumberOfItemsShipped`` /
  ``NumberOfItemsUnshipped`` and ``OrderStatus`` (PartiallyShipped, then Shipped once every unit is in a package)
  move, ``LastUpdateDate`` is bumped and ORDER_CHANGE is sent.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from connectors.amazon.emulator.common import format_time, invalid_input, parse_time
from connectors.amazon.emulator.orders import StoredOrder
from connectors.amazon.spec_check import validate_body

__all__ = ["apply_confirmation", "order_2026"]

_CONFIRMABLE = frozenset({"Unshipped", "PartiallyShipped", "Shipped"})


def _check(body: Any, path: str, marketplace_id: str, supply_sources: Collection[str]) -> dict[str, Any]:
    problems = validate_body("POST", path, body)
    if problems:
        raise invalid_input(f"The input you have submitted is not valid: {'; '.join(problems[:5])}.", "body")
    if body["marketplaceId"] != marketplace_id:
        raise invalid_input(f"Invalid marketplaceId {body['marketplaceId']!r} for this seller.", "marketplaceId")
    package: dict[str, Any] = body["packageDetail"]
    reference = package["packageReferenceId"]
    if not reference.isdigit() or int(reference) < 1:
        raise invalid_input("PackageReferenceId: is invalid, must be a positive numeric value.", "packageReferenceId")
    try:
        parse_time(package["shipDate"])
    except ValueError:
        raise invalid_input(f"Invalid ISO 8601 date for 'shipDate': {package['shipDate']!r}.", "shipDate") from None
    if package["carrierCode"] == "Other" and not str(package.get("carrierName") or "").strip():
        raise invalid_input("carrierName is required when carrierCode is 'Other'.", "carrierName")
    if not str(package["trackingNumber"]).strip():
        raise invalid_input("trackingNumber must not be empty.", "trackingNumber")
    source = package.get("shipFromSupplySourceId")
    if source is not None and source not in supply_sources:
        raise invalid_input(f"shipFromSupplySourceId {source!r} is not a supply source of this seller.", "body")
    if not package["orderItems"]:
        raise invalid_input("orderItems must list at least one order item.", "orderItems")
    return package


def apply_confirmation(
    stored: StoredOrder,
    body: Any,
    path: str,
    *,
    marketplace_id: str,
    supply_sources: Collection[str],
    now: datetime,
) -> None:
    """Apply one confirmShipment to ``stored`` or raise :class:`ApiError` (see the module docstring)."""
    package = _check(body, path, marketplace_id, supply_sources)
    if stored.status not in _CONFIRMABLE:
        raise invalid_input(f"Order {stored.order_id} is {stored.status}; only unshipped orders can be confirmed.")
    reference = str(int(package["packageReferenceId"]))
    items = {str(item["OrderItemId"]): item for item in stored.items}
    others = {ref: pkg for ref, pkg in stored.packages.items() if ref != reference}
    shipped_elsewhere: dict[str, int] = {}
    for other in others.values():
        for line in other["orderItems"]:
            shipped_elsewhere[line["orderItemId"]] = shipped_elsewhere.get(line["orderItemId"], 0) + line["quantity"]
    if reference not in stored.packages and (
        stored.status == "Shipped"
        or all(shipped_elsewhere.get(item_id, 0) >= int(item["QuantityOrdered"]) for item_id, item in items.items())
    ):
        raise invalid_input(
            "Failed to create package due to not finding a matching package or order already fulfilled."
        )
    wanted: dict[str, int] = {}
    for line in package["orderItems"]:
        item_id = str(line["orderItemId"])
        if item_id not in items:
            raise invalid_input(
                f"OrderItemId {item_id} is invalid, please obtain the value through the getOrderItems API or "
                "Manage Orders page"
            )
        if line["quantity"] < 1:
            raise invalid_input(f"quantity of OrderItemId {item_id} must be at least 1.", "quantity")
        wanted[item_id] = wanted.get(item_id, 0) + int(line["quantity"])
    for item_id, quantity in wanted.items():
        left = int(items[item_id]["QuantityOrdered"]) - shipped_elsewhere.get(item_id, 0)
        if quantity > left:
            raise invalid_input(f"quantity {quantity} of OrderItemId {item_id} is more than the {left} left to ship.")
    stored.packages[reference] = {**package, "packageReferenceId": reference, "createdTime": format_time(now)}
    _settle(stored, now)


def _settle(stored: StoredOrder, now: datetime) -> None:
    shipped: dict[str, int] = {}
    for package in stored.packages.values():
        for line in package["orderItems"]:
            shipped[str(line["orderItemId"])] = shipped.get(str(line["orderItemId"]), 0) + int(line["quantity"])
    total = sum(int(item["QuantityOrdered"]) for item in stored.items)
    done = 0
    for item in stored.items:
        item["QuantityShipped"] = shipped.get(str(item["OrderItemId"]), 0)
        done += item["QuantityShipped"]
    stored.order["NumberOfItemsShipped"] = done
    stored.order["NumberOfItemsUnshipped"] = total - done
    stored.order["OrderStatus"] = "Shipped" if done >= total else "PartiallyShipped"
    stored.order["LastUpdateDate"] = format_time(now)


def order_2026(stored: StoredOrder, included: Collection[str]) -> dict[str, Any]:
    """Orders 2026-01-01 ``GetOrderResponse`` for ``stored``: the required fields, and ``packages`` (each
    confirmed package: ``packageReferenceId``, ``createdTime``, ``packageStatus``, ``carrier``, ``shipTime``,
    ``shippingService``, ``trackingNumber``, ``packageItems``) when ``included`` names ``PACKAGES``."""
    order: dict[str, Any] = {
        "orderId": stored.order_id,
        "createdTime": stored.order["PurchaseDate"],
        "lastUpdatedTime": stored.order["LastUpdateDate"],
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": stored.order["MarketplaceId"]},
        "orderItems": [
            {
                "orderItemId": item["OrderItemId"],
                "quantityOrdered": int(item["QuantityOrdered"]),
                "product": {"asin": item["ASIN"], "sellerSku": item["SellerSKU"], "title": item["Title"]},
            }
            for item in stored.items
        ],
    }
    if "PACKAGES" in included:
        packages = []
        for package in stored.packages.values():
            view: dict[str, Any] = {
                "packageReferenceId": package["packageReferenceId"],
                "createdTime": package["createdTime"],
                "packageStatus": {"status": "SHIPPED"},
                "carrier": package.get("carrierName") or package["carrierCode"],
                "shipTime": format_time(parse_time(package["shipDate"])),
                "trackingNumber": package["trackingNumber"],
                "packageItems": [
                    {"orderItemId": line["orderItemId"], "quantity": line["quantity"]} for line in package["orderItems"]
                ],
            }
            if package.get("shippingMethod"):
                view["shippingService"] = package["shippingMethod"]
            packages.append(view)
        order["packages"] = packages
    return {"order": order}
