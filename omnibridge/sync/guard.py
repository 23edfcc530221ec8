"""The mass-change guard: a sync that would take a live channel's stock down wholesale is held, not written.

A batch of writes to a channel (what one reconcile plans there) is held when it would lower more than
``guard.max_lowered_share`` of the positions the channel shows in stock, or set more than
``guard.max_zeroed_share`` of them to 0 (both 0.2 by default; ``channels[].guard`` in the profile). The positions
in stock are the channel's positions whose last seen quantity (``channel_levels``) is above 0; a channel with
fewer than ``guard.min_stocked_positions`` of them (5 by default) is never held, so a small shop's ordinary sales
pass. A held batch is neither recorded nor sent, the other channels go on, and an incident of kind
``mass_change`` says what would have happened and which command approves it. The same held plan records one
incident however often it is planned again (the daemon's read-backs). The guard runs in
:func:`omnibridge.sync.reconcile.reconcile_channel`, so ``sync --once`` and the daemon apply it alike.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection

from omnibridge.store import Incident, Store
from omnibridge.sync.reconcile import PlannedWrite
from omnibridge.sync.runtime import ChannelRuntime

MASS_CHANGE = "mass_change"
"""The incident kind."""

EXAMPLES = 5
"""Positions named in the incident's summary."""


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
        lowered = [w for w in plan if w.target.expected is not None and w.target.quantity < w.target.expected]
        zeroed = [w for w in lowered if w.target.quantity <= 0]
        stocked = store.stocked_positions(channel.id)
        if stocked < max(settings.min_stocked_positions, 1):
            return True
        too_low = len(lowered) / stocked > settings.max_lowered_share
        too_zero = len(zeroed) / stocked > settings.max_zeroed_share
        if not (too_low or too_zero):
            return True
        examples = ", ".join(
            f"{w.position[0]} at {w.position[1]} {w.target.expected} -> {w.target.quantity}"
            for w in (zeroed or lowered)[:EXAMPLES]
        )
        summary = (
            f"held a mass change on {channel.id}: it would lower {len(lowered)} and set {len(zeroed)} to 0 of the "
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
