"""The act's hands: the real fulfilment dispatcher carries routing's tasks out, and the engine's pulls bring the
providers' shipments and the channels' fulfilments back, exactly as the daemon's jobs would.

:func:`run_tasks` is one pass of :class:`~omnibridge.fulfilment.dispatcher.Dispatcher` (assign on Shopify, submit
to the supplier or ShipBob, confirm a shipment on Shopify or Amazon, re-route a refusal); :func:`pull` is one
pull of a channel through the sync engine (a provider's ship confirmation is applied to the order it ships; a
channel's own notice of a fulfilment omnibridge confirmed for a provider is recognised as an echo).
"""

from __future__ import annotations

from typing import Any

from omnibridge.demo.fulfilment_world import FulfilmentWorld
from omnibridge.store.engine import read_session
from omnibridge.store.routing_records import tasks_of_order

__all__ = ["pull", "run_tasks", "units_shipped"]


async def run_tasks(world: FulfilmentWorld, order_id: str) -> list[dict[str, Any]]:
    """One pass of the dispatcher over every due task; returns the order's tasks as they stand (id, kind,
    channel, status, ``accepted`` when the vendor took it, and the fields of its result)."""
    await world.dispatcher.run_once()
    with read_session(world.store.engine) as session:
        tasks = tasks_of_order(session, order_id)
    return [
        {
            "id": task["id"],
            "kind": task["kind"],
            "channel": task["channel"],
            "status": task["status"],
            "accepted": task["status"] == "done",
            **(task["result"] or {}),
        }
        for task in tasks
    ]


async def pull(world: FulfilmentWorld, channel: str) -> None:
    """One pull of ``channel`` through the sync engine (the daemon's poll), applied like any other delivery."""
    await world.engine.pull(world.engine.channels[channel])


def units_shipped(world: FulfilmentWorld, channel: str, order_ref: str) -> int:
    """Units of the order the ledger shows shipped (its line records)."""
    return sum(line.shipped for line in world.store.order_lines(channel, order_ref))
