"""A dropship supplier's files in the inbox: acknowledgements and ship confirmations of purchase orders. Pure.

A file is a supplier file when its CSV header has a ``po_reference`` column, or its JSON is an object with an
``acknowledgements`` or ``shipments`` list; anything else is a stock-count file (:mod:`connectors.files.parsing`).
Which kind it is follows from its columns:

* **ship confirmation**: a ``tracking_number`` column (JSON ``shipments``). Columns ``po_reference``,
  ``line_ref`` and/or ``sku`` (at least one per row), ``quantity`` (whole number >= 1), ``carrier`` (optional),
  ``tracking_number``, ``shipped_at`` (optional ISO 8601). Rows of one file with the same ``po_reference`` and
  ``tracking_number`` are one package: one fulfilment event with a line per row.
* **acknowledgement**: otherwise. Columns ``po_reference``, ``status`` (``accepted``, ``rejected`` or
  ``cancelled``), ``reason`` (optional), ``acknowledged_at`` (optional ISO 8601).

Rows are numbered like count files (CSV: the header is row 1; JSON: 1-based positions). A file is all or
nothing: any bad row fails the whole file, with every problem listed. Times without an offset are read in the
configured time zone; a row without a time is dated by the connector when it first read the file.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any

from connectors.files.parsing import Problem
from omnibridge.sdk import TextEncodingError, decode_spreadsheet
from omnibridge.sdk.channel import (
    ChannelEvent,
    FulfilmentEvent,
    FulfilmentLineEvent,
    FulfilmentStatus,
    FulfilmentStatusEvent,
)

__all__ = [
    "AckRow",
    "ShipRow",
    "SupplierFile",
    "SupplierFileKind",
    "parse_supplier_file",
    "supplier_events",
    "supplier_file_kind",
]

_WHOLE = re.compile(r"\d+")
STATUSES = {
    "accepted": FulfilmentStatus.ACKNOWLEDGED,
    "rejected": FulfilmentStatus.REJECTED,
    "cancelled": FulfilmentStatus.CANCELLED,
}
ACK_FIELDS = ("po_reference", "status", "reason", "acknowledged_at")
SHIP_FIELDS = ("po_reference", "line_ref", "sku", "quantity", "carrier", "tracking_number", "shipped_at")


class SupplierFileKind(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    SHIP_CONFIRMATION = "ship_confirmation"


@dataclass(frozen=True, slots=True)
class AckRow:
    """The supplier's word on purchase order ``po_reference``."""

    row: int
    po_reference: str
    status: FulfilmentStatus
    reason: str = ""
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ShipRow:
    """``quantity`` units of one PO line (``line_ref``, or ``sku`` alone) left in the package ``tracking_number``."""

    row: int
    po_reference: str
    line_ref: str
    sku: str | None
    quantity: int
    tracking_number: str
    carrier: str | None = None
    at: datetime | None = None


