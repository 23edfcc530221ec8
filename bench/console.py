"""The console's overview and SKU page rendered through its ASGI app, on a store of a merchant's size.

A SQLite store is bulk loaded (:mod:`bench._bulk_load`) with 100,000 SKUs (``--quick``: 5,000) at three
locations, six channels each showing every position (``channel_levels``, a seeded 1% drifted), and 30 days of
history: writes to the channels (``push_outbox``, 2,000 per channel and day, ``--quick``: 200; 1% failed, a few
hundred pending), stock movements (one a SKU and day for 3% of SKUs), webhooks (a few dead) and incidents. Then the
console is signed into with an operator token and each page is requested through the real app (httpx on its ASGI
interface: routing, the session check, the store reads, Jinja2, pygal), warm, ``REQUESTS`` times:

* ``overview_p99_ms``: ``GET /console/``;
* ``sku_page_p99_ms``: ``GET /console/sku/<SKU>`` for seeded random SKUs;
* baseline: ``GET /console/login`` through the same app (the HTTP stack and a template, no store read),
  ``baseline_p99_ms``;
* ``overview_under_load_p99_ms``: the overview again while a writer thread records and finishes stock writes
  in the same store at :data:`LOAD_WRITES_PER_S` (the write rate of the propagation benchmark's 100 orders/s: two
  transactions per write, as the outbox takes them), for at least 20 s (``--quick``: 3 s). Every answer must be
  200, and once the load stops the overview's backlog and dead letters must equal the store's
  (``under_load_correct``).

Goal: ``overview_p99_ms`` under 300 ms.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from bench._bulk_load import load_rows
from bench._db import sqlite_url
from omnibridge.access import Actor, Role, tokens
from omnibridge.console import ConsoleContext, console_app
from omnibridge.console.overview import percentile
from omnibridge.store import Store, open_store
from omnibridge.store.engine import write_engine
from omnibridge.store.tables import INBOX, OUTBOX

CHANNELS = ("web", "pos", "amazon", "ebay", "wholesale", "social")
LOCATIONS = ("den-wh", "boulder", "aspen")
DAYS = 30
SEED = 16
GOAL_MS = 300.0
LOAD_WRITES_PER_S = 100


def _sku(index: int) -> str:
    return f"SKU-{index:06d}"


def populate(store: Store, skus: int, writes_per_day: int, now: datetime) -> dict[str, int]:
    """Fill ``store``; returns how many rows each table got."""
    rng = random.Random(SEED)
    engine = store.engine
    counts: dict[str, int] = {}
    load_rows(engine, "products", ("id", "title", "attributes"), [("bench", "Bench product", "{}")])
    counts["variants"] = load_rows(
        engine,
        "variants",
        ("sku", "product_id", "title", "barcodes", "option_values", "tracked", "allow_backorder"),
        ((_sku(i), "bench", f"Bench item {i}", "[]", "{}", True, False) for i in range(skus)),
    )
    positions = [
        (_sku(i), loc, rng.randint(0, 60), rng.randint(0, 3), 0, 0, 0) for i in range(skus) for loc in LOCATIONS
    ]
    counts["positions"] = load_rows(
        engine,
        "inventory_positions",
        ("sku", "location_id", "on_hand", "committed", "reserved", "safety_stock", "incoming"),
        positions,
    )

    def levels() -> Any:
        for sku, location, on_hand, committed, *_ in positions:
            for channel in CHANNELS:
                drift = now - timedelta(hours=rng.randint(1, 48)) if rng.random() < 0.01 else None
                target = max(0, on_hand - committed)
                yield (channel, sku, location, target, "read", now - timedelta(minutes=5), target, drift)

    counts["channel_levels"] = load_rows(
        engine,
        "channel_levels",
        ("channel", "sku", "location_id", "quantity", "source", "updated_at", "shown", "unexplained_since"),
        levels(),
    )

    def outbox() -> Any:
        for day in range(DAYS):
            for channel in CHANNELS:
                for _ in range(writes_per_day):
                    created = now - timedelta(days=day, seconds=rng.randint(0, 86_399))
                    roll = rng.random()
                    status = "failed" if roll < 0.01 else "pending" if day == 0 and roll < 0.012 else "done"
                    finished = None if status == "pending" else created + timedelta(milliseconds=rng.randint(80, 2500))
                    sku = _sku(rng.randrange(skus))
                    yield (channel, "b", sku, sku, rng.choice(LOCATIONS), "ref", rng.randint(0, 50), status,
                           None, created, finished)  # fmt: skip

    counts["push_outbox"] = load_rows(
        engine,
        "push_outbox",
        ("channel", "batch_key", "sku", "channel_sku", "location_id", "location_ref", "quantity", "status",
         "message", "created_at", "finished_at"),
        outbox(),
    )  # fmt: skip

    def movements() -> Any:
        number = 0
        for day in range(DAYS):
            for index in rng.sample(range(skus), max(1, skus * 3 // 100)):
                number += 1
                at = now - timedelta(days=day, seconds=rng.randint(0, 86_399))
                yield (f"bench-{number}", "x" * 64, "pos", "sale", _sku(index), rng.choice(LOCATIONS), 1,
                       -1, 0, 0, 0, at, at, None, None, False)  # fmt: skip

    counts["stock_movements"] = load_rows(
        engine,
        "stock_movements",
        ("idempotency_key", "fingerprint", "source", "kind", "sku", "location_id", "quantity", "delta_on_hand",
         "delta_committed", "delta_reserved", "delta_incoming", "occurred_at", "recorded_at", "reference", "note",
         "superseded_by_count"),
        movements(),
    )  # fmt: skip

    def inbox() -> Any:
        for number in range(DAYS * 200):
            status = "dead" if number % 500 == 0 else "done"
            at = now - timedelta(minutes=number * 7)
            yield ("web", f"d-{number}", f"d-{number}", "orders/create", b"{}", "{}", at, status, 1,
                   "unknown SKU" if status == "dead" else None, at, f"{number:064x}")  # fmt: skip

    counts["webhook_inbox"] = load_rows(
        engine,
        "webhook_inbox",
        ("channel", "dedupe_key", "delivery_id", "topic", "raw_body", "headers", "received_at", "status",
         "attempts", "error", "processed_at", "body_sha256"),
        inbox(),
    )  # fmt: skip
    counts["incidents"] = load_rows(
        engine,
        "incidents",
        ("dedupe_key", "kind", "decision", "channel", "sku", "location_id", "summary", "data", "created_at"),
        (
            (f"i-{n}", "drift", "alert", CHANNELS[n % 6], _sku(n), "boulder", f"drift {n}", "{}", now)
            for n in range(200)
        ),
    )
    return counts


async def _measure(client: httpx.AsyncClient, paths: list[str]) -> list[float]:
    timings = []
    for path in paths:
        started = time.perf_counter()
        answer = await client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path} answered {answer.status_code}: {answer.text[:200]}")
    return timings


def _writer(store: Store, stop: threading.Event, written: list[int]) -> None:
    """Record and finish stock writes at :data:`LOAD_WRITES_PER_S` until ``stop`` (two transactions each)."""
    engine = write_engine(store.engine)
    started, count = time.perf_counter(), 0
    while not stop.is_set():
        now = datetime.now(UTC)
        with engine.begin() as conn:
            row = conn.execute(
                sa.insert(OUTBOX).values(
                    channel="web", batch_key="load", sku=_sku(count), channel_sku=_sku(count), location_id="boulder",
                    location_ref="ref", quantity=1, status="pending", created_at=now,
                )
            )  # fmt: skip
            key = row.inserted_primary_key[0] if row.inserted_primary_key else None
        with engine.begin() as conn:
            conn.execute(
                sa.update(OUTBOX).where(OUTBOX.c.id == key).values(status="done", finished_at=datetime.now(UTC))
            )
        count += 1
        wait = started + count / LOAD_WRITES_PER_S - time.perf_counter()
        if wait > 0:
            stop.wait(wait)
    written.append(count)


def _shown(page: str, column: int) -> dict[str, int]:
    """Channel -> the number in ``column`` of the overview's channel table."""
    table = page.split('<table id="channels">', 1)[1].split("</table>", 1)[0]
    found = {}
    for row in table.split("<tr>")[2:]:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        name = re.sub(r"<[^>]+>", "", cells[0]).strip()
        found[name] = int(cells[column])
    return found


