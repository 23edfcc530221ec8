"""Shopify webhook deliveries: signature check and the REST payloads they carry. Pure, no I/O.

Shopify signs each HTTPS delivery with ``base64(HMAC-SHA256(app client secret, raw body))`` in
``X-Shopify-Hmac-Sha256``. ``X-Shopify-Webhook-Id`` is the delivery id (the same on Shopify's retries of that
delivery), ``X-Shopify-Event-Id`` the business event (the same across duplicate deliveries of one event). The
body is the REST resource of the topic, with numeric ids; they are turned into gids here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from connectors.shopify.mapper import FULFILLED, gid, parse_time, restock_type
from omnibridge.sdk import MapMessage, MapResult, WebhookDelivery, WebhookError, skip, verify_hmac_base64, warning
from omnibridge.sdk.channel import (
    FulfilmentEvent,
    FulfilmentLineEvent,
    OrderEvent,
    OrderEventKind,
    OrderLineEvent,
    RefundEvent,
    RefundLineEvent,
    RestockType,
)
from omnibridge.sdk.privacy import PrivacyRequestEvent

__all__ = [
    "COMPLIANCE_TOPICS",
    "FULFILLMENT_ORDER_TOPICS",
    "FULFILLMENT_TOPIC",
    "HMAC_HEADER",
    "ORDER_TOPICS",
    "RETURN_AND_PICKUP_TOPICS",
    "TOPICS",
    "InventoryLevelUpdate",
    "fulfillment_order_gid",
    "fulfillment_shipped",
    "moved_fulfillment_order_gid",
    "order_gid",
    "parse_body",
    "parse_cancelled_order",
    "parse_fulfillment",
    "parse_inventory_level",
    "parse_privacy_request",
    "parse_refund",
    "verify",
]

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
ORDER_TOPICS = frozenset({"orders/create", "orders/updated"})
FULFILLMENT_TOPIC = "fulfillments/create"
FULFILLMENT_ORDER_TOPICS = frozenset({"fulfillment_orders/order_routing_complete", "fulfillment_orders/moved"})
"""Shopify routed an order, or a fulfillment order moved: the order is re-read, its lines carry the new locations."""
TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "refunds/create",
    FULFILLMENT_TOPIC,
    "inventory_levels/update",
    "fulfillment_orders/order_routing_complete",
    "fulfillment_orders/moved",
    "fulfillment_orders/line_items_prepared_for_pickup",
    "returns/request",
    "returns/approve",
    "returns/decline",
    "returns/cancel",
    "returns/close",
    "returns/process",
    "reverse_fulfillment_orders/dispose",
)
"""Every topic the connector reads, in the order the docs list them for the app's subscriptions."""
RETURN_AND_PICKUP_TOPICS = frozenset(
    {
        "fulfillment_orders/line_items_prepared_for_pickup",
        "reverse_fulfillment_orders/dispose",
        "returns/request",
        "returns/approve",
        "returns/decline",
        "returns/cancel",
        "returns/close",
        "returns/reopen",
        "returns/update",
        "returns/process",
    }
)
"""Read by :mod:`connectors.shopify.returns_read` (``returns/process`` exists from API 2025-07)."""
COMPLIANCE_TOPICS = {
    "customers/data_request": "data_request",
    "customers/redact": "redact",
    "shop/redact": "shop_redact",
}
"""Shopify's mandatory compliance webhooks (set in the app's configuration, not subscribed by API), signed like
the others, and the kind of privacy request each one is."""


