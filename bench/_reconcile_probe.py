"""One measured phase of the ``reconcile`` benchmark, run in a fresh interpreter so its peak RSS is its own.

``python -m bench._reconcile_probe {diff|sql} URL FEEDS_JSON`` prints one JSON object: ``seconds`` (wall time of
the phase alone), ``diffs`` (how many positions differ), ``digest`` (an order-independent hash of the diffs, so the
two methods can be checked against each other), ``rss_before_mb`` and ``peak_rss_mb`` (the peak resident set size of
this process after start-up and at the end, see :func:`rss_mb`; the phase's own cost is the difference).
"""

from __future__ import annotations

import hashlib
import json
import resource
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from omnibridge.config.availability import AvailabilityPolicy
from omnibridge.policy import AvailabilityPlanner, ChannelFeed
from omnibridge.store import open_store
from omnibridge.store.engine import create_store_engine
from omnibridge.sync.bulk_plan import diff_channels

Diff = tuple[str, str, str, int | None, int]


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB.

    Linux's ``VmHWM`` (``/proc/self/status``) when available: unlike ``ru_maxrss`` it starts afresh at ``exec``,
    whereas ``ru_maxrss`` keeps the high-water mark the parent had when it forked this process.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def digest(diffs: Iterable[Diff]) -> str:
    total = 0
    for diff in diffs:
        total += int.from_bytes(hashlib.blake2b(repr(diff).encode(), digest_size=8).digest(), "big")
    return f"{total % 2**64:016x}"


def diff_sql(dialect: str, feeds: list[ChannelFeed]) -> str:
    """The whole diff as one statement: tracked variants x feed locations, joined to positions and levels."""
    pairs = sorted((feed.channel, location) for feed in feeds for location in feed.locations)
    values = ", ".join(f"('{channel}', '{location}')" for channel, location in pairs)
    greatest = "GREATEST" if dialect == "postgresql" else "MAX"
    target = (
        f"CASE WHEN p.sku IS NULL THEN 0 ELSE {greatest}(0, p.on_hand - p.committed - p.reserved - p.safety_stock) END"
    )
    # Literals are the benchmark's own channel and location ids, never input.
    return f"""
        WITH feeds(channel, location_id) AS (VALUES {values})
        SELECT f.channel, v.sku, f.location_id, l.quantity, {target} AS target
        FROM variants v
        CROSS JOIN feeds f
        LEFT JOIN inventory_positions p ON p.sku = v.sku AND p.location_id = f.location_id
        LEFT JOIN channel_levels l ON l.channel = f.channel AND l.sku = v.sku AND l.location_id = f.location_id
        WHERE v.tracked = TRUE AND (l.quantity IS NULL OR l.quantity <> {target})
    """  # noqa: S608


def run_diff(url: str, feeds: list[ChannelFeed]) -> dict[str, Any]:
    planner = AvailabilityPlanner(AvailabilityPolicy(), feeds)
    with open_store(url) as store:
        before = rss_mb()
        started = time.perf_counter()
        found = list(diff_channels(store, planner, feeds))
        seconds = time.perf_counter() - started
        peak = rss_mb()
    rows: list[Diff] = [(d.channel, d.sku, d.location_id, d.shown, d.target) for d in found]
    return {
        "seconds": seconds,
        "diffs": len(rows),
        "digest": digest(rows),
        "rss_before_mb": before,
        "peak_rss_mb": peak,
    }


def run_sql(url: str, feeds: list[ChannelFeed]) -> dict[str, Any]:
    engine = create_store_engine(url)
    statement = diff_sql(engine.dialect.name, feeds)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
        before = rss_mb()
        started = time.perf_counter()
        found = conn.execute(sa.text(statement)).all()
        seconds = time.perf_counter() - started
        peak = rss_mb()
    engine.dispose()
    rows: list[Diff] = [(r[0], r[1], r[2], r[3], int(r[4])) for r in found]
    return {
        "seconds": seconds,
        "diffs": len(rows),
        "digest": digest(rows),
        "rss_before_mb": before,
        "peak_rss_mb": peak,
    }


def main(argv: list[str]) -> int:
    mode, url, raw_feeds = argv
    feeds = [ChannelFeed(f["channel"], f["priority"], frozenset(f["locations"])) for f in json.loads(raw_feeds)]
    result = run_diff(url, feeds) if mode == "diff" else run_sql(url, feeds)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
