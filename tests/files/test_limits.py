"""Big and strange inbox files: size and row limits, a failure reading a file, a bounded read-back, and entries
that are not regular files (symbolic links, named pipes). Each fails its file once, with a report; none loops."""

from __future__ import annotations

import gc
import json
import os
import threading
from pathlib import Path

import pytest

import connectors.files.client as client_module
from connectors.files.parsing import CountRow
from connectors.files.reading import read_count_file
from files.test_connector import T0, Clock, drop, make, names, stock

pytestmark = pytest.mark.anyio

HEADER = b"sku,location,quantity\n"


def rows(count: int, *, start: int = 0) -> bytes:
    return HEADER + b"".join(b"S%06d,WH,%d\n" % (n, n % 7) for n in range(start, start + count))


async def test_a_file_over_max_file_bytes_fails_unread_with_a_report_naming_the_limit(tmp_path: Path) -> None:
    connector, settings = make(tmp_path, max_file_bytes=1000)
    content = rows(100)
    drop(settings.inbox, "big.csv", content)
    drop(settings.inbox, "small.csv", rows(2), mtime=T0 - 50)

    result = await connector.pull_events(None)
    assert [event.sku for event in stock(result)] == ["S000000", "S000001"]  # the other file is read as usual
    assert names(settings.failed_dir) == ["big.csv", "big.csv.errors.txt"]
    report = (settings.failed_dir / "big.csv.errors.txt").read_text()
    assert f"the file is {len(content):,} bytes, over the limit of 1,000 bytes (max_file_bytes)" in report
    [message] = result.messages
    assert message.record_id == "big.csv"
    assert "max_file_bytes" in message.message
    assert (settings.failed_dir / "big.csv").read_bytes() == content  # moved whole, never rewritten


@pytest.mark.parametrize("name", ["many.csv", "many.json"])
async def test_a_file_over_max_rows_fails_with_a_report_naming_the_limit(tmp_path: Path, name: str) -> None:
    connector, settings = make(tmp_path, max_rows=5)
    if name.endswith(".json"):
        counts = [{"sku": f"S{n}", "location": "WH", "quantity": 1} for n in range(6)]
        drop(settings.inbox, name, json.dumps({"counts": counts}).encode())
    else:
        drop(settings.inbox, name, rows(6))

    result = await connector.pull_events(None)
    assert result.events == []
    report = (settings.failed_dir / f"{name}.errors.txt").read_text()
    assert "the file has more than 5 count rows, the limit (max_rows)" in report
    assert "max_rows" in result.messages[0].message


async def test_a_file_at_the_limits_is_read_and_a_pull_stops_taking_files_at_max_rows(tmp_path: Path) -> None:
    connector, settings = make(tmp_path, max_rows=3)
    drop(settings.inbox, "a.csv", rows(3), mtime=T0 - 60)
    drop(settings.inbox, "b.csv", rows(2, start=10), mtime=T0 - 50)

    first = await connector.pull_events(None)
    assert len(first.events) == 3
    assert json.loads(first.bookmark or "")["applied"].keys() == {"a.csv"}  # b.csv waits: the pull is full
    assert names(settings.failed_dir) == []

    second = await connector.pull_events(first.bookmark)
    assert [event.sku for event in stock(second)] == ["S000010", "S000011"]


