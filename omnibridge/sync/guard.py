"""The mass-change guard: a sync that would take a live channel's stock down wholesale is held, not written.

A batch of writes to a channel (what one reconcile plans there) is held when it would lower more than
``guard.max_lowered_share`` of the positions the channel shows in stock, or set more than
``guard.max_zeroed_share`` of them to 0 (both 0.2 by default; ``channels[].guard`` in the profile). The positions
in stock are the channel's positions whose last seen quantity (``channel_levels``) is above 0; a channel with
fewer than ``guard.min_stocked_positions`` of them (5 by default) is never held, so a small shop's ordinary sales
pass. A lowering that customers' purchases explain is not counted: at most the units the ledger recorded as sold
there in the last :data:`SALES_WINDOW` (sales and order commitments, whichever channel took them), plus, while the
target stays above 0, the units channels were seen taking there whose orders are still on their way (pending
decreases). Holding those would keep a channel showing stock that was sold — in a rush (a flash sale, or
``bench propagation`` at 100 orders/s, where a writer's batch that covers a second of sales lowers a fifth of a
small catalogue) the guard would cause the overselling it is there to prevent. A wholesale drop from anywhere else
(a count, a feed, an adjustment, a channel wiped to 0) is counted as before.

A held batch is neither recorded nor sent, the other channels go on, and an incident of kind
``mass_change`` says what would have happened and which command approves it. The same held plan records one
incident however often it is planned again (the daemon's read-backs). The guard runs in
:func:`omnibridge.sync.reconcile.reconcile_channel`, so ``sync --once`` and the daemon apply it alike.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import timedelta

from omnibridge.store import Incident, Store
from omnibridge.sync.reconcile import PlannedWrite
from omnibridge.sync.runtime import ChannelRuntime

MASS_CHANGE = "mass_change"
"""The incident kind."""

EXAMPLES = 5
"""Positions named in the incident's summary."""
SALES_WINDOW = timedelta(minutes=15)
"""How far back recorded sales explain a lowering: the default read-back interval, within which a channel's level
is taken again from the channel itself."""


def approve_command(channel_id: str) -> str:
    """The command that applies a held mass change on ``channel_id``."""
    return f"omnibridge sync --once --approve-mass-change {channel_id}"


class MassChangeGuard:
    """A :class:`omnibridge.sync.reconcile.PushGate` that holds mass lowerings; ``approved`` channels pass."""

    def __init__(self, approved: Collection[str] = ()) -> None:
        self.approved = frozenset(approved)

    def admit(self, store: Store, channel: ChannelRuntime, plan: list[PlannedWrite]) -> bool:
        """False (and one incident) when ``plan`` lowers or zeroes too large a share of ``channel``'s stock."""
        if channel.id in self.approved:
            return True
        settings = channel.channel.guard
        stocked = store.stocked_positions(channel.id)
        if stocked < max(settings.min_stocked_positions, 1):
            return True
        lowered = unexplained_lowerings(store, plan)
        zeroed = [w for w in lowered if w.target.quantity <= 0]
        too_low = len(lowered) / stocked > settings.max_lowered_share
        too_zero = len(zeroed) / stocked > settings.max_zeroed_share
        if not (too_low or too_zero):
            return True
        examples = ", ".join(
            f"{w.position[0]} at {w.position[1]} {w.target.expected} -> {w.target.quantity}"
            for w in (zeroed or lowered)[:EXAMPLES]
        )
        summary = (
            f"held a mass change on {channel.id}: beyond what recorded sales explain, it would lower {len(lowered)} "
            f"and set {len(zeroed)} to 0 of the "
            f"{stocked} positions it shows in stock (limits {settings.max_lowered_share:.0%} lowered, "
            f"{settings.max_zeroed_share:.0%} set to 0); e.g. {examples}; nothing was written there. Check the "
            f"ledger ('omnibridge sync --once --dry-run'), then approve it with '{approve_command(channel.id)}'"
        )
        digest = hashlib.sha256(
            "|".join(f"{w.position[0]}@{w.position[1]}={w.target.quantity}" for w in plan).encode()
        ).hexdigest()[:16]
        store.add_incident(
            Incident(
                kind=MASS_CHANGE,
                decision="held",
                summary=summary,
                dedupe_key=f"{MASS_CHANGE}:{channel.id}:{digest}",
                channel=channel.id,
                data={
                    "lowered": len(lowered),
                    "zeroed": len(zeroed),
                    "stocked": stocked,
                    "writes": len(plan),
                    "approve": approve_command(channel.id),
                    "examples": [
                        {
                            "sku": w.position[0],
                            "location_id": w.position[1],
                            "shown": w.target.expected,
                            "target": w.target.quantity,
                        }
                        for w in (zeroed or lowered)[:EXAMPLES]
                    ],
                },
            )
        )
        return False


def unexplained_lowerings(store: Store, plan: list[PlannedWrite]) -> list[PlannedWrite]:
    """The writes of ``plan`` that lower what the channel shows by more than customers' purchases explain (see the
    module docstring)."""
    lowered = [w for w in plan if w.target.expected is not None and w.target.quantity < w.target.expected]
    if not lowered:
        return []
    positions = {w.position for w in lowered}
    sold = store.sold_since(positions, store.now() - SALES_WINDOW)
    pending = store.pending_decreases({sku for sku, _ in positions})
    unexplained = []
    for write in lowered:
        drop = (write.target.expected or 0) - write.target.quantity
        explained = sold.get(write.position, 0)
        if write.target.quantity > 0:
            explained += pending.get(write.position, 0)
        if drop > explained:
            unexplained.append(write)
    return unexplained
