"""An ``orders/create`` or ``orders/updated`` webhook mapped from its payload plus one small read. Pure, no I/O.

The REST order a webhook carries already has what :func:`~connectors.shopify.mapper.map_order` reads of the
order itself: its lines (ids, SKUs, quantities, prices; REST ``line_items`` are never paged), times, total, ship-to
address, fulfillments (location, tracking, lines) and refunds (lines, restock types, locations, return). It lacks
the fulfillment orders, which give each line its assigned location (and split lines their refs) and say whether the
order is a local pickup. So the connector reads only those, with :data:`ORDER_ROUTING_QUERY` sized by the payload:
``17 + 4 x lines`` points (21 for a one-line order) where the lean whole-order read costs 116 and ``ORDER_QUERY``
992 (api-contracts §1.7; costs from the emulator's calculator, the same rules as Shopify's).

:func:`order_node` turns the payload into the GraphQL ``Order`` node the mapper reads, so both paths give the same
events; it answers None when the payload lacks something (``include_fields`` trimmed it, a line has no id), and
:func:`with_routing` None when the fulfillment orders do not fit the page: the caller then reads a larger page
(:data:`ROUTING_PAGES`) or, past that or the cost cap, the order. The routing read also asks the order's
``updatedAt``, ``cancelledAt`` and its fulfillment and refund ids (2 points); a payload older than the order
(:func:`changed_since`) is not used either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.shopify.mapper import gid, parse_time

__all__ = ["ORDER_ROUTING_QUERY", "ROUTING_PAGES", "changed_since", "order_node", "routing_variables", "with_routing"]

ROUTING_PAGES = (2, 10)
"""Fulfillment orders read with a webhook's order (one per location, so two cover an order split once); when
there are more, one more read of up to ten (within the cost cap), then the order read."""

# FulfillmentOrder.lineItems holds at most one entry per order line, so a page as large as the order's line count
# is never truncated and needs no pageInfo.
ORDER_ROUTING_QUERY = """\
query OrderRouting($id: ID!, $fulfillmentOrders: Int!, $lines: Int!) {
  order(id: $id) {
    updatedAt
    cancelledAt
    fulfillments { id }
    refunds { id }
    fulfillmentOrders(first: $fulfillmentOrders) {
      nodes {
        status
        deliveryMethod { methodType }
        assignedLocation { location { id } }
        lineItems(first: $lines) { nodes { lineItem { id } totalQuantity } }
      }
      pageInfo { hasNextPage }
    }
  }
}"""

_REQUIRED = ("id", "created_at", "line_items", "fulfillments", "refunds")


def _money(amount: object, currency: object = None) -> dict[str, Any] | None:
    if amount is None:
        return None
    shop: dict[str, Any] = {"amount": str(amount)}
    if currency is not None:
        shop["currencyCode"] = currency
    return {"shopMoney": shop}


def _location(value: object) -> dict[str, str] | None:
    return {"id": gid("Location", value)} if value not in (None, "") else None


def _line(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": gid("LineItem", item.get("admin_graphql_api_id") or item["id"]), "sku": item.get("sku")}


def _address(raw: object) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        return None
    names = {"provinceCode": "province_code", "countryCodeV2": "country_code"}
    keys = ("name", "address1", "address2", "city", "provinceCode", "zip", "countryCodeV2", "phone")
    address = {key: raw.get(names.get(key, key)) for key in keys}
    address.update(latitude=raw.get("latitude"), longitude=raw.get("longitude"))
    return address


def _fulfillment(raw: Mapping[str, Any]) -> dict[str, Any]:
    status = raw.get("status")
    number, company = raw.get("tracking_number"), raw.get("tracking_company")
    return {
        "id": gid("Fulfillment", raw.get("admin_graphql_api_id") or raw["id"]),
        "status": status.upper() if isinstance(status, str) else status,
        "createdAt": raw.get("created_at"),
        "location": _location(raw.get("location_id")),
        "trackingInfo": [{"number": number, "company": company}] if number or company else [],
        "fulfillmentLineItems": {
            "nodes": [{"quantity": item.get("quantity"), "lineItem": _line(item)} for item in raw["line_items"]],
            "pageInfo": {"hasNextPage": False},
        },
    }


def _refund(raw: Mapping[str, Any]) -> dict[str, Any]:
    lines = []
    for item in raw["refund_line_items"]:
        line_item = item.get("line_item") if isinstance(item.get("line_item"), Mapping) else {}
        kind = item.get("restock_type")
        lines.append(
            {
                "lineItem": {"id": gid("LineItem", item["line_item_id"]), "sku": line_item.get("sku")},
                "quantity": item.get("quantity"),
                "restockType": kind.upper() if isinstance(kind, str) else kind,
                "location": _location(item.get("location_id")),
            }
        )
    returned = raw.get("return")
    return {
        "id": gid("Refund", raw.get("admin_graphql_api_id") or raw["id"]),
        "createdAt": raw.get("created_at") or raw.get("processed_at"),
        "return": {"id": gid("Return", returned.get("admin_graphql_api_id") or returned.get("id"))}
        if isinstance(returned, Mapping)
        else None,
        "refundLineItems": {"nodes": lines, "pageInfo": {"hasNextPage": False}},
    }


def _complete(body: Mapping[str, Any]) -> bool:
    if any(key not in body for key in _REQUIRED) or body.get("id") in (None, ""):
        return False
    lines, fulfillments, refunds = body["line_items"], body["fulfillments"], body["refunds"]
    if not all(isinstance(value, list) for value in (lines, fulfillments, refunds)):
        return False
    for item in [*lines, *(line for f in fulfillments if isinstance(f, Mapping) for line in f.get("line_items", ()))]:
        if not isinstance(item, Mapping) or item.get("id") in (None, "") or not isinstance(item.get("quantity"), int):
            return False
    for fulfillment in fulfillments:
        if not isinstance(fulfillment, Mapping) or fulfillment.get("id") in (None, ""):
            return False
        if not isinstance(fulfillment.get("line_items"), list):
            return False
    for refund in refunds:
        if not isinstance(refund, Mapping) or refund.get("id") in (None, ""):
            return False
        items = refund.get("refund_line_items")
        if not isinstance(items, list) or any(
            not isinstance(item, Mapping) or item.get("line_item_id") in (None, "") for item in items
        ):
            return False
    return True


def order_node(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The GraphQL ``Order`` node (the fields :func:`~connectors.shopify.mapper.map_order` reads, without
    ``fulfillmentOrders``) of a REST order payload; None when the payload lacks any of it."""
    if not _complete(body):
        return None
    currency = body.get("currency")
    return {
        "id": gid("Order", body.get("admin_graphql_api_id") or body["id"]),
        "name": body.get("name"),
        "createdAt": body.get("created_at"),
        "updatedAt": body.get("updated_at"),
        "cancelledAt": body.get("cancelled_at"),
        "currencyCode": currency,
        "totalPriceSet": _money(body.get("total_price"), currency),
        "shippingAddress": _address(body.get("shipping_address")),
        "lineItems": {
            "nodes": [
                {**_line(item), "quantity": item["quantity"], "originalUnitPriceSet": _money(item.get("price"))}
                for item in body["line_items"]
            ],
            "pageInfo": {"hasNextPage": False},
        },
        "fulfillments": [_fulfillment(f) for f in body["fulfillments"]],
        "refunds": [_refund(r) for r in body["refunds"]],
    }