async def test_running_out_of_memory_on_a_file_fails_it_once_instead_of_failing_every_pull(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector, settings = make(tmp_path)
    drop(settings.inbox, "huge.csv", rows(10))
    drop(settings.inbox, "fine.csv", rows(1, start=50), mtime=T0 - 50)
    real = read_count_file

    def exhausted(path: Path, *args: object, **kwargs: object) -> object:
        if path.name == "huge.csv":
            raise MemoryError
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(client_module, "read_count_file", exhausted)
    first = await connector.pull_events(None)
    assert [event.sku for event in stock(first)] == ["S000050"]
    report = (settings.failed_dir / "huge.csv.errors.txt").read_text()
    assert "omnibridge ran out of memory reading this file" in report
    assert "max_rows" in report

    second = await connector.pull_events(first.bookmark)  # nothing left to fail on: the daemon goes on
    assert second.events == []
    assert second.messages == []


async def test_any_failure_reading_a_file_fails_that_file_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector, settings = make(tmp_path)
    drop(settings.inbox, "odd.csv", rows(1))

    def broken(path: Path, *args: object, **kwargs: object) -> object:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(client_module, "read_count_file", broken)
    result = await connector.pull_events(None)
    assert result.events == []
    report = (settings.failed_dir / "odd.csv.errors.txt").read_text()
    assert "the file could not be read (RecursionError: maximum recursion depth exceeded)" in report


async def test_a_windows_1252_file_is_still_read_and_a_binary_one_fails_with_the_encoding_note(
    tmp_path: Path,
) -> None:
    connector, settings = make(tmp_path)
    drop(settings.inbox, "w.csv", "sku,location,quantity\nCAFÉ,WH,2\n".encode("cp1252"))
    drop(settings.inbox, "x.csv", HEADER + b"A,WH,1\n\x81\x8d\x8f,WH,2\n", mtime=T0 - 50)
    result = await connector.pull_events(None)
    assert [(event.sku, event.quantity) for event in stock(result)] == [("CAFÉ", 2)]
    report = (settings.failed_dir / "x.csv.errors.txt").read_text()
    assert "neither UTF-8 nor Windows-1252" in report


async def test_the_read_back_keeps_the_latest_count_per_position_not_every_row(tmp_path: Path) -> None:
    connector, settings = make(tmp_path)
    settings.processed_dir.mkdir()
    for day in range(1, 6):  # five counts of the same 200 positions
        body = b"".join(b"S%03d,WH,%d,2026-11-0%dT09:00:00Z\n" % (n, day, day) for n in range(200))
        drop(settings.processed_dir, f"day{day}.csv", b"sku,location,quantity,counted_at\n" + body)

    levels = await connector.read_levels(["S000", "S199"])
    assert {(level.sku, level.available) for level in levels} == {("S000", 5), ("S199", 5)}
    gc.collect()
    assert sum(isinstance(item, CountRow) for item in gc.get_objects()) == 0  # no row outlives its file's fold

    (settings.processed_dir / "day5.csv").unlink()  # a file leaving processed/: folded again without it
    levels = await connector.read_levels(["S000"])
    assert [(level.sku, level.available) for level in levels] == [("S000", 4)]


async def test_a_symbolic_link_in_the_inbox_is_moved_to_failed_unread_with_a_report(tmp_path: Path) -> None:
    connector, settings = make(tmp_path)
    outside = tmp_path / "elsewhere.csv"
    outside.write_bytes(rows(2))
    (settings.inbox / "linked.csv").symlink_to(outside)

    result = await connector.pull_events(None)
    assert result.events == []  # never followed
    [message] = result.messages
    assert message.record_id == "linked.csv"
    assert "it is a symbolic link" in message.message
    assert (settings.failed_dir / "linked.csv").is_symlink()  # the link moved, not the file it names
    assert outside.read_bytes() == rows(2)
    report = (settings.failed_dir / "linked.csv.errors.txt").read_text()
    assert "not read: it is a symbolic link; omnibridge reads only regular files" in report
    assert (await connector.pull_events(result.bookmark)).messages == []  # reported once


async def test_a_named_pipe_in_the_inbox_never_blocks_the_pull_and_is_reported(tmp_path: Path) -> None:
    connector, settings = make(tmp_path)
    fifo = settings.inbox / "stock.csv"
    os.mkfifo(fifo)
    drop(settings.inbox, "good.csv", rows(1))
    rescued: list[str] = []

    def rescue() -> None:  # had the pull opened the pipe, it would wait for a writer: be that writer, and say so
        for path in (fifo, settings.failed_dir / "stock.csv"):
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
                rescued.append(str(path))
            except OSError:
                pass

    timer = threading.Timer(10, rescue)
    timer.start()
    try:
        result = await connector.pull_events(None)
    finally:
        timer.cancel()
    assert rescued == []
    assert [event.sku for event in stock(result)] == ["S000000"]
    [message] = result.messages
    assert message.record_id == "stock.csv"
    assert "it is a named pipe (FIFO)" in message.message
    assert names(settings.failed_dir) == ["stock.csv.errors.txt"]  # names() lists regular files only
    assert not fifo.exists()
    assert (settings.failed_dir / "stock.csv").is_fifo()


async def test_a_second_link_of_the_same_name_does_not_overwrite_the_first_in_failed(tmp_path: Path) -> None:
    connector, settings = make(tmp_path, clock=Clock())
    (settings.inbox / "l.csv").symlink_to(tmp_path / "one")
    await connector.pull_events(None)
    (settings.inbox / "l.csv").symlink_to(tmp_path / "two")
    [message] = (await connector.pull_events(None)).messages
    assert "it is a symbolic link" in message.message
    links = sorted(path.name for path in settings.failed_dir.iterdir() if path.is_symlink())
    assert len(links) == 2
    assert "l.csv" in links
    assert os.readlink(settings.failed_dir / "l.csv") == str(tmp_path / "one")
