"""Clover REST v3 endpoints of the emulator: query parsing (``filter``, ``expand``, ``limit``/``offset``) and the
handlers. Errors are Clover's ``{"message": "..."}`` with the HTTP status Clover uses."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from connectors.clover.emulator.state import MerchantState

__all__ = ["ApiError", "Query", "filter_rows", "page"]

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
_FILTER = re.compile(r"^\s*([A-Za-z][A-Za-z.]*)\s*(>=|<=|!=|=|>|<)\s*(.*?)\s*$")
_NUMERIC = frozenset({"modifiedTime", "createdTime", "clientCreatedTime", "price", "total", "itemStock.quantity"})
ITEM_FIELDS = frozenset({"id", "sku", "code", "name", "hidden", "price", "modifiedTime", "itemStock.quantity"})
ORDER_FIELDS = frozenset({"id", "modifiedTime", "createdTime", "clientCreatedTime", "paymentState", "state", "total"})


class ApiError(Exception):
    """An error answer: HTTP ``status`` with Clover's ``{"message": ...}`` body and optional headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class Query:
    """The query string of one list request: filters, expansions, limit and offset, validated."""

    def __init__(self, params: Sequence[tuple[str, str]], fields: frozenset[str]) -> None:
        self.filters: list[tuple[str, str, str]] = []
        self.expand: list[str] = []
        self.limit = DEFAULT_LIMIT
        self.offset = 0
        for name, value in params:
            if name == "filter":
                match = _FILTER.match(value)
                if match is None or match.group(1) not in fields:
                    raise ApiError(400, f"Invalid filter: {value!r}")
                field, op, operand = match.groups()
                if field in _NUMERIC and not _is_number(operand):
                    raise ApiError(400, f"Invalid filter value for {field}: {operand!r}")
                if field not in _NUMERIC and op not in ("=", "!="):
                    raise ApiError(400, f"Invalid filter operator {op!r} for {field}")
                self.filters.append((field, op, operand))
            elif name == "expand":
                self.expand.extend(part.strip() for part in value.split(",") if part.strip())
            elif name in ("limit", "offset"):
                if not value.isdigit():
                    raise ApiError(400, f"{name} must be a non-negative integer, got {value!r}")
                number = int(value)
                if name == "limit":
                    if not 1 <= number <= MAX_LIMIT:
                        raise ApiError(400, f"limit must be between 1 and {MAX_LIMIT}, got {number}")
                    self.limit = number
                else:
                    self.offset = number


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _compare(actual: Any, op: str, operand: str, numeric: bool) -> bool:
    if actual is None:
        return op == "!="
    if numeric:
        left, right = float(actual), float(operand)
    else:
        left, right = str(actual).lower(), operand.lower()  # type: ignore[assignment]
    match op:
        case "=":
            return left == right
        case "!=":
            return left != right
        case ">=":
            return left >= right
        case "<=":
            return left <= right
        case ">":
            return left > right
        case _:
            return left < right


def filter_rows(
    rows: Sequence[dict[str, Any]], query: Query, lookup: Callable[[dict[str, Any], str], Any]
) -> list[dict[str, Any]]:
    """The rows every filter accepts (filters are ANDed, as on Clover)."""
    return [row for row in rows if all(_compare(lookup(row, f), op, v, f in _NUMERIC) for f, op, v in query.filters)]


def page(rows: Sequence[dict[str, Any]], query: Query) -> dict[str, Any]:
    """One page as Clover wraps it: ``{"elements": [...], "href": ...}``."""
    return {"elements": list(rows[query.offset : query.offset + query.limit])}


def item_field(state: MerchantState) -> Callable[[dict[str, Any], str], Any]:
    def lookup(item: dict[str, Any], field: str) -> Any:
        if field == "itemStock.quantity":
            stock = item.get("_stock")
            return stock["quantity"] if isinstance(stock, dict) else None
        return item.get(field)

    return lookup


def order_field(order: dict[str, Any], field: str) -> Any:
    return order.get(field)