async def _under_load(
    client: httpx.AsyncClient, store: Store, requests: int, seconds: float
) -> tuple[list[float], bool, int]:
    stop, written = threading.Event(), []  # type: ignore[var-annotated]
    thread = threading.Thread(target=_writer, args=(store, stop, written), daemon=True)
    thread.start()
    timings: list[float] = []
    started = time.perf_counter()
    try:
        while len(timings) < requests or time.perf_counter() - started < seconds:
            timings += await _measure(client, ["/console/"])
    finally:
        stop.set()
        thread.join()
    page = (await client.get("/console/")).text
    with store.engine.connect() as conn:
        backlog: dict[str, int] = dict(
            conn.execute(
                sa.select(OUTBOX.c.channel, sa.func.count())
                .where(OUTBOX.c.status == "pending")
                .group_by(OUTBOX.c.channel)
            ).all()
        )
        dead: dict[str, int] = dict(
            conn.execute(
                sa.select(INBOX.c.channel, sa.func.count()).where(INBOX.c.status == "dead").group_by(INBOX.c.channel)
            ).all()
        )
    correct = _shown(page, 5) == {c: backlog.get(c, 0) for c in CHANNELS} and _shown(page, 8) == {
        c: dead.get(c, 0) for c in CHANNELS
    }
    return timings, correct, written[0] if written else 0


