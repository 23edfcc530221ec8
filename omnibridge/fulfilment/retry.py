"""When a fulfilment task that failed retriably is tried again."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class TaskRetry:
    """Exponential backoff with jitter, capped: try ``n`` (1 = the first retry) waits
    ``min(cap, base * 2**(n-1))`` scaled by a random factor in ``[1 - jitter, 1]``, and never less than the vendor's
    ``retry_after``. After ``max_attempts`` failed tries the task is given up (``failed``, with an incident)."""

    base_seconds: float = 5.0
    cap_seconds: float = 900.0
    jitter: float = 0.25
    max_attempts: int = 12
    random: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def exhausted(self, attempts: int) -> bool:
        """Whether ``attempts`` failed tries are the last allowed."""
        return attempts >= self.max_attempts

    def delay(self, attempts: int, retry_after: float | None = None) -> timedelta:
        """How long to wait after the ``attempts``-th failed try."""
        backoff = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        backoff *= 1 - self.jitter * self.random.random()
        if retry_after is not None:
            backoff = max(backoff, min(retry_after, self.cap_seconds))
        return timedelta(seconds=backoff)
