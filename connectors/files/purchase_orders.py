"""Dropship purchase-order files: one file per fulfilment request, named after its reference, written once.

The file's name is ``po-<reference>.<csv|json>`` with the reference encoded so that any reference gives a valid,
distinct name (letters, digits, ``.`` and ``-`` are kept; every other character, ``_`` included, becomes ``_``
and two hex digits per UTF-8 byte: ``ob-7:1`` → ``po-ob-7_3A1.csv``). A reference too long for a file name is
cut and followed by its sha256. So the same request always gives the same name and two requests never share one.

CSV (one row per order line, the order's columns repeated)::

    po_reference,order_name,placed_at,shipping_method,line_ref,sku,name,quantity,ship_to_name,ship_to_line1,
    ship_to_line2,ship_to_city,ship_to_region,ship_to_postal_code,ship_to_country,ship_to_phone

JSON: ``{"purchase_order": {"po_reference", "order_name", "placed_at", "shipping_method", "lines": [{"line_ref",
"sku", "name", "quantity"}], "ship_to": {"name", "line1", "line2", "city", "region", "postal_code", "country",
"phone"} | null}}``. Times are ISO 8601 UTC. Rendering is pure; :func:`write_once` does the file I/O.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

from omnibridge.sdk.fulfilment import FulfilmentRequest

__all__ = ["PO_COLUMNS", "SENT_FOLDER", "po_file_name", "render_purchase_order", "request_problem", "write_once"]

PO_COLUMNS = (
    "po_reference",
    "order_name",
    "placed_at",
    "shipping_method",
    "line_ref",
    "sku",
    "name",
    "quantity",
    "ship_to_name",
    "ship_to_line1",
    "ship_to_line2",
    "ship_to_city",
    "ship_to_region",
    "ship_to_postal_code",
    "ship_to_country",
    "ship_to_phone",
)
SHIP_TO_FIELDS = ("name", "line1", "line2", "city", "region", "postal_code", "country", "phone")
SENT_FOLDER = ".po-sent"
"""A hidden folder (in the processed folder) with a marker per purchase order written: a repeat is a duplicate
even after the supplier took the file out of the outbox."""
_KEEP = re.compile(r"[A-Za-z0-9.\-]")
_MAX_STEM = 120


def po_file_name(reference: str, fmt: str) -> str:
    """The purchase-order file name for ``reference``: stable, distinct per reference, safe on any file system."""
    encoded = "".join(
        char if _KEEP.fullmatch(char) else "".join(f"_{byte:02X}" for byte in char.encode()) for char in reference
    )
    if encoded.startswith("."):
        encoded = "_2E" + encoded[1:]
    if len(encoded) > _MAX_STEM:
        encoded = f"{encoded[: _MAX_STEM - 17]}-{hashlib.sha256(reference.encode()).hexdigest()[:16]}"
    return f"po-{encoded}.{fmt}"


def request_problem(request: FulfilmentRequest, supplier_location: str | None) -> str | None:
    """Why ``request`` cannot become a purchase order (one line naming what was expected), or None."""
    if not request.reference.strip():
        return "the request has no reference; expected omnibridge's idempotency key"
    if not request.lines:
        return f"request {request.reference!r} has no lines; expected at least one line to order"
    for line in request.lines:
        if not line.sku.strip():
            return f"line {line.line_ref!r} has no SKU; expected the SKU to order"
        if line.quantity <= 0:
            return f"line {line.line_ref!r} orders {line.quantity} x {line.sku!r}; expected a quantity of at least 1"
    if supplier_location is not None and request.location_ref != supplier_location:
        return (
            f"request {request.reference!r} is for location {request.location_ref!r}; this supplier ships from "
            f"{supplier_location!r} (purchase_orders.location)"
        )
    return None


def render_purchase_order(request: FulfilmentRequest, fmt: str, delimiter: str = ",") -> bytes:
    """The bytes of the purchase-order file for ``request`` in ``fmt`` ("csv" or "json")."""
    head = {
        "po_reference": request.reference,
        "order_name": request.order_name,
        "placed_at": request.placed_at.astimezone(UTC).isoformat(),
        "shipping_method": request.shipping_method,
    }
    ship_to = _ship_to(request)
    lines = [
        {"line_ref": line.line_ref, "sku": line.sku, "name": line.name, "quantity": line.quantity}
        for line in request.lines
    ]
    if fmt == "json":
        document = {"purchase_order": {**head, "lines": lines, "ship_to": ship_to}}
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
    if fmt != "csv":
        raise ValueError(f"unknown purchase-order format {fmt!r}: expected 'csv' or 'json'")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(PO_COLUMNS)
    address = [_text((ship_to or {}).get(key)) for key in SHIP_TO_FIELDS]
    for line in lines:
        writer.writerow([_text(head[key]) for key in PO_COLUMNS[:4]] + [_text(v) for v in line.values()] + address)
    return buffer.getvalue().encode()


def write_once(folder: Path, sent: Path, name: str, content: bytes) -> bool:
    """Write ``folder/name`` unless this purchase order was written before (its file is there, or its marker in
    ``sent``). The file appears complete or not at all (a hidden temporary file, fsync, then a hard link that
    never replaces an existing file). True: written now; False: a repeat, nothing written."""
    target, marker = folder / name, sent / name
    if marker.exists() or target.exists():
        _mark(sent, name)
        return False
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = folder / f".{name}.tmp"
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, target)
    except FileExistsError:
        return False  # another writer got there first: the same request, the same content
    except OSError:
        if target.exists():
            return False
        os.replace(temporary, target)  # a file system without hard links (some shares)
    finally:
        temporary.unlink(missing_ok=True)
    _mark(sent, name)
    return True


def _mark(sent: Path, name: str) -> None:
    sent.mkdir(parents=True, exist_ok=True)
    (sent / name).touch(exist_ok=True)


def _ship_to(request: FulfilmentRequest) -> dict[str, Any] | None:
    if request.ship_to is None:
        return None
    return {key: getattr(request.ship_to, key) for key in SHIP_TO_FIELDS}


def _text(value: object) -> str:
    return "" if value is None else str(value)


def read_csv_purchase_order(content: bytes) -> Sequence[dict[str, str]]:
    """Read a CSV purchase order back as one dict per line (for the emulator, tests and tools)."""
    return list(csv.DictReader(io.StringIO(content.decode(), newline="")))
