"""Drift: a channel shows a quantity the ledger does not explain, and the grace period for its events is over.

Each channel's ``drift`` setting in the profile decides (default ``ledger``):

* ``ledger`` — the ledger wins: the target is written over the channel's number.
* ``channel`` — the channel wins (e.g. the POS is the truth for its own store): the ledger records the change the
  channel made — what it shows minus what it was known to show — as an ADJUSTMENT at that location, dated when
  the change was first seen (``since``), and nothing is written. Being a delta, not a count, it erases no other
  movement: a sale recorded before the decision, or arriving late dated after ``since``, keeps its effect. The
  profile allows ``channel`` only where the availability policy passes the ledger's number through unchanged
  (:mod:`omnibridge.config.drift`), so the channel's units are ledger units and, when the ledger has not moved
  since the channel was last known, available becomes exactly what the channel shows.
* ``alert`` — nothing is written and the ledger is not changed; the incident asks a person to look. The position
  stays unexplained, so the read-back does not decide it again until the channel or the ledger moves.

Every decision is recorded as an incident (kind ``drift``) saying what the channel showed, what we last knew,
what the ledger wanted and what was done; a decision is recorded once per unexplained change (its key is the
channel, position and ``since``; the adjustment's idempotency key is that key plus ``:adjustment``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from omnibridge.models import MovementKind, RecordedMovement, StockMovement
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
        recorded = _record_channel_change(store, channel, position, f"{key}:adjustment", shown - last_known, since)
        adjustment = recorded.movement.quantity if recorded is not None else 0
        seen = recorded is not None and recorded.superseded_by_count
        done = f"on hand adjusted by {adjustment:+d} as of {since.isoformat()}"
        if seen:
            done += ", which a later count had already seen (on hand unchanged)"
        store.add_incident(
            Incident(
                "drift",
                "channel_wins",
                f"{story}: the channel wins, {done}",
                key,
                channel.id,
                sku,
                location_id,
                data={**facts, "adjustment": adjustment, "superseded_by_count": seen},
            )
        )
        return DriftDecision(position, policy, shown, last_known, target, None, None)
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


def _record_channel_change(
    store: Store, channel: ChannelRuntime, position: Position, key: str, change: int, since: datetime
) -> RecordedMovement | None:
    """Record ``change`` as an adjustment under ``key``; the recorded movement (None: a change of 0).

    A decision already recorded under ``key`` (the process stopped before the channel's level was remembered, and
    the channel moved again meanwhile) stands as recorded: the key is never reused for another quantity.
    """
    earlier = store.find_movement(key)
    if earlier is not None:
        return earlier
    if change == 0:
        return None
    sku, location_id = position
    result = store.apply(
        StockMovement(
            idempotency_key=key,
            source=channel.id,
            kind=MovementKind.ADJUSTMENT,
            sku=sku,
            location_id=location_id,
            quantity=change,
            occurred_at=since,
            reference=f"drift:{channel.id}",
            note="the channel won a drift decision: the change it made, as of when it was first seen",
        ),
        allow_shortfall=True,
    )
    return result.recorded