def verify(
    raw_body: bytes, headers: Mapping[str, str], secret: SecretStr | None, *, received_at: datetime
) -> WebhookDelivery:
    """Check a delivery's HMAC and identify it, or raise :class:`WebhookError` saying what is wrong (the body's
    content is checked when its events are read, so an authentic but malformed body is kept and dead-lettered).

    The signature is compared in constant time over ``raw_body`` exactly as received. ``secret`` is the app's
    client secret; without one no delivery can be accepted.
    """
    if secret is None or not secret.get_secret_value():
        raise WebhookError("shopify: api_secret is not configured, so webhook signatures cannot be checked")
    lower = {name.lower(): value for name, value in headers.items()}
    signature = lower.get(HMAC_HEADER.lower())
    if not signature:
        raise WebhookError(f"shopify: missing {HMAC_HEADER} header (unsigned delivery)")
    if not verify_hmac_base64(secret, raw_body, signature):
        raise WebhookError(f"shopify: {HMAC_HEADER} does not match the body (forged, altered or wrong secret)")
    delivery_id = lower.get("x-shopify-webhook-id", "").strip()
    topic = lower.get("x-shopify-topic", "").strip()
    if not delivery_id:
        raise WebhookError("shopify: missing X-Shopify-Webhook-Id header")
    if not topic:
        raise WebhookError("shopify: missing X-Shopify-Topic header")
    # An authentic body that is not JSON is still kept: it is dead-lettered with the reason when processed
    # (webhook_events parses it), never refused, so it can be inspected and replayed.
    event_id = lower.get("x-shopify-event-id", "").strip() or None
    return WebhookDelivery(delivery_id, event_id, topic, raw_body, headers, received_at)


def parse_privacy_request(delivery: WebhookDelivery, body: Mapping[str, Any]) -> MapResult[PrivacyRequestEvent]:
    """A compliance webhook (:data:`COMPLIANCE_TOPICS`) → :class:`PrivacyRequestEvent`, identified by the delivery
    id (the same on Shopify's retries). ``customer.id`` becomes a Customer gid, the order ids Order gids."""
    kind = COMPLIANCE_TOPICS.get(delivery.topic)
    if kind is None:
        return skip(f"{delivery.topic} is not a compliance topic", field_path="topic")
    customer = body.get("customer")
    customer = customer if isinstance(customer, Mapping) else {}
    if kind != "shop_redact" and customer.get("id") in (None, "") and not customer.get("email"):
        return skip(
            f"{delivery.topic} payload names no customer (customer.id or customer.email)", field_path="customer"
        )
    orders = body.get("orders_to_redact") if kind == "redact" else body.get("orders_requested")
    order_ids = tuple(gid("Order", o) for o in (orders if isinstance(orders, list) else []) if o not in (None, ""))
    email = customer.get("email")
    phone = customer.get("phone")
    shop = body.get("shop_domain")
    return MapResult(
        PrivacyRequestEvent(
            delivery.delivery_id,
            kind,
            delivery.received_at,
            customer_ref=gid("Customer", customer["id"]) if customer.get("id") not in (None, "") else None,
            email=email if isinstance(email, str) and email else None,
            phone=phone if isinstance(phone, str) and phone else None,
            orders=order_ids if kind != "shop_redact" else (),
            shop=shop if isinstance(shop, str) else None,
        ),
        [],
    )


def parse_body(raw_body: bytes) -> dict[str, Any]:
    """The JSON object of a delivery; :class:`WebhookError` if it is not one."""
    try:
        body = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookError(f"shopify: webhook body is not valid JSON ({exc})") from None
    if not isinstance(body, dict):
        raise WebhookError("shopify: webhook body is not a JSON object")
    return body


def order_gid(body: Mapping[str, Any]) -> str | None:
    """The order gid of a REST order payload (``admin_graphql_api_id``, or built from ``id``)."""
    value = body.get("admin_graphql_api_id") or body.get("id")
    return gid("Order", value) if value not in (None, "") else None


