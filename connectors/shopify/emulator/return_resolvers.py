"""GraphQL objects of returns (``Return``, ``ReturnLineItem``, ``ReverseFulfillmentOrder`` and its lines,
dispositions and deliveries), and the ``Order`` fields that lead to them (``returns``, ``returnStatus``,
``transactions``: one successful SALE per order, the parent of every refund)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connectors.shopify.emulator.paging import connection
from connectors.shopify.emulator.rest_payloads import gid, graphql_time
from connectors.shopify.emulator.return_state import Disposal, ReturnLine, ReturnRecord, ReverseDelivery, ReverseLine
from connectors.shopify.emulator.state import FulfillmentLine, Order

if TYPE_CHECKING:
    from connectors.shopify.emulator.resolvers import QueryResolvers

__all__ = ["ReturnResolvers", "order_return_status", "sale_transaction_gid"]

Node = dict[str, Any]


def sale_transaction_gid(order: Order) -> str:
    """The gid of an emulated order's one payment transaction."""
    return gid("OrderTransaction", order.id)


def order_return_status(order: Order) -> str:
    """``OrderReturnStatus`` of an order (from its returns that are neither declined nor cancelled)."""
    live = [r for r in order.returns if r.status in ("REQUESTED", "OPEN", "CLOSED")]
    if not live:
        return "NO_RETURN"
    if any(r.status == "OPEN" for r in live):
        return "IN_PROGRESS"
    if any(r.status == "REQUESTED" for r in live):
        return "RETURN_REQUESTED"
    return "RETURNED"


