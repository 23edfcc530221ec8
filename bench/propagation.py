"""Propagation latency: a sale accepted by one channel until every other channel showing its location shows it.

The default world is every vendor of the demo (:mod:`omnibridge.demo.world`): the Shopify, Square, Amazon and
Clover emulators and the ERP file feed, and omnibridge's daemon (``omnibridge run``, in its own process, so the
engine has a core as it would beside remote vendors; ``--engine inline`` runs its worker on the emulators' event
loop instead), all over real HTTP with signed notifications (every selling vendor here sends them). Limits are the
vendors' production ones, Amazon processes feeds and patches with a delay, and every notification waits 100-300 ms
before it is sent.

Sales come at a fixed rate from every selling channel in turn, one unit at a seeded random position (SKU,
location) of that channel. Each position is sold by one channel only, so the other channels' levels there move
only through omnibridge: a sale is *seen* on a channel when that channel's emulator (read in memory, spending none
of the rate limit) shows the count after the sale. Each channel's figures sit beside its *floor*, computed from
the same run's emulator settings (:mod:`bench._floors`, :mod:`bench._worlds`). ``--world two`` runs the older
two-channel world (web and POS over the two stores) for comparison.

Each rate runs in a fresh world in its own interpreter (``bench/_propagation_run.py``), stopped if it overruns.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench._outcomes import OUTCOMES, busiest, outcomes_table
from bench._propagation_run import (
    AMAZON_FEED_PROCESSING_S,
    AMAZON_LISTING_DELAY_S,
    API_LATENCY_MS,
    SHOPIFY_BUCKET_POINTS,
    SHOPIFY_RESTORE_PER_S,
    STOCK,
    WEBHOOK_DELAY_S,
    percentile,
)
from omnibridge.demo.world import POS, WEB

__all__ = ["RATES", "STOCK", "percentile", "run"]

RATES = (20, 100)
SEED = 5
QUICK_SECONDS = 3.0
FULL_SECONDS = 20.0
QUICK_WAIT_S = 15.0
FULL_WAIT_S = 60.0
"""How long after the last sale a sale may still be seen; later, it counts as not seen."""
CHILD_LIMIT_S = 120.0
"""Time allowed beyond sales and wait for start-up, first sync and winding down, before a run is stopped."""
ENGINE_NOTES = {
    "daemon": "'omnibridge run' in its own process, as operations run it (the emulators, the sales and the watcher "
    "share the benchmark's process)",
    "inline": "the worker on the benchmark's event loop, beside the emulators",
}
GOAL_FAST_P99_MS = 1000.0
GOAL_FAST_CHANNELS = (WEB, POS)
GOAL_FLOOR_FACTOR = 1.5


def measure_in_child(rate: int, seconds: float, *, wait_s: float, world: str, engine: str) -> dict[str, Any]:
    """One run in a fresh interpreter, which prints its figures and ends without winding the world down; stopped
    after ``CHILD_LIMIT_S`` beyond the run's own length.

    A world pushed past what one event loop can serve can take minutes to wind down (thousands of queued requests
    being cancelled); a separate process bounds that, and keeps each rate's world apart from the other's."""
    with tempfile.TemporaryDirectory(prefix="omnibridge-bench-") as tmp:
        code = (
            "import asyncio, json, os, sys\n"
            "from pathlib import Path\n"
            "from bench._logs import quiet_logs\n"
            "from bench._propagation_run import measure\n"
            "def emit(row):\n"
            "    print(json.dumps(row), flush=True)\n"
            "    sys.stderr.flush()\n"
            "    os._exit(0)  # the parent removes the work directory; nothing else is left to wind down\n"
            "with quiet_logs():\n"
            f"    asyncio.run(measure({rate!r}, {seconds!r}, wait_s={wait_s!r}, seed={SEED!r}, "
            f"world_name={world!r}, engine={engine!r}, workdir=Path({tmp!r}), emit=emit))\n"
        )
        limit = seconds + wait_s + CHILD_LIMIT_S
        try:
            done = subprocess.run(  # noqa: S603 - our own interpreter running our own code
                [sys.executable, "-c", code],
                cwd=Path(__file__).resolve().parents[1],
                capture_output=True,
                text=True,
                timeout=limit,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return failed_run(rate, f"the run did not finish within {limit:g} s and was stopped")
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return failed_run(rate, f"the run failed (exit {done.returncode}): {reason}")
    row: dict[str, Any] = json.loads(lines[-1])
    row["rate"] = rate
    return row


def failed_run(rate: int, error: str) -> dict[str, Any]:
    """The run of a rate that produced no figures."""
    return {
        "rate": rate,
        "made": None,
        "seen": None,
        "refusals": None,
        "channels": {},
        "pairs": {},
        "error": error,
        "writes": {},
        "requests": {},
    }


def goals(run: dict[str, Any]) -> list[str]:
    """The issue's goals for one run, each as 'met' or 'NOT met' with the figure (printed, never asserted)."""
    if run["error"]:
        return [f"{run['rate']}/s: no figures ({run['error']})"]
    rate, channels = run["rate"], run["channels"]
    stopped = [f"{rate}/s: {run['stopped']}"] if run.get("stopped") else []
    lines = [
        *stopped,
        f"{rate}/s every sale seen: {'met' if run['seen'] == run['made'] else 'NOT met'} "
        f"({run['seen']} of {run['made']})",
        f"{rate}/s 0 refusals: {'met' if run['refusals'] == 0 else 'NOT met'} ({run['refusals']})",
    ]
    for channel in GOAL_FAST_CHANNELS:
        if channel in channels:
            p99 = channels[channel]["p99_ms"]
            met = (
                p99 is not None and p99 <= GOAL_FAST_P99_MS and channels[channel]["seen"] == channels[channel]["sales"]
            )
            lines.append(f"{rate}/s p99 to {channel} <= {GOAL_FAST_P99_MS:g} ms: {'met' if met else 'NOT met'} ({p99})")
    for channel, figures in channels.items():
        p99, floor = figures["p99_ms"], figures["floor_p99_ms"]
        met = p99 is not None and p99 <= GOAL_FLOOR_FACTOR * floor and figures["seen"] == figures["sales"]
        ratio = "-" if p99 is None else f"{p99 / floor:.2f}x"
        lines.append(
            f"{rate}/s p99 to {channel} <= {GOAL_FLOOR_FACTOR:g} x floor {floor:g} ms: "
            f"{'met' if met else 'NOT met'} ({p99} ms, {ratio})"
        )
    return lines


