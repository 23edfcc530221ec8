"""Make a channel show what the ledger says it should, writing only where it differs.

The quantity a channel should show for a SKU at one of its locations — its projection — is the ledger's
``available`` there (never below zero). Buffers and allocation between channels are policy on top of this and
arrive with the availability engine; until then every channel sees the whole of each location's available.

A reconcile reads the channel first, so the compare value of every write is what the channel showed moments
ago: Shopify rejects the write if it changed since (compare-and-set), and Square orders our absolute count
before any sale that happened after that read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from omnibridge.sdk.channel import PushResult, PushStatus, StockTarget
from omnibridge.store import Store
from omnibridge.sync.runtime import ChannelRuntime

Position = tuple[str, str]


@dataclass
class ReconcileReport:
    """The outcome of one reconcile of one channel."""

    channel: str
    checked: int = 0
    differing: int = 0
    results: list[PushResult] = field(default_factory=list)
    not_listed: list[Position] = field(default_factory=list)

    def count(self, status: PushStatus) -> int:
        return sum(1 for result in self.results if result.status is status)

    @property
    def pushed(self) -> int:
        return self.count(PushStatus.APPLIED)


def projection(store: Store, sku: str, location_id: str) -> int:
    """The quantity every channel should show for ``sku`` at ``location_id``."""
    return max(0, store.position(sku, location_id).available)


async def reconcile_channel(store: Store, channel: ChannelRuntime, skus: Iterable[str]) -> ReconcileReport:
    """Read ``skus`` on ``channel`` and push the projection wherever the channel shows something else."""
    report = ReconcileReport(channel.id)
    masters = sorted(set(skus))
    if not masters:
        return report
    channel_skus = channel.channel_skus(masters)
    levels = await channel.connector.read_levels(channel_skus)
    reference = f"reconcile-{uuid.uuid4().hex[:12]}"
    targets: list[StockTarget] = []
    for level in levels:
        location_id = channel.location_id(level.location_ref)
        if location_id is None:
            continue
        sku = channel.master_sku(level.sku)
        report.checked += 1
        wanted = projection(store, sku, location_id)
        if level.available == wanted:
            continue
        targets.append(
            StockTarget(
                sku=level.sku,
                location_ref=level.location_ref,
                quantity=wanted,
                expected=level.available,
                expected_at=level.observed_at,
                reference=reference,
            )
        )
    report.differing = len(targets)
    if targets:
        report.results = await channel.connector.push_levels(targets)
    return report
