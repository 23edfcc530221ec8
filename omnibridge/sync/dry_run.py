"""``sync --once --dry-run``: every write a pass would make, computed from reads only.

The dry run reads each sales channel's locations and levels (vendor reads only: no request that changes anything
at a vendor) and plans against the ledger as it is now, the way :func:`omnibridge.sync.reconcile.reconcile_channel`
does: a never-counted position is skipped, a first sight or a level the channel is known to show gets its target,
a change the channel made by itself is listed as unexplained (its drift policy decides it in a real pass: the
``ledger`` policy writes the target, ``channel`` and ``alert`` write nothing). It writes nothing to the local store
either: it does not pull (orders and stock changes waiting on channels and ERP/WMS files are not imported, so a
real pass, which pulls first, may plan from a ledger those events have moved), records no outbox entry, no level
and no incident. Each write carries the availability rule behind its target (the text of ``omnibridge explain``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omnibridge.policy import AvailabilityPlanner
from omnibridge.store import Store
from omnibridge.sync.engine import SyncEngine
from omnibridge.sync.listed import unlisted
from omnibridge.sync.reconcile import Position, available_by_location
from omnibridge.sync.runtime import ChannelRuntime


@dataclass(frozen=True)
class WouldWrite:
    """One write a pass would make: ``channel`` would be told to show ``target`` instead of ``shown``."""

    channel: str
    sku: str
    location_id: str
    shown: int
    target: int
    rule: str
    why: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "sku": self.sku,
            "location_id": self.location_id,
            "shown": self.shown,
            "target": self.target,
            "rule": self.rule,
            "why": self.why,
        }


@dataclass
class DryRunChannel:
    """What a pass would do on one channel."""

    channel: str
    checked: int = 0
    writes: list[WouldWrite] = field(default_factory=list)
    never_counted: list[Position] = field(default_factory=list)
    unexplained: list[WouldWrite] = field(default_factory=list)
    """Positions the channel changed by itself: its drift policy decides them (``rule`` says which)."""
    not_listed: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "levels_checked": self.checked,
            "writes": [write.as_dict() for write in self.writes],
            "never_counted": [{"sku": sku, "location_id": loc} for sku, loc in self.never_counted],
            "unexplained": [write.as_dict() for write in self.unexplained],
            "not_listed": list(self.not_listed),
            "error": self.error,
        }


async def dry_run(engine: SyncEngine) -> list[DryRunChannel]:
    """What :meth:`SyncEngine.sync_once` would write on every sales channel, from reads only (see the module)."""
    failures = await engine.resolve_locations()
    reports: list[DryRunChannel] = []
    skus = [variant.sku for variant in engine.store.list_variants() if variant.tracked]
    for channel in engine.channels.values():
        if channel.stock_source:
            continue
        report = DryRunChannel(channel.id, error=failures.get(channel.id))
        reports.append(report)
        if report.error is None:
            try:
                await _plan_channel(engine.store, channel, skus, engine.planner, report)
            except Exception as exc:  # one channel failing never stops the others
                report.error = f"read failed: {exc}"
    return reports


async def _plan_channel(
    store: Store, channel: ChannelRuntime, skus: list[str], planner: AvailabilityPlanner, report: DryRunChannel
) -> None:
    if not skus:
        return
    levels = await channel.connector.read_levels(channel.channel_skus(skus))
    report.not_listed = unlisted(channel, skus, levels)
    counted = store.known_positions(skus)
    known = store.known_levels(channel.id, skus)
    rules: dict[str, dict[tuple[str, str], tuple[int, str, str]]] = {}
    for level in levels:
        location_id = channel.location_id(level.location_ref)
        if location_id is None:
            continue
        sku = channel.master_sku(level.sku)
        report.checked += 1
        if (sku, location_id) not in counted:
            report.never_counted.append((sku, location_id))
            continue
        if sku not in rules:
            allocations = planner.explain(sku, available_by_location(store, sku))
            rules[sku] = {(a.channel, a.location_id): (a.quantity, a.rule, a.explanation) for a in allocations}
        target, rule, why = rules[sku].get((channel.id, location_id), (0, "not_fed", "the location does not feed it"))
        shown = level.available
        note = known.get((sku, location_id))
        if note is None or not note.certain or shown == note.quantity or (shown == target and shown > note.quantity):
            if target != shown:
                report.writes.append(WouldWrite(channel.id, sku, location_id, shown, target, rule, why))
            continue
        policy = channel.channel.drift
        because = (
            f"the channel changed by itself (we last knew {note.quantity}); when its grace period ends its drift "
            f"policy '{policy}' decides"
        )
        change = WouldWrite(channel.id, sku, location_id, shown, target, f"drift:{policy}", f"{because}; {why}")
        report.unexplained.append(change)
