"""The emulator as a dropship supplier: it reads omnibridge's purchase orders and answers them into the inbox."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from connectors.files.client import FilesConnector
from connectors.files.emulator import build
from connectors.files.settings import FilesSettings
from omnibridge.sdk.channel import FulfilmentEvent, FulfilmentLineEvent, FulfilmentStatus, FulfilmentStatusEvent
from omnibridge.sdk.emulator import EmulatorOptions
from omnibridge.sdk.fulfilment import FulfilmentLine, FulfilmentRequest

pytestmark = pytest.mark.anyio

PLACED = datetime(2026, 12, 1, tzinfo=UTC)


def settle(folder: Path) -> None:
    """The files were written a minute ago: past any stable_seconds."""
    for path in folder.iterdir():
        if path.is_file():
            os.utime(path, (path.stat().st_mtime - 60, path.stat().st_mtime - 60))


@pytest.mark.parametrize("fmt", ["csv", "json"])
async def test_the_supplier_ships_a_purchase_order_and_the_feed_reports_it(tmp_path: Path, fmt: str) -> None:
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    server = build(EmulatorOptions(port=8806, settings={"inbox": str(inbox), "outbox": str(outbox)}))
    settings = FilesSettings.model_validate(
        {"inbox": inbox, "outbox": outbox, "locations": ["ACME"], "purchase_orders": {"format": fmt}}
    )
    connector = FilesConnector(settings)
    lines = (FulfilmentLine("L1", "TENT", 2), FulfilmentLine("L2", "LAMP", 1))
    await connector.submit_fulfilment(FulfilmentRequest("ob-5", "#1005", "ACME", lines, None, PLACED))
    await connector.submit_fulfilment(FulfilmentRequest("ob-6", "#1006", "ACME", lines[:1], None, PLACED))

    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
        listed = (await http.get("/_emulator/purchase-orders")).json()["purchase_orders"]
        assert [(po["file"], po["po_reference"], len(po["lines"])) for po in listed] == [
            (f"po-ob-5.{fmt}", "ob-5", 2),
            (f"po-ob-6.{fmt}", "ob-6", 1),
        ]
        shipped = (await http.post("/_emulator/ship-purchase-order", json={"po_reference": "ob-5"})).json()
        again = (await http.post("/_emulator/ship-purchase-order", json={"po_reference": "ob-5"})).json()
        rejected = await http.post("/_emulator/reject-purchase-order", json={"po_reference": "ob-6", "reason": "none"})
        missing = await http.post("/_emulator/ship-purchase-order", json={"po_reference": "ob-404"})
    assert again == shipped
    assert shipped["tracking_number"].startswith("1ZEMU")
    assert rejected.status_code == 200
    assert missing.status_code == 404
    assert "no purchase order 'ob-404'" in missing.json()["error"]

    settle(inbox)
    events = (await connector.pull_events(None)).events
    statuses = {(e.reference, e.status, e.reason) for e in events if isinstance(e, FulfilmentStatusEvent)}
    assert statuses == {("ob-5", FulfilmentStatus.ACKNOWLEDGED, ""), ("ob-6", FulfilmentStatus.REJECTED, "none")}
    [package] = [event for event in events if isinstance(event, FulfilmentEvent)]
    assert (package.order_ref, package.location_ref, package.carrier, package.tracking_number) == (
        "ob-5",
        "ACME",
        "UPS",
        shipped["tracking_number"],
    )
    assert package.lines == (FulfilmentLineEvent("L1", "TENT", 2), FulfilmentLineEvent("L2", "LAMP", 1))
