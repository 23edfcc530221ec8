"""Client-side rate limiting, fed by what the vendor says about its own limits.

A limiter is a bucket with a ``capacity``, a ``refill_rate`` per second and an ``available`` level. The HTTP
client holds each request's cost with ``async with limiter.hold(cost):`` around the send: entering waits (with the
injected ``sleep``) until the bucket can pay, and the request counts as *in flight* until its answer (or failure)
arrives, when it is charged at the answer's time. The vendor counts a request when it arrives, somewhere between
our send and its answer, so counting it over that whole span means no ordering of arrivals can exceed the vendor's
limit, whatever the latencies: no connector needs a safety margin (a lower rate or burst) on top of the vendor's
documented limit. After each response the client calls :meth:`Bucket.observe`, which runs the bucket's
*observers* — pure functions ``(response) -> RateLimitObservation | None`` that read the vendor's rate limit
headers or body — and corrects the bucket to what the server reported. A 429 empties the bucket. ``acquire``
alone charges at send time (for callers that do not wrap a request).

Two flavours, same mechanics: :class:`TokenBucket` (``rate`` requests/s, ``burst``) and :class:`CostBucket`
(Shopify's calculated-cost leaky bucket: ``maximum_available``, ``restore_rate``, cost per request).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

__all__ = [
    "Bucket",
    "Clock",
    "ConcurrencyLimit",
    "CostBucket",
    "InFlightLimiter",
    "LimiterResolver",
    "RateLimitObservation",
    "RateLimitObserver",
    "RateLimiter",
    "Sleeper",
    "SlidingWindow",
    "TokenBucket",
    "amazon_rate_limit_header",
    "ratelimit_remaining_headers",
    "shopify_graphql_throttle_status",
    "shopify_rest_call_limit",
]

_EPSILON = 1e-9

Clock = Callable[[], float]
"""Monotonic seconds."""
Sleeper = Callable[[float], Awaitable[None]]
"""Waits the given number of seconds."""


@dataclass(frozen=True, slots=True)
class RateLimitObservation:
    """What one response told us about the vendor's bucket; ``None`` fields are unknown and left unchanged."""

    capacity: float | None = None
    available: float | None = None
    refill_rate: float | None = None


RateLimitObserver = Callable[[httpx.Response], RateLimitObservation | None]


class RateLimiter(Protocol):
    """What :class:`~omnibridge.sdk.http.ConnectorHttpClient` needs from a limiter."""

    async def acquire(self, cost: float = 1.0) -> None:
        """Return once a request of ``cost`` may be sent, having taken ``cost`` from the budget."""
        ...

    def observe(self, response: httpx.Response) -> None:
        """Correct the budget from a response the vendor sent (headers, body, status)."""
        ...


class LimiterResolver(Protocol):
    """Chooses the limiter a request really uses (set as :attr:`ConnectorHttpClient.budgets
    <omnibridge.sdk.http.ConnectorHttpClient.budgets>`): budgets shared by several processes replace the
    connector's own limiters there, without the connector knowing."""

    def limiter_for(self, limiter: RateLimiter, op: str) -> RateLimiter:
        """The limiter to use instead of ``limiter`` for a request of operation ``op``."""
        ...


class InFlightLimiter(RateLimiter, Protocol):
    """A limiter that counts a request from its send until its answer (what the HTTP client prefers)."""

    def hold(self, cost: float = 1.0) -> AbstractAsyncContextManager[None]:
        """Wait until a request of ``cost`` may be sent; count it in flight until the block exits."""
        ...


