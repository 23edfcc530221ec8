"""The demo's third act: click-and-collect and returns, in its own world (:mod:`omnibridge.demo.collect_world`).

Five scenes, each an :class:`~omnibridge.demo.script.EventRecord` with its figures, all through the real services
and the emulators (:mod:`omnibridge.demo.collect_pickups`, :mod:`omnibridge.demo.collect_returns`):

1. ``pickup``: pickup options near Boulder; a web pickup order booked at the nearest store's first window, made
   ready and collected;
2. ``pickup_expired``: a pickup nobody collects, released by the expiry job (the ledger's clock moved past its
   expiry), with an incident; Shopify is told;
3. ``curbside``: a curbside pickup on Square: the arrival at the till reaches omnibridge; handed over; COMPLETED;
4. ``store_return``: a shipped web order returned at a store counter and restocked there; Square and Shopify see it;
5. ``postal_return``: a web return by post with an EasyPost return label; one unit restocked, one damaged; Shopify
   shows the return closed.

The act ends with the ledger's consistency check and a check of every request the emulators received against
the vendors' official specs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omnibridge.demo.collect_pickups import curbside, pickup, pickup_expired
from omnibridge.demo.collect_returns import postal_return, store_return
from omnibridge.demo.collect_world import CollectWorld, collect_world
from omnibridge.demo.fulfilment_report import INDENT, act_ok
from omnibridge.demo.fulfilment_validation import validate_traffic
from omnibridge.demo.script import EventRecord

__all__ = ["describe", "play_collect", "run_collect_day"]

Emit = Callable[[str], None]


def _position(p: dict[str, int]) -> str:
    return f"on hand {p['on_hand']}, committed {p['committed']}, available {p['available']}"


def describe(record: EventRecord) -> str:
    """The scene's outcome and its key figures, on a few lines."""
    d = record.detail
    ms = f" in {record.ms_until_all_channels:.0f} ms" if record.ms_until_all_channels is not None else ""
    lines = [f"{record.outcome}{ms}"]
    if record.kind == "pickup" and "options" in d:
        for store in d["options"]["stores"]:
            lines.append(f"offered: {store['location_id']} {store['distance_km']} km, {store['local_window']}")
        for left in d["options"]["left_out"]:
            lines.append(f"left out: {left['location_id']}: {left['reason']}")
        if "position" in d:
            pos = d["position"]
            lines.append(f"at {d['booked_at']}: {_position(pos['before'])} -> held: {_position(pos['held'])}")
            lines.append(f"collected: {_position(pos['collected'])}")
    elif record.kind == "pickup_expired" and "released" in d:
        lines.append(
            f"the ledger's clock moved {d['clock_moved_hours']} h, to 1 min past the hold's expiry "
            f"({d['expires_at']}), for the expiry job, then back"
        )
        lines.extend(f"incident: {incident}" for incident in d["incidents"])
        pos = d["position"]
        lines.append(f"held: {_position(pos['held'])} -> released: {_position(pos['after'])}")
    elif record.kind == "curbside" and "square_fulfillment_state" in d:
        lines.append(
            f"{d['window']}: after the arrival {d['status_after_arrival']}, after the handover "
            f"{d['status_after_handover']}; Square {d['square_fulfillment_state']}"
        )
    elif record.kind == "store_return" and "square_count" in d:
        lines.append(
            f"return {d['return_id']}: Square count {d['square_count']['before']} -> {d['square_count']['after']}, "
            f"Shopify available {d['shopify_available']['before']} -> {d['shopify_available']['after']}"
        )
    elif record.kind == "postal_return" and "label" in d:
        lines.append(
            f"return {d['return_id']}: label {d['label']['carrier']} {d['label']['tracking_number']}; "
            f"{d['dispositions']['restocked']} restocked, {d['dispositions']['damaged']} damaged; "
            f"Shopify return {', '.join(d['shopify_returns']) or 'missing'}"
        )
    return f"\n{INDENT}".join(lines)


async def play_collect(world: CollectWorld, emit: Emit) -> dict[str, Any]:
    """Play the act's scenes in ``world``; returns the ``collect`` section of the JSON report."""
    events: list[EventRecord] = []

    def show(record: EventRecord) -> None:
        events.append(record)
        emit(f"{record.kind:<18} {record.source:<6} {record.description}\n{INDENT}-> {describe(record)}")

    started = time.perf_counter()
    for scene in (pickup, pickup_expired, curbside, store_return, postal_return):
        show(await scene(world))
    refused = world.shopify.calls.get("invalid", 0)
    traffic = validate_traffic(world.recorded, refused)
    inconsistencies = [f"{i.check}: {i.subject}: {i.detail}" for i in world.store.verify()]
    emit(
        f"collect check     {traffic['requests']} requests recorded, {len(traffic['problems'])} invalid, "
        f"{traffic['refused_by_validation']} refused by validation; ledger inconsistencies: {len(inconsistencies)}"
    )
    section = {
        "events": [e.as_dict() for e in events],
        "seconds": round(time.perf_counter() - started, 2),
        "traffic": traffic,
        "inconsistencies": inconsistencies,
    }
    return {"ok": act_ok(section), **section}


async def run_collect_day(workdir: Path, emit: Emit) -> dict[str, Any]:
    """Build the act's world in ``workdir`` and play it."""
    emit(
        "collect     click-and-collect and returns: web (Shopify) and the stores' POS (Square) at boulder and "
        "golden, pickup hours at every store (curbside at boulder), return labels with EasyPost"
    )
    async with collect_world(workdir) as world:
        return await play_collect(world, emit)
