"""Storing a webhook delivery while another thread runs Python: CPython's default GIL switch interval (the
baseline, same run) against the daemon's (:data:`omnibridge.daemon.gil.DAEMON_SWITCH_INTERVAL`).

The daemon's store calls run on threads beside a busy event loop. The sqlite3 driver lets go of the GIL for each
statement; the thread then waits for it again, up to one switch interval, while it holds the store's write lock.
Each row stores ``deliveries`` deliveries one at a time through :meth:`omnibridge.store.Store.admit_delivery` (a
delivery's whole write turn: begin, insert, commit) on a SQLite file:

* ``alone``: no other thread runs (the floor);
* ``beside a busy thread``: one thread computes in a loop meanwhile, standing in for the event loop.

Reports medians and p99 per delivery in ms; ``vs_floor`` is the median over the floor's.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

from bench._db import sqlite_url
from bench._logs import quiet_logs
from omnibridge.daemon.gil import DAEMON_SWITCH_INTERVAL, switch_interval
from omnibridge.sdk.webhooks import WebhookDelivery
from omnibridge.store import open_store

CPYTHON_DEFAULT = 0.005
"""CPython's switch interval when nothing sets it (``sys.getswitchinterval()`` at start)."""
_BODY = b'{"inventory_item_id": 1, "location_id": 2, "available": 5, "updated_at": "2026-12-07T00:00:00Z"}'


def _busy(stop: threading.Event) -> None:
    while not stop.is_set():
        sum(range(200))


def measure(interval: float, *, busy: bool, deliveries: int) -> dict[str, Any]:
    """Store ``deliveries`` deliveries with the switch interval set to ``interval``, beside a thread running
    Python when ``busy``; one row of the benchmark."""
    times: list[float] = []
    with sqlite_url() as url, open_store(url) as store, switch_interval(interval):
        stop = threading.Event()
        competitor = threading.Thread(target=_busy, args=(stop,), daemon=True)
        if busy:
            competitor.start()
        try:
            for i in range(deliveries):
                delivery = WebhookDelivery(
                    f"d-{i}", f"e-{i}", "inventory_levels/update", _BODY + str(i).encode(), {}, datetime.now(UTC)
                )
                started = time.perf_counter()
                store.admit_delivery("web", delivery)
                times.append(time.perf_counter() - started)
        finally:
            stop.set()
            if busy:
                competitor.join()
    times.sort()
    return {
        "switch_interval_ms": round(interval * 1000, 2),
        "other_thread": "busy" if busy else "none",
        "deliveries": deliveries,
        "p50_ms": round(statistics.median(times) * 1000, 3),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))] * 1000, 3),
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    deliveries = 300 if quick else 1_500
    with quiet_logs():
        floor = measure(DAEMON_SWITCH_INTERVAL, busy=False, deliveries=deliveries)
        rows = [
            floor,
            measure(CPYTHON_DEFAULT, busy=True, deliveries=deliveries),
            measure(DAEMON_SWITCH_INTERVAL, busy=True, deliveries=deliveries),
        ]
    for row in rows:
        row["vs_floor"] = round(row["p50_ms"] / floor["p50_ms"], 1)
    return {
        "title": "storing one delivery beside a busy thread: GIL switch interval (SQLite, per delivery)",
        "rows": rows,
        "notes": [
            f"Baseline: CPython's default {CPYTHON_DEFAULT * 1000:g} ms; the daemon serves with "
            f"{DAEMON_SWITCH_INTERVAL * 1000:g} ms (omnibridge.daemon.gil). The interval in force is restored after "
            f"each row (this process: {sys.getswitchinterval() * 1000:g} ms).",
        ],
    }
