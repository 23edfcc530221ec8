"""``fulfillmentCreate`` on fulfillment orders (``fulfillment: FulfillmentInput!``), as in every served version.

The document and variables have already been validated against the version's schema by the GraphQL endpoint
(``lineItemsByFulfillmentOrder: [FulfillmentOrderLineItemsInput!]!`` of ``{fulfillmentOrderId: ID!,
fulfillmentOrderLineItems: [{id: ID!, quantity: Int!}]}``, ``trackingInfo: FulfillmentTrackingInput``); what is
checked here is what the schema cannot say. Each emulated order starts with one fulfillment order at its location,
with one fulfillment order line item per order line; moves split it (:mod:`.fulfillment_orders`). Answers
(``userErrors`` of ``UserError``: ``field`` and ``message``, no code; the wording is an emulator assumption, so
clients should not match on it):

* no pair → ``["fulfillment", "lineItemsByFulfillmentOrder"]``;
* a ``fulfillmentOrderId`` that names no fulfillment order → ``[…, "<i>", "fulfillmentOrderId"]``;
* pairs of fulfillment orders of different orders or locations → ``["fulfillment", "lineItemsByFulfillmentOrder"]``
  "All fulfillment orders must be assigned to a single location." (Shopify fulfils fulfillment orders of one order
  at one location together);
* a fulfillment order that is closed, cancelled (nothing left to ship, or the order cancelled) or on hold →
  ``"Fulfillment order <id> has an unfulfillable status= closed."`` (``on_hold``...);
* a fulfillment order line item of another fulfillment order, a quantity that is not positive or more than its
  remaining units → ``[…, "<i>", "fulfillmentOrderLineItems", "<j>", "id" | "quantity"]``.

Otherwise the units ship at once (no fulfillment service, status ``SUCCESS``): committed and on_hand go down at
the fulfillment order's location, ``available`` does not move; empty ``fulfillmentOrderLineItems`` ship every
remaining unit. ``trackingInfo`` keeps ``number`` (or the first of ``numbers``), ``company`` and ``url`` (or the
first of ``urls``). ``on_created`` then sends ``fulfillments/create`` like the control API's fulfil. ``notifyCustomer``,
``originAddress`` and ``message`` are accepted and ignored (the emulator sends no customer emails).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo

from connectors.shopify.emulator.fulfillment_orders import fulfillment_order_status
from connectors.shopify.emulator.resolvers import QueryResolvers, parse_gid
from connectors.shopify.emulator.state import Fulfillment, FulfillmentOrder, Order, ShopState

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
        location: int | None = None
        picks: dict[int, int] = {}
        fo_ids: list[int] = []
        for index, pair in enumerate(pairs):
            numeric = parse_gid(pair.get("fulfillmentOrderId"), "FulfillmentOrder")
            found = self.state.fulfillment_order(numeric) if numeric is not None else None
            if found is None:
                return self._refused(_error("Fulfillment order does not exist.", *_PAIRS, index, "fulfillmentOrderId"))
            found_order, fo = found
            if (order is not None and found_order.id != order.id) or (
                location is not None and fo.location_id != location
            ):
                return self._refused(_error("All fulfillment orders must be assigned to a single location.", *_PAIRS))
            order, location = found_order, fo.location_id
            status = fulfillment_order_status(found_order, fo)
            if status in ("CLOSED", "CANCELLED", "ON_HOLD"):
                message = f"Fulfillment order {fo.id} has an unfulfillable status= {status.lower()}."
                return self._refused(_error(message, *_PAIRS, index, "fulfillmentOrderId"))
            error = self._collect(fo, index, pair.get("fulfillmentOrderLineItems"), picks)
            if error is not None:
                return self._refused(error)
            fo_ids.append(fo.id)
        assert order is not None
        tracking = fulfillment.get("trackingInfo") or {}
        created = self.state.fulfill(
            order.id,
            fo_lines={line_id: quantity for line_id, quantity in picks.items() if quantity > 0},
            tracking_number=_first(tracking.get("number"), tracking.get("numbers")),
            tracking_company=tracking.get("company") or None,
            tracking_url=_first(tracking.get("url"), tracking.get("urls")),
        )
        self._on_created(order, created)
        return {"fulfillment": self.resolvers.fulfillment(order, created), "userErrors": []}

    @staticmethod
    def _collect(
        fo: FulfillmentOrder, index: int, items: list[dict[str, Any]] | None, picks: dict[int, int]
    ) -> dict[str, Any] | None:
        """Add the units asked of one fulfillment order to ``picks`` (its line item id → units); an error or None."""
        if not items:  # blank: every remaining unit of the fulfillment order
            for every in fo.lines:
                if every.remaining:
                    picks[every.id] = every.remaining
            return None
        by_fo_line = {line.id: line for line in fo.lines}
        for position, item in enumerate(items):
            where = (*_PAIRS, index, "fulfillmentOrderLineItems", position)
            numeric = parse_gid(item.get("id"), "FulfillmentOrderLineItem")
            line = by_fo_line.get(numeric) if numeric is not None else None
            if line is None:  # unknown, or a line item of another fulfillment order
                return _error("Invalid fulfillment order line item id.", *where, "id")
            quantity = int(item.get("quantity", 0))
            total = picks.get(line.id, 0) + quantity
            if quantity <= 0 or total > line.remaining:
                return _error("Invalid fulfillment order line item quantity requested.", *where, "quantity")
            picks[line.id] = total
        return None

    @staticmethod
    def _refused(error: dict[str, Any]) -> Payload:
        return {"fulfillment": None, "userErrors": [error]}
