"""The return mutations: ``returnRequest``, ``returnCreate``, ``returnApproveRequest``, ``returnDeclineRequest``,
``returnCancel``, ``returnClose``, ``reverseFulfillmentOrderDispose``, ``returnRefund``, ``returnProcess`` (from
2025-07) and ``reverseDeliveryCreateWithShipping``.

Documents and variables were validated against the schema of the URL's version before these run; the rules are in
:mod:`~connectors.shopify.emulator.return_desk`. Refusals are ``userErrors`` (``ReturnUserError``: ``code``,
``field``, ``message``) with nothing changed. After a change ``on_event(topic, order, record)`` sends the webhook
(``returns/request``, ``returns/approve`` (also when ``returnCreate`` opens a return: an emulator assumption),
``returns/decline``, ``returns/cancel``, ``returns/close``, ``returns/process``,
``reverse_fulfillment_orders/dispose``, ``reverse_deliveries/attach_deliverable``), ``on_refund`` sends
``refunds/create`` and ``on_levels`` ``inventory_levels/update`` for restocked levels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo

from connectors.shopify.emulator.resolvers import QueryResolvers, parse_gid
from connectors.shopify.emulator.return_desk import DisposeItem, ReturnDesk, ReturnItem
from connectors.shopify.emulator.return_resolvers import sale_transaction_gid
from connectors.shopify.emulator.return_state import ReturnError, ReturnRecord
from connectors.shopify.emulator.state import Level, Order, Refund, ShopState

__all__ = ["ReturnMutations"]

Payload = dict[str, Any]
OnEvent = Callable[[str, Order, ReturnRecord], object]


def _refused(error: ReturnError, key: str = "return") -> Payload:
    return {key: None, "userErrors": [{"code": error.code, "field": error.field, "message": error.message}]}


def _items(raw: list[dict[str, Any]], note_key: str) -> list[ReturnItem]:
    return [
        ReturnItem(
            parse_gid(item.get("fulfillmentLineItemId"), "FulfillmentLineItem"),
            int(item.get("quantity") or 0),
            str(item.get("returnReason") or "UNKNOWN"),
            str(item.get("returnReasonNote") or "") if note_key == "returnReasonNote" else "",
            item.get("customerNote") if note_key == "customerNote" else None,
        )
        for item in raw
    ]


def _disposals(raw: list[dict[str, Any]]) -> list[DisposeItem]:
    return [
        DisposeItem(
            parse_gid(item.get("reverseFulfillmentOrderLineItemId"), "ReverseFulfillmentOrderLineItem"),
            int(item.get("quantity") or 0),
            str(item.get("dispositionType")),
            parse_gid(item.get("locationId"), "Location") if item.get("locationId") else None,
        )
        for item in raw
    ]


class ReturnMutations:
    """Mutation root values for returns."""

    def __init__(
        self,
        state: ShopState,
        resolvers: QueryResolvers,
        on_event: OnEvent,
        on_refund: Callable[[Order, Refund], object],
        on_levels: Callable[[list[Level]], object],
    ) -> None:
        self.state = state
        self.resolvers = resolvers
        self.desk = ReturnDesk(state)
        self._on_event = on_event
        self._on_refund = on_refund
        self._on_levels = on_levels

    def root(self) -> dict[str, Any]:
        return {
            "returnRequest": self.request,
            "returnCreate": self.create,
            "returnApproveRequest": self.approve,
            "returnDeclineRequest": self.decline,
            "returnCancel": self.cancel,
            "returnClose": self.close,
            "reverseFulfillmentOrderDispose": self.dispose,
            "returnRefund": self.refund,
            "returnProcess": self.process,
            "reverseDeliveryCreateWithShipping": self.deliver,
        }

    def _answer(self, order: Order, record: ReturnRecord, topic: str | None) -> Payload:
        if topic:
            self._on_event(topic, order, record)
        return {"return": self.resolvers.returns.ret(order, record), "userErrors": []}

    def _order(self, order_id: Any, root: str) -> Order:
        numeric = parse_gid(order_id, "Order")
        order = self.state.orders.get(numeric) if numeric is not None else None
        if order is None:
            raise ReturnError("Order does not exist.", "NOT_FOUND", [root, "orderId"])
        return order

    def request(self, info: GraphQLResolveInfo[Any], input: dict[str, Any]) -> Payload:
        del info
        try:
            order = self._order(input.get("orderId"), "input")
            record = self.desk.create(order, _items(input["returnLineItems"], "customerNote"), "REQUESTED", "input")
        except ReturnError as error:
            return _refused(error)
        return self._answer(order, record, "returns/request")

    def create(self, info: GraphQLResolveInfo[Any], returnInput: dict[str, Any]) -> Payload:
        del info
        try:
            order = self._order(returnInput.get("orderId"), "returnInput")
            items = _items(returnInput["returnLineItems"], "returnReasonNote")
            record = self.desk.create(order, items, "OPEN", "returnInput")
        except ReturnError as error:
            return _refused(error)
        return self._answer(order, record, "returns/approve")

    def approve(self, info: GraphQLResolveInfo[Any], input: dict[str, Any]) -> Payload:
        del info
        try:
            order, record = self.desk.find(parse_gid(input.get("id"), "Return"))
            self.desk.approve(record)
        except ReturnError as error:
            return _refused(error)
        return self._answer(order, record, "returns/approve")

    def decline(self, info: GraphQLResolveInfo[Any], input: dict[str, Any]) -> Payload:
        del info
        try:
            order, record = self.desk.find(parse_gid(input.get("id"), "Return"))
            self.desk.decline(record, str(input.get("declineReason")), input.get("declineNote"))
        except ReturnError as error:
            return _refused(error)
        return self._answer(order, record, "returns/decline")

    def cancel(self, info: GraphQLResolveInfo[Any], id: str, **_: Any) -> Payload:
        del info
        try:
            order, record = self.desk.find(parse_gid(id, "Return"))
            self.desk.cancel(record)
        except ReturnError as error:
            return _refused(error)
        return self._answer(order, record, "returns/cancel")

    def close(self, info: GraphQLResolveInfo[Any], id: str) -> Payload:
        del info
        try:
            order, record = self.desk.find(parse_gid(id, "Return"))
            self.desk.close(record)
        except ReturnError as error:
            return _refused(error)
        return self._answer(order, record, "returns/close")

    def dispose(self, info: GraphQLResolveInfo[Any], dispositionInputs: list[dict[str, Any]]) -> Payload:
        del info
        items = _disposals(dispositionInputs)
        try:
            found = None
            for item in items:
                found = next(
                    (
                        (order, record)
                        for order in self.state.orders.values()
                        for record in order.returns
                        if record.reverse_line(item.reverse_line_id) is not None
                    ),
                    None,
                )
                if found is None:
                    raise ReturnError(
                        "Reverse fulfillment order line item does not exist.", "NOT_FOUND", ["dispositionInputs"]
                    )
            if found is None:
                raise ReturnError("Disposition inputs can't be blank.", "BLANK", ["dispositionInputs"])
            order, record = found
            levels = self.desk.dispose(order, record, items, "dispositionInputs")
        except ReturnError as error:
            return _refused(error, "reverseFulfillmentOrderLineItems")
        self._on_event("reverse_fulfillment_orders/dispose", order, record)
        self._on_levels(levels)
        touched = {item.reverse_line_id for item in items}
        return {
            "reverseFulfillmentOrderLineItems": [
                self.resolvers.returns.reverse_line(order, line) for line in record.reverse_lines if line.id in touched
            ],
            "userErrors": [],
        }

    def _check_transactions(self, order: Order, transactions: list[dict[str, Any]] | None, path: str) -> None:
        for transaction in transactions or ():
            if transaction.get("parentId") != sale_transaction_gid(order):
                raise ReturnError("Parent transaction does not exist.", "NOT_FOUND", [path, "orderTransactions"])

    def refund(self, info: GraphQLResolveInfo[Any], returnRefundInput: dict[str, Any]) -> Payload:
        del info
        try:
            order, record = self.desk.find(parse_gid(returnRefundInput.get("returnId"), "Return"))
            self._check_transactions(order, returnRefundInput.get("orderTransactions"), "returnRefundInput")
            quantities: dict[int, int] = {}
            for item in returnRefundInput.get("returnRefundLineItems") or ():
                line_id = parse_gid(item.get("returnLineItemId"), "ReturnLineItem")
                if line_id is None:
                    raise ReturnError("Return line item does not exist.", "NOT_FOUND", ["returnRefundLineItems"])
                quantities[line_id] = quantities.get(line_id, 0) + int(item.get("quantity") or 0)
            refund = self.desk.refund(order, record, quantities, None)
        except ReturnError as error:
            return _refused(error, "refund")
        self._on_refund(order, refund)
        return {"refund": self.resolvers.refund(order, refund), "userErrors": []}

    def process(self, info: GraphQLResolveInfo[Any], input: dict[str, Any]) -> Payload:
        del info
        try:
            order, record = self.desk.find(parse_gid(input.get("returnId"), "Return"))
            if record.status != "OPEN":
                raise ReturnError(
                    f"Return is {record.status.lower()}: only an open return can be processed.",
                    "INVALID_STATE",
                    ["input", "returnId"],
                )
            issue = (input.get("financialTransfer") or {}).get("issueRefund")
            if issue is not None:
                self._check_transactions(order, issue.get("orderTransactions"), "input")
            processed: dict[int, int] = {}
            disposals: list[DisposeItem] = []
            for item in input.get("returnLineItems") or ():
                line_id = parse_gid(item.get("id"), "ReturnLineItem")
                processed[line_id or 0] = processed.get(line_id or 0, 0) + int(item.get("quantity") or 0)
                disposals.extend(_disposals(item.get("dispositions") or []))
            if not processed:
                raise ReturnError("Return line items can't be blank.", "BLANK", ["input", "returnLineItems"])
            # processing quantities are checked before any disposition changes stock
            for line_id, quantity in processed.items():
                line = record.line(line_id)
                if line is None or quantity <= 0 or quantity > line.quantity - line.processed:
                    raise ReturnError(
                        "Quantity is more than the unprocessed quantity.", "INVALID", ["input", "returnLineItems"]
                    )
            levels = self.desk.dispose(order, record, disposals, "input") if disposals else []
            refund = self.desk.refund(order, record, processed, input.get("note")) if issue is not None else None
            self.desk.mark_processed(record, processed)
        except ReturnError as error:
            return _refused(error)
        self._on_event("returns/process", order, record)
        if refund is not None:
            self._on_refund(order, refund)
        self._on_levels(levels)
        return {"return": self.resolvers.returns.ret(order, record), "userErrors": []}

    def deliver(
        self,
        info: GraphQLResolveInfo[Any],
        reverseFulfillmentOrderId: str,
        reverseDeliveryLineItems: list[dict[str, Any]],
        trackingInput: dict[str, Any] | None = None,
        labelInput: dict[str, Any] | None = None,
        notifyCustomer: bool | None = None,
    ) -> Payload:
        del info, notifyCustomer  # the emulator sends no customer emails
        try:
            order, record = self.desk.find_reverse(parse_gid(reverseFulfillmentOrderId, "ReverseFulfillmentOrder"))
            lines: dict[int, int] = {}
            for item in reverseDeliveryLineItems:
                line_id = parse_gid(item.get("reverseFulfillmentOrderLineItemId"), "ReverseFulfillmentOrderLineItem")
                lines[line_id or 0] = lines.get(line_id or 0, 0) + int(item.get("quantity") or 0)
            tracking = trackingInput or {}
            delivery = self.desk.deliver(
                record, lines, (tracking.get("number"), tracking.get("url")), (labelInput or {}).get("fileUrl")
            )
        except ReturnError as error:
            return _refused(error, "reverseDelivery")
        self._on_event("reverse_deliveries/attach_deliverable", order, record)
        node = self.resolvers.returns.delivery(delivery)
        node["reverseFulfillmentOrder"] = lambda info: self.resolvers.returns.reverse(order, record)
        return {"reverseDelivery": node, "userErrors": []}
