"""``fulfillmentOrderLineItemsPreparedForPickup``: staff say a local pickup is ready (fulfilment-contracts A2).

Each named fulfillment order must be a ``PICK_UP`` one that is still open (not closed, cancelled or on hold) with
units left; otherwise a user error with ``FulfillmentOrderLineItemsPreparedForPickupUserErrorCode``
(``FULFILLMENT_ORDER_INVALID``, ``NO_LINE_ITEMS_TO_PREPARE_FOR_FULFILLMENT_ORDER``) and nothing changes. A prepared
fulfillment order shows ``IN_PROGRESS`` (an emulator model: Shopify documents no "prepared" status of its own);
preparing it again is accepted and changes nothing. Each newly prepared one fires
``fulfillment_orders/line_items_prepared_for_pickup`` through ``on_prepared``. Collection is ``fulfillmentCreate``
on the same fulfillment order (no tracking).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo

from connectors.shopify.emulator.fulfillment_orders import fulfillment_order_status
from connectors.shopify.emulator.resolvers import parse_gid
from connectors.shopify.emulator.state import FulfillmentOrder, Order, ShopState

__all__ = ["PickupMutations"]


class PickupMutations:
    """Mutation root values for local pickup."""

    def __init__(self, state: ShopState, on_prepared: Callable[[Order, FulfillmentOrder], object]) -> None:
        self.state = state
        self._on_prepared = on_prepared

    def root(self) -> dict[str, Any]:
        return {"fulfillmentOrderLineItemsPreparedForPickup": self.prepared}

    def prepared(self, info: GraphQLResolveInfo[Any], input: dict[str, Any]) -> dict[str, Any]:
        del info
        chosen: list[tuple[Order, FulfillmentOrder]] = []
        for index, item in enumerate(input.get("lineItemsByFulfillmentOrder") or ()):
            field = ["input", "lineItemsByFulfillmentOrder", str(index), "fulfillmentOrderId"]
            numeric = parse_gid(item.get("fulfillmentOrderId"), "FulfillmentOrder")
            found = self.state.fulfillment_order(numeric) if numeric is not None else None
            if found is None:
                return _refused("FULFILLMENT_ORDER_INVALID", "Fulfillment order does not exist.", field)
            order, fo = found
            status = fulfillment_order_status(order, fo)
            if fo.delivery_method != "PICK_UP":
                return _refused("FULFILLMENT_ORDER_INVALID", "Fulfillment order is not a local pickup.", field)
            if status not in ("OPEN", "IN_PROGRESS"):
                return _refused(
                    "FULFILLMENT_ORDER_INVALID", f"Fulfillment order has an unpreparable status: {status}.", field
                )
            if fo.remaining == 0:
                return _refused(
                    "NO_LINE_ITEMS_TO_PREPARE_FOR_FULFILLMENT_ORDER", "No line items to prepare for pickup.", field
                )
            chosen.append(found)
        for order, fo in chosen:
            if not fo.prepared:
                fo.prepared = True
                fo.updated_at = order.updated_at = self.state.clock()
                self._on_prepared(order, fo)
        return {"userErrors": []}


def _refused(code: str, message: str, field: list[str]) -> dict[str, Any]:
    return {"userErrors": [{"code": code, "field": field, "message": message}]}
