"""The dropship supplier role of ``omnibridge emulator files``: it reads the purchase orders omnibridge wrote and,
when told to, answers them with files in the inbox, the way a supplier's system would.

Control routes (no auth; JSON in, JSON out), mounted by :mod:`connectors.files.emulator`:

``GET  /_emulator/purchase-orders``        every purchase order in the PO folder: ``{"purchase_orders": [{"file",
                                            "po_reference", "lines": [{"line_ref", "sku", "quantity"}]}]}``
``POST /_emulator/ship-purchase-order``    ``{"po_reference", "carrier"?, "tracking_number"?}``: writes an
                                            acknowledgement (accepted) and a ship confirmation of every line →
                                            ``{"acknowledgement", "confirmation", "tracking_number"}``
``POST /_emulator/reject-purchase-order``  ``{"po_reference", "reason"?}``: writes a rejection → ``{"acknowledgement"}``

Answering the same purchase order again returns the first answer and writes nothing (a supplier ships once). The
tracking number, unless given, is derived from the PO reference (``1ZEMU`` and 12 hex digits), so runs repeat.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.files.purchase_orders import po_file_name, read_csv_purchase_order

__all__ = ["Supplier"]


class Supplier:
    """A supplier reading purchase orders from ``po_folder`` and answering into ``inbox``."""

    def __init__(self, inbox: Path, po_folder: Path) -> None:
        self.inbox, self.po_folder = inbox, po_folder
        self.answered: dict[str, dict[str, str]] = {}

    def purchase_orders(self) -> list[dict[str, Any]]:
        """The purchase orders in the PO folder (CSV or JSON), oldest name first."""
        found: list[dict[str, Any]] = []
        if not self.po_folder.is_dir():
            return found
        for path in sorted(self.po_folder.iterdir()):
            if not path.is_file() or path.name.startswith("."):
                continue
            order = _read(path)
            if order is not None:
                found.append({"file": path.name, **order})
        return found

    def ship(self, po_reference: str, carrier: str = "UPS", tracking_number: str | None = None) -> dict[str, str]:
        """Acknowledge ``po_reference`` and confirm every line of it shipped in one package."""
        if po_reference in self.answered:
            return self.answered[po_reference]
        order = self._order(po_reference)
        tracking = tracking_number or "1ZEMU" + hashlib.sha256(po_reference.encode()).hexdigest()[:12].upper()
        now = datetime.now(UTC).isoformat()
        stem = po_file_name(po_reference, "csv").removeprefix("po-").removesuffix(".csv")
        ack = self._write(
            f"ack-{stem}.csv",
            ["po_reference", "status", "reason", "acknowledged_at"],
            [[po_reference, "accepted", "", now]],
        )
        confirmation = self._write(
            f"ship-{stem}.csv",
            ["po_reference", "line_ref", "sku", "quantity", "carrier", "tracking_number", "shipped_at"],
            [
                [po_reference, line["line_ref"], line["sku"], str(line["quantity"]), carrier, tracking, now]
                for line in order["lines"]
            ],
        )
        answer = {"acknowledgement": str(ack), "confirmation": str(confirmation), "tracking_number": tracking}
        self.answered[po_reference] = answer
        return answer

    def reject(self, po_reference: str, reason: str = "out of stock") -> dict[str, str]:
        """Refuse ``po_reference`` with ``reason``."""
        if po_reference in self.answered:
            return self.answered[po_reference]
        self._order(po_reference)
        stem = po_file_name(po_reference, "csv").removeprefix("po-").removesuffix(".csv")
        now = datetime.now(UTC).isoformat()
        ack = self._write(
            f"ack-{stem}.csv",
            ["po_reference", "status", "reason", "acknowledged_at"],
            [[po_reference, "rejected", reason, now]],
        )
        self.answered[po_reference] = {"acknowledgement": str(ack)}
        return self.answered[po_reference]

    def routes(self) -> list[Route]:
        """The control routes (see the module docstring)."""

        async def listing(request: Request) -> JSONResponse:
            return JSONResponse({"purchase_orders": self.purchase_orders()})

        async def ship(request: Request) -> JSONResponse:
            body, error = await _body(request)
            if error is not None:
                return error
            carrier, tracking = str(body.get("carrier") or "UPS"), body.get("tracking_number")
            return _answer(lambda: self.ship(str(body["po_reference"]), carrier, str(tracking) if tracking else None))

        async def reject(request: Request) -> JSONResponse:
            body, error = await _body(request)
            if error is not None:
                return error
            return _answer(lambda: self.reject(str(body["po_reference"]), str(body.get("reason") or "out of stock")))

        return [
            Route("/_emulator/purchase-orders", listing, methods=["GET"]),
            Route("/_emulator/ship-purchase-order", ship, methods=["POST"]),
            Route("/_emulator/reject-purchase-order", reject, methods=["POST"]),
        ]

    def _order(self, po_reference: str) -> dict[str, Any]:
        for order in self.purchase_orders():
            if order["po_reference"] == po_reference:
                return order
        raise LookupError(f"no purchase order {po_reference!r} in {self.po_folder}")

    def _write(self, name: str, header: list[str], rows: list[list[str]]) -> Path:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        target = self.inbox / name
        temporary = target.with_name(f".{name}.tmp")
        temporary.write_text(buffer.getvalue(), encoding="utf-8")
        os.replace(temporary, target)
        return target


def _read(path: Path) -> dict[str, Any] | None:
    try:
        content = path.read_bytes()
        if path.suffix.lower() == ".json":
            order = json.loads(content)["purchase_order"]
            return {"po_reference": order["po_reference"], "lines": order["lines"]}
        rows = read_csv_purchase_order(content)
        lines = [{"line_ref": row["line_ref"], "sku": row["sku"], "quantity": int(row["quantity"])} for row in rows]
        return {"po_reference": rows[0]["po_reference"], "lines": lines} if rows else None
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


async def _body(request: Request) -> tuple[dict[str, Any], JSONResponse | None]:
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        return {}, JSONResponse({"error": f"expected a JSON object with po_reference: {exc}"}, 400)
    if not isinstance(body, dict) or not body.get("po_reference"):
        return {}, JSONResponse({"error": "expected a JSON object with po_reference"}, 400)
    return body, None


def _answer(work: Callable[[], dict[str, str]]) -> JSONResponse:
    try:
        return JSONResponse(work())
    except LookupError as exc:
        return JSONResponse({"error": str(exc.args[0])}, 404)
