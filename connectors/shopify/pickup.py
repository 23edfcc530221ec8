"""Tell Shopify how a local pickup stands (implements :class:`~omnibridge.sdk.pickup.PickupStatusWriter` for
:class:`~connectors.shopify.client.ShopifyClient`; fulfilment-contracts A2).

The pickup is the order's ``PICK_UP`` fulfillment orders (at ``update.location_ref`` when it names one); the whole
of them is meant (Shopify prepares and hands over fulfillment orders, not single units):

* READY → ``fulfillmentOrderLineItemsPreparedForPickup`` for the open ones (Shopify emails the customer);
  already prepared (``IN_PROGRESS``: Shopify has no status of its own for "prepared") → ``duplicate``;
* COLLECTED → ``fulfillmentCreate`` of their remaining units, without tracking; nothing left and closed →
  ``duplicate``;
* CANCELLED, EXPIRED → ``orderCancel`` of the order (restocked, no refund, as
  :meth:`~connectors.shopify.client.ShopifyClient.cancel_order`): ``fulfillmentOrderCancel`` is only for
  fulfillment-service requests, so a merchant-managed pickup is cancelled with its order; an order that also
  ships (an open fulfillment order that is not a pickup) is refused rather than cancelled whole. Already
  cancelled → ``duplicate``.

Shopify has no pickup windows nor a "reserved" step, and no "rejected by the store" (a store that cannot fill it
is a move of the fulfillment order, :meth:`~connectors.shopify.client.ShopifyClient.assign_lines`): those states
are not in :data:`PICKUP_STATES` and are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connectors.shopify import fulfilment_queries as fq
from connectors.shopify import returns_queries as rq
from connectors.shopify.fulfilment_assign import user_errors
from omnibridge.sdk import FatalConnectorError
from omnibridge.sdk.pickup import PickupState, PickupUpdate, PickupUpdateResult

if TYPE_CHECKING:
    from connectors.shopify.client import ShopifyClient

__all__ = ["PICKUP_STATES", "update_pickup"]

PICKUP_STATES = frozenset({PickupState.READY, PickupState.COLLECTED, PickupState.CANCELLED, PickupState.EXPIRED})
"""What Shopify can show of a pickup."""
_OP = "update_pickup"
_ORDER_GID = "gid://shopify/Order/"
_DONE = frozenset({"CLOSED", "CANCELLED", "INCOMPLETE"})


def _nodes(connection: object) -> list[Mapping[str, Any]]:
    nodes = connection.get("nodes") if isinstance(connection, Mapping) else None
    return [n for n in nodes if isinstance(n, Mapping)] if isinstance(nodes, list) else []


def _location(fo: Mapping[str, Any]) -> str | None:
    assigned = fo.get("assignedLocation")
    location = assigned.get("location") if isinstance(assigned, Mapping) else None
    return str(location["id"]) if isinstance(location, Mapping) and location.get("id") else None


def _is_pickup(fo: Mapping[str, Any]) -> bool:
    method = fo.get("deliveryMethod")
    return isinstance(method, Mapping) and method.get("methodType") == "PICK_UP"


async def update_pickup(client: ShopifyClient, update: PickupUpdate) -> PickupUpdateResult:
    """See the module docstring; infrastructure errors raise (the caller repeats the same update)."""
    if update.state not in PICKUP_STATES:
        shown = ", ".join(sorted(PICKUP_STATES))
        return PickupUpdateResult(False, message=f"Shopify cannot show a pickup as {update.state}: expected {shown}")
    ref = update.order_ref
    if not ref.startswith(_ORDER_GID) or not ref[len(_ORDER_GID) :].isdigit():
        return PickupUpdateResult(False, message=f"{ref!r} is not a Shopify order id: expected {_ORDER_GID}<number>")
    data = await client.graphql(_OP, rq.PICKUP_ORDER_QUERY, {"id": ref})
    order = data.get("order")
    if not isinstance(order, Mapping):
        return PickupUpdateResult(False, message=f"Shopify has no order {ref}")
    fos = _nodes(order.get("fulfillmentOrders"))
    pickups = [fo for fo in fos if _is_pickup(fo) and update.location_ref in (None, _location(fo))]
    if not pickups:
        where = f" at {update.location_ref}" if update.location_ref else ""
        return PickupUpdateResult(False, message=f"order {ref} has no local pickup fulfillment order{where}")
    if update.state in (PickupState.CANCELLED, PickupState.EXPIRED):
        return await _cancel(client, update, order, fos)
    if order.get("cancelledAt"):
        return PickupUpdateResult(False, message=f"order {ref} is cancelled on Shopify")
    if update.state is PickupState.READY:
        return await _ready(client, pickups)
    return await _collected(client, pickups)


async def _ready(client: ShopifyClient, pickups: list[Mapping[str, Any]]) -> PickupUpdateResult:
    waiting = [fo for fo in pickups if fo.get("status") == "OPEN"]
    if not waiting:
        if all(fo.get("status") == "IN_PROGRESS" for fo in pickups):
            return PickupUpdateResult(True, duplicate=True, message="already prepared for pickup on Shopify")
        statuses = ", ".join(sorted({str(fo.get("status")) for fo in pickups}))
        return PickupUpdateResult(False, message=f"the pickup cannot be prepared: fulfillment order status {statuses}")
    variables = {"input": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]} for fo in waiting]}}
    data = await client.graphql(_OP, rq.PREPARED_FOR_PICKUP_MUTATION, variables, idempotent=True)
    problem = user_errors(data.get("fulfillmentOrderLineItemsPreparedForPickup"))
    if problem:
        return PickupUpdateResult(False, message=f"Shopify refused to prepare the pickup: {problem}")
    return PickupUpdateResult(True)


async def _collected(client: ShopifyClient, pickups: list[Mapping[str, Any]]) -> PickupUpdateResult:
    pairs = [
        {
            "fulfillmentOrderId": fo["id"],
            "fulfillmentOrderLineItems": [
                {"id": line["id"], "quantity": line["remainingQuantity"]}
                for line in _nodes(fo.get("lineItems"))
                if isinstance(line.get("remainingQuantity"), int) and line["remainingQuantity"] > 0
            ],
        }
        for fo in pickups
        if fo.get("status") not in _DONE
    ]
    pairs = [pair for pair in pairs if pair["fulfillmentOrderLineItems"]]
    if not pairs:
        if any(fo.get("status") == "CLOSED" for fo in pickups):
            return PickupUpdateResult(True, duplicate=True, message="already collected on Shopify")
        return PickupUpdateResult(False, message="the pickup has nothing left to hand over on Shopify")
    fulfillment = {"lineItemsByFulfillmentOrder": pairs, "notifyCustomer": client.settings.notify_customer}
    data = await client.graphql(_OP, fq.FULFILLMENT_CREATE_MUTATION, {"fulfillment": fulfillment})
    payload = data.get("fulfillmentCreate")
    problem = user_errors(payload)
    if problem or not isinstance(payload, Mapping) or not isinstance(payload.get("fulfillment"), Mapping):
        return PickupUpdateResult(False, message=f"Shopify refused the collection: {problem or 'no fulfillment'}")
    return PickupUpdateResult(True)


async def _cancel(
    client: ShopifyClient, update: PickupUpdate, order: Mapping[str, Any], fos: list[Mapping[str, Any]]
) -> PickupUpdateResult:
    if order.get("cancelledAt"):
        return PickupUpdateResult(True, duplicate=True, message="the order is already cancelled on Shopify")
    ships = [fo for fo in fos if not _is_pickup(fo) and fo.get("status") not in _DONE]
    if ships:
        return PickupUpdateResult(
            False,
            message=f"order {update.order_ref} also ships from fulfillment order {ships[0].get('id')}: Shopify "
            "cancels a pickup only with its whole order, so cancel or refund it in the Shopify admin",
        )
    reason = update.reason or f"pickup {update.state}"
    try:
        await client.cancel_order(update.order_ref, reason)
    except FatalConnectorError as error:
        return PickupUpdateResult(False, message=str(error))
    return PickupUpdateResult(True)
