"""When a count row is dated: its ``counted_at``, else when omnibridge first read the file — never the file's
modification time, which another machine's clock and every copy set (issue 12, defect 2), on SQLite and
PostgreSQL."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.files.client import FilesConnector
from connectors.files.read_times import FOLDER, first_read_at, recorded_read_at
from omnibridge.models import MovementKind, StockMovement
from omnibridge.store import Store
from omnibridge.sync import SyncEngine

from .world import drop, load, seed, write_profile

READ_AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
"""When omnibridge reads the ERP's file."""


def engine_reading_at(store: Store, root: Path, moment: datetime) -> SyncEngine:
    """The engine of the files world on ``store``; its file feed reads the inbox at ``moment``."""
    engine = SyncEngine.for_profile(store, load(root))
    connector = engine.channels["erp"].connector
    assert isinstance(connector, FilesConnector)
    connector.clock = moment.timestamp
    return engine


def movement(key: str, kind: MovementKind, quantity: int, at: datetime) -> StockMovement:
    return StockMovement(
        idempotency_key=key, source="manual", kind=kind, sku="TENT", location_id="wh", quantity=quantity, occurred_at=at
    )


def drop_written_at(root: Path, name: str, content: str, mtime: datetime) -> None:
    path = drop(root, name, content)
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))


@pytest.mark.anyio
async def test_an_undated_count_is_the_stock_when_read_not_at_a_slow_file_clock(tmp_path: Path, store: Store) -> None:
    write_profile(tmp_path)
    seed(store, load(tmp_path))
    store.apply(movement("opening", MovementKind.RECEIPT, 6, READ_AT - timedelta(hours=2)))
    # 2 units delivered at 09:45: on the shelf, in the ledger, and in the ERP's count of 8 written at 10:00
    store.apply(movement("delivery", MovementKind.RECEIPT, 2, READ_AT - timedelta(minutes=15)))
    # the ERP's server clock is 30 minutes slow: the file says it was last modified at 09:30
    drop_written_at(tmp_path, "stock.csv", "sku,location,quantity\nTENT,WH-01,8\n", READ_AT - timedelta(minutes=30))

    report = await engine_reading_at(store, tmp_path, READ_AT).sync_once()
    assert report.ok
    # dated 09:30 the count came before the delivery, which was added on top of it: 10 instead of 8
    assert store.position("TENT", "wh").on_hand == 8
    [count] = [m for m in store.movements("TENT", "wh") if m.movement.kind is MovementKind.COUNT]
    assert count.movement.occurred_at == READ_AT


@pytest.mark.anyio
async def test_a_count_taken_before_the_file_was_written_needs_counted_at_to_keep_the_sales_between(
    tmp_path: Path, store: Store
) -> None:
    write_profile(tmp_path)
    seed(store, load(tmp_path))
    store.apply(movement("opening", MovementKind.RECEIPT, 10, READ_AT - timedelta(hours=3)))
    store.apply(movement("web-sale", MovementKind.SALE, 2, READ_AT - timedelta(hours=1)))  # after the count
    counted = "sku,location,quantity,counted_at\nTENT,WH-01,10,2026-11-30T08:00:00Z\nLAMP,SHOP-01,4,\n"
    drop_written_at(tmp_path, "stock.csv", counted, READ_AT - timedelta(minutes=5))

    await engine_reading_at(store, tmp_path, READ_AT).sync_once()
    assert store.position("TENT", "wh").on_hand == 8  # counted at 08:00: the 09:00 sale keeps its effect
    [lamp] = store.movements("LAMP", "shop")
    assert lamp.movement.occurred_at == READ_AT  # the undated row: the stock when omnibridge read the file


@pytest.mark.anyio
async def test_an_undated_file_read_again_later_is_the_same_count(tmp_path: Path, store: Store) -> None:
    write_profile(tmp_path)
    seed(store, load(tmp_path))
    content = "sku,location,quantity\nTENT,WH-01,8\n"
    drop(tmp_path, "stock.csv", content)
    await engine_reading_at(store, tmp_path, READ_AT).sync_once()
    store.apply(movement("web-sale", MovementKind.SALE, 1, READ_AT + timedelta(minutes=10)), allow_shortfall=True)
    await engine_reading_at(store, tmp_path, READ_AT + timedelta(minutes=20)).sync_once()  # moves it to processed

    # the ERP sends the same file again the next day (or a process stopped before the file was moved): the rows
    # are the same movements, dated when the content was first read, so nothing is applied and nothing fails
    drop_written_at(tmp_path, "stock.csv", content, READ_AT + timedelta(days=1))
    report = await engine_reading_at(store, tmp_path, READ_AT + timedelta(days=1, minutes=1)).sync_once()
    [row] = report.as_dict()["channels"]
    assert (row["events_pulled"], row["movements_applied"], row["duplicates"], row["messages"]) == (1, 0, 1, [])
    assert store.position("TENT", "wh").on_hand == 7  # the count was not applied again over the sale


def test_the_first_reader_of_a_content_sets_its_time_for_every_later_reader(tmp_path: Path) -> None:
    first = first_read_at(tmp_path, "ab" * 32, READ_AT)
    other_process = first_read_at(tmp_path, "ab" * 32, READ_AT + timedelta(minutes=5))
    assert (first, other_process) == (READ_AT, READ_AT)
    assert recorded_read_at(tmp_path, "ab" * 32) == READ_AT
    assert recorded_read_at(tmp_path, "cd" * 32) is None


def test_a_record_left_empty_by_a_reader_that_stopped_is_taken_over(tmp_path: Path) -> None:
    (tmp_path / FOLDER).mkdir()
    (tmp_path / FOLDER / ("ab" * 32)).write_bytes(b"")  # it stopped before writing, so before returning events
    later = READ_AT + timedelta(minutes=5)
    assert first_read_at(tmp_path, "ab" * 32, later) == later
    assert recorded_read_at(tmp_path, "ab" * 32) == later
