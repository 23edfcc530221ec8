"""Pure mapping between ACME stock rows and the connector's stock levels. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omnibridge.sdk import MapResult, ok, skip, warning
from omnibridge.sdk.channel import ChannelLocation


@dataclass(frozen=True, slots=True)
class StockLevel:
    """An absolute on-hand count of one SKU at one location of the warehouse."""

    sku: str
    location: str
    quantity: int


def _quantity(raw: Any) -> int | None:
    # ACME sends qty_on_hand as a JSON number from its v1 API but as a string from CSV-backed warehouses.
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        return int(raw.strip())
    return None


def map_stock_row(row: Any, *, default_location: str) -> MapResult[StockLevel]:
    """One ACME stock row (``{"item_code", "location", "qty_on_hand"}``) to a :class:`StockLevel`.

    Skips a row without ``item_code`` or with a quantity that is not a whole number; uses ``default_location``
    with a warning when the row names no location.
    """
    if not isinstance(row, dict):
        return skip(f"expected an object, got {type(row).__name__}")
    sku = row.get("item_code")
    if not isinstance(sku, str) or not sku.strip():
        return skip("missing item_code", field_path="item_code")
    sku = sku.strip()
    quantity = _quantity(row.get("qty_on_hand"))
    if quantity is None:
        return skip(
            f"qty_on_hand {row.get('qty_on_hand')!r} is not a whole number",
            field_path="qty_on_hand",
            record_id=sku,
        )
    location = row.get("location")
    if isinstance(location, str) and location.strip():
        return ok(StockLevel(sku, location.strip(), quantity))
    return ok(
        StockLevel(sku, default_location, quantity),
        warning(f"no location; counted at {default_location}", field_path="location", record_id=sku),
    )


def stock_update_body(level: StockLevel) -> dict[str, Any]:
    """The JSON body of ``PUT /v1/warehouses/{code}/stock/{sku}`` setting an absolute count."""
    return {"location": level.location, "qty_on_hand": level.quantity}


def adjustment_body(sku: str, location: str, delta: int) -> dict[str, Any]:
    """The JSON body of ``POST /v1/warehouses/{code}/adjustments``."""
    return {"item_code": sku, "location": location, "delta": delta}


def map_location(row: Any) -> MapResult[ChannelLocation]:
    """One ACME location (``{"code", "name", "active"}``) to a :class:`ChannelLocation` keyed by its code."""
    if not isinstance(row, dict):
        return skip(f"expected an object, got {type(row).__name__}")
    code = row.get("code")
    if not isinstance(code, str) or not code.strip():
        return skip("missing code", field_path="code")
    name = row.get("name")
    return ok(
        ChannelLocation(
            code.strip(), name if isinstance(name, str) and name else code.strip(), row.get("active") is not False
        )
    )


def error_message(status: int, body: Any) -> str:
    """``"<code>: <message>"`` from ACME's ``{"error": {"code", "message"}}``, or the bare HTTP status."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return f"HTTP {status} {error['code']}: {error.get('message') or ''}".rstrip(": ")
    return f"HTTP {status}"
