"""``orderCancel`` with the arguments of the API version served (see :mod:`connectors.shopify.emulator.schema`).

``refund: Boolean!`` before 2025-07; from 2025-07 ``refundMethod`` (original payment methods or store credit) and
an optional, deprecated ``refund``. Shopify cancels in a background job; the emulator cancels at once and answers
with a job that is already ``done``. Answers:

* an ``orderId`` that names no order → ``NOT_FOUND`` on ``orderId``;
* an order already cancelled → ``INVALID`` on ``orderId``. Shopify documents the rule ("the order hasn't already
  been cancelled") and the code ("the input value is invalid") but not the wording: the message is an emulator
  assumption, so clients should not match on it;
* an order with fulfilled units → ``INVALID`` (Shopify refuses to cancel fulfilled orders since 2018-03);
* a ``staffNote`` over 255 characters → ``INVALID`` on ``staffNote``;
* otherwise the order is cancelled: committed units released (back to ``available`` at the order's location
  when ``restock``), reason and staff note kept, marked refunded only when a refund was asked for, and
  ``on_cancelled`` sends ``orders/cancelled`` and ``inventory_levels/update`` like the control API's cancel.

The deprecated ``userErrors`` field carries the same errors without their code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo

from connectors.shopify.emulator.resolvers import parse_gid
from connectors.shopify.emulator.state import Level, ShopState

__all__ = ["ALREADY_CANCELLED", "STAFF_NOTE_MAX", "OrderMutations"]

ALREADY_CANCELLED = "Order has already been cancelled."
STAFF_NOTE_MAX = 255

Payload = dict[str, Any]


def _error(code: str, message: str, field: str) -> dict[str, Any]:
    return {"code": code, "field": [field], "message": message}


def _wants_refund(refund: bool | None, refund_method: dict[str, Any] | None) -> bool:
    if refund_method:
        return (
            bool(refund_method.get("originalPaymentMethodsRefund"))
            or refund_method.get("storeCreditRefund") is not None
        )
    return bool(refund)


class OrderMutations:
    """Mutation root values for orders; ``on_cancelled(order_id, restocked_levels)`` fires the webhooks and
    ``new_job_id`` names the (already finished) background job."""

    def __init__(
        self,
        state: ShopState,
        on_cancelled: Callable[[int, list[Level]], object],
        new_job_id: Callable[[], str],
    ) -> None:
        self.state = state
        self._on_cancelled = on_cancelled
        self._new_job_id = new_job_id

    def root(self) -> dict[str, Any]:
        return {"orderCancel": self.order_cancel}

    def order_cancel(
        self,
        info: GraphQLResolveInfo[Any],
        orderId: str,
        reason: str,
        restock: bool,
        refund: bool | None = None,
        refundMethod: dict[str, Any] | None = None,
        notifyCustomer: bool | None = None,
        staffNote: str | None = None,
    ) -> Payload:
        del info, notifyCustomer  # the emulator sends no customer emails
        numeric = parse_gid(orderId, "Order")
        order = self.state.orders.get(numeric) if numeric is not None else None
        if order is None:
            return self._refused(_error("NOT_FOUND", "Order does not exist.", "orderId"))
        if order.cancelled_at is not None:
            return self._refused(_error("INVALID", ALREADY_CANCELLED, "orderId"))
        if any(li.fulfilled for li in order.line_items):
            return self._refused(_error("INVALID", "Fulfilled orders can't be cancelled.", "orderId"))
        if staffNote is not None and len(staffNote) > STAFF_NOTE_MAX:
            message = f"Staff note is too long (maximum is {STAFF_NOTE_MAX} characters)."
            return self._refused(_error("INVALID", message, "staffNote"))
        changed = self.state.cancel_order(
            order.id,
            restock=restock,
            reason=reason.lower(),
            refund=_wants_refund(refund, refundMethod),
            note=staffNote,
        )
        self._on_cancelled(order.id, changed)
        return {
            "job": {"__typename": "Job", "id": self._new_job_id(), "done": True, "query": None},
            "orderCancelUserErrors": [],
            "userErrors": [],
        }

    @staticmethod
    def _refused(error: dict[str, Any]) -> Payload:
        legacy = {"field": error["field"], "message": error["message"]}
        return {"job": None, "orderCancelUserErrors": [error], "userErrors": [legacy]}
