"""The warehouse export round-trips through DuckDB, writes each row once across incremental runs, resumes after
a crash without duplicates, and keeps personal data and other users out."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from support import TickingClock

from omnibridge.store import Store
from omnibridge.store.engine import write_session
from omnibridge.store.tables import MOVEMENTS, ORDERS
from omnibridge.warehouse import SOURCES, export_warehouse
from omnibridge.warehouse import export as export_module

from .figures import LATER, _movement, _order, build, hours


def read(target: Path, table: str, columns: str = "*", order: str = "1") -> list[tuple[object, ...]]:
    """``columns`` of every row of ``table`` in the export, as DuckDB reads them (ordered by ``order``)."""
    pattern = str(target / table / "*" / "*.parquet")
    query = f"SELECT {columns} FROM read_parquet('{pattern}', hive_partitioning = true) ORDER BY {order}"  # noqa: S608  test-made names
    relation = duckdb.sql(query)
    assert relation is not None
    return relation.fetchall()


@pytest.fixture
def built(store: Store, clock: TickingClock) -> Store:
    build(store)
    clock.now = LATER
    return store


def test_round_trip_through_duckdb(built: Store, tmp_path: Path) -> None:
    target = tmp_path / "warehouse"
    report = export_warehouse(built, target)
    assert report.rows == {
        "orders": 3,
        "order_lines": 5,
        "movements": 6,
        "shipments": 3,
        "returns": 4,
        "incidents": 1,
    }
    lines = read(target, "order_lines", "id, quantity, shipped, cancelled, CAST(date AS VARCHAR)")
    assert lines == [
        ("pos:1:B", 3, 3, 0, "2026-03-02"),
        ("web:1:A", 2, 2, 0, "2026-03-01"),
        ("web:2:A", 1, 0, 1, "2026-03-01"),
        ("web:3:B", 1, 0, 0, "2026-03-02"),
        ("web:9:A", 1, 1, 0, "2026-02-20"),
    ]
    movements = read(target, "movements", "id, sku, kind, delta_on_hand, delta_committed, occurred_at")
    assert movements[1] == (2, "A", "commitment", 0, 5, hours(12))
    assert read(target, "orders", "id, customer_id, total_amount")[0] == ("web:1", None, None)
    assert read(target, "returns", "id, json_extract_string(lines, '$[0].reason')") == [
        ("r1", "too small"),
        ("r2", None),
        ("r3", "late"),
        ("r4", "late"),
    ]
    days = sorted(path.name for path in (target / "movements").iterdir())
    assert days == ["date=2026-02-20", "date=2026-03-01", "date=2026-03-02", "date=2026-03-03", "date=2026-03-07"]


def test_each_row_once_across_incremental_runs(built: Store, clock: TickingClock, tmp_path: Path) -> None:
    target = tmp_path / "warehouse"
    export_warehouse(built, target)
    assert export_warehouse(built, target).rows == {source.name: 0 for source in SOURCES}
    with write_session(built.engine) as session:
        session.execute(sa.insert(MOVEMENTS), [_movement(7, "manual", "receipt", "C", hours(200), on_hand=4)])
        session.execute(sa.insert(ORDERS), [_order("web:4", hours(201))])
    second = export_warehouse(built, target)
    assert second.rows["movements"] == 1
    assert second.rows["orders"] == 1
    assert [row[0] for row in read(target, "movements", "id")] == [1, 2, 3, 4, 5, 6, 7]
    assert [row[0] for row in read(target, "orders", "id")] == ["web:1", "web:3", "web:4", "web:9"]


def test_a_crash_before_the_bookmark_moves_writes_the_same_files_again(
    built: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "warehouse"

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed")

    with monkeypatch.context() as patched:
        patched.setattr(export_module, "_advance", crash)
        with pytest.raises(RuntimeError):
            export_warehouse(built, target)
    assert read(target, "orders", "count(*)") == [(3,)]  # files written, bookmark not moved
    again = export_warehouse(built, target)
    assert again.rows["orders"] == 3
    assert read(target, "orders", "count(*)") == [(3,)]
    assert read(target, "movements", "count(*)") == [(6,)]


def test_rows_stamped_within_the_settle_time_wait_for_the_next_run(
    built: Store, clock: TickingClock, tmp_path: Path
) -> None:
    clock.now = hours(200)  # the last movement was recorded at 144 h
    first = export_warehouse(built, tmp_path, settle=timedelta(hours=60))
    assert first.rows["movements"] == 5
    assert export_warehouse(built, tmp_path, settle=timedelta(0)).rows["movements"] == 1


def test_no_personal_data_and_owner_only_files(built: Store, tmp_path: Path) -> None:
    target = tmp_path / "warehouse"
    report = export_warehouse(built, target)
    names = {column for source in SOURCES for column in source.schema().names}
    assert not names & {"ship_to", "email", "phone", "first_name", "last_name", "address", "note", "resolved_by"}
    for path in report.files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        for folder in path.relative_to(tmp_path).parents:
            if folder != Path("."):
                assert stat.S_IMODE((tmp_path / folder).stat().st_mode) == 0o700
