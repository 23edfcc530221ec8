"""Returns and pickups coming in from Shopify: their webhooks and the read-back of an order's returns.

* ``returns/request|approve|decline|cancel|close|reopen|update|process``: the return is read back
  (:data:`~connectors.shopify.returns_queries.RETURN_QUERY`) → one :class:`~omnibridge.sdk.returns.ReturnEvent`;
* ``reverse_fulfillment_orders/dispose`` (dispositions on versions before ``returnProcess``, and staff restocking
  in the admin): its order's returns are read back → their ReturnEvents;
* ``fulfillment_orders/line_items_prepared_for_pickup``: the fulfillment order is read → a READY
  :class:`~omnibridge.sdk.pickup.PickupEvent` (ref ``"<fulfillment order gid>:ready"``) at its location;
* the poll: an order whose ``returnStatus`` is not ``NO_RETURN`` has its returns read back (the first
  :data:`~connectors.shopify.returns_queries.RETURNS_PAGE`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectors.shopify import returns_queries as rq
from connectors.shopify.mapper import gid
from connectors.shopify.returns_map import map_return
from omnibridge.sdk import MapMessage, SkippableRecordError
from omnibridge.sdk.channel import ChannelEvent
from omnibridge.sdk.pickup import PickupEvent, PickupState

if TYPE_CHECKING:
    from connectors.shopify.client import ShopifyClient

__all__ = ["PREPARED_TOPIC", "RETURN_TOPICS", "TOPICS", "order_return_events", "webhook_events"]

RETURN_TOPICS = frozenset(
    {
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
DISPOSE_TOPIC = "reverse_fulfillment_orders/dispose"
PREPARED_TOPIC = "fulfillment_orders/line_items_prepared_for_pickup"
TOPICS = frozenset({*RETURN_TOPICS, DISPOSE_TOPIC, PREPARED_TOPIC})
_CONNECTOR = "shopify"


def _nodes(connection: object) -> list[Mapping[str, Any]]:
    nodes = connection.get("nodes") if isinstance(connection, Mapping) else None
    return [n for n in nodes if isinstance(n, Mapping)] if isinstance(nodes, list) else []


def _gid(body: Mapping[str, Any], kind: str) -> str | None:
    value = body.get("admin_graphql_api_id") or body.get("id")
    return gid(kind, value) if value not in (None, "") else None


async def order_return_events(
    client: ShopifyClient, order_id: str, op: str, when: datetime, messages: list[MapMessage] | None = None
) -> list[ChannelEvent]:
    """The ReturnEvents of an order's returns (mapping problems go to ``messages``, or raise when None)."""
    data = await client.graphql(op, rq.ORDER_RETURNS_QUERY, {"id": order_id})
    order = data.get("order")
    events: list[ChannelEvent] = []
    for node in _nodes(order.get("returns") if isinstance(order, Mapping) else None):
        result = map_return(node, when)
        if messages is not None:
            messages.extend(result.messages)
        elif result.value is None:
            reason = "; ".join(m.message for m in result.messages)
            raise SkippableRecordError(reason, connector=_CONNECTOR, op=op, record_id=str(node.get("id")))
        if result.value is not None:
            events.append(result.value)
    return events


async def webhook_events(
    client: ShopifyClient, topic: str, body: Mapping[str, Any], when: datetime
) -> list[ChannelEvent]:
    """The events of a verified delivery of one of :data:`TOPICS`."""
    op = f"webhook {topic}"
    if topic in RETURN_TOPICS:
        return_id = _gid(body, "Return")
        if return_id is None:
            raise SkippableRecordError("return payload has no id", connector=_CONNECTOR, op=op)
        data = await client.graphql(op, rq.RETURN_QUERY, {"id": return_id})
        node = data.get("return")
        if not isinstance(node, Mapping):
            return []
        result = map_return(node, when)
        if result.value is None:
            reason = "; ".join(m.message for m in result.messages)
            raise SkippableRecordError(reason, connector=_CONNECTOR, op=op, record_id=return_id)
        return [result.value]
    if topic == DISPOSE_TOPIC:
        reverse_id = _gid(body, "ReverseFulfillmentOrder")
        if reverse_id is None:
            raise SkippableRecordError("reverse fulfillment order payload has no id", connector=_CONNECTOR, op=op)
        data = await client.graphql(op, rq.REVERSE_ORDER_QUERY, {"id": reverse_id})
        reverse = data.get("reverseFulfillmentOrder")
        order = reverse.get("order") if isinstance(reverse, Mapping) else None
        order_id = order.get("id") if isinstance(order, Mapping) else None
        return await order_return_events(client, order_id, op, when) if isinstance(order_id, str) else []
    return await _prepared(client, body, op, when)


async def _prepared(client: ShopifyClient, body: Mapping[str, Any], op: str, when: datetime) -> list[ChannelEvent]:
    holder = body.get("fulfillment_order")
    fo_id = _gid(holder, "FulfillmentOrder") if isinstance(holder, Mapping) else None
    if fo_id is None:
        raise SkippableRecordError("fulfillment order payload has no id", connector=_CONNECTOR, op=op)
    data = await client.graphql(op, rq.PICKUP_FULFILLMENT_ORDER_QUERY, {"id": fo_id})
    fo = data.get("fulfillmentOrder")
    if not isinstance(fo, Mapping) or not isinstance(fo.get("orderId"), str):
        return []
    method = fo.get("deliveryMethod")
    if not isinstance(method, Mapping) or method.get("methodType") != "PICK_UP":
        return []
    assigned = fo.get("assignedLocation")
    location = assigned.get("location") if isinstance(assigned, Mapping) else None
    lines = tuple(
        str(item["lineItem"]["id"])
        for item in _nodes(fo.get("lineItems"))
        if isinstance(item.get("lineItem"), Mapping) and item["lineItem"].get("id")
    )
    return [
        PickupEvent(
            f"{fo_id}:ready",
            str(fo["orderId"]),
            PickupState.READY,
            when,
            location_ref=str(location["id"]) if isinstance(location, Mapping) and location.get("id") else None,
            line_refs=lines,
        )
    ]
