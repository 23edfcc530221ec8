"""Bulk loading for benchmarks: rows straight into a table, in one transaction, far faster than the repositories.

SQLite gets ``executemany`` on the driver; PostgreSQL gets ``COPY ... FROM STDIN``. Timestamps are passed as
aware datetimes and stored the way :class:`omnibridge.store.types.UTCDateTime` stores them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from omnibridge.store.engine import write_engine

BATCH = 20_000


def load_rows(engine: sa.Engine, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` in one transaction; returns how many."""
    count = 0
    with write_engine(engine).begin() as conn:
        if engine.dialect.name == "postgresql":
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        marks = ", ".join("?" for _ in columns)
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - our own names
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(tuple(_sqlite_value(value) for value in row))
            if len(batch) >= BATCH:
                conn.exec_driver_sql(statement, batch)
                count += len(batch)
                batch = []
        if batch:
            conn.exec_driver_sql(statement, batch)
            count += len(batch)
    return count


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return value
