"""Several replicas on one PostgreSQL: ingest-and-apply throughput and propagation per replica count.

For each count N of ``--replicas`` (default 1,2,3), and first for the baseline (one plain daemon, no ``--replica``,
on the same database and load): a fresh PostgreSQL schema with the demo merchant, the Shopify and Square emulators
and a round-robin load balancer in front of N ``omnibridge run --replica`` processes (:mod:`bench._fleet`). A seeded
stream of single-unit POS sales and web orders is offered at a fixed rate; each sale's notification reaches a
daemon through the balancer. Figures per row:

* ``applied``: inbox entries (sale notifications and the vendors' stock notifications) received during the stream
  and applied; ``applied/s``: those per second, from the first one received to the last one applied;
* ``apply p50/p99 ms``: per delivery, from its commit to the inbox until it was applied (``received_at`` to
  ``processed_at``, the database's clock);
* ``settle s``: from the last sale until every channel shows the ledger (propagation of the whole stream);
* ``cpu cores``: CPU seconds of the daemons (and of this process: emulators, balancer, load) per wall second;
* ``refusals web`` / ``refusals pos``: THROTTLED (Shopify) and 429 (Square) answers of the emulators (replicas share
  each channel's vendor budget in PostgreSQL: see docs/scaling.md).

This machine has 2 cores shared with everything else: the curve is honest for it, not a capacity figure.
"""

from __future__ import annotations

import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench._db import POSTGRES_SKIPPED, postgres_base, postgres_url
from bench._fleet import GUARD_S, SKUS, Daemon, World
from omnibridge.demo import world
from omnibridge.demo.catalog import POS_LOCATIONS, WEB_LOCATIONS, opening_stock
from omnibridge.sdk.emulator import free_port
from omnibridge.store import InboxStatus, Store, open_store

RATE = 20.0
"""Sales offered per second."""


def _stream(seed: int, count: int) -> list[tuple[str, str, str]]:
    """``count`` single-unit sales (channel, location, SKU), never taking a position below one unit, so no sale
    oversells and what every channel must show is plain arithmetic."""
    rng = random.Random(seed)
    left = dict(opening_stock())
    stream: list[tuple[str, str, str]] = []
    while len(stream) < count:
        channel = rng.choice((world.POS, world.WEB))
        location_id = rng.choice(POS_LOCATIONS if channel == world.POS else WEB_LOCATIONS)
        sku = rng.choice(SKUS)
        if left[(sku, location_id)] > 1:
            left[(sku, location_id)] -= 1
            stream.append((channel, location_id, sku))
    return stream


