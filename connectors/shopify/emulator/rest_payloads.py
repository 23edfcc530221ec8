"""REST resource shapes that Shopify sends as webhook bodies (api-contracts §1.8): numeric ids plus
``admin_graphql_api_id``, timestamps in the shop's time zone (``2025-04-22T14:30:00-04:00``), money as strings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from connectors.shopify.emulator.state import (
    Fulfillment,
    Level,
    LineItem,
    Order,
    Refund,
    ShippingAddress,
    ShopState,
)

__all__ = [
    "fulfillment_payload",
    "gid",
    "graphql_time",
    "inventory_level_payload",
    "order_payload",
    "refund_payload",
    "rest_time",
]


def gid(kind: str, numeric: int) -> str:
    return f"gid://shopify/{kind}/{numeric}"


def level_gid(level: Level) -> str:
    # Shopify's InventoryLevel gid carries the item as a query parameter.
    return f"gid://shopify/InventoryLevel/{level.location_id}?inventory_item_id={level.item_id}"


def rest_time(moment: datetime | None, offset_minutes: int) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone(timedelta(minutes=offset_minutes))).isoformat(timespec="seconds")


def graphql_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def inventory_level_payload(level: Level, offset_minutes: int) -> dict[str, Any]:
    """``inventory_levels/update``: only ``available`` is included, not the other quantity names."""
    return {
        "inventory_item_id": level.item_id,
        "location_id": level.location_id,
        "available": level.get("available"),
        "updated_at": rest_time(level.updated_at, offset_minutes),
        "admin_graphql_api_id": level_gid(level),
    }


def _money_set(amount: str, currency: str) -> dict[str, Any]:
    money = {"amount": amount, "currency_code": currency}
    return {"shop_money": money, "presentment_money": dict(money)}


def _line_item(li: LineItem, currency: str, cancelled: bool) -> dict[str, Any]:
    fulfillable = 0 if cancelled else li.open_quantity
    return {
        "id": li.id,
        "admin_graphql_api_id": gid("LineItem", li.id),
        "variant_id": li.variant_id,
        "product_id": li.product_id,
        "sku": li.sku,
        "name": li.title,
        "title": li.title,
        "variant_title": None,
        "quantity": li.quantity,
        "current_quantity": li.quantity - li.refunded,
        "price": li.price,
        "price_set": _money_set(li.price, currency),
        "fulfillable_quantity": fulfillable,
        "fulfillment_status": ("fulfilled" if li.fulfilled == li.quantity else ("partial" if li.fulfilled else None)),
        "fulfillment_service": "manual",
        "requires_shipping": True,
        "taxable": True,
        "gift_card": False,
        "total_discount": "0.00",
        "vendor": None,
        "properties": [],
    }


def order_payload(state: ShopState, order: Order, offset_minutes: int, currency: str) -> dict[str, Any]:
    """The REST Order (``orders/create``, ``orders/cancelled``...)."""
    cancelled = order.cancelled_at is not None
    fulfilled = sum(li.fulfilled for li in order.line_items)
    total = sum(li.quantity for li in order.line_items)
    return {
        "id": order.id,
        "admin_graphql_api_id": gid("Order", order.id),
        "name": order.name,
        "order_number": order.number,
        "number": order.number - 1000,
        "email": order.email,
        "created_at": rest_time(order.created_at, offset_minutes),
        "updated_at": rest_time(order.updated_at, offset_minutes),
        "processed_at": rest_time(order.created_at, offset_minutes),
        "cancelled_at": rest_time(order.cancelled_at, offset_minutes),
        "cancel_reason": order.cancel_reason,
        "closed_at": rest_time(order.closed_at, offset_minutes),
        "currency": currency,
        "presentment_currency": currency,
        "financial_status": order.financial_status,
        "fulfillment_status": None if fulfilled == 0 else ("fulfilled" if fulfilled == total else "partial"),
        "total_price": order.total_price,
        "subtotal_price": order.total_price,
        "total_tax": "0.00",
        "total_discounts": "0.00",
        "total_price_set": _money_set(order.total_price, currency),
        "confirmed": True,
        "test": False,
        "source_name": order.source_name,
        "tags": "",
        "note": None,
        "location_id": None,
        "line_items": [_line_item(li, currency, cancelled) for li in order.line_items],
        "refunds": [refund_payload(state, order, r, offset_minutes, currency) for r in order.refunds],
        "fulfillments": [fulfillment_payload(order, f, offset_minutes, currency) for f in order.fulfillments],
        "shipping_address": shipping_address_payload(order.shipping_address),
        "customer": {
            "id": 7_300_000_000_001,
            "email": order.email,
            "admin_graphql_api_id": gid("Customer", 7_300_000_000_001),
        },
    }


def shipping_address_payload(address: ShippingAddress | None) -> dict[str, Any] | None:
    """The REST ``shipping_address`` object (None when the order ships nowhere)."""
    if address is None:
        return None
    return {
        "first_name": address.first_name,
        "last_name": address.last_name,
        "name": address.name,
        "address1": address.address1,
        "address2": address.address2,
        "city": address.city,
        "province_code": address.province_code,
        "zip": address.zip,
        "country_code": address.country_code,
        "phone": address.phone,
        "latitude": address.latitude,
        "longitude": address.longitude,
    }


def refund_payload(
    state: ShopState, order: Order, refund: Refund, offset_minutes: int, currency: str
) -> dict[str, Any]:
    """The REST Refund (``refunds/create``)."""
    by_id = {li.id: li for li in order.line_items}
    lines = []
    for line in refund.lines:
        li = by_id[line.line_item_id]
        subtotal = f"{float(li.price) * line.quantity:.2f}"
        lines.append(
            {
                "id": line.id,
                "line_item_id": line.line_item_id,
                "location_id": line.location_id,
                "quantity": line.quantity,
                "restock_type": line.restock_type,
                "subtotal": subtotal,
                "subtotal_set": _money_set(subtotal, currency),
                "total_tax": "0.00",
                "total_tax_set": _money_set("0.00", currency),
                "line_item": _line_item(li, currency, order.cancelled_at is not None),
            }
        )
    payload: dict[str, Any] = {
        "id": refund.id,
        "admin_graphql_api_id": gid("Refund", refund.id),
        "order_id": order.id,
        "created_at": rest_time(refund.created_at, offset_minutes),
        "processed_at": rest_time(refund.created_at, offset_minutes),
        "note": refund.note,
        "restock": any(line.restocked for line in refund.lines),
        "user_id": None,
        "duties": [],
        "additional_fees": [],
        "order_adjustments": [],
        "transactions": [],
        "refund_line_items": lines,
    }
    if refund.return_id is not None:
        payload["return"] = {"id": refund.return_id, "admin_graphql_api_id": gid("Return", refund.return_id)}
    return payload


def fulfillment_payload(order: Order, fulfillment: Fulfillment, offset_minutes: int, currency: str) -> dict[str, Any]:
    """The REST Fulfillment (``fulfillments/create``, and each of an order's ``fulfillments``): its ``line_items``
    are the order's line items with ``quantity`` the units of this fulfillment."""
    by_id = {li.id: li for li in order.line_items}
    lines = []
    for line in fulfillment.lines:
        item = _line_item(by_id[line.line_item_id], currency, order.cancelled_at is not None)
        item["quantity"] = line.quantity
        lines.append(item)
    created = rest_time(fulfillment.created_at, offset_minutes)
    return {
        "id": fulfillment.id,
        "admin_graphql_api_id": gid("Fulfillment", fulfillment.id),
        "order_id": order.id,
        "name": f"{order.name}.{fulfillment.number}",
        "status": fulfillment.status,
        "created_at": created,
        "updated_at": created,
        "service": "manual",
        "location_id": fulfillment.location_id,
        "origin_address": None,
        "shipment_status": None,
        "tracking_company": fulfillment.tracking_company,
        "tracking_number": fulfillment.tracking_number,
        "tracking_numbers": [fulfillment.tracking_number] if fulfillment.tracking_number else [],
        "tracking_url": fulfillment.tracking_url,
        "tracking_urls": [fulfillment.tracking_url] if fulfillment.tracking_url else [],
        "receipt": {},
        "line_items": lines,
    }
