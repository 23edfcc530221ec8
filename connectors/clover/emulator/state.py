"""In-memory merchant state of the Clover emulator: items with their stock, and orders with line items.

Shapes follow Clover REST v3: ids are 13 upper-case alphanumerics, times Unix milliseconds, prices integer
cents, collections ``{"elements": [...]}``. ``itemStock.quantity`` is a float; the deprecated ``stockCount`` is
the quantity rounded to the nearest whole number.
"""

from __future__ import annotations

import math
import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["MerchantState", "now_ms"]

_ID_ALPHABET = string.ascii_uppercase + string.digits


def now_ms(clock: Callable[[], datetime]) -> int:
    return int(clock().astimezone(UTC).timestamp() * 1000)


@dataclass
class MerchantState:
    """Everything one emulated Clover merchant holds. Not thread-safe; the ASGI app runs on one event loop."""

    merchant_id: str
    currency: str
    clock: Callable[[], datetime]
    rng: random.Random
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    _last_ms: int = 0

    def now(self) -> int:
        """Unix ms, strictly increasing (two changes never share a modifiedTime)."""
        self._last_ms = max(now_ms(self.clock), self._last_ms + 1)
        return self._last_ms

    def new_id(self) -> str:
        return "".join(self.rng.choice(_ID_ALPHABET) for _ in range(13))

    # -- items -----------------------------------------------------------------------------------------------

    def add_item(
        self, sku: str | None, name: str, price_cents: int, quantity: float | None, code: str | None = None
    ) -> str:
        """Create an item (``sku`` and/or ``code``); ``quantity`` ``None`` leaves it without a stock record."""
        item_id = self.new_id()
        now = self.now()
        item: dict[str, Any] = {
            "id": item_id,
            "hidden": False,
            "available": True,
            "autoManage": False,
            "name": name,
            "price": price_cents,
            "priceType": "FIXED",
            "defaultTaxRates": True,
            "isRevenue": True,
            "modifiedTime": now,
        }
        if sku is not None:
            item["sku"] = sku
        if code is not None:
            item["code"] = code
        self.items[item_id] = item
        if quantity is not None:
            self.set_stock(item_id, quantity)
        return item_id

    def item_for_sku(self, sku: str) -> str:
        for item_id, item in self.items.items():
            if item.get("sku") == sku or (not item.get("sku") and item.get("code") == sku):
                return item_id
        raise KeyError(f"unknown SKU {sku!r}")

    def stock(self, item_id: str) -> dict[str, Any] | None:
        stock = self.items[item_id].get("_stock")
        return dict(stock) if isinstance(stock, dict) else None

    def set_stock(self, item_id: str, quantity: float) -> dict[str, Any]:
        item = self.items[item_id]
        now = self.now()
        # stockCount is deprecated and "rounded to the nearest whole number": 160.5 -> 161 (half up, not banker's)
        stock_count = math.floor(quantity + 0.5)
        stock = {"item": {"id": item_id}, "stockCount": stock_count, "quantity": quantity, "modifiedTime": now}
        item["_stock"] = stock
        item["modifiedTime"] = now
        return dict(stock)

    def quantity(self, item_id: str) -> float:
        stock = self.stock(item_id)
        return float(stock["quantity"]) if stock else 0.0

    def item_json(self, item_id: str, expand: Sequence[str] = ()) -> dict[str, Any]:
        item = self.items[item_id]
        body = {k: v for k, v in item.items() if not k.startswith("_")}
        stock = item.get("_stock")
        if "itemStock" in expand and stock is not None:
            body["itemStock"] = dict(stock)
        return body

    def update_item(self, item_id: str, changes: dict[str, Any]) -> None:
        self.items[item_id].update(changes)
        self.items[item_id]["modifiedTime"] = self.now()

    # -- orders ------------------------------------------------------------------------------------------------

    def new_paid_order(self, lines: Sequence[tuple[str, int]], created_ms: int | None = None) -> dict[str, Any]:
        """A paid, locked POS order of ``(item_id, units)``: Clover puts one line item per unit."""
        now = self.now()
        created = created_ms if created_ms is not None else now
        order_id = self.new_id()
        line_items: list[dict[str, Any]] = []
        total = 0
        for item_id, units in lines:
            item = self.items[item_id]
            for _ in range(units):
                line_items.append(
                    {
                        "id": self.new_id(),
                        "orderRef": {"id": order_id},
                        "item": {"id": item_id},
                        "name": item["name"],
                        "price": item["price"],
                        "printed": False,
                        "createdTime": created,
                        "orderClientCreatedTime": created,
                        "exchanged": False,
                        "refunded": False,
                        "isRevenue": True,
                    }
                )
                total += int(item["price"])
        order = {
            "id": order_id,
            "currency": self.currency,
            "total": total,
            "paymentState": "PAID",
            "state": "locked",
            "manualTransaction": False,
            "groupLineItems": True,
            "testMode": False,
            "createdTime": created,
            "clientCreatedTime": created,
            "modifiedTime": now,
            "_lines": line_items,
        }
        self.orders[order_id] = order
        return order

    def new_open_order(self, lines: Sequence[tuple[str, int]]) -> dict[str, Any]:
        """An unpaid open order (no stock taken)."""
        order = self.new_paid_order(lines)
        order.update(paymentState="OPEN", state="open")
        return order

    def refund_line(self, order_id: str, line_id: str) -> dict[str, Any]:
        order = self.orders[order_id]
        lines = order["_lines"]
        matching = [line for line in lines if line["id"] == line_id]
        if not matching:
            raise KeyError(f"order {order_id} has no line {line_id!r}")
        matching[0]["refunded"] = True
        refunded = sum(1 for line in lines if line["refunded"])
        order["paymentState"] = "REFUNDED" if refunded == len(lines) else "PARTIALLY_REFUNDED"
        order["modifiedTime"] = self.now()
        return order

    def order_json(self, order_id: str, expand: Sequence[str] = ()) -> dict[str, Any]:
        order = self.orders[order_id]
        body = {k: v for k, v in order.items() if not k.startswith("_")}
        if "lineItems" in expand:
            body["lineItems"] = {"elements": [dict(line) for line in order["_lines"]]}
        return body
