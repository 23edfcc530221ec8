"""The full diff of every channel's target against what it shows, against the same diff as one SQL statement.

A store is filled (bulk loaded, not through ``Store.apply``) with SKUs x locations positions and, for each of four
channels fed by every location, a ``channel_levels`` row per position: equal to the target except for a seeded
~5% that differ (half of them a different quantity, half no row at all). Then, each in a fresh interpreter
(:mod:`bench._reconcile_probe`) so ``ru_maxrss`` measures that phase alone:

* ``diff_channels``: ``list(diff_channels(store, planner, feeds))`` with the default availability policy;
* baseline: one hand-written SQL statement (variants x feeds, joined to positions and channel_levels, target =
  max(0, available)) fetching the same rows.

Both must find the planted number of diffs and the same set of them (compared by an order-independent digest).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._bulk_load import load_rows
from bench._db import POSTGRES_SKIPPED, postgres_base, postgres_url, sqlite_url
from omnibridge.store import open_store

CHANNELS = ("web", "amazon", "pos", "ebay")
LOCATIONS = ("den-wh", "boulder", "aspen")
DIFFER = 0.05
SEED = 11
LOADED_AT = datetime(2026, 11, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]


def feeds_json() -> str:
    """Four channels, each fed by every location (the probe builds its ``ChannelFeed`` objects from this)."""
    return json.dumps(
        [{"channel": c, "priority": 10 * (i + 1), "locations": list(LOCATIONS)} for i, c in enumerate(CHANNELS)]
    )


def sku_name(index: int) -> str:
    return f"SKU-{index:06d}"


def populate(url: str, skus: int, seed: int = SEED) -> int:
    """Fill the store at ``url``; returns how many (channel, SKU, location) levels were planted to differ."""
    rng = random.Random(seed)
    positions: list[tuple[str, str, int, int, int, int, int]] = []
    levels: list[tuple[str, str, str, int, str, datetime]] = []
    planted = 0
    for index in range(skus):
        sku = sku_name(index)
        for location in LOCATIONS:
            on_hand, committed, reserved, safety = (
                rng.randint(0, 60),
                rng.randint(0, 3),
                rng.randint(0, 2),
                rng.randint(0, 2),
            )
            positions.append((sku, location, on_hand, committed, reserved, safety, 0))
            target = max(0, on_hand - committed - reserved - safety)
            for channel in CHANNELS:
                roll = rng.random()
                if roll < DIFFER / 2:
                    planted += 1  # no row: the channel was never read
                    continue
                shown = target
                if roll < DIFFER:
                    planted += 1
                    shown = target + rng.choice((-2, -1, 1, 2, 3))
                    if shown < 0:
                        shown = target + 1
                levels.append((channel, sku, location, shown, "read", LOADED_AT))
    with open_store(url) as store:
        load_rows(store.engine, "products", ("id", "title", "attributes"), [("bench", "Bench product", "{}")])
        load_rows(
            store.engine,
            "variants",
            ("sku", "product_id", "barcodes", "option_values", "tracked", "allow_backorder"),
            ((sku_name(i), "bench", "[]", "{}", True, False) for i in range(skus)),
        )
        load_rows(
            store.engine,
            "inventory_positions",
            ("sku", "location_id", "on_hand", "committed", "reserved", "safety_stock", "incoming"),
            positions,
        )
        load_rows(
            store.engine,
            "channel_levels",
            ("channel", "sku", "location_id", "quantity", "source", "updated_at"),
            levels,
        )
        with store.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    return planted


def probe(mode: str, url: str) -> dict[str, Any]:
    """Run one phase in a fresh interpreter; its JSON result."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and module, fixed arguments
        [sys.executable, "-m", "bench._reconcile_probe", mode, url, feeds_json()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"reconcile probe {mode!r} failed:\n{done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _measure(backend: str, url: str, skus: int) -> Iterator[dict[str, Any]]:
    planted = populate(url, skus)
    diff = probe("diff", url)
    sql = probe("sql", url)
    levels = skus * len(LOCATIONS) * len(CHANNELS)
    agree = diff["diffs"] == sql["diffs"] == planted and diff["digest"] == sql["digest"]
    for method, figures in (("diff_channels", diff), ("sql", sql)):
        yield {
            "backend": backend,
            "method": method,
            "skus": skus,
            "levels": levels,
            "diffs": figures["diffs"],
            "planted": planted,
            "agree": agree,
            "seconds": round(figures["seconds"], 3),
            "vs_sql": round(figures["seconds"] / sql["seconds"], 2),
            "rss_before_mb": round(figures["rss_before_mb"], 1),
            "peak_rss_mb": round(figures["peak_rss_mb"], 1),
        }


def run(*, quick: bool = False) -> dict[str, Any]:
    skus = 5_000 if quick else 100_000
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    with sqlite_url() as url:
        rows += _measure("sqlite", url, skus)
    base = postgres_base()
    if base:
        with postgres_url(base) as url:
            rows += _measure("postgresql", url, skus)
    else:
        notes.append(POSTGRES_SKIPPED)
    notes += [
        f"{len(CHANNELS)} channels, each fed by all {len(LOCATIONS)} locations; default availability policy "
        f"(target = max(0, available)); ~{DIFFER:.0%} of levels planted to differ "
        "(half a wrong quantity, half no row).",
        "Each method runs in a fresh interpreter: seconds is the diff alone; peak_rss_mb is that process's "
        "peak RSS (VmHWM) at the end (rss_before_mb: after start-up, before the diff), so it includes the "
        "list of diffs.",
        "agree: both methods found the planted number of diffs and the same set (order-independent digest).",
        "Goal: diff_channels within 2x of sql (vs_sql <= 2) and peak_rss_mb < 500.",
    ]
    first = {r["method"]: r for r in rows if r["backend"] == "sqlite"}
    result: dict[str, Any] = {
        "benchmark": "reconcile",
        "title": f"Reconcile diff ({skus:,} SKUs x {len(LOCATIONS)} locations x {len(CHANNELS)} channels)",
        "rows": rows,
        "notes": notes,
        "skus": skus,
        "levels": first["diff_channels"]["levels"],
        "diffs": first["diff_channels"]["diffs"],
        "agree": all(r["agree"] for r in rows),
        "seconds": first["diff_channels"]["seconds"],
        "sql_seconds": first["sql"]["seconds"],
        "vs_sql": first["diff_channels"]["vs_sql"],
        "peak_rss_mb": first["diff_channels"]["peak_rss_mb"],
        "peak_rss_method": "VmHWM (peak resident set) of a fresh subprocess running only the diff",
    }
    pg = {r["method"]: r for r in rows if r["backend"] == "postgresql"}
    if pg:
        result["postgresql"] = {
            "seconds": pg["diff_channels"]["seconds"],
            "sql_seconds": pg["sql"]["seconds"],
            "vs_sql": pg["diff_channels"]["vs_sql"],
            "peak_rss_mb": pg["diff_channels"]["peak_rss_mb"],
        }
    return result