def outcome_notes(runs: list[dict[str, Any]]) -> list[str]:
    """What the engine's writes became and what each vendor served, per run and channel (:mod:`bench._outcomes`)."""
    if not any(run.get("writes") or run.get("requests") for run in runs):
        return []
    notes = [
        "writes = the engine's stock writes recorded in the push outbox during the run, by outcome ("
        + ", ".join(OUTCOMES)
        + "; stale: a compare-and-set the vendor refused because the level moved between read and write; "
        "pending: still being sent when the figures were taken); requests = requests the vendor's emulator served "
        "during the run, refusals included; forgotten = positions not trusted until a read at the end (source "
        "unknown: a raced write or one of unknown outcome).",
        outcomes_table(runs),
    ]
    for run in runs:
        if run.get("error") or "requests_by_kind" not in run:
            continue
        kinds = "; ".join(f"{channel}: {busiest(ops)}" for channel, ops in run["requests_by_kind"].items() if ops)
        cost = busiest(run.get("shopify_cost_by_kind", {}))
        notes.append(
            f"{run['rate']}/s Shopify cost charged {run['shopify_cost_points']:g} points ({cost or 'none'}); "
            f"busiest requests {kinds}"
        )
        if run.get("writes_error"):
            notes.append(f"{run['rate']}/s writes: {run['writes_error']}")
    return notes


