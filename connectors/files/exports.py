"""Order and shipment export files, rendered from the canonical records the export job hands over. Pure.

The job (:mod:`omnibridge.sync.file_exports`) gives plain records::

    order:    {"id", "channel", "external_id", "number", "status", "created_at", "updated_at",
               "lines": [{"line", "sku", "quantity", "location"}]}
    shipment: {"id", "order", "carrier", "service", "tracking", "status", "from_location", "created_at"}

JSON is ``{"<kind>": [records...]}``. CSV has one row per order *line* (the order's columns repeated) and one row
per shipment, with a header row; every value is text, times in ISO 8601 UTC.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

ORDER_COLUMNS = (
    "order_id",
    "channel",
    "external_id",
    "number",
    "status",
    "created_at",
    "updated_at",
    "line",
    "sku",
    "quantity",
    "location",
)
SHIPMENT_COLUMNS = (
    "shipment_id",
    "order_id",
    "carrier",
    "service",
    "tracking",
    "status",
    "from_location",
    "created_at",
)


def render_export(kind: str, records: Sequence[Mapping[str, Any]], fmt: str, delimiter: str = ",") -> bytes:
    """The bytes of an export file of ``kind`` ("orders" or "shipments") in ``fmt`` ("csv" or "json")."""
    if kind not in ("orders", "shipments"):
        raise ValueError(f"unknown export kind {kind!r}: expected 'orders' or 'shipments'")
    if fmt == "json":
        return (json.dumps({kind: list(records)}, indent=2, sort_keys=True, default=str) + "\n").encode()
    if fmt != "csv":
        raise ValueError(f"unknown export format {fmt!r}: expected 'csv' or 'json'")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    if kind == "orders":
        writer.writerow(ORDER_COLUMNS)
        writer.writerows(_order_rows(records))
    else:
        writer.writerow(SHIPMENT_COLUMNS)
        writer.writerows(_shipment_row(record) for record in records)
    return buffer.getvalue().encode()


def _order_rows(records: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    rows: list[list[str]] = []
    for order in records:
        head = [
            _text(order.get(key))
            for key in ("id", "channel", "external_id", "number", "status", "created_at", "updated_at")
        ]
        for line in order.get("lines") or []:
            rows.append(head + [_text(line.get(key)) for key in ("line", "sku", "quantity", "location")])
    return rows


def _shipment_row(record: Mapping[str, Any]) -> list[str]:
    keys = ("id", "order", "carrier", "service", "tracking", "status", "from_location", "created_at")
    return [_text(record.get(key)) for key in keys]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def read_csv_export(content: bytes) -> list[dict[str, str]]:
    """Read a CSV export back as one dict per row (for tests and tools)."""
    return list(csv.DictReader(io.StringIO(content.decode(), newline="")))
