"""``fulfillmentCreate`` on fulfillment orders (``fulfillment: FulfillmentInput!``), as in every served version.

The document and variables have already been validated against the version's schema by the GraphQL endpoint
(``lineItemsByFulfillmentOrder: [FulfillmentOrderLineItemsInput!]!`` of ``{fulfillmentOrderId: ID!,
fulfillmentOrderLineItems: [{id: ID!, quantity: Int!}]}``, ``trackingInfo: FulfillmentTrackingInput``); what is
checked here is what the schema cannot say. Each emulated order has one fulfillment order at its location, with
one fulfillment order line item per order line. Answers (``userErrors`` of ``UserError``: ``field`` and
``message``, no code; the wording is an emulator assumption, so clients should not match on it):

* no pair → ``["fulfillment", "lineItemsByFulfillmentOrder"]``;
* a ``fulfillmentOrderId`` that names no fulfillment order → ``[…, "<i>", "fulfillmentOrderId"]``;
* pairs of fulfillment orders of different orders → ``["fulfillment", "lineItemsByFulfillmentOrder"]`` (Shopify
  fulfils fulfillment orders of one order at one location together);
* a fulfillment order that is closed or cancelled (nothing left to ship, or the order cancelled) →
  ``"Fulfillment order <id> has an unfulfillable status= closed."``;
* a fulfillment order line item of another fulfillment order, a quantity that is not positive or more than its
  remaining units → ``[…, "<i>", "fulfillmentOrderLineItems", "<j>", "id" | "quantity"]``.

Otherwise the units ship at once (no fulfillment service, status ``SUCCESS``): committed and on_hand go down at
the order's location, ``available`` does not move; empty ``fulfillmentOrderLineItems`` ship every remaining unit.
``trackingInfo`` keeps ``number`` (or the first of ``numbers``), ``company`` and ``url`` (or the first of
``urls``). ``on_created`` then sends ``fulfillments/create`` like the control API's fulfil. ``notifyCustomer``,
``originAddress`` and ``message`` are accepted and ignored (the emulator sends no customer emails).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo

from connectors.shopify.emulator.resolvers import QueryResolvers, parse_gid
from connectors.shopify.emulator.state import Fulfillment, Order, ShopState

__all__ = ["FulfillmentMutations"]

Payload = dict[str, Any]
_PAIRS = ("fulfillment", "lineItemsByFulfillmentOrder")


def _error(message: str, *field: str | int) -> dict[str, Any]:
    return {"field": [str(f) for f in field], "message": message}


def _first(single: Any, several: Any) -> str | None:
    if isinstance(single, str) and single:
        return single
    if isinstance(several, list) and several and isinstance(several[0], str):
        return several[0]
    return None


class FulfillmentMutations:
    """Mutation root values for fulfillments; ``on_created(order, fulfillment)`` fires the webhook."""

    def __init__(
        self, state: ShopState, resolvers: QueryResolvers, on_created: Callable[[Order, Fulfillment], object]
    ) -> None:
        self.state = state
        self.resolvers = resolvers
        self._on_created = on_created

    def root(self) -> dict[str, Any]:
        return {"fulfillmentCreate": self.fulfillment_create}

    def fulfillment_create(
        self, info: GraphQLResolveInfo[Any], fulfillment: dict[str, Any], message: str | None = None
    ) -> Payload:
        del info, message
        pairs = fulfillment.get("lineItemsByFulfillmentOrder") or []
        if not pairs:
            return self._refused(_error("At least one fulfillment order is required.", *_PAIRS))
        order: Order | None = None
        quantities: dict[int, int] = {}
        for index, pair in enumerate(pairs):
            numeric = parse_gid(pair.get("fulfillmentOrderId"), "FulfillmentOrder")
            found = self.state.order_of_fulfillment_order(numeric) if numeric is not None else None
            if found is None:
                return self._refused(_error("Fulfillment order does not exist.", *_PAIRS, index, "fulfillmentOrderId"))
            if order is not None and found.id != order.id:
                return self._refused(
                    _error("All fulfillment orders must belong to the same order and location.", *_PAIRS)
                )
            order = found
            status = self.resolvers.fulfillment_order(found)["status"]
            if status in ("CLOSED", "CANCELLED"):
                message = (
                    f"Fulfillment order {found.fulfillment_order_id} has an unfulfillable status= {status.lower()}."
                )
                return self._refused(_error(message, *_PAIRS, index, "fulfillmentOrderId"))
            error = self._collect(found, index, pair.get("fulfillmentOrderLineItems"), quantities)
            if error is not None:
                return self._refused(error)
        assert order is not None
        tracking = fulfillment.get("trackingInfo") or {}
        created = self.state.fulfill(
            order.id,
            {line_id: quantity for line_id, quantity in quantities.items() if quantity > 0},
            tracking_number=_first(tracking.get("number"), tracking.get("numbers")),
            tracking_company=tracking.get("company") or None,
            tracking_url=_first(tracking.get("url"), tracking.get("urls")),
        )
        self._on_created(order, created)
        return {"fulfillment": self.resolvers.fulfillment(order, created), "userErrors": []}

    @staticmethod
    def _collect(
        order: Order, index: int, items: list[dict[str, Any]] | None, quantities: dict[int, int]
    ) -> dict[str, Any] | None:
        """Add the units asked of one fulfillment order to ``quantities`` (line item id → units); an error or None."""
        if not items:  # blank: every remaining unit of the fulfillment order
            for line in order.line_items:
                quantities[line.id] = line.open_quantity
            return None
        by_fo_line = {li.fulfillment_order_line_item_id: li for li in order.line_items}
        for position, item in enumerate(items):
            where = (*_PAIRS, index, "fulfillmentOrderLineItems", position)
            numeric = parse_gid(item.get("id"), "FulfillmentOrderLineItem")
            li = by_fo_line.get(numeric) if numeric is not None else None
            if li is None:  # unknown, or a line item of another fulfillment order
                return _error("Invalid fulfillment order line item id.", *where, "id")
            quantity = int(item.get("quantity", 0))
            total = quantities.get(li.id, 0) + quantity
            if quantity <= 0 or total > li.open_quantity:
                return _error("Invalid fulfillment order line item quantity requested.", *where, "quantity")
            quantities[li.id] = total
        return None

    @staticmethod
    def _refused(error: dict[str, Any]) -> Payload:
        return {"fulfillment": None, "userErrors": [error]}