def _rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The detailed table: per rate, every channel (from any seller) and every channel pair."""
    rows: list[dict[str, Any]] = []
    for run in runs:
        if run["error"] is None:
            rows.append(
                _row(run["rate"], "any", "every other", {**run["all"], "sales": run["made"], "seen": run["seen"]}, None)
            )
        for channel, figures in run["channels"].items():
            rows.append(_row(run["rate"], "any", channel, figures, figures["floor_p99_ms"]))
            for pair, pair_figures in run["pairs"].items():
                seller, target = pair.split("->")
                if target == channel:
                    rows.append(_row(run["rate"], seller, channel, pair_figures, None))
    return rows


def _row(rate: int, seller: str, channel: str, figures: dict[str, Any], floor: float | None) -> dict[str, Any]:
    keys = ("sales", "seen", "p50_ms", "p99_ms", "max_ms")
    return {"rate": rate, "from": seller, "to": channel, **{k: figures[k] for k in keys}, "floor_p99_ms": floor}


def run(*, quick: bool = False, world: str = "every", engine: str = "daemon") -> dict[str, Any]:
    seconds = QUICK_SECONDS if quick else FULL_SECONDS
    wait_s = QUICK_WAIT_S if quick else FULL_WAIT_S
    runs = [measure_in_child(rate, seconds, wait_s=wait_s, world=world, engine=engine) for rate in RATES]
    vendors = (
        "Amazon's default usage plan with patches shown "
        f"{AMAZON_LISTING_DELAY_S:g} s after acceptance and feeds processed in {AMAZON_FEED_PROCESSING_S:g} s "
        "(minutes in production, scaled down so the run ends), Clover 16 requests/s; the ERP file feed is in the "
        "world but sells nothing"
        if world == "every"
        else "web and POS over the two stores only"
    )
    notes = [
        f"world {world!r}, a fresh one per rate; engine: {ENGINE_NOTES[engine]}; API latency "
        f"{API_LATENCY_MS[0]:g}-{API_LATENCY_MS[1]:g} ms, notification delay "
        f"{WEBHOOK_DELAY_S[0] * 1000:g}-{WEBHOOK_DELAY_S[1] * 1000:g} ms; Shopify {SHOPIFY_BUCKET_POINTS:,.0f} points "
        f"restoring {SHOPIFY_RESTORE_PER_S:g}/s (the Standard plan), "
        f"Square 10 requests/s burst 20, {vendors}. {seconds:g} s of sales per rate, every selling channel in turn, "
        f"seed {SEED}, {STOCK} units at every sold position; a sale not shown {wait_s:g} s after the last sale is "
        "not seen.",
        "latency = from the seller's emulator accepting a sale to a channel's emulator showing it (read every 2 ms "
        "in memory); 'all' = until every other channel showing the location shows it. p50/p99 (nearest rank)/max "
        "are over the sales seen. refusals = 429/THROTTLED answers counted by the emulators during the run.",
        "baseline = each channel's floor from the run's own emulator settings; how each was computed:",
    ]
    for each in runs:
        for channel, figures in each["channels"].items():
            notes.append(f"  {each['rate']}/s floor {channel}: {figures['floor_formula']}")
    for each in runs:
        if each.get("cpu_cores"):
            notes.append(f"{each['rate']}/s CPU (cores, from the first sale until the figures): {each['cpu_cores']}")
        if not each["error"]:
            notes.append(
                f"{each['rate']}/s: made {each['made']}, seen by every other channel {each['seen']}, refusals "
                f"{each['refusals']} {each['refusals_by_channel']}, all: {each['all']}"
            )
        notes += goals(each)
    notes += outcome_notes(runs)
    return {
        "benchmark": "propagation",
        "title": f"Propagation ({world} world): a sale on one channel until every other channel shows it",
        "world": world,
        "engine": engine,
        "rows": _rows(runs),
        "notes": notes,
        "runs": runs,
    }