class _Releases:
    """Lets waiters sleep until some in-flight request is answered."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    async def wait(self) -> None:
        if self._event is None:
            self._event = asyncio.Event()
        await self._event.wait()

    def notify(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None


class Bucket:
    """A refilling bucket shared by every request of one connector (or one endpoint, if the caller wants).

    ``acquire(cost)`` waits until ``available >= min(cost, capacity)`` and then subtracts ``cost``; a cost larger
    than the capacity is let through once the bucket is full and leaves it in debt. Waiters are served in
    order. :meth:`hold` does the same but keeps the cost *in flight* (reserved, not yet refilling) until the block
    exits, then charges it at that moment: the vendor's bucket sees the request somewhere in between, so the
    vendor's level is never below ours. ``clock`` is monotonic seconds and ``sleep`` an awaitable sleeper; both are
    injectable for tests.
    """

    def __init__(
        self,
        *,
        capacity: float,
        refill_rate: float,
        available: float | None = None,
        observers: Sequence[RateLimitObserver] = (),
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
    ) -> None:
        if capacity <= 0 or refill_rate <= 0:
            raise ValueError(f"capacity and refill rate must be positive, got {capacity} and {refill_rate}")
        self.capacity = float(capacity)
        self.refill_rate = float(refill_rate)
        self.available = self.capacity if available is None else min(float(available), self.capacity)
        self.observers = tuple(observers)
        self._clock = clock
        self._sleep = sleep
        self._updated_at = clock()
        self._lock = asyncio.Lock()
        self._releases = _Releases()
        self.in_flight = 0.0
        """Cost of the requests sent and not yet answered (see :meth:`hold`)."""
        self.waits = 0
        """How many ``acquire`` calls had to wait (an operations figure: requests paced by the limit)."""
        self.waited_seconds = 0.0
        """Total time ``acquire`` calls spent waiting for the bucket."""

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated_at)
        self._updated_at = now
        self.available = min(self.capacity, self.available + elapsed * self.refill_rate)

    def wait_time(self, cost: float = 1.0) -> float:
        """Seconds of refill until a request of ``cost`` could be paid for, as of now (answers of in-flight
        requests may be needed too, see :meth:`hold`)."""
        self._refill()
        missing = min(cost, self.capacity) + self.in_flight - self.available
        # no tolerance: a request sent a rounding error before the vendor's refill is refused (Amazon compares exactly)
        return 0.0 if missing <= 0 else max(missing / self.refill_rate, _EPSILON)

    async def _wait_to_pay(self, cost: float) -> None:
        if cost < 0:
            raise ValueError(f"cost must not be negative, got {cost}")
        waited = False
        while (wait := self.wait_time(cost)) > 0:
            waited = True
            if self.in_flight > _EPSILON and min(cost, self.capacity) + self.in_flight > self.capacity + _EPSILON:
                # refill alone cannot make room: the bucket is full but for requests still in flight
                await self._releases.wait()
                continue
            self.waited_seconds += wait
            await self._sleep(wait)
        self.waits += waited

    async def acquire(self, cost: float = 1.0) -> None:
        """Wait until the bucket can pay ``cost``, then take it (charged now, at send)."""
        async with self._lock:
            await self._wait_to_pay(cost)
            self.available -= cost

    @asynccontextmanager
    async def hold(self, cost: float = 1.0) -> AsyncIterator[None]:
        """Wait until the bucket can pay ``cost``; count it in flight while the block runs, then charge it at exit.

        Wrap exactly the send and the wait for its answer (or failure); observe the response after the block, so
        a level the vendor reports replaces the one that already includes this request.
        """
        async with self._lock:
            await self._wait_to_pay(cost)
            self.in_flight += cost
        try:
            yield
        finally:
            self._refill()
            self.in_flight = max(0.0, self.in_flight - cost)
            self.available -= cost
            self._releases.notify()

    async def wait_for_spare(self, cost: float, spare: float) -> None:
        """Wait, without queueing ahead of anyone, until the bucket could pay ``cost`` and still keep ``spare``.

        For background requests (fetching what a notification names) that must not starve urgent ones (stock
        writes): they only go when the bucket has room to spare, then ``acquire`` as usual.
        """
        while (wait := self.wait_time(min(cost + spare, self.capacity))) > 0:
            self.waited_seconds += wait
            await self._sleep(wait)

    def apply(self, observation: RateLimitObservation) -> None:
        """Adopt what the server reported; unknown fields keep their current value."""
        self._refill()
        if observation.capacity is not None and observation.capacity > 0:
            self.capacity = observation.capacity
        if observation.refill_rate is not None and observation.refill_rate > 0:
            self.refill_rate = observation.refill_rate
        if observation.available is not None:
            self.available = observation.available
        self.available = min(self.available, self.capacity)

    def adopt(self, available: float, in_flight: float, capacity: float, refill_rate: float) -> None:
        """Take a level kept elsewhere as this bucket's own, as of now (a budget shared by several processes,
        :mod:`omnibridge.sync.shared_budgets`, mirrors what the database said here, so :meth:`wait_for_spare`
        and :meth:`wait_time` see every process's requests)."""
        self.capacity, self.refill_rate = capacity, refill_rate
        self.available, self.in_flight = min(available, capacity), in_flight
        self._updated_at = self._clock()

    def observe(self, response: httpx.Response) -> None:
        """Run the observers on ``response``; a 429 also empties the bucket."""
        for observer in self.observers:
            observation = observer(response)
            if observation is not None:
                self.apply(observation)
        if response.status_code == 429:
            self._refill()
            self.available = min(self.available, 0.0)


