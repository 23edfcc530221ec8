"""A file drop from the ERP through the sync engine: counts in the ledger, exactly once, and never a push back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sync.fake_channel import FakeChannel, runtime

from connectors.files.client import FilesConnector
from omnibridge.models import MovementKind, StockMovement
from omnibridge.sdk.channel import PushResult, StockLevel, StockTarget
from omnibridge.store import Store, open_store
from omnibridge.store.unit_of_work import UnitOfWork
from omnibridge.sync import SyncEngine, build_channels

from .world import drop, load, seed, write_profile

pytestmark = pytest.mark.anyio

GOOD_CSV = "sku,location,quantity,counted_at\nTENT,WH-01,12,2026-11-30T08:00:00Z\nLAMP,SHOP-01,4,\n"
GOOD_JSON = '{"counts": [{"sku": "TENT", "location": "SHOP-01", "quantity": 3}]}'


class Crash(Exception):
    """The process dies here."""


def on_hand(store: Store, sku: str, location_id: str) -> int:
    return store.position(sku, location_id).on_hand


def counts(store: Store) -> list[tuple[str, str, int]]:
    return sorted(
        (m.movement.sku, m.movement.location_id, m.movement.quantity)
        for sku in ("TENT", "LAMP")
        for m in store.movements(sku)
        if m.movement.source == "erp"
    )


def erp(engine: SyncEngine) -> FilesConnector:
    connector = engine.channels["erp"].connector
    assert isinstance(connector, FilesConnector)
    return connector


def outcome(root: Path, folder: str) -> list[str]:
    path = root / "inbox" / folder
    return sorted(p.name for p in path.iterdir() if not p.name.startswith(".")) if path.is_dir() else []


async def test_csv_and_json_drops_become_count_movements_and_the_files_move_once_applied(tmp_path: Path) -> None:
    write_profile(tmp_path)
    profile = load(tmp_path)
    with open_store(profile.store_url) as store:
        seed(store, profile)
        engine = SyncEngine.for_profile(store, profile)
        drop(tmp_path, "stock-1.csv", GOOD_CSV)
        drop(tmp_path, "stock-2.json", GOOD_JSON)

        report = await engine.sync_once()
        [row] = report.as_dict()["channels"]
        assert report.ok
        assert (row["events_pulled"], row["movements_applied"]) == (3, 3)
        assert counts(store) == [("LAMP", "shop", 4), ("TENT", "shop", 3), ("TENT", "wh", 12)]
        assert all(m.movement.kind is MovementKind.COUNT for m in store.movements("TENT"))
        assert (on_hand(store, "TENT", "wh"), on_hand(store, "TENT", "shop"), on_hand(store, "LAMP", "shop")) == (
            12,
            3,
            4,
        )
        [at_wh] = store.movements("TENT", "wh")
        assert at_wh.movement.occurred_at == datetime(2026, 11, 30, 8, tzinfo=UTC)
        assert outcome(tmp_path, "processed") == []  # still in the inbox until the bookmark says applied

        again = await engine.sync_once()
        assert again.as_dict()["channels"][0]["events_pulled"] == 0
        assert outcome(tmp_path, "processed") == ["stock-1.csv", "stock-2.json"]
        assert [p.name for p in (tmp_path / "inbox").iterdir() if p.is_file()] == []
        levels = await erp(engine).read_levels(["TENT"])
        assert {(level.location_ref, level.available) for level in levels} == {("WH-01", 12), ("SHOP-01", 3)}


async def test_a_redropped_identical_file_is_not_applied_twice(tmp_path: Path) -> None:
    write_profile(tmp_path)
    profile = load(tmp_path)
    with open_store(profile.store_url) as store:
        seed(store, profile)
        engine = SyncEngine.for_profile(store, profile)
        drop(tmp_path, "stock.csv", GOOD_CSV)
        await engine.sync_once()
        await engine.sync_once()
        store.apply(
            StockMovement(
                idempotency_key="test:sale",
                source="manual",
                kind=MovementKind.SALE,
                sku="TENT",
                location_id="wh",
                quantity=2,
                occurred_at=datetime(2026, 11, 30, 9, tzinfo=UTC),
            )
        )
        drop(tmp_path, "stock.csv", GOOD_CSV)  # the ERP sends the same file again
        drop(tmp_path, "copy-of-stock.csv", GOOD_CSV)

        [row] = (await engine.sync_once()).as_dict()["channels"]
        assert (row["events_pulled"], row["movements_applied"], row["duplicates"]) == (4, 0, 4)
        assert on_hand(store, "TENT", "wh") == 10  # the old count was not applied over the sale again
        assert len(counts(store)) == 2


async def test_a_file_with_a_bad_row_goes_to_failed_with_a_report_and_nothing_is_applied(tmp_path: Path) -> None:
    write_profile(tmp_path)
    profile = load(tmp_path)
    with open_store(profile.store_url) as store:
        seed(store, profile)
        engine = SyncEngine.for_profile(store, profile)
        drop(tmp_path, "bad.csv", "sku,location,quantity\nTENT,WH-01,5\nLAMP,WH-01,ten\nLAMP,,2\nTENT,WH-99,1\n")

        [row] = (await engine.sync_once()).as_dict()["channels"]
        assert (row["events_pulled"], row["movements_applied"]) == (0, 0)
        [message] = row["messages"]
        assert message.startswith("erp: bad.csv: moved to failed/ with 3 problem(s), nothing applied; first: ")
        assert counts(store) == []
        assert outcome(tmp_path, "failed") == ["bad.csv", "bad.csv.errors.txt"]
        report = (tmp_path / "inbox" / "failed" / "bad.csv.errors.txt").read_text()
        assert "- row 3, field 'quantity': expected a whole number >= 0, got 'ten'" in report
        assert "- row 4, field 'location': expected a location code, got an empty value" in report
        assert (
            "- row 5, field 'location': expected one of the configured locations (WH-01, SHOP-01), got 'WH-99'"
            in report
        )


async def test_an_unknown_sku_fails_the_whole_file_and_sync_says_so_with_file_and_row(tmp_path: Path) -> None:
    write_profile(tmp_path)
    profile = load(tmp_path)
    with open_store(profile.store_url) as store:
        seed(store, profile)
        engine = SyncEngine.for_profile(store, profile)
        drop(tmp_path, "counts.csv", "sku,location,quantity\nTENT,WH-01,5\nTENTT,WH-01,2\n")

        report = await engine.sync_once()
        [row] = report.as_dict()["channels"]
        assert (row["events_pulled"], row["movements_applied"]) == (0, 0)
        assert counts(store) == []  # TENT's good row is not applied either
        expected = (
            "erp: counts.csv: moved to failed/ with 1 problem(s), nothing applied; first: row 3, field 'sku': SKU "
            "'TENTT' is not in the omnibridge catalog; expected a catalog SKU (see 'omnibridge catalog list') or an "
            "alias of one in the channel's mappings.sku_aliases (see counts.csv.errors.txt)"
        )
        assert (row["messages"], row["rejected"]) == ([expected], [expected])
        assert not report.ok
        assert outcome(tmp_path, "failed") == ["counts.csv", "counts.csv.errors.txt"]


async def test_a_crash_between_processing_and_the_bookmark_loses_nothing_and_applies_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_profile(tmp_path)
    profile = load(tmp_path)
    with open_store(profile.store_url) as store:
        seed(store, profile)
        drop(tmp_path, "stock.csv", GOOD_CSV)

        # 1. read, then the process dies before anything is applied
        read_only = SyncEngine.for_profile(store, profile)
        assert len((await erp(read_only).pull_events(store.get_bookmark("erp"))).events) == 2

        # 2. read and applied, then the process dies before the bookmark is stored
        def crash(_: UnitOfWork, channel: str, value: str) -> None:
            raise Crash(channel)

        dying = SyncEngine.for_profile(store, profile)
        with monkeypatch.context() as patch:
            patch.setattr(UnitOfWork, "set_bookmark", crash)
            with pytest.raises(Crash):
                await dying.sync_once()
        assert counts(store) == [("LAMP", "shop", 4), ("TENT", "wh", 12)]
        assert store.get_bookmark("erp") is None
        assert [p.name for p in (tmp_path / "inbox").iterdir() if p.is_file()] == ["stock.csv"]

    with open_store(profile.store_url) as store:  # 3. a new process
        engine = SyncEngine.for_profile(store, profile)
        [row] = (await engine.sync_once()).as_dict()["channels"]
        assert (row["events_pulled"], row["movements_applied"], row["duplicates"]) == (2, 0, 2)
        await engine.sync_once()
        assert counts(store) == [("LAMP", "shop", 4), ("TENT", "wh", 12)]
        assert outcome(tmp_path, "processed") == ["stock.csv"]


async def test_the_engine_never_pushes_to_or_plans_for_a_file_feed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_profile(tmp_path)
    profile = load(tmp_path)
    with open_store(profile.store_url) as store:
        seed(store, profile)
        web = FakeChannel(["W-WH", "W-SHOP"])
        for sku in ("TENT", "LAMP"):
            web.levels[(sku, "W-WH")] = 0
            web.levels[(sku, "W-SHOP")] = 0
        channels = [*build_channels(profile), runtime("web", web, {"W-WH": "wh", "W-SHOP": "shop"})]
        assert [channel.id for channel in channels if channel.stock_source] == ["erp"]
        engine = SyncEngine(store, channels, policy=profile.availability)
        calls: list[str] = []

        async def no_push(targets: Sequence[StockTarget]) -> list[PushResult]:
            calls.append("push_levels")
            return []

        async def no_read(skus: Sequence[str]) -> list[StockLevel]:
            calls.append("read_levels")
            return []

        monkeypatch.setattr(erp(engine), "push_levels", no_push)
        monkeypatch.setattr(erp(engine), "read_levels", no_read)
        drop(tmp_path, "stock.csv", GOOD_CSV)

        report = await engine.sync_once()
        assert report.ok
        assert [feed.channel for feed in engine.feeds()] == ["web"]
        assert web.levels[("TENT", "W-WH")] == 12
        assert web.levels[("LAMP", "W-SHOP")] == 4
        erp_row = next(row for row in report.as_dict()["channels"] if row["channel"] == "erp")
        assert (erp_row["levels_checked"], erp_row["pushed"]) == (0, {})

        engine.mark_dirty({"TENT", "LAMP"})  # a worker pass after webhooks: every channel is flushed
        await engine.flush()
        await engine.sync_once()
        assert calls == []
        assert store.pending_pushes("erp") == []
