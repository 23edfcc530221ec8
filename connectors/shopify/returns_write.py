"""Create, approve and process returns on Shopify (implements :class:`~omnibridge.sdk.returns.ReturnWriter` for
:class:`~connectors.shopify.client.ShopifyClient`; fulfilment-contracts A3).

Shopify returns carry no caller reference, so omnibridge writes ``[omnibridge RMA <reference>]`` into each line's
note (``customerNote`` of ``returnRequest``, ``returnReasonNote`` of ``returnCreate``) and finds its return again
by it among the order's returns that are not declined or cancelled (or by ``channel_return_ref``):

* REQUESTED → ``returnRequest`` (already there → ``duplicate``);
* OPEN → ``returnCreate`` (created approved), or ``returnApproveRequest`` of the requested one; then the label,
  when the request has a tracking number or label URL: ``reverseDeliveryCreateWithShipping`` on the reverse
  fulfillment order (``trackingInput {number}``: it has no carrier field; ``labelInput {fileUrl}``), unless a
  delivery with that tracking number is there already; all of it there already → ``duplicate``;
* CLOSED (every line with its disposition; a restock names its location) → from API 2025-07 one
  ``returnProcess`` (dispositions, and ``financialTransfer.issueRefund`` of ``refund`` from the order's
  successful sale or capture); before, ``reverseFulfillmentOrderDispose`` (skipped when the units are already
  disposed), ``returnRefund`` (skipped when the return has a refund) and ``returnClose``. Closed already →
  ``duplicate``.

Lines are matched by order line: a request line's ``line_ref`` (``<line item gid>`` or ``<gid>@<location>``) takes
units from the fulfilled units of that line item not already in another live return.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connectors.shopify import returns_queries as rq
from connectors.shopify.fulfilment_assign import user_errors
from connectors.shopify.fulfilment_plan import split_ref
from omnibridge.sdk.returns import Disposition, ReturnLineEvent, ReturnRequest, ReturnResult, ReturnState

if TYPE_CHECKING:
    from connectors.shopify.client import ShopifyClient

__all__ = ["marker", "write_return"]

_OP = "write_return"
_ORDER_GID = "gid://shopify/Order/"
_LIVE = frozenset({"REQUESTED", "OPEN", "CLOSED"})
_REASONS = frozenset(
    {"COLOR", "DEFECTIVE", "NOT_AS_DESCRIBED", "OTHER", "SIZE_TOO_LARGE", "SIZE_TOO_SMALL", "STYLE", "UNWANTED"}
    | {"UNKNOWN", "WRONG_ITEM"}
)
_DISPOSITION_TYPES = {
    Disposition.RESTOCK: "RESTOCKED",
    Disposition.DAMAGED: "NOT_RESTOCKED",
    Disposition.INSPECT: "PROCESSING_REQUIRED",
    Disposition.MISSING: "MISSING",
}


def marker(reference: str) -> str:
    """The text that names omnibridge's RMA ``reference`` in a Shopify return line's note."""
    return f"[omnibridge RMA {reference}]"


def _nodes(connection: object) -> list[Mapping[str, Any]]:
    nodes = connection.get("nodes") if isinstance(connection, Mapping) else None
    return [n for n in nodes if isinstance(n, Mapping)] if isinstance(nodes, list) else []


def _id(holder: object) -> str | None:
    value = holder.get("id") if isinstance(holder, Mapping) else None
    return value if isinstance(value, str) and value else None


def _reason(line: ReturnLineEvent) -> str:
    text = line.reason.strip().upper().replace(" ", "_")
    return text if text in _REASONS else ("UNKNOWN" if not text else "OTHER")


def _note(request: ReturnRequest, line: ReturnLineEvent) -> str:
    return f"{marker(request.reference)} {line.reason}".strip()[:255]


def _find(order: Mapping[str, Any], request: ReturnRequest) -> Mapping[str, Any] | None:
    tag = marker(request.reference)
    for ret in _nodes(order.get("returns")):
        if request.channel_return_ref and ret.get("id") == request.channel_return_ref:
            return ret
        notes = [
            f"{item.get('returnReasonNote') or ''} {item.get('customerNote') or ''}"
            for item in _nodes(ret.get("returnLineItems"))
        ]
        if ret.get("status") in _LIVE and any(tag in note for note in notes):
            return ret
    return None


def _allocate(
    order: Mapping[str, Any], lines: tuple[ReturnLineEvent, ...]
) -> tuple[list[tuple[str, int, ReturnLineEvent]], str]:
    """(fulfillment line item gid, units, request line) for every request line, or a problem."""
    taken: dict[str, int] = {}
    for ret in _nodes(order.get("returns")):
        if ret.get("status") in _LIVE:
            for item in _nodes(ret.get("returnLineItems")):
                key = _id(item.get("fulfillmentLineItem"))
                if key and isinstance(item.get("quantity"), int):
                    taken[key] = taken.get(key, 0) + item["quantity"]
    candidates: list[tuple[str, str, int]] = []  # fulfillment line gid, line item gid, units
    for fulfillment in order.get("fulfillments") or ():
        if isinstance(fulfillment, Mapping) and fulfillment.get("status") == "SUCCESS":
            for item in _nodes(fulfillment.get("fulfillmentLineItems")):
                key, line_id = _id(item), _id(item.get("lineItem"))
                if key and line_id and isinstance(item.get("quantity"), int):
                    candidates.append((key, line_id, item["quantity"] - taken.get(key, 0)))
    out: list[tuple[str, int, ReturnLineEvent]] = []
    free = {key: units for key, _, units in candidates}
    for line in lines:
        base = split_ref(line.line_ref or "")[0]
        units = line.quantity
        if units <= 0:
            return [], f"line {line.line_ref}: quantity must be positive"
        for key, line_id, _ in candidates:
            share = min(units, free[key]) if line_id == base else 0
            if share > 0:
                free[key] -= share
                units -= share
                out.append((key, share, line))
        if units:
            return (
                [],
                f"line {line.line_ref}: {units} of {line.quantity} units are not fulfilled units outside a return",
            )
    return out, ""


async def write_return(client: ShopifyClient, request: ReturnRequest) -> ReturnResult:
    """See the module docstring; infrastructure errors raise (the caller repeats the same request)."""
    ref = request.order_ref
    if not ref.startswith(_ORDER_GID) or not ref[len(_ORDER_GID) :].isdigit():
        return ReturnResult(False, message=f"{ref!r} is not a Shopify order id: expected {_ORDER_GID}<number>")
    if request.state not in (ReturnState.REQUESTED, ReturnState.OPEN, ReturnState.CLOSED):
        return ReturnResult(
            False, message=f"cannot write a return as {request.state}: expected requested, open or closed"
        )
    order = await _read(client, ref)
    if order is None:
        return ReturnResult(False, message=f"Shopify has no order {ref}")
    existing = _find(order, request)
    if request.state is ReturnState.CLOSED:
        return await _process(client, request, order, existing)
    if existing is not None:
        return await _existing(client, request, existing)
    allocation, problem = _allocate(order, request.lines)
    if problem:
        return ReturnResult(False, message=problem)
    if request.state is ReturnState.REQUESTED:
        items = [
            {
                "fulfillmentLineItemId": key,
                "quantity": units,
                "returnReason": _reason(line),
                "customerNote": _note(request, line),
            }
            for key, units, line in allocation
        ]
        document, variables, field = (
            rq.RETURN_REQUEST_MUTATION,
            {"input": {"orderId": ref, "returnLineItems": items}},
            "returnRequest",
        )
    else:
        items = [
            {
                "fulfillmentLineItemId": key,
                "quantity": units,
                "returnReason": _reason(line),
                "returnReasonNote": _note(request, line),
            }
            for key, units, line in allocation
        ]
        document, variables, field = (
            rq.RETURN_CREATE_MUTATION,
            {"returnInput": {"orderId": ref, "returnLineItems": items}},
            "returnCreate",
        )
    data = await client.graphql(_OP, document, variables)
    payload = data.get(field)
    created = _id(payload.get("return")) if isinstance(payload, Mapping) else None
    if user_errors(payload) or created is None:
        return ReturnResult(False, message=f"Shopify refused the return: {user_errors(payload) or 'no return'}")
    if request.state is ReturnState.OPEN:
        return await _label(client, request, created, duplicate=False)
    return ReturnResult(True, channel_return_ref=created)


async def _read(client: ShopifyClient, ref: str) -> Mapping[str, Any] | None:
    data = await client.graphql(_OP, rq.RETURN_ORDER_QUERY, {"id": ref})
    order = data.get("order")
    return order if isinstance(order, Mapping) else None


async def _existing(client: ShopifyClient, request: ReturnRequest, ret: Mapping[str, Any]) -> ReturnResult:
    return_id = str(ret["id"])
    if request.state is ReturnState.REQUESTED or ret.get("status") != "REQUESTED":
        if request.state is ReturnState.OPEN and ret.get("status") == "OPEN":
            return await _label(client, request, return_id, duplicate=True)
        return ReturnResult(True, channel_return_ref=return_id, duplicate=True, message=f"already {ret.get('status')}")
    data = await client.graphql(_OP, rq.RETURN_APPROVE_MUTATION, {"input": {"id": return_id}})
    payload = data.get("returnApproveRequest")
    if user_errors(payload):
        return ReturnResult(
            False, channel_return_ref=return_id, message=f"Shopify refused to approve: {user_errors(payload)}"
        )
    return await _label(client, request, return_id, duplicate=False)


def _return(order: Mapping[str, Any] | None, return_id: str) -> Mapping[str, Any] | None:
    return next((r for r in _nodes((order or {}).get("returns")) if r.get("id") == return_id), None)


async def _label(client: ShopifyClient, request: ReturnRequest, return_id: str, *, duplicate: bool) -> ReturnResult:
    if not request.tracking_number and not request.label_url:
        return ReturnResult(True, channel_return_ref=return_id, duplicate=duplicate)
    ret = _return(await _read(client, request.order_ref), return_id)
    reverse = next(iter(_nodes((ret or {}).get("reverseFulfillmentOrders"))), None)
    if reverse is None:
        return ReturnResult(
            False, channel_return_ref=return_id, message="the return has no reverse fulfillment order for a label"
        )
    numbers = {
        ((d.get("deliverable") or {}).get("tracking") or {}).get("number")
        for d in _nodes(reverse.get("reverseDeliveries"))
    }
    if (request.tracking_number in numbers) if request.tracking_number else _nodes(reverse.get("reverseDeliveries")):
        return ReturnResult(True, channel_return_ref=return_id, duplicate=duplicate)
    variables: dict[str, Any] = {
        "reverseFulfillmentOrderId": reverse["id"],
        "reverseDeliveryLineItems": [
            {"reverseFulfillmentOrderLineItemId": line["id"], "quantity": line["totalQuantity"]}
            for line in _nodes(reverse.get("lineItems"))
        ],
        "notifyCustomer": request.notify_customer,
    }
    if request.tracking_number:
        variables["trackingInput"] = {"number": request.tracking_number}
    if request.label_url:
        variables["labelInput"] = {"fileUrl": request.label_url}
    data = await client.graphql(_OP, rq.REVERSE_DELIVERY_MUTATION, variables)
    problem = user_errors(data.get("reverseDeliveryCreateWithShipping"))
    if problem:
        return ReturnResult(False, channel_return_ref=return_id, message=f"Shopify refused the return label: {problem}")
    return ReturnResult(True, channel_return_ref=return_id)


def _plan(ret: Mapping[str, Any], order: Mapping[str, Any], request: ReturnRequest) -> tuple[list[dict[str, Any]], str]:
    """Per return line item: {id, quantity, dispositions}, from the request's lines, or a problem."""
    line_of = {
        _id(item): _id(item.get("lineItem"))
        for f in order.get("fulfillments") or ()
        if isinstance(f, Mapping)
        for item in _nodes(f.get("fulfillmentLineItems"))
    }
    reverse = next(iter(_nodes(ret.get("reverseFulfillmentOrders"))), {})
    reverse_of = {_id(line.get("fulfillmentLineItem")): line for line in _nodes(reverse.get("lineItems"))}
    open_items = {str(item["id"]): item for item in _nodes(ret.get("returnLineItems"))}
    left = {key: int(item.get("quantity") or 0) for key, item in open_items.items()}
    plan: dict[str, dict[str, Any]] = {}
    for line in request.lines:
        if line.disposition is None:
            return [], f"line {line.line_ref}: every unit needs a disposition to close the return"
        if line.disposition is Disposition.RESTOCK and not line.location_ref:
            return [], f"line {line.line_ref}: a restock needs the location it goes back to"
        base, units = split_ref(line.line_ref or "")[0], line.quantity
        for key, item in open_items.items():
            fulfillment_line = _id(item.get("fulfillmentLineItem"))
            reverse_line = reverse_of.get(fulfillment_line)
            share = min(units, left[key]) if line_of.get(fulfillment_line) == base and reverse_line else 0
            if share <= 0:
                continue
            left[key] -= share
            units -= share
            entry = plan.setdefault(key, {"id": key, "quantity": 0, "dispositions": []})
            entry["quantity"] += share
            disposition: dict[str, Any] = {
                "reverseFulfillmentOrderLineItemId": reverse_line["id"],  # type: ignore[index]
                "quantity": share,
                "dispositionType": _DISPOSITION_TYPES[line.disposition],
            }
            if line.location_ref:
                disposition["locationId"] = line.location_ref
            entry["dispositions"].append(disposition)
        if units:
            return [], f"line {line.line_ref}: {units} of {line.quantity} units are not in return {ret.get('id')}"
    return list(plan.values()), ""


