"""Ledger write throughput against the cost of the simplest durable write on the same database.

For each backend (SQLite file in WAL mode, and PostgreSQL when ``OMNIBRIDGE_TEST_POSTGRES_URL`` is set):

* ``ledger.apply``: a seeded stream of movements (receipts, commitments, fulfilments, sales, adjustments,
  reservations and counts) over SKUs x locations, one ``Store.apply`` call (one transaction) each;
* ``ledger.replay``: the same stream submitted again, every call a reported duplicate;
* baseline: the same number of single-row ``INSERT`` transactions into a bare table with a unique key, through
  the same SQLAlchemy engine settings — the floor for "record one event durably and exactly once".

The figure that matters is ``vs_baseline``: how many times slower a ledger write is than that floor.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from omnibridge.errors import ConflictError
from omnibridge.models import MovementKind, Product, StockMovement, Variant
from omnibridge.store import Store, open_store


def _stream(n: int, skus: list[str], locations: list[str], seed: int = 7) -> list[StockMovement]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    committed: dict[tuple[str, str], int] = {}
    out: list[StockMovement] = []
    for i in range(n):
        sku, loc = rng.choice(skus), rng.choice(locations)
        roll = rng.random()
        if roll < 0.15 or i < len(skus) * len(locations):
            kind, qty = MovementKind.RECEIPT, rng.randint(50, 200)
        elif roll < 0.45:
            kind, qty = MovementKind.COMMITMENT, 1
            committed[(sku, loc)] = committed.get((sku, loc), 0) + 1
        elif roll < 0.65 and committed.get((sku, loc), 0) > 0:
            kind, qty = MovementKind.FULFILMENT, 1
            committed[(sku, loc)] -= 1
        elif roll < 0.85:
            kind, qty = MovementKind.SALE, 1
        elif roll < 0.93:
            kind, qty = MovementKind.ADJUSTMENT, rng.choice([-1, 1, 2])
        elif roll < 0.97:
            kind, qty = MovementKind.RESERVATION, 1
        else:
            kind, qty = MovementKind.COUNT, rng.randint(40, 160)
        out.append(
            StockMovement(
                idempotency_key=f"bench:{i}",
                source="bench",
                kind=kind,
                sku=sku,
                location_id=loc,
                quantity=qty,
                occurred_at=start + timedelta(seconds=i),
            )
        )
    return out


@contextmanager
def _sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="omnibridge-bench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


@contextmanager
def _postgres_url(base: str) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _baseline(url: str, n: int) -> float:
    """Seconds for ``n`` single-row INSERT transactions with a unique key (the floor)."""
    connect_args: dict[str, Any] = {}
    engine = sa.create_engine(url, connect_args=connect_args)
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.execute(sa.text("PRAGMA journal_mode=WAL"))
            conn.execute(sa.text("PRAGMA synchronous=NORMAL"))
    meta = sa.MetaData()
    table = sa.Table(
        "bench_baseline",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(255), unique=True, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
    )
    meta.create_all(engine)
    started = time.perf_counter()
    for i in range(n):
        with engine.begin() as conn:
            conn.execute(table.insert().values(key=f"baseline:{i}", quantity=i % 7))
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def _play(store: Store, movements: list[StockMovement]) -> tuple[float, int]:
    """Apply every movement; return the seconds taken and how many were refused."""
    refused = 0
    started = time.perf_counter()
    for movement in movements:
        try:
            store.apply(movement)
        except ConflictError:
            refused += 1
    return time.perf_counter() - started, refused


def _measure(backend: str, url: str, movements: list[StockMovement], skus: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with open_store(url) as store:
        store.upsert_product(
            Product(
                id="bench",
                title="Bench product",
                variants=[Variant(sku=s, product_id="bench") for s in skus],
            )
        )
        apply_s, refused = _play(store, movements)
        replay_s, refused_again = _play(store, movements)
    baseline_s = _baseline(url, len(movements))
    n = len(movements)
    base_rate = n / baseline_s
    for op, seconds in (("ledger.apply", apply_s), ("ledger.replay", replay_s)):
        rows.append(
            {
                "backend": backend,
                "operation": op,
                "movements": n,
                "seconds": round(seconds, 3),
                "per_s": round(n / seconds, 1),
                "baseline_per_s": round(base_rate, 1),
                "vs_baseline": round(seconds / baseline_s, 2),
                "refused": refused if op == "ledger.apply" else refused_again,
            }
        )
    return rows


def run(*, quick: bool = False) -> dict[str, Any]:
    n = 1_000 if quick else 10_000
    skus = [f"SKU-{i:04d}" for i in range(50 if quick else 500)]
    locations = ["wh-east", "st-downtown", "st-mall"]
    movements = _stream(n, skus, locations)
    rows: list[dict[str, Any]] = []
    with _sqlite_url() as url:
        rows += _measure("sqlite", url, movements, skus)
    notes = []
    pg = os.environ.get("OMNIBRIDGE_TEST_POSTGRES_URL")
    if pg:
        with _postgres_url(pg) as url:
            rows += _measure("postgresql", url, movements, skus)
    else:
        notes.append("PostgreSQL skipped: set OMNIBRIDGE_TEST_POSTGRES_URL (scripts/start-postgres.sh) to include it.")
    notes.append(
        "baseline = one single-row INSERT transaction with a unique key per event on the same database; "
        "vs_baseline = ledger seconds / baseline seconds."
    )
    return {"benchmark": "ledger", "title": f"Ledger throughput ({n} movements)", "rows": rows, "notes": notes}