class TokenBucket(Bucket):
    """``rate`` requests per second with bursts of up to ``burst`` (Amazon SP-API's per-operation model)."""

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        observers: Sequence[RateLimitObserver] = (),
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
    ) -> None:
        super().__init__(capacity=burst, refill_rate=rate, observers=observers, clock=clock, sleep=sleep)


class CostBucket(Bucket):
    """A calculated-cost bucket (Shopify GraphQL): pass each query's expected cost to ``acquire``.

    Feed it :func:`shopify_graphql_throttle_status` so ``currentlyAvailable`` from every response replaces the
    local estimate, which also refunds the difference between requested and actual cost.
    """

    def __init__(
        self,
        maximum_available: float,
        restore_rate: float,
        *,
        currently_available: float | None = None,
        observers: Sequence[RateLimitObserver] = (),
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
    ) -> None:
        super().__init__(
            capacity=maximum_available,
            refill_rate=restore_rate,
            available=currently_available,
            observers=observers,
            clock=clock,
            sleep=sleep,
        )


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def amazon_rate_limit_header(response: httpx.Response) -> RateLimitObservation | None:
    """Amazon SP-API ``x-amzn-RateLimit-Limit: <requests per second>`` (sent "when available")."""
    rate = _float(response.headers.get("x-amzn-RateLimit-Limit"))
    return RateLimitObservation(refill_rate=rate) if rate else None


def shopify_rest_call_limit(response: httpx.Response) -> RateLimitObservation | None:
    """Shopify REST ``X-Shopify-Shop-Api-Call-Limit: <used>/<bucket size>``."""
    used, _, size = response.headers.get("X-Shopify-Shop-Api-Call-Limit", "").partition("/")
    used_f, size_f = _float(used), _float(size)
    if used_f is None or size_f is None:
        return None
    return RateLimitObservation(capacity=size_f, available=max(0.0, size_f - used_f))


