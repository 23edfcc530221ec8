"""``omnibridge emulator files``: an ERP/WMS that exchanges files with omnibridge through folders.

It writes stock-count files into the inbox the way an ERP should (``*.tmp``, then renamed) and shows what
omnibridge exported to the outbox. The folders are those of ``config/connectors/files.yaml``: ``${ERP_INBOX}``
and ``${ERP_OUTBOX}`` (defaults ``/srv/erp/inbox`` and ``/srv/erp/outbox``), or ``--set inbox=DIR outbox=DIR``.

Control routes (no auth; JSON in, JSON out):

``GET  /_emulator/state``    inbox, outbox, files waiting in the inbox, processed, failed, exports
``POST /_emulator/counts``   ``{"rows": [{"sku", "location", "quantity", "counted_at"?}], "name"?}`` → ``{"file"}``

It is also a dropship supplier (:mod:`connectors.files.supplier_emulator`): it reads the purchase orders omnibridge
writes to ``po_folder`` (default ``<outbox>/po``, ``--set po_folder=DIR``) and answers them on
``/_emulator/ship-purchase-order`` and ``/_emulator/reject-purchase-order``.
"""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.files.supplier_emulator import Supplier
from omnibridge.sdk.emulator import EmulatorOptions, EmulatorServer, EmulatorSettingError

__all__ = ["DEFAULT_PORT", "FilesErp", "build"]

DEFAULT_PORT = 8806


class FilesErp:
    """The ERP side of a folder exchange."""

    def __init__(self, inbox: Path, outbox: Path, po_folder: Path | None = None) -> None:
        self.inbox, self.outbox = inbox, outbox
        self.written = 0
        self.supplier = Supplier(inbox, po_folder or outbox / "po")

    def write_counts(self, rows: list[dict[str, Any]], name: str | None = None) -> Path:
        """Write ``rows`` as a count CSV (sku, location, quantity, counted_at), atomically; the file's path."""
        self.written += 1
        stamp = datetime.now(UTC)
        target = self.inbox / (name or f"counts-{stamp:%Y%m%dT%H%M%S}-{self.written}.csv")
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["sku", "location", "quantity", "counted_at"])
        for row in rows:
            counted_at = row.get("counted_at") or stamp.isoformat()
            writer.writerow([row["sku"], row["location"], int(row["quantity"]), counted_at])
        temporary = target.with_name(target.name + ".tmp")
        temporary.write_text(buffer.getvalue(), encoding="utf-8")
        os.replace(temporary, target)
        return target

    def state(self) -> dict[str, Any]:
        """The folders and the files in them."""

        def names(folder: Path) -> list[str]:
            return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []

        return {
            "inbox": str(self.inbox),
            "outbox": str(self.outbox),
            "waiting": names(self.inbox),
            "processed": names(self.inbox / "processed"),
            "failed": names(self.inbox / "failed"),
            "exports": names(self.outbox),
            "purchase_orders": names(self.supplier.po_folder),
        }

    @property
    def app(self) -> Starlette:
        """The control routes as an ASGI app."""

        async def state(request: Request) -> JSONResponse:
            return JSONResponse(self.state())

        async def counts(request: Request) -> JSONResponse:
            try:
                body = json.loads(await request.body())
                path = self.write_counts(list(body["rows"]), body.get("name"))
            except (ValueError, KeyError, TypeError) as exc:
                return JSONResponse({"error": f"expected {{'rows': [{{sku, location, quantity}}]}}: {exc}"}, 400)
            return JSONResponse({"file": str(path)})

        return Starlette(
            routes=[
                Route("/_emulator/state", state, methods=["GET"]),
                Route("/_emulator/counts", counts, methods=["POST"]),
                *self.supplier.routes(),
            ]
        )


def build(options: EmulatorOptions) -> EmulatorServer:
    """Create the inbox and outbox (as the shipped profile names them) and serve the control routes."""
    inbox = Path(options.text("inbox", os.environ.get("ERP_INBOX") or "/srv/erp/inbox"))
    outbox = Path(options.text("outbox", os.environ.get("ERP_OUTBOX") or "/srv/erp/outbox"))
    for folder in (inbox, outbox):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EmulatorSettingError(
                f"cannot create {folder} ({exc.strerror}); set ERP_INBOX and ERP_OUTBOX (or --set inbox=DIR "
                "--set outbox=DIR) to folders you can write"
            ) from None
    po_folder = Path(options.text("po_folder", str(outbox / "po")))
    erp = FilesErp(inbox, outbox, po_folder)
    return EmulatorServer(
        app=erp.app,
        emulator=erp,
        summary=[
            f"ERP file-exchange emulator on {options.base_url}: inbox {inbox}, outbox {outbox}",
            f"  connector settings: inbox: {inbox}, outbox: {outbox}",
            '  drop counts: POST /_emulator/counts {"rows": [{"sku", "location", "quantity"}]} (docs/emulators.md)',
            f'  as a supplier: reads POs in {po_folder}; POST /_emulator/ship-purchase-order {{"po_reference"}}',
        ],
    )
