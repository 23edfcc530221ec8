"""A dropship supplier behind the file feed: purchase orders out, acknowledgements and ship confirmations in."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.files.client import FilesConnector, file_ref
from connectors.files.purchase_orders import PO_COLUMNS, po_file_name, read_csv_purchase_order
from connectors.files.settings import FilesSettings
from connectors.files.supplier_files import parse_supplier_file, supplier_file_kind
from omnibridge.errors import FatalConnectorError, RetriableConnectorError
from omnibridge.sdk.channel import (
    FulfilmentEvent,
    FulfilmentLineEvent,
    FulfilmentStatus,
    FulfilmentStatusEvent,
    ShipTo,
    StockChangeEvent,
)
from omnibridge.sdk.fulfilment import FulfilmentLine, FulfilmentProvider, FulfilmentRequest, Submission

pytestmark = pytest.mark.anyio

T0 = 1_790_000_000.0
READ_AT = datetime.fromtimestamp(T0, UTC)
PLACED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
SHIP_TO = ShipTo("US", name="Ada Lovelace", line1="1 Main St", city="Denver", region="CO", postal_code="80202")


def make(tmp_path: Path, fmt: str = "csv", **settings: object) -> tuple[FilesConnector, FilesSettings]:
    inbox = tmp_path / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    config = FilesSettings.model_validate(
        {
            "inbox": inbox,
            "outbox": tmp_path / "outbox",
            "stable_seconds": 0,
            "locations": ["ACME"],
            "purchase_orders": {"format": fmt},
            **settings,
        }
    )
    return FilesConnector(config, clock=lambda: T0), config


def request(reference: str = "ob-41:acme", **changes: Any) -> FulfilmentRequest:
    fields: dict[str, Any] = {
        "reference": reference,
        "order_name": "#1041",
        "location_ref": "ACME",
        "lines": (FulfilmentLine("L1", "TENT", 2, "Tent 2P"), FulfilmentLine("L2", "LAMP", 1)),
        "ship_to": SHIP_TO,
        "placed_at": PLACED,
    }
    fields.update(changes)
    return FulfilmentRequest(**fields)


def drop(folder: Path, name: str, content: str) -> Path:
    path = folder / name
    path.write_text(content, encoding="utf-8")
    os.utime(path, (T0 - 60, T0 - 60))
    return path


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


# -- purchase orders out -----------------------------------------------------------------------------------


async def test_a_request_becomes_one_csv_purchase_order_named_after_its_reference(tmp_path: Path) -> None:
    connector, settings = make(tmp_path)
    assert isinstance(connector, FulfilmentProvider)

    result = await connector.submit_fulfilment(request())

    assert result == Submission("ob-41:acme", accepted=True, provider_ref="po-ob-41_3Aacme.csv")
    folder = settings.outbox_dir / "po"
    assert names(folder) == ["po-ob-41_3Aacme.csv"]  # no temporary file left behind
    rows = read_csv_purchase_order((folder / "po-ob-41_3Aacme.csv").read_bytes())
    common = {
        "po_reference": "ob-41:acme",
        "order_name": "#1041",
        "placed_at": "2026-12-01T09:30:00+00:00",
        "shipping_method": "Standard",
        "ship_to_name": "Ada Lovelace",
        "ship_to_line1": "1 Main St",
        "ship_to_line2": "",
        "ship_to_city": "Denver",
        "ship_to_region": "CO",
        "ship_to_postal_code": "80202",
        "ship_to_country": "US",
        "ship_to_phone": "",
    }
    assert rows == [
        {**common, "line_ref": "L1", "sku": "TENT", "name": "Tent 2P", "quantity": "2"},
        {**common, "line_ref": "L2", "sku": "LAMP", "name": "", "quantity": "1"},
    ]


async def test_a_json_purchase_order_carries_the_order_its_lines_and_the_address(tmp_path: Path) -> None:
    connector, _settings = make(tmp_path, "json", purchase_orders={"format": "json", "folder": tmp_path / "po"})

    result = await connector.submit_fulfilment(request("ob-42"))

    assert result.provider_ref == "po-ob-42.json"
    document = json.loads((tmp_path / "po" / "po-ob-42.json").read_text(encoding="utf-8"))
    assert document == {
        "purchase_order": {
            "po_reference": "ob-42",
            "order_name": "#1041",
            "placed_at": "2026-12-01T09:30:00+00:00",
            "shipping_method": "Standard",
            "lines": [
                {"line_ref": "L1", "sku": "TENT", "name": "Tent 2P", "quantity": 2},
                {"line_ref": "L2", "sku": "LAMP", "name": "", "quantity": 1},
            ],
            "ship_to": {
                "name": "Ada Lovelace",
                "line1": "1 Main St",
                "line2": None,
                "city": "Denver",
                "region": "CO",
                "postal_code": "80202",
                "country": "US",
                "phone": None,
            },
        }
    }


async def test_a_repeat_is_a_duplicate_and_rewrites_nothing_even_after_the_supplier_took_the_file(
    tmp_path: Path,
) -> None:
    connector, settings = make(tmp_path)
    first = await connector.submit_fulfilment(request())
    path = settings.purchase_order_dir / (first.provider_ref or "")
    os.utime(path, (T0 - 3600, T0 - 3600))

    again = await connector.submit_fulfilment(request())
    assert again == Submission("ob-41:acme", accepted=True, provider_ref=first.provider_ref, duplicate=True)
    assert path.stat().st_mtime == T0 - 3600  # not rewritten

    path.unlink()  # the supplier picked it up
    restarted, _ = make(tmp_path)
    assert (await restarted.submit_fulfilment(request())).duplicate
    assert names(settings.purchase_order_dir) == []


def test_file_names_are_stable_distinct_and_safe() -> None:
    assert po_file_name("ob-41:acme", "csv") == po_file_name("ob-41:acme", "csv") == "po-ob-41_3Aacme.csv"
    assert po_file_name("a/b", "csv") != po_file_name("a_b", "csv")
    assert po_file_name("a_2Fb", "csv") != po_file_name("a/b", "csv")
    assert po_file_name(".hidden", "json") == "po-_2Ehidden.json"
    long = po_file_name("x" * 500, "csv")
    assert len(long) < 140
    assert long != po_file_name("x" * 499, "csv")
    assert all(ch.isalnum() or ch in "._-" for ch in po_file_name("ö ../..\\z", "csv"))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"lines": ()}, "has no lines; expected at least one line to order"),
        ({"lines": (FulfilmentLine("L1", "TENT", 0),)}, "expected a quantity of at least 1"),
        ({"location_ref": "OTHER"}, "this supplier ships from 'ACME'"),
    ],
)
async def test_a_bad_request_is_refused_with_a_reason_and_writes_nothing(
    tmp_path: Path, changes: dict[str, Any], expected: str
) -> None:
    connector, settings = make(tmp_path)
    result = await connector.submit_fulfilment(request(**changes))
    assert not result.accepted
    assert expected in result.message
    assert names(settings.purchase_order_dir) == []


async def test_folder_errors_raise_for_a_retry_and_a_feed_without_purchase_orders_says_how_to_enable_them(
    tmp_path: Path,
) -> None:
    connector, settings = make(tmp_path, io_retries=0)
    settings.outbox_dir.write_text("not a folder")  # the outbox path is taken by a file
    with pytest.raises(RetriableConnectorError):
        await connector.submit_fulfilment(request())

    plain = FilesConnector(FilesSettings(inbox=settings.inbox))
    with pytest.raises(FatalConnectorError, match="add purchase_orders"):
        await plain.submit_fulfilment(request())


def test_purchase_orders_need_the_supplier_location() -> None:
    with pytest.raises(ValueError, match="set 'location' to the supplier's location code"):
        FilesSettings.model_validate({"inbox": "/tmp/in", "purchase_orders": {"format": "csv"}})
    settings = FilesSettings.model_validate({"inbox": "/tmp/in", "purchase_orders": {"location": "ACME"}})
    assert settings.supplier_location == "ACME"


# -- acknowledgements and ship confirmations in ------------------------------------------------------------

ACKS = "po_reference,status,reason\nob-41:acme,accepted,\nob-43,rejected,out of stock\n"
SHIPPED = (
    "po_reference,line_ref,sku,quantity,carrier,tracking_number,shipped_at\n"
    "ob-41:acme,L1,TENT,2,UPS,1Z999,2026-12-02T15:00:00Z\n"
    "ob-41:acme,,LAMP,1,UPS,1Z999,2026-12-02T15:00:00Z\n"
    "ob-41:acme,L1,,0,UPS,1Z998,\n"
)


async def test_acknowledgements_become_status_events_with_refs_stable_across_reads(tmp_path: Path) -> None:
    connector, settings = make(tmp_path)
    drop(settings.inbox, "ack-1.csv", ACKS)

    first = await connector.pull_events(None)
    digest = json.loads(first.bookmark or "")["applied"]["ack-1.csv"]
    assert first.events == [
        FulfilmentStatusEvent(file_ref(digest, 2), "ob-41:acme", FulfilmentStatus.ACKNOWLEDGED, READ_AT),
        FulfilmentStatusEvent(file_ref(digest, 3), "ob-43", FulfilmentStatus.REJECTED, READ_AT, "out of stock"),
    ]
    restarted, _ = make(tmp_path)  # a crash before the bookmark was stored: read again, later, same events
    restarted.clock = lambda: T0 + 600
    assert (await restarted.pull_events(None)).events == first.events

    await connector.pull_events(first.bookmark)
    assert names(settings.processed_dir) == ["ack-1.csv"]


async def test_ship_confirmations_become_one_fulfilment_event_per_package_from_the_supplier(tmp_path: Path) -> None:
    connector, settings = make(tmp_path)
    content = SHIPPED.replace(",0,UPS,1Z998,", ",1,UPS,1Z998,")
    drop(settings.inbox, "ship-1.csv", content)

    result = await connector.pull_events(None)

    digest = json.loads(result.bookmark or "")["applied"]["ship-1.csv"]
    shipped = datetime(2026, 12, 2, 15, tzinfo=UTC)
    lines = (FulfilmentLineEvent("L1", "TENT", 2), FulfilmentLineEvent("", "LAMP", 1))
    assert result.events == [
        FulfilmentEvent(file_ref(digest, 2), "ob-41:acme", shipped, lines, "ACME", "1Z999", "UPS"),
        FulfilmentEvent(
            file_ref(digest, 4), "ob-41:acme", READ_AT, (FulfilmentLineEvent("L1", None, 1),), "ACME", "1Z998", "UPS"
        ),
    ]


async def test_json_supplier_files_and_stock_files_share_the_inbox(tmp_path: Path) -> None:
    connector, settings = make(tmp_path)
    drop(settings.inbox, "a-stock.csv", "sku,location,quantity\nTENT,ACME,30\n")
    drop(settings.inbox, "b-ack.json", '{"acknowledgements": [{"po_reference": "ob-9", "status": "accepted"}]}')
    drop(
        settings.inbox,
        "c-ship.json",
        '{"shipments": [{"po_reference": "ob-9", "sku": "TENT", "quantity": 3, "tracking_number": "TRK1"}]}',
    )

    result = await connector.pull_events(None)

    kinds = [type(event) for event in result.events]
    assert kinds == [StockChangeEvent, FulfilmentStatusEvent, FulfilmentEvent]
    [count, ack, ship] = result.events
    assert isinstance(count, StockChangeEvent)
    assert (count.sku, count.location_ref, count.quantity) == (
        "TENT",
        "ACME",
        30,
    )
    assert isinstance(ack, FulfilmentStatusEvent)
    assert ack.reference == "ob-9"
    assert isinstance(ship, FulfilmentEvent)
    assert (ship.order_ref, ship.lines, ship.tracking_number, ship.carrier) == (
        "ob-9",
        (FulfilmentLineEvent("", "TENT", 3),),
        "TRK1",
        None,
    )


async def test_a_malformed_confirmation_row_fails_the_file_with_a_report_and_nothing_is_applied(
    tmp_path: Path,
) -> None:
    connector, settings = make(tmp_path)
    drop(settings.inbox, "ship-2.csv", SHIPPED + "ob-41:acme,,,1,UPS,,yesterday\n")

    result = await connector.pull_events(None)

    assert result.events == []
    assert names(settings.inbox) == []
    assert names(settings.failed_dir) == ["ship-2.csv", "ship-2.csv.errors.txt"]
    report = (settings.failed_dir / "ship-2.csv.errors.txt").read_text(encoding="utf-8")
    assert "row 4, field 'quantity': expected a whole number >= 1, got '0'" in report
    assert "row 5, field 'line_ref': expected the PO line's line_ref or its sku, got neither" in report
    assert "row 5, field 'tracking_number': expected the package's tracking number, got nothing" in report
    assert "row 5, field 'shipped_at': expected an ISO 8601 date and time" in report
    [message] = result.messages
    assert message.record_id == "ship-2.csv"
    assert "moved to failed/ with 4 problem(s)" in message.message


async def test_a_bad_acknowledgement_status_fails_its_file(tmp_path: Path) -> None:
    connector, settings = make(tmp_path)
    drop(settings.inbox, "ack-2.csv", "po_reference,status\nob-41,maybe\n")
    result = await connector.pull_events(None)
    assert result.events == []
    report = (settings.failed_dir / "ack-2.csv.errors.txt").read_text(encoding="utf-8")
    assert "row 2, field 'status': expected accepted, rejected or cancelled, got 'maybe'" in report


async def test_without_purchase_orders_a_supplier_file_is_not_taken_for_one(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    connector = FilesConnector(FilesSettings(inbox=inbox, stable_seconds=0), clock=lambda: T0)
    drop(inbox, "ack-1.csv", ACKS)
    result = await connector.pull_events(None)
    assert result.events == []
    assert names(inbox / "failed") == ["ack-1.csv", "ack-1.csv.errors.txt"]


def test_the_documented_supplier_file_examples_parse_and_the_po_header_is_the_written_one() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = docs[docs.index("#### Dropship suppliers") :]
    blocks = [block.split("```", 1)[0].strip() for block in section.split("```csv\n")[1:]]
    blocks += [block.split("```", 1)[0].strip() for block in section.split("```json\n")[1:]]
    [po_header] = [block.splitlines()[0] for block in blocks if block.startswith("po_reference,order_name")]
    assert tuple(po_header.split(",")) == PO_COLUMNS
    parsed = 0
    for block in blocks:
        name = "example.json" if block.startswith("{") else "example.csv"
        kind = supplier_file_kind(name, block.encode())
        if kind is None or block.startswith("po_reference,order_name"):
            continue  # a stock file, a purchase order
        result = parse_supplier_file(name, block.encode(), kind, zone=UTC)
        assert result.problems == [], block
        parsed += 1
    assert parsed == 3  # acknowledgements (CSV), ship confirmations (CSV and JSON)


async def test_check_names_a_purchase_order_folder_that_cannot_be_used(tmp_path: Path) -> None:
    (tmp_path / "po").write_text("a file where the folder should be")
    connector, _ = make(tmp_path, purchase_orders={"folder": tmp_path / "po"})
    with pytest.raises(FatalConnectorError, match=r"purchase-order .*/po is a file, not a folder"):
        await connector.check()
