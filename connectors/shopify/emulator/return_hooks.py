"""Webhook payloads of local pickup and returns (the REST-style bodies Shopify sends; only ids and statuses, which
is what a receiver needs to read the object back)."""

from __future__ import annotations

from typing import Any

from connectors.shopify.emulator.fulfillment_orders import fulfillment_order_status
from connectors.shopify.emulator.rest_payloads import gid
from connectors.shopify.emulator.return_state import ReturnRecord
from connectors.shopify.emulator.state import FulfillmentOrder, Order

__all__ = ["prepared_payload", "return_payload"]


def _order_ref(order: Order) -> dict[str, Any]:
    return {"id": order.id, "admin_graphql_api_id": gid("Order", order.id)}


def return_payload(topic: str, order: Order, record: ReturnRecord) -> dict[str, Any]:
    """The body of ``returns/*`` (the return), ``reverse_fulfillment_orders/dispose`` and
    ``reverse_deliveries/attach_deliverable`` (the reverse fulfillment order, with its order)."""
    if topic.startswith("returns/"):
        return {
            "id": record.id,
            "admin_graphql_api_id": gid("Return", record.id),
            "name": record.name,
            "status": record.status.lower(),
            "order_id": order.id,
            "order": _order_ref(order),
        }
    return {
        "id": record.reverse_fo_id,
        "admin_graphql_api_id": gid("ReverseFulfillmentOrder", record.reverse_fo_id or 0),
        "order_id": order.id,
        "order": _order_ref(order),
    }


def prepared_payload(order: Order, fo: FulfillmentOrder) -> dict[str, Any]:
    """The body of ``fulfillment_orders/line_items_prepared_for_pickup``."""
    return {
        "fulfillment_order": {
            "id": gid("FulfillmentOrder", fo.id),
            "status": fulfillment_order_status(order, fo).lower(),
            "preparable": False,
        }
    }