def parse_cancelled_order(body: Mapping[str, Any]) -> MapResult[OrderEvent]:
    """An ``orders/cancelled`` REST payload → a CANCELLED :class:`OrderEvent` at ``cancelled_at``."""
    order_id = order_gid(body)
    if order_id is None:
        return skip("order payload has no id", field_path="id")
    cancelled = parse_time(body.get("cancelled_at"))
    if cancelled is None:
        return skip("orders/cancelled payload has no valid cancelled_at", field_path="cancelled_at", record_id=order_id)
    lines: list[OrderLineEvent] = []
    messages: list[MapMessage] = []
    items = body.get("line_items")
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, Mapping) or item.get("id") is None or not isinstance(item.get("quantity"), int):
            messages.append(
                warning("line item without id or quantity", field_path=f"line_items.{index}", record_id=order_id)
            )
            continue
        sku = item.get("sku") if isinstance(item.get("sku"), str) and item.get("sku") else None
        line_id = gid("LineItem", item.get("admin_graphql_api_id") or item["id"])
        lines.append(OrderLineEvent(line_id, sku, int(item["quantity"])))
    total = body.get("total_price")
    currency = body.get("currency")
    event = OrderEvent(
        order_id,
        OrderEventKind.CANCELLED,
        cancelled,
        tuple(lines),
        name=str(body.get("name") or ""),
        currency=currency if isinstance(currency, str) else None,
        total=str(total) if total is not None else None,
        status="cancelled",
    )
    return MapResult(event, messages)


def parse_refund(body: Mapping[str, Any]) -> MapResult[RefundEvent]:
    """A ``refunds/create`` REST payload (``refund_line_items[{line_item_id, quantity, restock_type,
    location_id, line_item{sku}}]``) → :class:`RefundEvent` with gids."""
    refund_value = body.get("admin_graphql_api_id") or body.get("id")
    if refund_value in (None, ""):
        return skip("refund payload has no id", field_path="id")
    refund_id = gid("Refund", refund_value)
    if body.get("order_id") in (None, ""):
        return skip("refund payload has no order_id", field_path="order_id", record_id=refund_id)
    created = parse_time(body.get("created_at")) or parse_time(body.get("processed_at"))
    if created is None:
        return skip("refund payload has no valid created_at", field_path="created_at", record_id=refund_id)
    lines: list[RefundLineEvent] = []
    messages: list[MapMessage] = []
    items = body.get("refund_line_items")
    of_return = isinstance(body.get("return"), Mapping)  # its units come back through the return's dispositions
    for index, item in enumerate(items if isinstance(items, list) else []):
        kind = restock_type(item.get("restock_type")) if isinstance(item, Mapping) else None
        if of_return and kind is not None:
            kind = RestockType.NO_RESTOCK
        if (
            not isinstance(item, Mapping)
            or item.get("line_item_id") is None
            or kind is None
            or not isinstance(item.get("quantity"), int)
        ):
            messages.append(
                warning(
                    "refund line without line_item_id, quantity or known restock_type",
                    field_path=f"refund_line_items.{index}",
                    record_id=refund_id,
                )
            )
            continue
        line_item = item.get("line_item")
        sku = line_item.get("sku") if isinstance(line_item, Mapping) else None
        location = item.get("location_id")
        lines.append(
            RefundLineEvent(
                gid("LineItem", item["line_item_id"]),
                sku if isinstance(sku, str) and sku else None,
                int(item["quantity"]),
                kind,
                gid("Location", location) if location not in (None, "") else None,
            )
        )
    return MapResult(RefundEvent(refund_id, gid("Order", body["order_id"]), created, tuple(lines)), messages)


def fulfillment_shipped(body: Mapping[str, Any]) -> bool:
    """True when a REST fulfillment payload's ``status`` is ``success``: a cancelled, pending, open, failed or
    errored fulfillment moved nothing."""
    status = body.get("status")
    return isinstance(status, str) and status.upper() == FULFILLED


def fulfillment_order_gid(body: Mapping[str, Any]) -> str | None:
    """The gid of the order a REST fulfillment payload belongs to (``order_id``)."""
    value = body.get("order_id")
    return gid("Order", value) if value not in (None, "") else None


