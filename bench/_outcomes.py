"""What the engine's writes became and what the vendors served during one propagation run.

The push outbox records every stock write with its outcome (``omnibridge.store.propagation``); the rows created
during a run (id above the highest before it) are counted per channel and outcome. The emulators count the
requests they served (Shopify per GraphQL root field and refusal, Square and Clover per route and refusal, Amazon
per operation and refusal) and Shopify the cost points it charged per operation; the run's figures are the
differences of two snapshots. ``forgotten`` is how many positions the engine does not trust at the end of the run
(``channel_levels`` source ``unknown``: a write raced with the channel's own events, or its outcome is unknown).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from omnibridge.demo.world import AMAZON, CLOVER, POS, WEB, DemoWorld
from omnibridge.store import Store
from omnibridge.store.propagation import UNKNOWN_SOURCE
from omnibridge.store.tables import CHANNEL_LEVELS, OUTBOX

OUTCOMES = ("applied", "unchanged", "stale", "failed", "unknown", "pending", "other")
"""The columns of a channel's writes: the outbox statuses that say most, ``pending`` (still being sent when the
run's figures were taken) and ``other`` (``unknown_sku``, ``abandoned``)."""


@dataclass(frozen=True)
class VendorCounts:
    """What the emulators served so far: ``operations`` per channel (request kind -> count, refusals included),
    ``requests`` per channel, and the Shopify cost points charged per operation (``shopify_cost``)."""

    operations: dict[str, dict[str, int]]
    requests: dict[str, int]
    shopify_cost: dict[str, int]

    def since(self, before: VendorCounts) -> VendorCounts:
        """The counts served between ``before`` and this snapshot (request kinds that did not move left out)."""
        operations = {
            channel: _moved(kinds, before.operations.get(channel, {})) for channel, kinds in self.operations.items()
        }
        requests = {channel: n - before.requests.get(channel, 0) for channel, n in self.requests.items()}
        return VendorCounts(operations, requests, _moved(self.shopify_cost, before.shopify_cost))


def _moved(after: Mapping[str, int], before: Mapping[str, int]) -> dict[str, int]:
    return {kind: n - before.get(kind, 0) for kind, n in sorted(after.items()) if n != before.get(kind, 0)}


def _copy(counter: Mapping[str, int]) -> dict[str, int]:
    """A copy of an emulator's counter, which the event loop may grow while the watchdog's thread reads it."""
    for _ in range(10):
        try:
            return {str(kind): int(n) for kind, n in list(counter.items())}
        except RuntimeError:  # changed size during iteration
            continue
    return {}


def vendor_counts(world: DemoWorld) -> VendorCounts:
    """The emulators' request counters now. Shopify's connector sends one root field per request, so its per-field
    counts (refusals counted apart: ``throttled``, ``invalid``...) add up to its requests."""
    operations = {WEB: _copy(world.shopify.calls), POS: _copy(world.square.calls)}
    requests = {WEB: sum(operations[WEB].values()), POS: sum(operations[POS].values())}
    if world.settings.every_vendor:
        amazon, clover = world.vendors.amazon, world.vendors.clover
        operations[AMAZON] = {**_copy(amazon.calls), "refused": int(amazon.refused)}
        operations[CLOVER] = _copy(clover.calls)
        requests[AMAZON] = int(amazon.api_requests)
        requests[CLOVER] = int(clover.api_requests)
    return VendorCounts(operations, requests, _copy(world.shopify.cost_charged))


def outbox_mark(store: Store) -> int:
    """The highest push_outbox id so far (0 when empty): rows above it were created after this call."""
    with store.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.coalesce(sa.func.max(OUTBOX.c.id), 0))).scalar_one())


def writes_since(store: Store, mark: int) -> dict[str, dict[str, int]]:
    """Per channel, the writes recorded after ``mark`` (:func:`outbox_mark`) by outcome (:func:`tally`)."""
    query = (
        sa.select(OUTBOX.c.channel, OUTBOX.c.status, sa.func.count())
        .where(OUTBOX.c.id > mark)
        .group_by(OUTBOX.c.channel, OUTBOX.c.status)
    )
    with store.engine.connect() as connection:
        return tally((channel, status, count) for channel, status, count in connection.execute(query))


def tally(rows: Iterable[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    """``(channel, status, count)`` rows as ``channel -> {outcome: count}`` over :data:`OUTCOMES` (every one
    present, 0 when none) plus ``total``; statuses not in :data:`OUTCOMES` count as ``other``."""
    writes: dict[str, dict[str, int]] = {}
    for channel, status, count in rows:
        outcomes = writes.setdefault(channel, dict.fromkeys((*OUTCOMES, "total"), 0))
        outcomes[status if status in OUTCOMES else "other"] += count
        outcomes["total"] += count
    return dict(sorted(writes.items()))


def forgotten(store: Store) -> dict[str, int]:
    """Per channel, the positions whose level is not trusted until a read (source ``unknown``)."""
    query = (
        sa.select(CHANNEL_LEVELS.c.channel, sa.func.count())
        .where(CHANNEL_LEVELS.c.source == UNKNOWN_SOURCE)
        .group_by(CHANNEL_LEVELS.c.channel)
    )
    with store.engine.connect() as connection:
        return {channel: int(count) for channel, count in connection.execute(query)}


def outcomes_table(runs: Sequence[Mapping[str, Any]]) -> str:
    """The writes, requests and forgotten positions of every run with figures, one row per rate and channel."""
    columns = ("rate", "channel", *OUTCOMES, "total", "requests", "forgotten")
    rows: list[tuple[str, ...]] = []
    for run in runs:
        if run.get("error") or "writes" not in run:
            continue
        writes, requests, lost = run["writes"], run["requests"], run.get("forgotten", {})
        for channel in sorted(set(writes) | set(requests)):
            counts = writes.get(channel, {})
            rows.append(
                (
                    f"{run['rate']}/s",
                    channel,
                    *(str(counts.get(key, 0)) for key in (*OUTCOMES, "total")),
                    str(requests.get(channel, "-")),
                    str(lost.get(channel, 0)),
                )
            )
    widths = [max(len(column), *(len(row[i]) for row in rows)) for i, column in enumerate(columns)]
    lines = [
        "  ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True)),
        "  ".join("-" * width for width in widths),
        *("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows),
    ]
    return "\n".join(lines)


def busiest(operations: Mapping[str, int], top: int = 4) -> str:
    """The ``top`` request kinds by count, as ``kind n, kind n``."""
    return ", ".join(f"{kind} {n}" for kind, n in Counter(operations).most_common(top))


def run_accounts(world: DemoWorld, mark: int, before: VendorCounts) -> dict[str, Any]:
    """The run's keys: ``writes`` (outbox rows after ``mark`` by outcome), ``requests`` and ``requests_by_kind``
    (served since ``before``), ``shopify_cost_points`` (in all and ``_by_kind``) and ``forgotten`` (at the end)."""
    served = vendor_counts(world).since(before)
    accounts: dict[str, Any] = {
        "requests": served.requests,
        "requests_by_kind": served.operations,
        "shopify_cost_points": sum(served.shopify_cost.values()),
        "shopify_cost_by_kind": served.shopify_cost,
    }
    try:
        accounts |= {"writes": writes_since(world.store, mark), "forgotten": forgotten(world.store)}
    except sa.exc.SQLAlchemyError as error:  # the watchdog's thread, with the loop still writing
        accounts |= {"writes": {}, "forgotten": {}, "writes_error": f"the outbox could not be read: {error}"}
    return accounts
