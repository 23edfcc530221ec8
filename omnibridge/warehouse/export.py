"""Incremental Parquet export of the store for a data warehouse (DuckDB, pandas, Spark read it as it is).

Layout: ``DIR/<table>/date=YYYY-MM-DD/part-<digest>.parquet`` (Hive-style partitions by the date of each
row's stamp: ``updated_at`` for orders and order lines, ``recorded_at`` for movements, ``created_at`` otherwise).

Each table has a bookmark in the store (``warehouse_bookmarks``): the ``(stamp, key)`` of the last row written.
A batch is the next rows after it, in that order; its files are written to a temporary name, fsynced and renamed,
and only then is the bookmark moved, in one transaction. A crash before the bookmark moved leaves files that the
next run writes again *under the same names* (the name comes from the bookmark the batch started at), so a row
is never in two files. An order or order line that changes later is exported again, as a newer version (its
``updated_at`` says which is the latest). Rows stamped within ``settle`` of now wait for the next run, so a
transaction that commits late with an earlier stamp is not skipped.

Files are 0600 in 0700 directories, like the other exports (:mod:`omnibridge.security.files`).
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from omnibridge.security.files import OWNER_DIR, OWNER_FILE
from omnibridge.store import Store
from omnibridge.store.engine import read_session, write_session
from omnibridge.store.sql import upsert
from omnibridge.store.tables import WAREHOUSE_BOOKMARKS
from omnibridge.store.types import to_utc
from omnibridge.warehouse.sources import SOURCES, Source

__all__ = ["SOURCES", "ExportReport", "export_warehouse"]

BATCH = 50_000
SETTLE = timedelta(seconds=60)


@dataclass
class ExportReport:
    """What one run wrote: rows and files per table."""

    rows: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"rows": dict(self.rows), "files": [str(path) for path in self.files]}


def _bookmark(store: Store, name: str) -> tuple[datetime, str] | None:
    b = WAREHOUSE_BOOKMARKS.c
    with read_session(store.engine) as session:
        found = session.execute(sa.select(b.stamp, b.key).where(b.name == name)).first()
    return None if found is None else (to_utc(found[0]), str(found[1]))


def _advance(store: Store, name: str, stamp: datetime, key: str, rows: int) -> None:
    with write_session(store.engine) as session:
        current = session.execute(
            sa.select(WAREHOUSE_BOOKMARKS.c.rows).where(WAREHOUSE_BOOKMARKS.c.name == name)
        ).scalar()
        values = {"name": name, "stamp": stamp, "key": key, "rows": int(current or 0) + rows, "updated_at": store.now()}
        upsert(session, WAREHOUSE_BOOKMARKS, values, key=["name"])


def _batch(store: Store, source: Source, after: tuple[datetime, str] | None, until: datetime) -> list[Any]:
    table = source.table
    stamp, key = table.c[source.stamp], table.c[source.key]
    columns = list(dict.fromkeys(f.source for f in source.fields))
    query = sa.select(*(table.c[name] for name in columns), stamp.label("_stamp"), key.label("_key"))
    query = query.where(stamp < until)
    if after is not None:
        last: Any = int(after[1]) if source.numeric_key else after[1]
        query = query.where(sa.or_(stamp > after[0], sa.and_(stamp == after[0], key > last)))
    with read_session(store.engine) as session:
        return list(session.execute(query.order_by(stamp, key).limit(BATCH)))


def _table(source: Source, rows: list[Any]) -> pa.Table:
    data: dict[str, list[Any]] = {}
    for f in source.fields:
        values = [row._mapping[f.source] for row in rows]
        if f.convert is not None:
            values = [f.convert(v) for v in values]
        elif pa.types.is_timestamp(f.type):
            values = [None if v is None else to_utc(v) for v in values]
        data[f.name] = values
    return pa.Table.from_pydict(data, schema=source.schema())


def _owner_dir(path: Path) -> None:
    for folder in reversed((path, *path.parents)):
        if not folder.exists():
            folder.mkdir(mode=OWNER_DIR)
            folder.chmod(OWNER_DIR)


def _write(path: Path, table: pa.Table) -> None:
    """Write ``table`` to ``path`` atomically: a hidden temporary file (0600), fsynced, renamed, folder fsynced."""
    _owner_dir(path.parent)
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_FILE)
    with os.fdopen(fd, "wb") as handle:
        pq.write_table(table, handle, compression="zstd")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _export_source(store: Store, source: Source, target: Path, until: datetime, report: ExportReport) -> None:
    after = _bookmark(store, source.name)
    while True:
        rows = _batch(store, source, after, until)
        if not rows:
            return
        start = f"{after[0].isoformat()}|{after[1]}" if after else "start"
        # named after where the batch starts: a batch written again after a crash replaces its own files
        name = f"part-{hashlib.sha256(start.encode()).hexdigest()[:20]}.parquet"
        by_day: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            by_day[to_utc(row._mapping["_stamp"]).date().isoformat()].append(row)
        for day, day_rows in sorted(by_day.items()):
            path = target / source.name / f"date={day}" / name
            _write(path, _table(source, day_rows))
            report.files.append(path)
        last = rows[-1]._mapping
        after = (to_utc(last["_stamp"]), str(last["_key"]))
        _advance(store, source.name, after[0], after[1], len(rows))
        report.rows[source.name] = report.rows.get(source.name, 0) + len(rows)
        if len(rows) < BATCH:
            return


def export_warehouse(store: Store, target: Path, *, settle: timedelta = SETTLE) -> ExportReport:
    """Write every row changed since the last export to ``target`` (created 0700 if missing), table by table,
    moving each table's bookmark after its files are on disk. Rows stamped within ``settle`` of now wait."""
    until = store.now() - settle
    report = ExportReport(rows={source.name: 0 for source in SOURCES})
    _owner_dir(target)
    for source in SOURCES:
        _export_source(store, source, target, until, report)
    return report