def moved_fulfillment_order_gid(body: Mapping[str, Any]) -> str | None:
    """The fulfillment order a ``fulfillment_orders/*`` payload is about: ``fulfillment_order`` (routing complete)
    or ``moved_fulfillment_order`` (moved); its ``id`` is a gid in these payloads, a number is turned into one."""
    for key in ("fulfillment_order", "moved_fulfillment_order", "original_fulfillment_order"):
        holder = body.get(key)
        if isinstance(holder, Mapping) and holder.get("id") not in (None, ""):
            return gid("FulfillmentOrder", holder["id"])
    return None


def parse_fulfillment(body: Mapping[str, Any]) -> MapResult[FulfilmentEvent]:
    """A ``fulfillments/create`` REST payload (``id, order_id, status, created_at, location_id,
    line_items[{id, sku, quantity}], tracking_number, tracking_company``) → :class:`FulfilmentEvent` with gids.

    Each line's ``quantity`` is the units of that line in this fulfillment. Only a ``success`` fulfillment is a
    shipment; any other status is skipped. The payload does not say whether Shopify split a line across locations
    (the order's fulfillment orders do), so line refs are the plain line gids: the client maps a shipment from the
    order it re-reads and uses this only when that order cannot be read.
    """
    value = body.get("admin_graphql_api_id") or body.get("id")
    if value in (None, ""):
        return skip("fulfillment payload has no id", field_path="id")
    fulfillment_id = gid("Fulfillment", value)
    order_id = fulfillment_order_gid(body)
    if order_id is None:
        return skip("fulfillment payload has no order_id", field_path="order_id", record_id=fulfillment_id)
    if not fulfillment_shipped(body):
        return skip(
            f"fulfillment status {body.get('status')} is not a shipment", field_path="status", record_id=fulfillment_id
        )
    created = parse_time(body.get("created_at"))
    if created is None:
        return skip("fulfillment payload has no valid created_at", field_path="created_at", record_id=fulfillment_id)
    location = body.get("location_id")
    location_id = gid("Location", location) if location not in (None, "") else None
    lines: list[FulfilmentLineEvent] = []
    messages: list[MapMessage] = []
    items = body.get("line_items")
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, Mapping) or item.get("id") in (None, "") or not isinstance(item.get("quantity"), int):
            messages.append(
                warning("line item without id or quantity", field_path=f"line_items.{index}", record_id=fulfillment_id)
            )
            continue
        line_id = gid("LineItem", item.get("admin_graphql_api_id") or item["id"])
        sku = item.get("sku") if isinstance(item.get("sku"), str) and item.get("sku") else None
        lines.append(FulfilmentLineEvent(line_id, sku, int(item["quantity"])))
    if not lines:
        return skip("fulfillment payload has no usable line_items", field_path="line_items", record_id=fulfillment_id)
    numbers = body.get("tracking_numbers")
    number = body.get("tracking_number") or (numbers[0] if isinstance(numbers, list) and numbers else None)
    company = body.get("tracking_company")
    event = FulfilmentEvent(
        fulfillment_id,
        order_id,
        created,
        tuple(lines),
        location_id,
        number if isinstance(number, str) and number else None,
        company if isinstance(company, str) and company else None,
    )
    return MapResult(event, messages)


@dataclass(frozen=True, slots=True)
class InventoryLevelUpdate:
    """An ``inventory_levels/update`` payload with gids: the item, location, ``available`` and when."""

    item_id: str
    location_id: str
    available: int | None
    updated_at: datetime | None


def parse_inventory_level(body: Mapping[str, Any]) -> MapResult[InventoryLevelUpdate]:
    """An ``inventory_levels/update`` REST payload → :class:`InventoryLevelUpdate` (numeric ids → gids)."""
    item, location = body.get("inventory_item_id"), body.get("location_id")
    if item in (None, "") or location in (None, ""):
        return skip("inventory level payload lacks inventory_item_id or location_id")
    available = body.get("available")
    return MapResult(
        InventoryLevelUpdate(
            gid("InventoryItem", item),
            gid("Location", location),
            available if isinstance(available, int) else None,
            parse_time(body.get("updated_at")),
        )
    )