def routing_variables(node: Mapping[str, Any], fulfillment_orders: int) -> dict[str, Any]:
    """:data:`ORDER_ROUTING_QUERY`'s variables for an :func:`order_node` and a page of ``fulfillment_orders``; the
    fulfillment-order lines page is as large as the order's line count (at least 1)."""
    return {
        "id": node["id"],
        "fulfillmentOrders": fulfillment_orders,
        "lines": max(1, len(node["lineItems"]["nodes"])),
    }


def changed_since(node: Mapping[str, Any], order: Mapping[str, Any]) -> bool:
    """True when the order changed after its payload was sent: ``updatedAt`` differs from the payload's
    ``updated_at`` (or either is missing), or, as times have whole seconds, it was cancelled, fulfilled or refunded
    since. A late or retried delivery (Shopify retries with the original payload) is then mapped from the order as
    it is now, as the poll would, so a cancellation or refund made since is not lost behind the stale payload."""
    then, now = parse_time(node.get("updatedAt")), parse_time(order.get("updatedAt"))
    if then is None or now is None or then != now:
        return True
    if (node.get("cancelledAt") is None) != (order.get("cancelledAt") is None):
        return True
    return any(
        not isinstance(order.get(name), list) or len(order[name]) != len(node[name])
        for name in ("fulfillments", "refunds")
    )


def with_routing(node: Mapping[str, Any], order: Mapping[str, Any]) -> dict[str, Any] | None:
    """``node`` with the ``fulfillmentOrders`` of the routing read's ``order``; None when they did not fit the
    page (read the whole order instead)."""
    connection = order.get("fulfillmentOrders")
    if not isinstance(connection, Mapping):
        return None
    page = connection.get("pageInfo")
    if not isinstance(page, Mapping) or page.get("hasNextPage") is not False:
        return None
    fulfillment_orders = []
    for fo in connection.get("nodes") or []:
        lines = fo.get("lineItems") if isinstance(fo, Mapping) else None
        # mapper.needs_full_order reads pageInfo; this page cannot be truncated (see ORDER_ROUTING_QUERY)
        paged = {**lines, "pageInfo": {"hasNextPage": False}} if isinstance(lines, Mapping) else lines
        fulfillment_orders.append({**fo, "lineItems": paged})
    return {**node, "fulfillmentOrders": {"nodes": fulfillment_orders, "pageInfo": {"hasNextPage": False}}}