@dataclass
class SupplierFile:
    kind: SupplierFileKind
    acks: list[AckRow] = field(default_factory=list)
    shipments: list[ShipRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def supplier_file_kind(
    name: str, content: bytes, delimiter: str = ",", encoding: str = "auto"
) -> SupplierFileKind | None:
    """The kind of supplier file ``content`` is, or None for anything else (a stock-count file)."""
    if name.lower().endswith(".json"):
        try:
            document = json.loads(content.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            return None
        if isinstance(document, dict) and "shipments" in document:
            return SupplierFileKind.SHIP_CONFIRMATION
        if isinstance(document, dict) and "acknowledgements" in document:
            return SupplierFileKind.ACKNOWLEDGEMENT
        return None
    header = _header(content, delimiter, encoding)
    if "po_reference" not in header:
        return None
    return SupplierFileKind.SHIP_CONFIRMATION if "tracking_number" in header else SupplierFileKind.ACKNOWLEDGEMENT


def parse_supplier_file(
    name: str, content: bytes, kind: SupplierFileKind, *, zone: tzinfo, delimiter: str = ",", encoding: str = "auto"
) -> SupplierFile:
    """Parse a supplier file of ``kind`` (see :func:`supplier_file_kind`) into rows, or problems."""
    result = SupplierFile(kind)
    allowed = SHIP_FIELDS if kind is SupplierFileKind.SHIP_CONFIRMATION else ACK_FIELDS
    records = (
        _json_records(content, kind, allowed, result)
        if name.lower().endswith(".json")
        else _csv_records(content, allowed, delimiter, encoding, result)
    )
    for number, record in records:
        if kind is SupplierFileKind.SHIP_CONFIRMATION:
            _ship_row(number, record, zone, result)
        else:
            _ack_row(number, record, zone, result)
    if not result.problems and not (result.acks or result.shipments):
        result.problems.append(Problem(f"the file has no rows; expected at least one {kind.value.replace('_', ' ')}"))
    return result


def supplier_events(
    parsed: SupplierFile, ref: Callable[[int], str], location_ref: str, read_at: Callable[[], datetime]
) -> list[ChannelEvent]:
    """The events of a parsed (ok) supplier file. ``ref(row)`` is the row's stable ref (the file's content hash
    and the row); ``read_at()`` dates rows without a time (when omnibridge first read the content).

    An acknowledgement row is a :class:`FulfilmentStatusEvent` whose ``reference`` is the PO reference; the rows
    of one package (same ``po_reference`` and ``tracking_number``) are one :class:`FulfilmentEvent` with
    ``order_ref`` = the PO reference, from ``location_ref`` (the supplier's location code), ref'd by its first
    row. A line given by SKU alone has an empty ``line_ref``: it is matched by SKU among the PO's lines."""
    events: list[ChannelEvent] = []
    for ack in parsed.acks:
        at = ack.at or read_at()
        events.append(FulfilmentStatusEvent(ref(ack.row), ack.po_reference, ack.status, at, ack.reason))
    packages: dict[tuple[str, str], list[ShipRow]] = {}
    for row in parsed.shipments:
        packages.setdefault((row.po_reference, row.tracking_number), []).append(row)
    for (po, tracking), rows in packages.items():
        first = rows[0]
        lines = tuple(FulfilmentLineEvent(row.line_ref, row.sku, row.quantity) for row in rows)
        at = first.at or read_at()
        events.append(FulfilmentEvent(ref(first.row), po, at, lines, location_ref, tracking, first.carrier))
    return events


def _header(content: bytes, delimiter: str, encoding: str) -> set[str]:
    try:
        text = decode_spreadsheet(content, encoding)
    except TextEncodingError:
        return set()
    first = text.splitlines()[0] if text.strip() else ""
    try:
        cells = next(csv.reader([first], delimiter=delimiter), [])
    except csv.Error:
        return set()
    return {cell.strip().lower() for cell in cells}


def _csv_records(
    content: bytes, allowed: tuple[str, ...], delimiter: str, encoding: str, result: SupplierFile
) -> list[tuple[int, dict[str, Any]]]:
    try:
        text = decode_spreadsheet(content, encoding)
    except TextEncodingError as exc:
        result.problems.append(Problem(str(exc)))
        return []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        lines = list(reader)
    except csv.Error as exc:
        result.problems.append(Problem(f"row {reader.line_num}: the CSV is malformed ({exc})"))
        return []
    if not lines:
        result.problems.append(Problem(f"the file is empty; expected a header row ({', '.join(allowed)})"))
        return []
    header = [cell.strip().lower() for cell in lines[0]]
    for position, cell in enumerate(header):
        if cell not in allowed:
            result.problems.append(
                Problem(f"unknown column; expected only {', '.join(allowed)}", row=1, field=lines[0][position])
            )
    if len(set(header)) != len(header):
        result.problems.append(Problem("a column appears twice; expected each column once", row=1))
    if result.problems:
        return []
    records: list[tuple[int, dict[str, Any]]] = []
    for number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            result.problems.append(
                Problem(f"expected {len(header)} cells like the header, got {len(cells)}", row=number)
            )
            continue
        records.append((number, dict(zip(header, cells, strict=True))))
    return records


def _json_records(
    content: bytes, kind: SupplierFileKind, allowed: tuple[str, ...], result: SupplierFile
) -> list[tuple[int, dict[str, Any]]]:
    key = "shipments" if kind is SupplierFileKind.SHIP_CONFIRMATION else "acknowledgements"
    document = json.loads(content.decode("utf-8-sig"))  # supplier_file_kind read it already
    items = document.get(key) if isinstance(document, dict) else None
    if not isinstance(items, list) or set(document) != {key}:
        result.problems.append(Problem(f'expected {{"{key}": [{{...}}, ...]}} and nothing else'))
        return []
    records: list[tuple[int, dict[str, Any]]] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            result.problems.append(Problem(f"expected an object with {', '.join(allowed)}", row=number))
            continue
        for name in sorted(set(item) - set(allowed)):
            result.problems.append(
                Problem(f"unknown field; expected only {', '.join(allowed)}", row=number, field=name)
            )
        records.append((number, dict(item)))
    return records


def _ack_row(number: int, record: dict[str, Any], zone: tzinfo, result: SupplierFile) -> None:
    before = len(result.problems)
    po = _required(record, "po_reference", number, "the purchase order's reference (po_reference)", result)
    raw = _optional(record.get("status"))
    status = STATUSES.get((raw or "").lower())
    if status is None:
        shown = repr(raw) if raw else "nothing"
        result.problems.append(Problem(f"expected accepted, rejected or cancelled, got {shown}", number, "status"))
    at = _time(record.get("acknowledged_at"), number, "acknowledged_at", zone, result)
    if len(result.problems) == before and po is not None and status is not None:
        result.acks.append(AckRow(number, po, status, _optional(record.get("reason")) or "", at))


def _ship_row(number: int, record: dict[str, Any], zone: tzinfo, result: SupplierFile) -> None:
    before = len(result.problems)
    po = _required(record, "po_reference", number, "the purchase order's reference (po_reference)", result)
    line_ref, sku = _optional(record.get("line_ref")), _optional(record.get("sku"))
    if line_ref is None and sku is None:
        result.problems.append(Problem("expected the PO line's line_ref or its sku, got neither", number, "line_ref"))
    quantity = _quantity(record.get("quantity"), number, result)
    tracking = _required(record, "tracking_number", number, "the package's tracking number", result)
    at = _time(record.get("shipped_at"), number, "shipped_at", zone, result)
    if len(result.problems) > before or po is None or quantity is None or tracking is None:
        return
    carrier = _optional(record.get("carrier"))
    result.shipments.append(ShipRow(number, po, line_ref or "", sku, quantity, tracking, carrier, at))


def _optional(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _required(record: dict[str, Any], name: str, number: int, what: str, result: SupplierFile) -> str | None:
    value = _optional(record.get(name))
    if value is None:
        result.problems.append(Problem(f"expected {what}, got nothing", number, name))
    return value


def _quantity(value: Any, number: int, result: SupplierFile) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()) and int(value) >= 1:
        return int(value.strip())
    shown = repr(value) if value not in (None, "") else "nothing"
    result.problems.append(Problem(f"expected a whole number >= 1, got {shown}", number, "quantity"))
    return None


def _time(value: Any, number: int, name: str, zone: tzinfo, result: SupplierFile) -> datetime | None:
    text = _optional(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        result.problems.append(
            Problem(f"expected an ISO 8601 date and time such as 2026-11-30T14:05:00Z, got {text!r}", number, name)
        )
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)
