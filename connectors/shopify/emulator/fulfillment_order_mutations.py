"""``fulfillmentOrderHold``, ``fulfillmentOrderReleaseHold``, ``fulfillmentOrderMove`` and ``fulfillmentOrdersReroute``.

Documents and variables were validated against the official schema of the URL's version before these run (so
``fulfillmentOrdersReroute`` only exists from 2025-10). What Shopify decides is in
:mod:`~connectors.shopify.emulator.fulfillment_orders`; here the GraphQL payloads are built and ``on_moved`` is told
of each move (it sends ``fulfillment_orders/moved`` and ``inventory_levels/update``). User errors carry ``field``,
``message`` and the vendor enum's ``code`` where one fits (None otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from connectors.shopify.emulator.fulfillment_orders import FulfillmentOrderDesk, FulfillmentOrderError, MoveOutcome
from connectors.shopify.emulator.resolvers import QueryResolvers, parse_gid
from connectors.shopify.emulator.state import Order, ShopState

__all__ = ["FulfillmentOrderMutations"]

Payload = dict[str, Any]


def _user_error(error: FulfillmentOrderError, *field: str) -> dict[str, Any]:
    return {"field": list(field) or None, "message": error.message, "code": error.code}


class FulfillmentOrderMutations:
    """Mutation root values for fulfillment orders; ``on_moved(order, outcome, requested)`` fires the webhooks."""

    def __init__(
        self,
        state: ShopState,
        resolvers: QueryResolvers,
        on_moved: Callable[[Order, MoveOutcome, list[dict[str, Any]]], object],
    ) -> None:
        self.state = state
        self.resolvers = resolvers
        self.desk = FulfillmentOrderDesk(state)
        self._on_moved = on_moved

    def root(self) -> dict[str, Any]:
        return {
            "fulfillmentOrderHold": self.hold,
            "fulfillmentOrderReleaseHold": self.release_hold,
            "fulfillmentOrderMove": self.move,
            "fulfillmentOrdersReroute": self.reroute,
        }

    def hold(self, info: GraphQLResolveInfo[Any], id: str, fulfillmentHold: dict[str, Any]) -> Payload:
        del info
        try:
            order, fo = self.desk.find(parse_gid(id, "FulfillmentOrder"))
            items = fulfillmentHold.get("fulfillmentOrderLineItems")
            if items:
                covered = {parse_gid(x.get("id"), "FulfillmentOrderLineItem"): x.get("quantity") for x in items}
                if any(covered.get(line.id) != line.remaining for line in fo.lines if line.remaining):
                    raise GraphQLError(
                        "A hold on some line items of a fulfillment order is not modelled by the emulator."
                    )
            hold = self.desk.hold(
                order,
                fo,
                str(fulfillmentHold["reason"]),
                str(fulfillmentHold.get("handle") or ""),
                fulfillmentHold.get("reasonNotes"),
            )
        except FulfillmentOrderError as error:
            return {
                "fulfillmentHold": None,
                "fulfillmentOrder": None,
                "remainingFulfillmentOrder": None,
                "userErrors": [_user_error(error, "id")],
            }
        return {
            "fulfillmentHold": self.resolvers.fulfillment_hold(hold),
            "fulfillmentOrder": self.resolvers.fulfillment_order(order, fo),
            "remainingFulfillmentOrder": None,
            "userErrors": [],
        }

    def release_hold(
        self,
        info: GraphQLResolveInfo[Any],
        id: str,
        holdIds: list[str] | None = None,
        externalId: str | None = None,
    ) -> Payload:
        del info, externalId
        try:
            order, fo = self.desk.find(parse_gid(id, "FulfillmentOrder"))
        except FulfillmentOrderError as error:
            return {"fulfillmentOrder": None, "userErrors": [_user_error(error, "id")]}
        ids = None if holdIds is None else [n for n in (parse_gid(x, "FulfillmentHold") for x in holdIds) if n]
        self.desk.release(fo, ids)
        return {"fulfillmentOrder": self.resolvers.fulfillment_order(order, fo), "userErrors": []}

    def move(
        self,
        info: GraphQLResolveInfo[Any],
        id: str,
        newLocationId: str,
        fulfillmentOrderLineItems: list[dict[str, Any]] | None = None,
    ) -> Payload:
        del info
        refused: Payload = {"movedFulfillmentOrder": None, "originalFulfillmentOrder": None}
        refused["remainingFulfillmentOrder"] = None
        try:
            order, fo = self.desk.find(parse_gid(id, "FulfillmentOrder"))
            location = parse_gid(newLocationId, "Location")
            if location is None or location not in self.state.locations:
                raise FulfillmentOrderError("Location does not exist.")
            items: dict[int, int] | None = None
            if fulfillmentOrderLineItems:
                items = {}
                for item in fulfillmentOrderLineItems:
                    numeric = parse_gid(item.get("id"), "FulfillmentOrderLineItem")
                    if numeric is None:
                        raise FulfillmentOrderError("Invalid fulfillment order line item id.")
                    items[numeric] = items.get(numeric, 0) + int(item["quantity"])
            outcome = self.desk.move(order, fo, location, items)
        except FulfillmentOrderError as error:
            return {**refused, "userErrors": [_user_error(error, "id")]}
        self._on_moved(order, outcome, fulfillmentOrderLineItems or [])
        return {
            "movedFulfillmentOrder": self.resolvers.fulfillment_order(order, outcome.moved),
            "originalFulfillmentOrder": self.resolvers.fulfillment_order(order, outcome.original),
            "remainingFulfillmentOrder": None,
            "userErrors": [],
        }

    def reroute(
        self,
        info: GraphQLResolveInfo[Any],
        fulfillmentOrderIds: list[str],
        includedLocationIds: list[str] | None = None,
        excludedLocationIds: list[str] | None = None,
    ) -> Payload:
        del info
        included = [n for n in (parse_gid(x, "Location") for x in includedLocationIds or ()) if n is not None]
        excluded = [n for n in (parse_gid(x, "Location") for x in excludedLocationIds or ()) if n is not None]
        try:
            ids = [parse_gid(x, "FulfillmentOrder") for x in fulfillmentOrderIds]
            outcomes = self.desk.reroute(ids, included, excluded)
        except FulfillmentOrderError as error:
            return {"movedFulfillmentOrders": None, "userErrors": [_user_error(error, "fulfillmentOrderIds")]}
        order = self.state.order(outcomes[0].moved.order_id)
        for outcome in outcomes:
            self._on_moved(order, outcome, [])
        return {
            "movedFulfillmentOrders": [self.resolvers.fulfillment_order(order, o.moved) for o in outcomes],
            "userErrors": [],
        }