def _percentile(ordered: list[float], pct: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def measure(base: str, replicas: int, seconds: float, *, replica_mode: bool = True) -> dict[str, Any]:
    """One row: ``replicas`` daemons (``replica_mode`` False: one plain daemon) under :data:`RATE` sales/s."""
    with postgres_url(base) as url, tempfile.TemporaryDirectory(prefix="omnibridge-scale-") as tmp:
        daemons: list[Daemon] = []
        with World(daemons) as fleet:
            profile = fleet.write_profile(Path(tmp), url)
            with open_store(url) as store:
                world.seed_ledger(store)
                stream = _stream(7, int(RATE * seconds))
                for index in range(replicas):
                    daemons.append(Daemon(profile, free_port(), replica_mode, Path(tmp) / f"daemon-{index}.log"))
                for daemon in daemons:
                    daemon.start()
                for daemon in daemons:
                    daemon.wait_ready()
                deadline = time.monotonic() + GUARD_S
                while not fleet.converged(store):  # the start-up read-back done: the stream starts from rest
                    if time.monotonic() > deadline:
                        raise RuntimeError("the channels did not converge before the stream")
                    time.sleep(0.2)
                cpu_before = sum(daemon.cpu_seconds() for daemon in daemons)
                self_before = _self_cpu()
                refusals_before = fleet.refusals()
                started, started_at = time.monotonic(), datetime.now(UTC)
                for index, sale in enumerate(stream):
                    delay = started + index / RATE - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    fleet.sell(*sale)
                last_sale = time.monotonic()
                converged = True
                while not fleet.converged(store) or _pending(store):
                    if time.monotonic() - last_sale > GUARD_S:
                        converged = False  # reported as such: the row says the fleet did not settle
                        _explain_unsettled(fleet, store)
                        break
                    time.sleep(0.05)
                settled = time.monotonic()
                cpu = sum(daemon.cpu_seconds() for daemon in daemons) - cpu_before
                own = _self_cpu() - self_before
                refusals = {channel: count - refusals_before[channel] for channel, count in fleet.refusals().items()}
                for daemon in daemons:
                    daemon.stop()
                latencies, span, done = _inbox_figures(store, started_at)
        wall = settled - started
        return {
            "replicas": replicas if replica_mode else "1 (no --replica)",
            "sales": len(stream),
            "applied": done,
            "applied/s": round(done / span, 1) if span else None,
            "apply p50 ms": _round(_percentile(latencies, 50)),
            "apply p99 ms": _round(_percentile(latencies, 99)),
            "settle s": round(settled - last_sale, 2) if converged else f"> {GUARD_S:.0f} (not settled)",
            "cpu cores (daemons)": round(cpu / wall, 2),
            "cpu cores (bench)": round(own / wall, 2),
            "refusals web": refusals[world.WEB],
            "refusals pos": refusals[world.POS],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _explain_unsettled(fleet: World, store: Store) -> None:
    """Say on stderr what a fleet that did not settle left: the positions that disagree (with what the engine knows
    each channel shows there) and the pending work."""
    wrong = fleet.disagreements(store)
    print(f"not settled: {len(wrong)} positions disagree (channel, SKU, location, shows, ledger)", file=sys.stderr)
    for each in wrong[:10]:
        known = store.known_levels(each.channel, [each.sku]).get((each.sku, each.location_id))
        print(
            f"  {each.channel} {each.sku} {each.location_id}: shows {each.shows}, ledger {each.ledger}; known {known}",
            file=sys.stderr,
        )
    print(f"  pending work: {len(store.pending_work())}, inbox pending: {_pending(store)}", file=sys.stderr)


def _pending(store: Store) -> bool:
    return bool(store.inbox(status=InboxStatus.PENDING, limit=1))


def _inbox_figures(store: Store, since: datetime) -> tuple[list[float], float, int]:
    """Latencies (ms), span (s) and count of the deliveries received since ``since`` and applied."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT received_at, processed_at FROM webhook_inbox"
                " WHERE status = 'done' AND received_at >= :since ORDER BY received_at"
            ),
            {"since": since},
        ).all()
    if not rows:
        return [], 0.0, 0
    latencies = sorted((row.processed_at - row.received_at).total_seconds() * 1000 for row in rows)
    span = (max(row.processed_at for row in rows) - rows[0].received_at).total_seconds()
    return latencies, span, len(rows)


def run(*, quick: bool = False, replicas: tuple[int, ...] = (1, 2, 3)) -> dict[str, Any]:
    """The baseline, then one row per replica count."""
    base = postgres_base()
    title = f"Replicas on one PostgreSQL: {RATE:.0f} sales/s offered, Shopify + Square emulators, this machine"
    if base is None:
        return {"title": title, "rows": [], "notes": [POSTGRES_SKIPPED]}
    seconds = 3.0 if quick else 10.0
    rows = [measure(base, 1, seconds, replica_mode=False)]
    rows += [measure(base, count, seconds) for count in replicas]
    notes = [
        f"{seconds:.0f} s of sales per row; the first row is the baseline: one daemon without --replica.",
        f"{_cores()} CPU cores on this machine, shared by the daemons, PostgreSQL, the emulators and the load.",
        "Replicas share each channel's vendor budget in PostgreSQL (docs/scaling.md): refusals stay at 0 as they grow.",
    ]
    return {"title": title, "rows": rows, "notes": notes}


def _cores() -> int:
    return os.cpu_count() or 1