class ReturnResolvers:
    """Builds return objects; ``base`` supplies orders, locations and money."""

    def __init__(self, base: QueryResolvers) -> None:
        self.base = base

    def order_fields(self, o: Order) -> Node:
        return {
            "returnStatus": order_return_status(o),
            "returns": lambda info, **a: connection(o.returns, lambda r: self.ret(o, r), lambda r: (r.id,), a),
            "transactions": lambda info, first=None, **a: [self.transaction(o)][: first if first is not None else None],
        }

    def by_gid(self, value: Any) -> Node | None:
        from connectors.shopify.emulator.resolvers import parse_gid

        numeric = parse_gid(value, "Return")
        for order in self.base.state.orders.values():
            for record in order.returns:
                if record.id == numeric:
                    return self.ret(order, record)
        return None

    def reverse_by_gid(self, value: Any) -> Node | None:
        from connectors.shopify.emulator.resolvers import parse_gid

        numeric = parse_gid(value, "ReverseFulfillmentOrder")
        for order in self.base.state.orders.values():
            for record in order.returns:
                if numeric is not None and record.reverse_fo_id == numeric:
                    return self.reverse(order, record)
        return None

    def transaction(self, o: Order) -> Node:
        return {
            "__typename": "OrderTransaction",
            "id": sale_transaction_gid(o),
            "kind": "SALE",
            "status": "SUCCESS",
            "gateway": "manual",
            "test": False,
            "amountSet": self.base.money(o.total_price),
            "createdAt": graphql_time(o.created_at),
            "processedAt": graphql_time(o.created_at),
        }

    def ret(self, o: Order, r: ReturnRecord) -> Node:
        return {
            "__typename": "Return",
            "id": gid("Return", r.id),
            "name": r.name,
            "status": r.status,
            "createdAt": graphql_time(r.created_at),
            "closedAt": graphql_time(r.closed_at),
            "requestApprovedAt": graphql_time(r.approved_at),
            "totalQuantity": sum(line.quantity for line in r.lines),
            "decline": {"reason": r.decline_reason, "note": r.decline_note} if r.decline_reason else None,
            "order": lambda info: self.base.order(o),
            "returnLineItems": lambda info, **a: connection(
                r.lines, lambda line: self.line(o, line), lambda line: (line.id,), a
            ),
            "reverseFulfillmentOrders": lambda info, **a: connection(
                [r] if r.reverse_fo_id is not None else [], lambda x: self.reverse(o, x), lambda x: (x.id,), a
            ),
            "refunds": lambda info, **a: connection(
                [f for f in o.refunds if f.id in r.refund_ids],
                lambda f: self.base.refund(o, f),
                lambda f: (f.id,),
                a,
            ),
            "returnShippingFees": [],
        }

    def _fulfillment_line(self, o: Order, line_id: int) -> FulfillmentLine:
        return next(line for f in o.fulfillments for line in f.lines if line.id == line_id)

    def line(self, o: Order, line: ReturnLine) -> Node:
        fulfillment_line = self._fulfillment_line(o, line.fulfillment_line_id)
        price = Decimal(next(li.price for li in o.line_items if li.id == line.line_item_id))
        return {
            "__typename": "ReturnLineItem",
            "id": gid("ReturnLineItem", line.id),
            "quantity": line.quantity,
            "returnReason": line.reason,
            "returnReasonNote": line.reason_note,
            "customerNote": line.customer_note,
            "processedQuantity": line.processed,
            "unprocessedQuantity": line.quantity - line.processed,
            "processableQuantity": line.quantity - line.processed,
            "refundedQuantity": line.refunded,
            "refundableQuantity": line.quantity - line.refunded,
            "withCodeDiscountedTotalPriceSet": self.base.money(price * line.quantity),
            "fulfillmentLineItem": lambda info: self.base.fulfillment_line(o, fulfillment_line),
        }

    def reverse(self, o: Order, r: ReturnRecord) -> Node:
        return {
            "__typename": "ReverseFulfillmentOrder",
            "id": gid("ReverseFulfillmentOrder", r.reverse_fo_id or 0),
            "status": {"CLOSED": "CLOSED", "CANCELED": "CANCELED"}.get(r.status, "OPEN"),
            "order": lambda info: self.base.order(o),
            "lineItems": lambda info, **a: connection(
                r.reverse_lines, lambda line: self.reverse_line(o, line), lambda line: (line.id,), a
            ),
            "reverseDeliveries": lambda info, **a: connection(
                r.deliveries, lambda d: self.delivery(d), lambda d: (d.id,), a
            ),
            "thirdPartyConfirmation": None,
        }

    def reverse_line(self, o: Order, line: ReverseLine) -> Node:
        fulfillment_line = self._fulfillment_line(o, line.fulfillment_line_id)
        return {
            "__typename": "ReverseFulfillmentOrderLineItem",
            "id": gid("ReverseFulfillmentOrderLineItem", line.id),
            "totalQuantity": line.total,
            "fulfillmentLineItem": lambda info: self.base.fulfillment_line(o, fulfillment_line),
            "dispositions": [self.disposition(d) for d in line.dispositions],
        }

    def disposition(self, d: Disposal) -> Node:
        location = self.base.state.locations.get(d.location_id) if d.location_id is not None else None
        return {
            "__typename": "ReverseFulfillmentOrderDisposition",
            "id": gid("ReverseFulfillmentOrderDisposition", d.id),
            "type": d.type,
            "quantity": d.quantity,
            "createdAt": graphql_time(d.created_at),
            "location": (lambda info: self.base.location(location)) if location is not None else None,
        }

    @staticmethod
    def delivery(d: ReverseDelivery) -> Node:
        tracking = (
            {"number": d.tracking_number, "url": d.tracking_url, "carrierName": None}
            if d.tracking_number or d.tracking_url
            else None
        )
        return {
            "__typename": "ReverseDelivery",
            "id": gid("ReverseDelivery", d.id),
            "deliverable": {
                "__typename": "ReverseDeliveryShippingDeliverable",
                "tracking": tracking,
                "label": {"publicFileUrl": d.label_url, "createdAt": None, "updatedAt": None} if d.label_url else None,
            },
        }
