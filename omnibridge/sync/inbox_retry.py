"""Inbox retries: when a delivery whose fetch failed retriably is tried again, and what waits behind it.

A webhook delivery names something the worker must fetch (an order, a refund); when that fetch fails with a
:class:`~omnibridge.errors.RetriableConnectorError` (429, 5xx, timeout) the entry stays pending, its attempt is
counted and it waits (:class:`InboxRetry`) before the next try. The deliveries of the same channel and stream
that arrived after it wait behind it, so a cancellation is never applied before its order; other streams and
channels go on (:func:`plan`). After :attr:`InboxRetry.max_attempts` failures the entry is dead-lettered with
its reason, and its stream moves on.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from omnibridge.store import InboxEntry

__all__ = ["DEFAULT_INBOX_RETRY", "InboxPlan", "InboxRetry", "plan"]


@dataclass(frozen=True, slots=True)
class InboxRetry:
    """How often, and how long apart, an inbox entry whose fetch failed retriably is tried.

    After failed attempt number ``n`` (1-based) the entry waits ``min(max_delay, first_delay * 2 ** (n - 1))``
    seconds, or the vendor's ``retry_after`` when that is longer (never sooner than the vendor asked). The
    ``max_attempts``-th failure is not retried: the entry is dead-lettered.
    """

    max_attempts: int = 8
    first_delay: float = 10.0
    max_delay: float = 3600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.first_delay < 0 or self.max_delay < self.first_delay:
            raise ValueError(f"need 0 <= first_delay <= max_delay, got {self.first_delay} and {self.max_delay}")

    def exhausted(self, attempts: int) -> bool:
        """True when an entry that has failed ``attempts`` times must not be tried again."""
        return attempts >= self.max_attempts

    def delay(self, attempts: int, retry_after: float | None = None) -> timedelta:
        """How long to wait after failed attempt number ``attempts`` (1-based)."""
        backoff = min(self.max_delay, self.first_delay * 2 ** max(0, attempts - 1))
        return timedelta(seconds=max(backoff, retry_after or 0.0))


DEFAULT_INBOX_RETRY = InboxRetry()


@dataclass
class InboxPlan:
    """One channel's pending entries sorted for a worker pass (each list in arrival order)."""

    due: list[InboxEntry] = field(default_factory=list)
    """To fetch and apply now: the entries of each stream before the first one that waits for its retry."""
    waiting: list[InboxEntry] = field(default_factory=list)
    """Entries waiting for their retry (not fetched before their ``next_attempt_at``)."""
    held: list[InboxEntry] = field(default_factory=list)
    """Entries due now but behind a waiting entry of their stream: they wait for it."""


def plan(entries: Iterable[InboxEntry], now: datetime, stream: Callable[[InboxEntry], Hashable]) -> InboxPlan:
    """Sort pending ``entries`` (in arrival order) into due, waiting and held at ``now``: an entry waiting for
    its retry holds back every later entry with the same ``stream`` key."""
    result = InboxPlan()
    stopped: set[Hashable] = set()
    for entry in entries:
        key = stream(entry)
        if entry.waiting(now):
            result.waiting.append(entry)
            stopped.add(key)
        elif key in stopped:
            result.held.append(entry)
        else:
            result.due.append(entry)
    return result