async def _pages(store: Store, skus: int, requests: int, load_seconds: float) -> dict[str, Any]:
    secret = tokens.create(store, Role.OPERATOR, "bench", Actor.system("bench"))[1]
    app = console_app(ConsoleContext(store, poll_seconds=60))
    rng = random.Random(SEED)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        signed = await client.post("/console/login", data={"token": secret})
        if signed.status_code != 303:
            raise RuntimeError(f"sign-in answered {signed.status_code}")
        overview = await client.get("/console/")
        if not re.search(r"Dead letters</a></td><td>\d+</td>", overview.text):
            raise RuntimeError("the overview does not show the dead letters")
        await _measure(client, ["/console/", "/console/login", f"/console/sku/{_sku(0)}"])  # warm
        result: dict[str, Any] = {
            "overview": await _measure(client, ["/console/"] * requests),
            "sku_page": await _measure(client, [f"/console/sku/{_sku(rng.randrange(skus))}" for _ in range(requests)]),
            "baseline": await _measure(client, ["/console/login"] * requests),
        }
        loaded, correct, written = await _under_load(client, store, requests, load_seconds)
        return {**result, "overview_under_load": loaded, "under_load_correct": correct, "load_writes": written}


def run(*, quick: bool = False) -> dict[str, Any]:
    skus, writes, requests, load_seconds = (5_000, 200, 20, 3.0) if quick else (100_000, 2_000, 50, 20.0)
    now = datetime.now(UTC)
    with sqlite_url() as url, open_store(url) as store:
        started = time.perf_counter()
        counts = populate(store, skus, writes, now)
        load_s = time.perf_counter() - started
        measured = asyncio.run(_pages(store, skus, requests, load_seconds))
    names = ("overview", "sku_page", "baseline", "overview_under_load")
    figures = {name: percentile(measured[name], 0.99) or 0.0 for name in names}
    medians = {name: percentile(measured[name], 0.5) or 0.0 for name in names}
    rows = [
        {
            "page": name,
            "p50_ms": round(medians[name], 1),
            "p99_ms": round(figures[name], 1),
            "requests": len(measured[name]),
        }
        for name in names
    ]
    return {
        "title": f"console pages on SQLite: {skus:,} SKUs x {len(LOCATIONS)} locations, {len(CHANNELS)} channels, "
        f"{DAYS} days of history",
        "rows": rows,
        "overview_p99_ms": round(figures["overview"], 1),
        "sku_page_p99_ms": round(figures["sku_page"], 1),
        "baseline_p99_ms": round(figures["baseline"], 1),
        "overview_under_load_p99_ms": round(figures["overview_under_load"], 1),
        "under_load_correct": measured["under_load_correct"],
        "load_writes": measured["load_writes"],
        "goal_overview_p99_ms": GOAL_MS,
        "goal_met": figures["overview"] < GOAL_MS,
        "rows_loaded": counts,
        "notes": [
            f"loaded in {load_s:.1f} s: " + json.dumps(counts),
            "baseline: GET /console/login through the same app (HTTP stack + template, no store read)",
            f"under load: {measured['load_writes']} stock writes recorded and finished at {LOAD_WRITES_PER_S}/s by "
            "a writer thread while the overview was measured",
            "the SKU page runs without a profile here, so its 'why' table (explain) is not rendered",
        ],
    }
