"""Orders and shipments exported to the ERP's outbox: once per change, atomically, and nothing skipped on a crash."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from connectors.files.client import FilesConnector
from connectors.files.exports import read_csv_export, render_export
from connectors.files.settings import FilesSettings
from omnibridge.cli.app import app
from omnibridge.models import Order, OrderLine, OrderStatus, Shipment, ShipmentLine, TrackingEvent, TrackingStatus
from omnibridge.store import Store, open_store
from omnibridge.sync.file_exports import ExportSink, bookmark_key, export_changes

from .world import load, seed, write_profile

NOW = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def order(number: int, status: OrderStatus = OrderStatus.ACCEPTED, *, at: datetime = NOW) -> Order:
    return Order(
        id=f"web:{number}",
        channel="web",
        external_id=str(number),
        number=f"#{number}",
        status=status,
        lines=[
            OrderLine(line_id="1", sku="TENT", quantity=2, location_id="wh"),
            OrderLine(line_id="2", sku="LAMP", quantity=1, location_id="shop"),
        ],
        placed_at=NOW - timedelta(hours=1),
        updated_at=at,
    )


def shipment(number: int) -> Shipment:
    return Shipment(
        id=f"shp-{number}",
        order_id=f"web:{number}",
        from_location_id="wh",
        carrier="ups",
        service="ground",
        tracking_number=f"1Z{number:06d}",
        lines=[ShipmentLine(sku="TENT", quantity=2)],
        created_at=NOW,
    )


def connector(root: Path, fmt: str = "csv") -> FilesConnector:
    (root / "inbox").mkdir(parents=True, exist_ok=True)
    return FilesConnector(FilesSettings.model_validate({"inbox": root / "inbox", "export_format": fmt}))


def outbox(root: Path) -> list[str]:
    return sorted(path.name for path in (root / "outbox").iterdir())


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Any:
    with open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}") as store:
        yield store


def test_each_order_and_shipment_is_exported_once_per_change(tmp_path: Path, sqlite_store: Store) -> None:
    store, sink = sqlite_store, connector(tmp_path)
    assert isinstance(sink, ExportSink)
    store.save_order(order(1))
    store.save_order(order(2))
    store.save_shipment(shipment(1))

    first = export_changes(store, "erp", sink, now=NOW)
    assert (first.orders, first.shipments) == (2, 1)
    assert outbox(tmp_path) == ["orders-20261130T140000Z-000001.csv", "shipments-20261130T140000Z-000002.csv"]
    rows = read_csv_export((tmp_path / "outbox" / outbox(tmp_path)[0]).read_bytes())
    assert [(r["order_id"], r["status"], r["sku"], r["quantity"], r["location"]) for r in rows] == [
        ("web:1", "accepted", "TENT", "2", "wh"),
        ("web:1", "accepted", "LAMP", "1", "shop"),
        ("web:2", "accepted", "TENT", "2", "wh"),
        ("web:2", "accepted", "LAMP", "1", "shop"),
    ]
    assert rows[0]["created_at"] == "2026-11-30T13:00:00Z"
    shipped = read_csv_export((tmp_path / "outbox" / outbox(tmp_path)[1]).read_bytes())
    assert shipped == [
        {
            "shipment_id": "shp-1",
            "order_id": "web:1",
            "carrier": "ups",
            "service": "ground",
            "tracking": "1Z000001",
            "status": "pending",
            "from_location": "wh",
            "created_at": "2026-11-30T14:00:00Z",
        }
    ]

    assert export_changes(store, "erp", sink, now=NOW).files == []  # nothing changed: nothing written

    store.save_order(order(2, OrderStatus.FULFILLED, at=NOW + timedelta(minutes=5)))
    store.add_tracking_event(
        "shp-1", TrackingEvent(status=TrackingStatus.IN_TRANSIT, carrier_status="I", occurred_at=NOW)
    )
    later = export_changes(store, "erp", sink, now=NOW + timedelta(minutes=6))
    assert (later.orders, later.shipments) == (1, 1)
    rows = read_csv_export(Path(later.files[0]).read_bytes())
    assert {(r["order_id"], r["status"]) for r in rows} == {("web:2", "fulfilled")}
    assert json.loads(store.get_bookmark(bookmark_key("erp")) or "")["sequence"] == 4
    assert not [name for name in outbox(tmp_path) if name.startswith(".")]  # no temporary file left behind


def test_a_failed_write_keeps_the_bookmark_so_nothing_is_skipped(tmp_path: Path, sqlite_store: Store) -> None:
    store, sink = sqlite_store, connector(tmp_path, "json")
    store.save_order(order(1))

    class Broken:
        def write_export(self, kind: str, records: Sequence[Mapping[str, Any]], stamp: datetime, sequence: int) -> str:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        export_changes(store, "erp", Broken(), now=NOW)
    assert store.get_bookmark(bookmark_key("erp")) is None
    report = export_changes(store, "erp", sink, now=NOW)
    document = json.loads(Path(report.files[0]).read_text())
    assert [o["id"] for o in document["orders"]] == ["web:1"]
    assert document["orders"][0]["lines"][0] == {"line": "1", "sku": "TENT", "quantity": 2, "location": "wh"}


def test_the_csv_renderer_and_its_reader_agree() -> None:
    content = render_export("shipments", [{"id": "s,1", "order": 'o"1', "carrier": "ups"}], "csv")
    rows = read_csv_export(content)
    assert (rows[0]["shipment_id"], rows[0]["order_id"], rows[0]["tracking"]) == ("s,1", 'o"1', "")
    with pytest.raises(ValueError, match="expected 'orders' or 'shipments'"):
        render_export("returns", [], "csv")


def test_omnibridge_files_export(tmp_path: Path) -> None:
    profile_path = write_profile(tmp_path)
    profile = load(tmp_path)
    with open_store(profile.store_url) as store:
        seed(store, profile)
        store.save_order(order(7))
    runner = CliRunner()
    first = runner.invoke(app, ["files", "export", "--profile", str(profile_path)])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("erp: 1 order(s), 0 shipment(s)\n  wrote ")
    second = runner.invoke(app, ["files", "export", "--profile", str(profile_path), "--json"])
    assert json.loads(second.output) == {"exports": [{"channel": "erp", "orders": 0, "shipments": 0, "files": []}]}
    wrong = runner.invoke(app, ["files", "export", "--profile", str(profile_path), "--channel", "web"])
    assert wrong.exit_code == 1
    assert "channel 'web' can take export files" in wrong.output
