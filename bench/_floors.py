"""The propagation floor of a channel: the least p99 latency any engine could reach in the same world.

A sale reaches omnibridge when its vendor's notification arrives (the seller's webhook delay), and a channel shows
it once one write lands (a round trip) and the vendor has processed it (Amazon shows an accepted change some time
later). Where the channel's rate limit cannot carry the changes it must show at the run's rate, changes wait: even
a perfect writer, always writing the item whose change has waited longest and folding every pending change of an
item into one write, comes back to an item only once per cycle ``C`` with ``mu * C = N * (1 - exp(-lam * C / N))``
(``mu`` items written per second, ``N`` items changing, ``lam`` changes per second spread evenly over them): each
write clears one item, and an item has a change pending when the cycle comes back to it with probability
``1 - exp(-lam C / N)``. A change waits up to ``C``; its p99 wait is ``0.99 C``. When ``lam <= mu`` the limit
carries the load and adds nothing. Every figure here is computed from settings, never measured.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


def uniform_p99_ms(bounds_ms: tuple[float, float]) -> float:
    """The 99th percentile of a delay drawn uniformly between ``bounds_ms`` (how the emulators draw theirs)."""
    low, high = bounds_ms
    return low + 0.99 * (high - low)


def cycle_s(changes_per_s: float, items_per_s: float, items: int) -> float:
    """The cycle ``C`` of a writer that cannot keep up (0 when ``changes_per_s <= items_per_s``); see the module."""
    if items <= 0 or changes_per_s <= items_per_s:
        return 0.0

    def excess(c: float) -> float:
        return items * (1 - math.exp(-changes_per_s * c / items)) - items_per_s * c

    low, high = 0.0, items / items_per_s  # excess > 0 just above 0 (lam > mu) and <= 0 at N / mu
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if excess(middle) > 0 else (low, middle)
    return high


@dataclass(frozen=True)
class WritePath:
    """One way to make a channel show a change: ``round_trips`` requests in sequence before the vendor accepts
    it, ``processing_ms`` until the vendor shows it, at most ``items_per_s`` items a second (None: the limit
    does not bind within a run)."""

    name: str
    round_trips: int
    processing_ms: float
    items_per_s: float | None
    limit: str
    """How ``items_per_s`` follows from the vendor's limits, for the formula."""


@dataclass(frozen=True)
class ChannelFloor:
    """A channel's floor at one rate, and the formula that gives it."""

    channel: str
    p99_ms: float
    formula: str


def channel_floor(
    channel: str,
    *,
    notify_p99_ms: Mapping[str, float],
    write_p99_ms: float,
    paths: Sequence[WritePath],
    changes_per_s: float,
    items: int,
) -> ChannelFloor:
    """The floor of ``channel``: the slowest seller's notification (``notify_p99_ms`` by selling channel whose
    sales it must show), plus the fastest write path (round trips, vendor processing, forced queueing).

    ``changes_per_s`` is how many sales a second it must show, over ``items`` distinct items."""
    seller = max(notify_p99_ms, key=lambda s: notify_p99_ms[s])
    notify = notify_p99_ms[seller]
    best: tuple[float, str] | None = None
    for path in paths:
        queue_ms = 0.0
        queue = "no queueing"
        if path.items_per_s is not None:
            queue_ms = 0.99 * cycle_s(changes_per_s, path.items_per_s, items) * 1000
            if queue_ms:
                queue = (
                    f"queue 0.99 x C = {queue_ms:.0f} ms ({changes_per_s:g} changes/s over {items} items > "
                    f"{path.items_per_s:g} items/s: {path.limit})"
                )
            else:
                queue = f"no queueing ({changes_per_s:g} changes/s <= {path.items_per_s:g} items/s: {path.limit})"
        else:
            queue = f"no queueing ({path.limit})"
        total = path.round_trips * write_p99_ms + path.processing_ms + queue_ms
        text = f"{path.round_trips} x write {write_p99_ms:.0f} ms"
        if path.processing_ms:
            text += f" + processing {path.processing_ms:.0f} ms"
        text += f" + {queue} [{path.name}]"
        if best is None or total < best[0]:
            best = (total, text)
    if best is None:
        raise ValueError(f"channel {channel!r} needs at least one write path")
    p99 = notify + best[0]
    formula = f"notify({seller}) {notify:.0f} ms + {best[1]} = {p99:.0f} ms"
    return ChannelFloor(channel, round(p99, 1), formula)