def _transactions(order: Mapping[str, Any], request: ReturnRequest) -> tuple[list[dict[str, Any]] | None, str]:
    if not request.refund:
        return None, ""
    parent = next(
        (
            t["id"]
            for t in order.get("transactions") or ()
            if isinstance(t, Mapping) and t.get("kind") in ("SALE", "CAPTURE") and t.get("status") == "SUCCESS"
        ),
        None,
    )
    if parent is None:
        return None, "the order has no successful payment to refund from"
    money = {"amount": request.refund, "currencyCode": request.currency or order.get("currencyCode")}
    return [{"parentId": parent, "transactionAmount": money}], ""


async def _process(
    client: ShopifyClient, request: ReturnRequest, order: Mapping[str, Any], ret: Mapping[str, Any] | None
) -> ReturnResult:
    if ret is None:
        return ReturnResult(
            False, message=f"no return for RMA {request.reference} on order {request.order_ref} to close"
        )
    return_id = str(ret["id"])
    if ret.get("status") == "CLOSED":
        return ReturnResult(True, channel_return_ref=return_id, duplicate=True, message="already closed")
    if ret.get("status") != "OPEN":
        return ReturnResult(False, channel_return_ref=return_id, message=f"the return is {ret.get('status')}, not open")
    plan, problem = _plan(ret, order, request)
    transactions, money_problem = _transactions(order, request)
    if problem or money_problem:
        return ReturnResult(False, channel_return_ref=return_id, message=problem or money_problem)
    if rq.supports_return_process(client.settings.api_version):
        process: dict[str, Any] = {
            "returnId": return_id,
            "returnLineItems": plan,
            "notifyCustomer": request.notify_customer,
        }
        if transactions:
            process["financialTransfer"] = {"issueRefund": {"orderTransactions": transactions}}
        data = await client.graphql(_OP, rq.RETURN_PROCESS_MUTATION, {"input": process})
        return _answer(data.get("returnProcess"), return_id, "process")
    reverse = next(iter(_nodes(ret.get("reverseFulfillmentOrders"))), {})
    disposed = any(line.get("dispositions") for line in _nodes(reverse.get("lineItems")))
    if not disposed:
        inputs = [d for entry in plan for d in entry["dispositions"]]
        data = await client.graphql(_OP, rq.DISPOSE_MUTATION, {"dispositionInputs": inputs})
        result = _answer(data.get("reverseFulfillmentOrderDispose"), return_id, "dispose")
        if not result.accepted:
            return result
    if transactions and not _nodes(ret.get("refunds")):
        refund = {
            "returnId": return_id,
            "returnRefundLineItems": [{"returnLineItemId": e["id"], "quantity": e["quantity"]} for e in plan],
            "orderTransactions": transactions,
            "notifyCustomer": request.notify_customer,
        }
        data = await client.graphql(_OP, rq.RETURN_REFUND_MUTATION, {"returnRefundInput": refund})
        result = _answer(data.get("returnRefund"), return_id, "refund")
        if not result.accepted:
            return result
    data = await client.graphql(_OP, rq.RETURN_CLOSE_MUTATION, {"id": return_id})
    return _answer(data.get("returnClose"), return_id, "close")


def _answer(payload: object, return_id: str, what: str) -> ReturnResult:
    problem = user_errors(payload)
    if problem or not isinstance(payload, Mapping):
        return ReturnResult(
            False, channel_return_ref=return_id, message=f"Shopify refused to {what} the return: {problem}"
        )
    return ReturnResult(True, channel_return_ref=return_id)
