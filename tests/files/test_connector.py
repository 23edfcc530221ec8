"""The folder side of the file feed: which files are read, when they move, and what a crash leaves behind."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.files.client import PUSH_REFUSED, FilesConnector, file_ref
from connectors.files.settings import FilesSettings
from omnibridge.errors import RetriableConnectorError, WebhookError
from omnibridge.sdk.channel import PullResult, PushStatus, StockChangeEvent, StockChangeKind, StockTarget

pytestmark = pytest.mark.anyio

T0 = 1_790_000_000.0
GOOD = b"sku,location,quantity\nA,WH,5\nB,WH,2\n"


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def drop(folder: Path, name: str, content: bytes, *, mtime: float = T0 - 60) -> Path:
    """Write ``name`` as a finished file whose last change was at ``mtime``."""
    path = folder / name
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))
    return path


def make(tmp_path: Path, clock: Clock | None = None, **settings: object) -> tuple[FilesConnector, FilesSettings]:
    inbox = tmp_path / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    config = FilesSettings.model_validate({"inbox": inbox, "stable_seconds": 10, **settings})
    return FilesConnector(config, clock=clock or Clock()), config


def stock(result: PullResult) -> list[StockChangeEvent]:
    events = [event for event in result.events if isinstance(event, StockChangeEvent)]
    assert len(events) == len(result.events)
    return events


def names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.is_file()) if folder.is_dir() else []


async def test_a_file_is_read_once_complete_and_moved_only_by_the_pull_after_it_was_applied(tmp_path: Path) -> None:
    connector, settings = make(tmp_path)
    drop(settings.inbox, "stock.csv", GOOD)

    first = await connector.pull_events(None)
    digest = json.loads(first.bookmark or "")["applied"]["stock.csv"]
    read_at = datetime.fromtimestamp(T0, UTC)  # rows without counted_at: when omnibridge read the file
    assert first.events == [
        StockChangeEvent(file_ref(digest, 2), StockChangeKind.COUNT, "A", "WH", 5, read_at),
        StockChangeEvent(file_ref(digest, 3), StockChangeKind.COUNT, "B", "WH", 2, read_at),
    ]
    assert stock(first)[0].ref == f"{digest[:16]}:2"
    assert names(settings.inbox) == ["stock.csv"]  # not moved yet: its events are not applied yet

    second = await connector.pull_events(first.bookmark)  # the engine stored the bookmark: applied
    assert second.events == []
    assert names(settings.inbox) == []
    assert names(settings.processed_dir) == ["stock.csv"]


async def test_a_crash_before_the_bookmark_was_stored_reads_the_file_again_with_the_same_refs(tmp_path: Path) -> None:
    connector, settings = make(tmp_path)
    drop(settings.inbox, "stock.json", b'{"counts": [{"sku": "A", "location": "WH", "quantity": 1}]}')
    first = await connector.pull_events(None)
    restarted, _ = make(tmp_path, Clock(T0 + 600))
    again = await restarted.pull_events(None)  # the bookmark of the first pull was never stored
    assert again.events == first.events  # dated when the content was first read, not when read again
    assert names(settings.inbox) == ["stock.json"]


async def test_the_same_content_dropped_again_gets_the_same_refs_and_both_copies_are_kept(tmp_path: Path) -> None:
    connector, settings = make(tmp_path)
    drop(settings.inbox, "stock.csv", GOOD)
    first = await connector.pull_events(None)
    moved = await connector.pull_events(first.bookmark)
    drop(settings.inbox, "stock.csv", GOOD, mtime=T0 - 30)
    again = await connector.pull_events(moved.bookmark)
    assert [event.ref for event in stock(again)] == [event.ref for event in stock(first)]
    await connector.pull_events(again.bookmark)
    assert names(settings.processed_dir) == ["stock.csv"]  # identical content under the same name: replaced

    drop(settings.inbox, "stock.csv", b"sku,location,quantity\nA,WH,9\n", mtime=T0 - 20)
    third = await connector.pull_events(again.bookmark)
    await connector.pull_events(third.bookmark)
    [renamed] = [name for name in names(settings.processed_dir) if name != "stock.csv"]
    assert renamed.startswith("stock-")
    assert renamed.endswith(".csv")


async def test_temporary_names_and_files_still_being_written_are_not_read(tmp_path: Path) -> None:
    clock = Clock()
    connector, settings = make(tmp_path, clock)
    for name in (".stock.csv", "stock.csv.tmp", "stock.csv.part", "stock.CSV.partial", "notes.txt"):
        drop(settings.inbox, name, GOOD)
    growing = drop(settings.inbox, "growing.csv", b"sku,location,quantity\nA,WH,5\n", mtime=T0 - 3)
    assert (await connector.pull_events(None)).events == []

    with growing.open("ab") as handle:  # the ERP is still appending
        handle.write(b"B,WH,7\n")
    os.utime(growing, (T0 + 5, T0 + 5))
    clock.now = T0 + 12
    assert (await connector.pull_events(None)).events == []  # changed 7 s ago: not stable for 10 s yet

    clock.now = T0 + 16
    result = await connector.pull_events(None)
    assert [(event.sku, event.quantity) for event in stock(result)] == [("A", 5), ("B", 7)]
    assert sorted(names(settings.inbox)) == sorted(
        [".stock.csv", "stock.csv.tmp", "stock.csv.part", "stock.CSV.partial", "notes.txt", "growing.csv"]
    )


async def test_a_file_with_a_bad_row_fails_whole_with_a_report(tmp_path: Path) -> None:
    connector, settings = make(tmp_path)
    drop(settings.inbox, "bad.csv", b"sku,location,quantity\nA,WH,5\nB,WH,5\nC,WH,ten\n")
    drop(settings.inbox, "good.csv", GOOD, mtime=T0 - 50)
    result = await connector.pull_events(None)
    assert {event.sku for event in stock(result)} == {"A", "B"}
    assert len(result.events) == 2
    assert json.loads(result.bookmark or "")["applied"].keys() == {"good.csv"}
    assert names(settings.failed_dir) == ["bad.csv", "bad.csv.errors.txt"]
    report = (settings.failed_dir / "bad.csv.errors.txt").read_text()
    assert "- row 4, field 'quantity': expected a whole number >= 0, got 'ten'" in report
    [message] = result.messages
    assert message.record_id == "bad.csv"
    assert "moved to failed/ with 1 problem(s), nothing applied" in message.message


async def test_counted_at_wins_over_the_file_time_and_is_read_in_the_zone(tmp_path: Path) -> None:
    connector, settings = make(tmp_path, timezone="America/Denver")
    drop(settings.inbox, "c.csv", b"sku,location,quantity,counted_at\nA,WH,5,2026-11-30T08:00:00\n")
    [event] = stock(await connector.pull_events(None))
    assert event.occurred_at == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


async def test_locations_levels_and_no_writes(tmp_path: Path) -> None:
    configured, _ = make(tmp_path / "configured", locations=["WH", "STORE"])
    assert [location.external_id for location in await configured.list_locations()] == ["WH", "STORE"]
    connector, settings = make(tmp_path)
    assert await connector.list_locations() == []
    drop(settings.inbox, "a.csv", b"sku,location,quantity,counted_at\nA,WH,5,2026-11-30T08:00Z\nA,DOCK,1,\n")
    drop(settings.inbox, "b.csv", b"sku,location,quantity,counted_at\nA,WH,3,2026-11-30T09:00Z\n", mtime=T0 - 50)
    first = await connector.pull_events(None)
    assert await connector.read_levels(["A"]) == []  # nothing is processed until it was applied
    await connector.pull_events(first.bookmark)
    levels = {(level.sku, level.location_ref): level.available for level in await connector.read_levels(["A", "Z"])}
    assert levels == {("A", "WH"): 3, ("A", "DOCK"): 1}
    assert [location.external_id for location in await connector.list_locations()] == ["DOCK", "WH"]

    target = StockTarget("A", "WH", 4)
    [result] = await connector.push_levels([target])
    assert (result.status, result.message) == (PushStatus.FAILED, PUSH_REFUSED)
    with pytest.raises(WebhookError):
        connector.verify_webhook(b"{}", {}, "https://example/webhooks/erp")


async def test_with_locations_configured_a_row_at_another_location_fails_its_file(tmp_path: Path) -> None:
    connector, settings = make(tmp_path, locations=["WH"])
    drop(settings.inbox, "s.csv", b"sku,location,quantity\nA,WH,1\nB,WHX,2\n")
    result = await connector.pull_events(None)
    assert result.events == []
    report = (settings.failed_dir / "s.csv.errors.txt").read_text()
    assert "- row 3, field 'location': expected one of the configured locations (WH), got 'WHX'" in report


async def test_a_missing_inbox_is_a_retriable_error(tmp_path: Path) -> None:
    connector, settings = make(tmp_path)
    settings.inbox.rmdir()
    with pytest.raises(RetriableConnectorError, match="does not exist"):
        await connector.pull_events(None)
