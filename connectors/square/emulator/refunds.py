"""Payments, refunds and returns at the till in the Square emulator.

* :meth:`RefundBook.pay` records a card payment for an order's total (a ``tenders[]`` entry with its
  ``payment_id``), so it can be refunded.
* ``POST /v2/refunds`` (RefundPayment): ``idempotency_key`` (at most 45 characters) replays the first answer for
  the same body and is 400 ``IDEMPOTENCY_KEY_REUSED`` for another; ``payment_id`` must be a payment of this
  merchant (404 ``NOT_FOUND``); ``amount_money`` positive, in the payment's currency, at most the payment minus
  earlier refunds (400 ``REFUND_AMOUNT_INVALID``). Unlinked refunds are not modelled (400 ``BAD_REQUEST``). The
  refund answers ``PENDING`` and is then settled ``COMPLETED`` (``refund.created`` then ``refund.updated``); it
  is money only, as Square says ("the Refunds API doesn't support itemized refunds"), and shows in the refunded
  order's ``refunds[]``.
* ``GET /v2/refunds/{refund_id}`` (GetPaymentRefund): 404 ``NOT_FOUND`` for an unknown id.
* :meth:`RefundBook.till_return`: an itemized return at the Square POS: a COMPLETED **return order** at the
  store with ``returns[{uid, source_order_id, return_line_items[{uid, source_line_item_uid, catalog_object_id,
  quantity, ...}]}]``, ``return_amounts`` and its refund in ``refunds[]``, plus the PaymentRefund naming the
  return order. Returning more than was sold (less earlier returns) is refused.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from connectors.square.emulator.common import invalid
from connectors.square.emulator.inventory import IdempotencyCache
from connectors.square.emulator.state import MerchantState, format_quantity, format_time

__all__ = ["MAX_KEY", "RefundBook"]

MAX_KEY = 45  # RefundPayment idempotency_key: "at most 45 characters"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class RefundBook:
    """The merchant's payments and refunds (in memory, alongside :class:`MerchantState`)."""

    def __init__(self, state: MerchantState) -> None:
        self.state = state
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.idempotency = IdempotencyCache()

    # -- payments ----------------------------------------------------------------------------------------------

    def pay(self, order_id: str) -> str:
        """A CARD payment of the order's total; returns the payment id (the existing one if already paid)."""
        order = self.state.orders[order_id]
        for tender in order.get("tenders") or []:
            if tender.get("payment_id") in self.payments:
                return str(tender["payment_id"])
        payment_id = self.state.new_id(29, _BASE62)
        money = dict(order["total_money"])
        self.payments[payment_id] = {"id": payment_id, "order_id": order_id, "amount_money": money, "refunded": 0}
        tender = {
            "id": payment_id,
            "location_id": order["location_id"],
            "transaction_id": order_id,
            "created_at": format_time(self.state.now()),
            "amount_money": money,
            "type": "CARD",
            "payment_id": payment_id,
        }
        order.setdefault("tenders", []).append(tender)
        return payment_id

    def _payment_of(self, order: dict[str, Any]) -> str | None:
        for tender in order.get("tenders") or []:
            if tender.get("payment_id") in self.payments:
                return str(tender["payment_id"])
        return None

    # -- refunds -----------------------------------------------------------------------------------------------

    def _new_refund(
        self, order: dict[str, Any], payment_id: str | None, money: dict[str, Any], reason: str, refund_order: str
    ) -> dict[str, Any]:
        now = format_time(self.state.now())
        refund_id = f"{payment_id or self.state.new_id(29, _BASE62)}_{self.state.new_id(16, _BASE62)}"
        refund: dict[str, Any] = {
            "id": refund_id,
            "status": "PENDING",
            "location_id": order["location_id"],
            "unlinked": False,
            "destination_type": "CARD" if payment_id else "CASH",
            "amount_money": dict(money),
            "order_id": refund_order,
            "reason": reason,
            "created_at": now,
            "updated_at": now,
        }
        if payment_id:
            refund["payment_id"] = payment_id
            self.payments[payment_id]["refunded"] += int(money["amount"])
        self.refunds[refund_id] = refund
        return refund

    def settle(self, refund_id: str) -> dict[str, Any]:
        """The refund goes through: COMPLETED (Square fires ``refund.updated``)."""
        refund = self.refunds[refund_id]
        refund["status"] = "COMPLETED"
        refund["updated_at"] = format_time(self.state.now())
        return copy.deepcopy(refund)

    def refund_payment(self, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """RefundPayment (see the module docstring); the answer and whether a refund was created."""
        key = str(body.get("idempotency_key") or "")
        if len(key) > MAX_KEY:
            raise invalid("VALUE_TOO_LONG", f"idempotency_key must be at most {MAX_KEY} characters.", "idempotency_key")
        fingerprint = IdempotencyCache.fingerprint(body)
        if key in self.idempotency.entries:
            previous, answer = self.idempotency.entries[key]
            if previous != fingerprint:
                detail = "The idempotency key was already used with a different request body."
                raise invalid("IDEMPOTENCY_KEY_REUSED", detail, "idempotency_key")
            return copy.deepcopy(answer), False
        if body.get("unlinked") or not body.get("payment_id"):
            raise invalid("BAD_REQUEST", "The emulator refunds payments only: payment_id is required.", "payment_id")
        payment = self.payments.get(str(body["payment_id"]))
        if payment is None:
            raise invalid("NOT_FOUND", f"Payment {body['payment_id']} not found.", "payment_id", status=404)
        money = body.get("amount_money") or {}
        amount = money.get("amount")
        if not isinstance(amount, int) or amount <= 0:
            raise invalid("INVALID_VALUE", "amount_money.amount must be positive.", "amount_money.amount")
        if money.get("currency") != payment["amount_money"]["currency"]:
            raise invalid("INVALID_VALUE", "amount_money.currency must be the payment's.", "amount_money.currency")
        left = int(payment["amount_money"]["amount"]) - int(payment["refunded"])
        if amount > left:
            detail = f"The refund amount {amount} is more than the {left} left to refund on the payment."
            raise invalid("REFUND_AMOUNT_INVALID", detail, "amount_money.amount")
        order = self.state.orders[payment["order_id"]]
        refund = self._new_refund(order, payment["id"], money, str(body.get("reason") or ""), order["id"])
        self._on_order(order, refund, payment["id"])
        answer = {"refund": copy.deepcopy(refund)}
        self.idempotency.entries[key] = (fingerprint, copy.deepcopy(answer))
        return answer, True

    def get(self, refund_id: str) -> dict[str, Any]:
        """GetPaymentRefund."""
        refund = self.refunds.get(refund_id)
        if refund is None:
            raise invalid("NOT_FOUND", f"Refund {refund_id} not found.", "refund_id", status=404)
        return {"refund": copy.deepcopy(refund)}

    def _on_order(self, order: dict[str, Any], refund: dict[str, Any], tender_id: str | None) -> None:
        entry = {
            "id": refund["id"],
            "location_id": refund["location_id"],
            "transaction_id": refund["order_id"],
            "tender_id": tender_id or refund["id"],
            "created_at": refund["created_at"],
            "reason": refund["reason"] or "Refund",
            "amount_money": dict(refund["amount_money"]),
            "status": "APPROVED",
        }
        order.setdefault("refunds", []).append(entry)
        order["version"] = int(order["version"]) + 1
        order["updated_at"] = format_time(self.state.now())

    # -- returns at the till -------------------------------------------------------------------------------------

    def _returned(self, order_id: str, line_uid: str) -> Decimal:
        total = Decimal(0)
        for other in self.state.orders.values():
            for entry in other.get("returns") or []:
                if entry.get("source_order_id") != order_id:
                    continue
                for line in entry.get("return_line_items") or []:
                    if line.get("source_line_item_uid") == line_uid:
                        total += Decimal(str(line["quantity"]))
        return total

    def till_return(
        self, order_id: str, lines: list[tuple[str, Decimal]], location_id: str | None, reason: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Staff take back ``(line uid, quantity)`` of ``order_id`` at ``location_id`` (default: the order's) and
        refund them: the return order and its PaymentRefund. ``ValueError`` for what the POS would refuse."""
        source = self.state.orders[order_id]
        where = location_id or source["location_id"]
        if where not in self.state.locations:
            raise ValueError(f"unknown location {where!r}")
        by_uid = {line["uid"]: line for line in source.get("line_items") or []}
        currency = source["total_money"]["currency"]
        return_lines: list[dict[str, Any]] = []
        total = 0
        for uid, quantity in lines:
            line = by_uid.get(uid)
            if line is None:
                raise ValueError(f"order {order_id} has no line item {uid}")
            left = Decimal(str(line["quantity"])) - self._returned(order_id, uid)
            if quantity <= 0 or quantity > left:
                raise ValueError(f"line {uid}: {quantity} cannot be returned, {left} left to return")
            amount = int(Decimal(line["base_price_money"]["amount"]) * quantity)
            total += amount
            returned = {
                "uid": self.state.new_id(22, _BASE62),
                "source_line_item_uid": uid,
                "name": line.get("name", ""),
                "quantity": format_quantity(quantity),
                "item_type": line.get("item_type", "ITEM"),
                "base_price_money": dict(line["base_price_money"]),
                "total_money": {"amount": amount, "currency": currency},
            }
            for name in ("catalog_object_id", "catalog_version", "variation_name"):
                if name in line:
                    returned[name] = line[name]
            return_lines.append(returned)
        now = format_time(self.state.now())
        money = {"amount": total, "currency": currency}
        return_id = self.state.new_id(29, _BASE62)
        order: dict[str, Any] = {
            "id": return_id,
            "location_id": where,
            "source": {"name": "Square Point of Sale"},
            "returns": [
                {
                    "uid": self.state.new_id(22, _BASE62),
                    "source_order_id": order_id,
                    "return_line_items": return_lines,
                }
            ],
            "return_amounts": {"total_money": money},
            "state": "COMPLETED",
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "closed_at": now,
            "total_money": {"amount": 0, "currency": currency},
            "net_amount_due_money": {"amount": 0, "currency": currency},
        }
        payment_id = self._payment_of(source)
        refund = self._new_refund(order, payment_id, money, reason or "Returned goods", return_id)
        order["refunds"] = []
        self.state.orders[return_id] = order
        self._on_order(order, refund, payment_id)
        order["version"] = 1
        return order, refund
