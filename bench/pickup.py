"""The pickup options endpoint at a steady rate, against the bare decision in the same run.

A seeded world on SQLite (a file, WAL): 50 stores around Denver with their own hours, coordinates and
capabilities (pickup; curbside at some), 2,000 SKUs each stocked at about a third of the stores, the brokering
safety stock at 1, and pickups already booked in the first windows of many stores so that windows fill. The
daemon's API (:mod:`bench._pickup_server`: ``api_app`` with the profile's ``PickupDesk``, token check included)
runs under uvicorn in its own process; ``GET /api/pickup-options`` is sent at a steady rate (open loop: request
``i`` is due at ``i / rate`` s, on keep-alive connections opened as needed) with a viewer token, for a seeded mix
of SKUs, quantities (1-3), places (coordinates, some ZIP codes) and curbside asks. Latency runs from the moment a
request was due to its whole answer, so a server that falls behind shows it.

Baselines, same world, same queries: ``PickupDesk.options()`` called directly (the store reads and the decision,
no HTTP), and ``decide()`` alone over stock read beforehand (the pure decision).
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx

from bench._bulk_load import load_rows
from bench._db import sqlite_url
from bench.ingest import percentile
from omnibridge.access import Actor, Role, tokens
from omnibridge.config import LoadedProfile, load_profile
from omnibridge.models import Product, Variant
from omnibridge.pickup.desk import PickupDesk
from omnibridge.pickup.near import parse_near
from omnibridge.pickup.options import FALLBACKS, PickupRequest, StoreStock, decide
from omnibridge.pickup.windows import windows
from omnibridge.sdk.emulator import free_port
from omnibridge.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
SEED = 14
RATE = 100
ZONE = "America/Denver"
ZIPS = ("80202", "80205", "80210", "80302", "80401", "80111", "80012", "80031")
METRO = ((39.50, 40.10), (-105.30, -104.70))
PATH = "/api/pickup-options"
Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def profile_text(url: str, stores: int, rng: random.Random) -> str:
    """A merchant profile with ``stores`` stores around Denver (seeded hours, coordinates and capabilities)."""
    lines = [
        "version: 1",
        f"merchant: {{name: Bench Outfitters, currency: USD, timezone: {ZONE}}}",
        f"store: {{url: '{url}'}}",
        "pickup: {window_minutes: 60, capacity_per_window: 3, prep_minutes: 30, radius_km: 15, horizon_days: 2}",
        "routing: {eligibility: {safety_stock: {default: 1}}}",
        "locations:",
        "  - {id: wh, name: Warehouse, type: warehouse, capabilities: [ships],"
        " coordinates: {lat: 39.78, lon: -104.97}}",
    ]
    for index in range(stores):
        (lat0, lat1), (lon0, lon1) = METRO
        lat, lon = round(rng.uniform(lat0, lat1), 4), round(rng.uniform(lon0, lon1), 4)
        capabilities = ["pickup"] if rng.random() < 0.9 else ["ships"]
        if rng.random() < 0.4:
            capabilities.append("curbside")
        opens, closes = rng.choice((7, 8, 9, 10)), rng.choice((17, 18, 19, 20, 21))
        hours = {day: f"{opens:02}:00-{closes:02}:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat")}
        hours["sun"] = "closed" if rng.random() < 0.3 else "11:00-17:00"
        pickup_hours = ", ".join(f"{day}: '{text}'" for day, text in hours.items())
        own = " pickup: {capacity_per_window: 2}," if rng.random() < 0.2 else ""
        with_hours = (
            f" pickup_hours: {{{pickup_hours}}}," if "pickup" in capabilities or "curbside" in capabilities else ""
        )
        lines.append(
            f"  - {{id: s{index:02}, name: Store {index:02}, type: store, coordinates: {{lat: {lat}, lon: {lon}}}, "
            f"capabilities: [{', '.join(capabilities)}],{with_hours}{own}}}"
        )
    return "\n".join(lines) + "\n"


def build_world(directory: Path, url: str, stores: int, skus: int, rng: random.Random) -> tuple[Path, str]:
    """Write the profile, fill its store (catalog, stock, booked pickups, a viewer token); the profile's path
    and the token."""
    profile = directory / "omnibridge.yaml"
    profile.write_text(profile_text(url, stores, rng), encoding="utf-8")
    loaded = load_profile(profile, env={})
    names = [f"SKU-{i:05d}" for i in range(skus)]
    now = datetime.now(UTC)
    with open_store(loaded.store_url) as store:
        for location in loaded.locations:
            store.upsert_location(location)
        store.upsert_product(
            Product(id="P", title="Gear", variants=[Variant(sku=sku, product_id="P") for sku in names])
        )
        pickup_ids = [loc.id for loc in loaded.locations if loc.pickup_hours]
        stock = [
            (sku, location_id, rng.randint(1, 6), 0, 0, 0, 0, now)
            for sku in names
            for location_id in pickup_ids
            if rng.random() < 0.35
        ]
        columns = ("sku", "location_id", "on_hand", "committed", "reserved", "safety_stock", "incoming", "updated_at")
        load_rows(store.engine, "inventory_positions", columns, stock)
        load_rows(store.engine, "pickups", PICKUP_COLUMNS, booked_pickups(loaded, now, rng))
        secret = tokens.create(store, Role.VIEWER, "storefront", Actor("user", "bench"))[1]
    return profile, secret


PICKUP_COLUMNS = ("id", "order_id", "channel", "attempt", "location_id", "window_start", "window_end", "curbside",
                  "status", "expires_at", "lines", "reason", "version", "created_at", "updated_at")  # fmt: skip


def booked_pickups(loaded: LoadedProfile, now: datetime, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """Pickups filling the first 0-8 windows of each store (full, or one place left), a few already collected."""
    rules = loaded.pickup
    for location in loaded.locations:
        if not location.pickup_hours:
            continue
        own = rules.store(location.id)
        cut = windows(location.pickup_hours, ZoneInfo(ZONE), window_minutes=own.window_minutes, now=now,
                      prep_minutes=own.prep_minutes, horizon_days=rules.horizon_days)  # fmt: skip
        for count, window in enumerate(cut):
            if count >= rng.randint(0, 8):
                break
            taken = own.capacity_per_window - (1 if rng.random() < 0.3 else 0)
            for n in range(taken + (1 if rng.random() < 0.2 else 0)):
                status = "reserved" if n < taken else "collected"
                key = f"{location.id}:{window.start:%Y%m%d%H%M}:{n}"
                yield (f"{key}#1", key, "web", 1, location.id, window.start, window.end, False, status,
                       window.end + timedelta(hours=24), "[]", None, 1, now, now)  # fmt: skip


def queries(count: int, skus: int, rng: random.Random) -> list[dict[str, str]]:
    """A seeded mix of questions a storefront asks."""
    asked = []
    for _ in range(count):
        (lat0, lat1), (lon0, lon1) = METRO
        near = (
            rng.choice(ZIPS) if rng.random() < 0.2 else f"{rng.uniform(lat0, lat1):.4f},{rng.uniform(lon0, lon1):.4f}"
        )
        params = {"sku": f"SKU-{rng.randrange(skus):05d}", "qty": str(rng.choice((1, 1, 1, 2, 3))), "near": near}
        if rng.random() < 0.15:
            params["curbside"] = "true"
        asked.append(params)
    return asked


@contextmanager
def server(profile: Path) -> Iterator[tuple[str, int]]:
    """:mod:`bench._pickup_server` in a subprocess until the block ends; yields its host and port."""
    port = free_port()
    args = [sys.executable, "-m", "bench._pickup_server", str(profile), str(port)]
    process = subprocess.Popen(args, cwd=ROOT, stderr=subprocess.PIPE, text=True)  # noqa: S603 - our own module
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"pickup server exited: {process.stderr.read() if process.stderr else ''}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("pickup server did not start within 60 s")
            time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return int(status_line.split(b" ", 2)[1]), await reader.readexactly(length)


async def steady(host: str, port: int, asked: Sequence[dict[str, str]], rate: float, token: str) -> dict[str, Any]:
    """Send every query at ``rate`` per second (open loop); latencies (ms, from when each was due), statuses,
    fallbacks and transport errors."""
    loop = asyncio.get_running_loop()
    idle: list[Connection] = []
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    fallbacks: Counter[str] = Counter()
    errors: list[str] = []
    start = loop.time() + 0.05

    async def exchange(request: bytes) -> tuple[int, bytes, Connection]:
        while idle:
            # an idle keep-alive connection the server has timed out fails at once: try the next, then a fresh
            # one, as an HTTP client does for a GET
            reader, writer = idle.pop()
            try:
                writer.write(request)
                status, body = await _answer(reader)
                return status, body, (reader, writer)
            except (OSError, ConnectionError, asyncio.IncompleteReadError):
                writer.close()
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(request)
        status, body = await _answer(reader)
        return status, body, (reader, writer)

    async def one(index: int, params: dict[str, str]) -> None:
        due = start + index / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        request = (f"GET {PATH}?{urlencode(params)} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                   f"Authorization: Bearer {token}\r\n\r\n").encode()  # fmt: skip
        try:
            status, body, connection = await exchange(request)
        except (OSError, ConnectionError, asyncio.IncompleteReadError) as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            return
        latencies.append((loop.time() - due) * 1000)
        idle.append(connection)
        statuses[status] += 1
        if status == 200:
            fallbacks[_fallback(body)] += 1
        else:
            errors.append(f"{status} {body[:200].decode(errors='replace')}")

    began = time.perf_counter()
    await asyncio.gather(*(one(index, params) for index, params in enumerate(asked)))
    seconds = time.perf_counter() - began
    for _, writer in idle:
        writer.close()
    return {"latencies": sorted(latencies), "statuses": statuses, "fallbacks": fallbacks, "errors": errors,
            "seconds": seconds}  # fmt: skip


def _fallback(body: bytes) -> str:
    marker = b'"fallback":"'
    at = body.find(marker) + len(marker)
    return body[at : body.find(b'"', at)].decode()


def direct(store: Store, loaded: LoadedProfile, asked: Sequence[dict[str, str]]) -> tuple[list[float], list[float]]:
    """Milliseconds per query: ``PickupDesk.options()`` (store reads and decision) and ``decide()`` alone."""
    desk = PickupDesk.for_profile(store, loaded)
    skus = {params["sku"] for params in asked}
    stock = {
        (position.sku, position.location_id): position.available for sku in skus for position in store.positions(sku)
    }
    with_reads: list[float] = []
    pure: list[float] = []
    for params in asked:
        near = parse_near(params["near"])
        qty, curbside = int(params["qty"]), params.get("curbside") == "true"
        began = time.perf_counter()
        desk.options(params["sku"], qty, near, curbside=curbside)
        with_reads.append((time.perf_counter() - began) * 1000)
        now = store.now()
        stores = [
            StoreStock(location, max(0, stock.get((params["sku"], location.id), 0) - 1), 1, ZONE)
            for location in loaded.locations
        ]
        began = time.perf_counter()
        decide(PickupRequest(params["sku"], qty, near, now, curbside), stores, loaded.pickup, {})
        pure.append((time.perf_counter() - began) * 1000)
    return sorted(with_reads), sorted(pure)


def _row(name: str, latencies: list[float], requests: int, errors: int, rate: float | None) -> dict[str, Any]:
    return {
        "measured": name,
        "rate": rate if rate is not None else "back to back",
        "requests": requests,
        "errors": errors,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(latencies[-1], 2) if latencies else 0.0,
    }


def measure(stores: int, skus: int, seconds: float, rate: float = RATE) -> dict[str, Any]:
    """The whole benchmark on a fresh world: the endpoint at ``rate`` for ``seconds``, then the baselines."""
    rng = random.Random(SEED)
    count = int(rate * seconds)
    with tempfile.TemporaryDirectory(prefix="omnibridge-pickup-") as tmp, sqlite_url() as url:
        profile, token = build_world(Path(tmp), url, stores, skus, rng)
        asked = queries(count, skus, rng)
        warm = queries(20, skus, random.Random(SEED + 1)) + [{"sku": "SKU-00000", "near": zip_} for zip_ in ZIPS]
        with server(profile) as (host, port):
            asyncio.run(steady(host, port, warm, 50, token))
            http = asyncio.run(steady(host, port, asked, rate, token))
        loaded = load_profile(profile, env={})
        with open_store(loaded.store_url) as store:
            sample = asked[: min(len(asked), 300)]
            with_reads, pure = direct(store, loaded, sample)
    errors = len(http["errors"])
    fallbacks: dict[str, int] = {name: http["fallbacks"].get(name, 0) for name in FALLBACKS}
    endpoint = _row(f"GET {PATH} (HTTP, uvicorn)", http["latencies"], count, errors, rate)
    rows = [
        endpoint,
        _row("PickupDesk.options() direct (reads + decision)", with_reads, len(sample), 0, None),
        _row("decide() alone (stock read before)", pure, len(sample), 0, None),
    ]
    return {
        "rows": rows,
        "rate": rate,
        "seconds": round(http["seconds"], 2),
        "requests": count,
        "errors": errors,
        "p50_ms": endpoint["p50_ms"],
        "p99_ms": endpoint["p99_ms"],
        "fallbacks": fallbacks,
        **fallbacks,
        "direct_p99_ms": rows[1]["p99_ms"],
        "decide_p99_ms": rows[2]["p99_ms"],
        "goal_met": endpoint["p99_ms"] <= 50 and errors == 0,
        "error_samples": sorted(set(http["errors"]))[:5],
        "stores": stores,
        "skus": skus,
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    seconds = 5.0 if quick else 30.0
    result = measure(50, 2_000, seconds)
    counts = ", ".join(f"{name} {result[name]}" for name in FALLBACKS)
    return {
        "benchmark": "pickup",
        "title": f"Pickup options: {RATE} requests/s for {seconds:g} s (50 stores, 2,000 SKUs, SQLite)",
        **result,
        "notes": [
            f"Fallbacks of the {result['requests'] - result['errors']} answers: {counts}.",
            f"World (seed {SEED}): 50 stores around Denver (90% pickup, 40% curbside, their own hours), 2,000 SKUs "
            "stocked at about a third of the stores, safety stock 1, 60-minute windows of 3 (2 at a fifth of the "
            "stores), prep 30 min, radius 15 km, horizon 2 days; the first 0-8 windows of each store booked full "
            "or to one place; windows are cut from the wall clock, so the fallback mix depends on the time of day.",
            "Load: open loop, request i due at i/rate s, keep-alive connections opened as needed; latency from due "
            "to the whole answer. Server: the daemon's API app with its token check, uvicorn, own process.",
            "Baselines (same world, first 300 queries, back to back in this process): PickupDesk.options() "
            "(two statements in one read transaction, then the decision) and decide() alone.",
            f"Machine: {os.cpu_count()} CPUs shared by the load generator and the server. Goal: p99_ms <= 50 at "
            f"{RATE} requests/s: {'met' if result['goal_met'] else 'NOT met'}.",
        ],
    }
