"""Vendor budgets shared in PostgreSQL against per-process limiters, with 1 and 3 processes, against Clover's limit.

A Clover emulator (its own rate limiter: 16 requests/s as a bucket holding one second, 5 in flight per token,
429 beyond either; ``latency_ms`` 5) is served in this process. Each case starts N worker processes
(:mod:`bench._budget_worker`) that call it through the real Clover connector (its 16/s bucket and 5 slots), 1 or
5 requests at a time each, all starting at the same instant, for the same token:

* **per-process** (the baseline, today's single-daemon limiter): each process has its own 16/s bucket;
* **shared**: the bucket (and the 5 slots) are rows of ``vendor_budgets`` in PostgreSQL
  (:mod:`omnibridge.sync.shared_budgets`).

Per case: requests sent, refused by the vendor (the emulator's own count of 429s), requests/s achieved (answered
ones over the slowest worker's run), the time each request waited for its budget (p50, p99, max) and the
statements sent to the budget table per request. Needs ``OMNIBRIDGE_TEST_POSTGRES_URL`` for the shared cases.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench._db import POSTGRES_SKIPPED, postgres_base, postgres_url
from bench.ingest import percentile

ROOT = Path(__file__).resolve().parents[1]
LATENCY_MS = 5


@contextmanager
def clover_emulator(latency_ms: int = LATENCY_MS) -> Iterator[tuple[Any, str]]:
    """A fresh Clover emulator served over HTTP from a background thread; yields it and its base URL."""
    from connectors.clover.emulator import CloverEmulator, CloverEmulatorConfig
    from omnibridge.sdk.emulator import run_server

    emulator = CloverEmulator(CloverEmulatorConfig(latency_ms=(latency_ms, latency_ms)))
    started, stop = threading.Event(), threading.Event()
    urls: list[str] = []

    async def serve() -> None:
        async with run_server(emulator.app) as running:
            urls.append(running.url)
            started.set()
            while not stop.is_set():
                await asyncio.sleep(0.01)

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    if not started.wait(timeout=30):
        raise RuntimeError("the Clover emulator did not start")
    try:
        yield emulator, urls[0]
    finally:
        stop.set()
        thread.join(timeout=30)


def run_case(
    processes: int, requests: int, shared_url: str | None, *, tasks: int = 1, latency_ms: int = LATENCY_MS
) -> dict[str, Any]:
    """``processes`` workers of ``requests`` requests each (``tasks`` at a time) against a fresh Clover emulator;
    shared budgets in ``shared_url`` (a migrated PostgreSQL store) or per-process limiters when it is ``None``."""
    channel = f"clover-{uuid.uuid4().hex[:8]}"
    with clover_emulator(latency_ms) as (emulator, base_url):
        start_at = time.time() + 1.5 + 0.3 * processes
        command = [sys.executable, "-m", "bench._budget_worker", base_url, "--requests", str(requests)]
        command += ["--start-at", str(start_at), "--channel", channel, "--tasks", str(tasks)]
        command += ["--shared", shared_url] if shared_url else []
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        workers = [
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
            for _ in range(processes)
        ]
        results = []
        for worker in workers:
            out, err = worker.communicate(timeout=600)
            if worker.returncode != 0:
                raise RuntimeError(f"budget worker failed: {err.strip().splitlines()[-1] if err.strip() else '?'}")
            results.append(json.loads(out.strip().splitlines()[-1]))
        refused = emulator.refused
    waits = sorted(w for r in results for w in r["acquire_ms"])
    sent = sum(r["sent"] for r in results)
    ok = sum(r["ok"] for r in results)
    slowest = max(r["elapsed_s"] for r in results)
    return {
        "processes": processes,
        "in_flight_each": tasks,
        "budget": "shared" if shared_url else "per-process",
        "sent": sent,
        "answered": ok,
        "refused": refused,
        "client_429s": sum(r["refused"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "req_per_s": round(ok / slowest, 2) if slowest > 0 else 0.0,
        "acquire_p50_ms": round(percentile(waits, 50), 2),
        "acquire_p99_ms": round(percentile(waits, 99), 2),
        "acquire_max_ms": round(waits[-1], 2) if waits else 0.0,
        "db_trips_per_req": round(sum(r["round_trips"] for r in results) / sent, 2) if sent else 0.0,
    }


def uncontended(url: str | None, takes: int) -> dict[str, float]:
    """The time one ``hold`` takes to enter when the budget has room: shared (one statement) and in process."""
    from omnibridge.sdk import TokenBucket

    async def measure() -> dict[str, float]:
        local = TokenBucket(1e9, 1e9)
        times: dict[str, list[float]] = {"local": [], "shared": []}
        limiters: list[tuple[str, Any]] = [("local", local)]
        if url:
            from omnibridge.store.budgets import BudgetTable
            from omnibridge.sync.shared_budgets import SharedBucket

            shared = SharedBucket(BudgetTable(url), f"room-{uuid.uuid4().hex[:8]}", "bucket", capacity=1e9,
                                  refill_rate=1e9)  # fmt: skip
            await shared.acquire(0)  # creates the row, connects
            limiters.append(("shared", shared))
        for name, limiter in limiters:
            for _ in range(takes):
                asked = time.perf_counter()
                async with limiter.hold(1):
                    times[name].append((time.perf_counter() - asked) * 1000.0)
        if url:
            await shared.drain()
            await shared.table.aclose()
        figures: dict[str, float] = {}
        for name, values in times.items():
            if values:
                values.sort()
                figures[f"{name}_p50_ms"] = round(percentile(values, 50), 3)
                figures[f"{name}_p99_ms"] = round(percentile(values, 99), 3)
        return figures

    return asyncio.run(measure())


def run(*, quick: bool = False) -> dict[str, Any]:
    """Both budgets at 1 and 3 processes; the shared ones only with a PostgreSQL server."""
    requests = 20 if quick else 60
    rows: list[dict[str, Any]] = []
    notes = [
        "Clover limit: 16 requests/s, bucket of 16, 5 in flight per token (the emulator's own limiter). Each "
        f"worker: {requests} requests, 1 or 5 at a time (in_flight_each), emulator "
        f"latency {LATENCY_MS} ms; all workers start at once.",
        "refused = 429s the emulator answered; acquire = time a request waited for its budget before being sent; "
        "db_trips_per_req = statements to vendor_budgets per request: a take and a settle for the 16/s bucket and "
        "for the 5 slots, plus a retake whenever the 5 slots were all in flight.",
    ]
    base = postgres_base()
    with postgres_url(base) if base else _nothing() as url:
        if url:
            from omnibridge.store import open_store

            open_store(url).close()  # migrated once, before the workers
        for processes in (1, 3):
            for tasks in (1, 5):
                rows.append(run_case(processes, requests, None, tasks=tasks))
                if url:
                    rows.append(run_case(processes, requests, url, tasks=tasks))
        room = uncontended(url, 200 if quick else 1000)
    notes.append(
        "a take when the budget has room (one process, no wait): "
        + ", ".join(f"{key} {value:.3f}" for key, value in room.items())
        + " (local = the in-process TokenBucket, shared = one statement to PostgreSQL)"
    )
    if not base:
        notes.append(POSTGRES_SKIPPED)
    return {"title": "Vendor budgets: shared in PostgreSQL vs per process (Clover, 16 req/s)", "rows": rows,
            "uncontended": room, "notes": notes}  # fmt: skip


@contextmanager
def _nothing() -> Iterator[None]:
    yield None
