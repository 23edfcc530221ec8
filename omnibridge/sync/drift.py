"""Drift: a channel shows a quantity the ledger does not explain, and the grace period for its events is over.

Each channel's ``drift`` setting in the profile decides (default ``ledger``):

* ``ledger`` — the ledger wins: the target is written over the channel's number.
* ``channel`` — the channel wins (e.g. the POS is the truth for its own store): the ledger records a count at
  that location that moves the channel's target onto what it shows, and nothing is written.
* ``alert`` — nothing is written and the ledger is not changed; the incident asks a person to look. The position
  stays unexplained, so the read-back does not decide it again until the channel or the ledger moves.

Every decision is recorded as an incident (kind ``drift``) saying what the channel showed, what we last knew,
what the ledger wanted and what was done; a decision is recorded once per unexplained change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from omnibridge.models import MovementKind, StockMovement
from omnibridge.store import Incident, Store
from omnibridge.sync.runtime import ChannelRuntime

Position = tuple[str, str]


@dataclass(frozen=True)
class DriftDecision:
    """What was decided for one drifted position."""

    position: Position
    policy: str
    shown: int
    last_known: int
    target: int
    write: int | None
    """The quantity to write to the channel, or None to write nothing."""
    still_unexplained_since: datetime | None
    """Kept for ``alert`` (the change stays unexplained), None once decided."""


def decide_drift(
    store: Store,
    channel: ChannelRuntime,
    position: Position,
    *,
    shown: int,
    last_known: int,
    target: int,
    since: datetime,
    now: datetime,
) -> DriftDecision:
    """Apply ``channel``'s drift policy to ``position`` and record the incident (see the module docstring)."""
    policy = channel.channel.drift
    sku, location_id = position
    key = f"drift:{channel.id}:{sku}:{location_id}:{since.isoformat()}"
    facts = {"shown": shown, "last_known": last_known, "target": target, "since": since.isoformat()}
    story = (
        f"{channel.id} shows {shown} of {sku} at {location_id}; we last knew {last_known} and the ledger wants "
        f"{target}; nothing explained the change within the grace period"
    )
    if policy == "channel":
        on_hand = store.position(sku, location_id).on_hand
        counted = max(0, on_hand + shown - target)
        store.apply(
            StockMovement(
                idempotency_key=f"{key}:count",
                source=channel.id,
                kind=MovementKind.COUNT,
                sku=sku,
                location_id=location_id,
                quantity=counted,
                occurred_at=now,
                reference=f"drift:{channel.id}",
            ),
            allow_shortfall=True,
        )
        decision = DriftDecision(position, policy, shown, last_known, target, None, None)
        store.add_incident(
            Incident(
                "drift",
                "channel_wins",
                f"{story}: the channel wins, counted {counted} on hand",
                key,
                channel.id,
                sku,
                location_id,
                data={**facts, "counted_on_hand": counted},
            )
        )
        return decision
    if policy == "alert":
        store.add_incident(
            Incident(
                "drift",
                "alert",
                f"{story}: left as it is for a person to decide",
                key,
                channel.id,
                sku,
                location_id,
                data=facts,
            )
        )
        return DriftDecision(position, policy, shown, last_known, target, None, since)
    store.add_incident(
        Incident(
            "drift",
            "ledger_wins",
            f"{story}: the ledger wins, wrote {target}",
            key,
            channel.id,
            sku,
            location_id,
            data=facts,
        )
    )
    return DriftDecision(position, policy, shown, last_known, target, target, None)