def shopify_graphql_throttle_status(response: httpx.Response) -> RateLimitObservation | None:
    """Shopify GraphQL ``extensions.cost.throttleStatus`` in the JSON body (also on a THROTTLED 200)."""
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        status = json.loads(response.content)["extensions"]["cost"]["throttleStatus"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(status, dict):
        return None
    return RateLimitObservation(
        capacity=_float(status.get("maximumAvailable")),
        available=_float(status.get("currentlyAvailable")),
        refill_rate=_float(status.get("restoreRate")),
    )


def ratelimit_remaining_headers(response: httpx.Response) -> RateLimitObservation | None:
    """The common ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining`` pair (Clover, Lightspeed X-Series, ...)."""
    limit = _float(response.headers.get("X-RateLimit-Limit"))
    remaining = _float(response.headers.get("X-RateLimit-Remaining"))
    if limit is None and remaining is None:
        return None
    return RateLimitObservation(capacity=limit, available=remaining)


class SlidingWindow:
    """At most ``limit`` requests in any ``window`` seconds (ShipBob: 150 per 60 s, per user and application,
    across every endpoint).

    ``acquire`` waits until the oldest request in the window ages out. ``observe`` corrects the local count from
    the vendor: ``remaining_header`` (ShipBob ``x-remaining-calls``) lower than the local estimate means requests
    this client did not send (another process with the same token) and they are counted as sent now; a 429 blocks
    every request for ``retry_after_header`` seconds (ShipBob ``x-retry-after``; the whole window when absent).
    ``clock`` (monotonic seconds) and ``sleep`` are injectable for tests. :meth:`hold` counts a request from its
    send until ``window`` seconds after its answer (the vendor counts it at arrival, somewhere in between).
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        remaining_header: str | None = None,
        retry_after_header: str | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"limit and window must be positive, got {limit} and {window}")
        self.limit = limit
        self.window = float(window)
        self.remaining_header = remaining_header
        self.retry_after_header = retry_after_header
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._blocked_until = 0.0
        self._lock = asyncio.Lock()
        self._releases = _Releases()
        self.in_flight = 0
        """Requests sent and not yet answered (see :meth:`hold`)."""
        self.waits = 0
        """How many ``acquire`` calls had to wait."""
        self.waited_seconds = 0.0

    def _expire(self, now: float) -> None:
        while self._sent and self._sent[0] + self.window <= now:
            self._sent.popleft()

    def in_window(self) -> int:
        """Requests counted in the current window (in flight included)."""
        self._expire(self._clock())
        return len(self._sent) + self.in_flight

    def wait_time(self, cost: float = 1.0) -> float:
        """Seconds until a request of ``cost`` may go, as of now (answers of in-flight requests may be needed
        too, see :meth:`hold`)."""
        now = self._clock()
        self._expire(now)
        wait = max(0.0, self._blocked_until - now)
        over = len(self._sent) + self.in_flight + max(1, round(cost)) - self.limit
        if over > 0 and self._sent:
            wait = max(wait, self._sent[min(over, len(self._sent)) - 1] + self.window - now)
        return wait

    async def _wait_for_room(self, cost: float) -> int:
        count = max(1, round(cost))
        waited = False
        while True:
            now = self._clock()
            self._expire(now)
            over = len(self._sent) + self.in_flight + count - self.limit
            if over <= 0 and self._blocked_until <= now:
                break
            waited = True
            if over > len(self._sent) and self.in_flight > 0:
                # even once every answered request ages out there is no room: wait for an answer
                await self._releases.wait()
                continue
            wait = max(0.0, self._blocked_until - now)
            if over > 0 and self._sent:
                wait = max(wait, self._sent[min(over, len(self._sent)) - 1] + self.window - now)
            if wait <= 0:
                break  # a single request of more than ``limit`` goes once the window is empty
            self.waited_seconds += wait
            await self._sleep(wait)
        self.waits += waited
        return count

    async def acquire(self, cost: float = 1.0) -> None:
        """Wait until the window has room for ``cost`` requests, then count them as sent now."""
        async with self._lock:
            count = await self._wait_for_room(cost)
            now = self._clock()
            self._sent.extend([now] * count)

    @asynccontextmanager
    async def hold(self, cost: float = 1.0) -> AsyncIterator[None]:
        """Wait for room; count the request in flight while the block runs, then as sent at the block's exit."""
        async with self._lock:
            count = await self._wait_for_room(cost)
            self.in_flight += count
        try:
            yield
        finally:
            self.in_flight = max(0, self.in_flight - count)
            self._sent.extend([self._clock()] * count)
            self._releases.notify()

    def observe(self, response: httpx.Response) -> None:
        """Adopt the vendor's remaining count, or a 429's wait.

        Requests the vendor counted but this client did not send are placed at the oldest request this client
        has in the window (or now): they age out no later than that one did, which errs on the safe side.
        """
        now = self._clock()
        self._expire(now)
        if response.status_code == 429:
            hint = _float(response.headers.get(self.retry_after_header)) if self.retry_after_header else None
            self._blocked_until = max(self._blocked_until, now + (hint if hint is not None else self.window))
            return
        remaining = _float(response.headers.get(self.remaining_header)) if self.remaining_header else None
        if remaining is not None:
            unseen = (self.limit - len(self._sent) - self.in_flight) - int(max(0.0, remaining))
            if unseen > 0:
                at = self._sent[0] if self._sent else now
                for _ in range(min(unseen, self.limit)):
                    self._sent.appendleft(at)


class ConcurrencyLimit:
    """At most ``limit`` requests in flight at once, a vendor's limit (Clover: 5 per token): wrap each request in
    ``async with limit.slot():``.

    Per process by itself; :func:`omnibridge.sync.shared_budgets.share_budgets` sets :attr:`shared` so the slots
    are also counted across every process on the store (the local cap still applies first).
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.limit = limit
        self._semaphore = asyncio.Semaphore(limit)
        self.shared: Callable[[], AbstractAsyncContextManager[None]] | None = None
        """When set, each slot is also held in what it returns (a budget shared by several processes)."""

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the block."""
        async with self._semaphore:
            if self.shared is None:
                yield
                return
            async with self.shared():
                yield
