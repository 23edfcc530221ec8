"""When and how long to wait before trying a request again.

:class:`RetryPolicy` is configuration: how many attempts, how much total time, the backoff curve and which HTTP
statuses are transient. :func:`build_retrying` turns it into a tenacity ``AsyncRetrying`` that retries only
:class:`RetryRequested` — the HTTP client raises that inside an attempt when, and only when, another attempt is
safe — and waits the vendor's ``Retry-After`` when there is one, exponential backoff with jitter otherwise.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from omnibridge.errors import RetriableConnectorError
from omnibridge.sdk.ratelimit import Clock, Sleeper

__all__ = ["RetryPolicy", "RetryRequested", "build_retrying", "parse_retry_after"]

DEFAULT_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a connector's client retries transient failures.

    At most ``max_attempts`` attempts (1 disables retrying) within ``max_elapsed`` seconds from the first: a wait
    that would end past that budget is not taken and the error is raised instead, carrying the wait as
    ``retry_after`` so a scheduler can try later. Without a ``Retry-After`` the n-th wait is
    ``min(max_backoff, initial_backoff * multiplier ** (n - 1))`` of which a ``jitter`` fraction is randomised
    with ``rng`` (``[0, 1)``, injectable for tests). ``retry_statuses`` are the HTTP statuses treated as
    transient; every other status of 400 or more is permanent.
    """

    max_attempts: int = 5
    max_elapsed: float = 60.0
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.5
    retry_statuses: frozenset[int] = DEFAULT_RETRY_STATUSES
    honour_retry_after: bool = True
    rng: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter must be between 0 and 1, got {self.jitter}")

    @classmethod
    def no_retry(cls) -> RetryPolicy:
        """A policy that makes exactly one attempt."""
        return cls(max_attempts=1)

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based) when the vendor gave no Retry-After."""
        base = min(self.max_backoff, self.initial_backoff * self.multiplier ** (attempt - 1))
        return base * (1.0 - self.jitter) + base * self.jitter * self.rng()


class RetryRequested(Exception):
    """Raised inside an attempt to ask for another one; ``error`` is what to raise when none is left."""

    def __init__(self, error: RetriableConnectorError) -> None:
        super().__init__(str(error))
        self.error = error


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds (``"2"``, ``"2.0"``) or an HTTP-date.

    ``now`` is the current Unix time, used for the HTTP-date form. A date in the past gives 0. An absent or
    unparseable value gives ``None``.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


def build_retrying(
    policy: RetryPolicy,
    *,
    clock: Clock,
    sleep: Sleeper,
    before_sleep: Callable[[RetryCallState], Awaitable[None] | None] | None = None,
) -> AsyncRetrying:
    """A tenacity controller for one logical request, following ``policy``.

    Only :class:`RetryRequested` is retried; anything else propagates at once. When attempts or time run out
    the last :class:`RetryRequested` is re-raised (``reraise=True``) for the caller to unwrap. ``clock`` and
    ``sleep`` are the same injected pair the rate limiter uses, so tests never depend on wall time.
    """
    started = clock()

    def wait(state: RetryCallState) -> float:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, RetryRequested) and policy.honour_retry_after and error.error.retry_after is not None:
            return max(0.0, error.error.retry_after)
        return policy.backoff(state.attempt_number)

    def stop(state: RetryCallState) -> bool:
        if state.attempt_number >= policy.max_attempts:
            return True
        return clock() - started + (state.upcoming_sleep or 0.0) > policy.max_elapsed

    return AsyncRetrying(
        sleep=sleep,
        wait=wait,
        stop=stop,
        retry=retry_if_exception_type(RetryRequested),
        reraise=True,
        before_sleep=before_sleep,
    )
