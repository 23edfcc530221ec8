"""Vendor rate limits shared by every daemon on one PostgreSQL: N replicas together never exceed a channel's limit.

:func:`share_budgets` is the switch. Off by default (one daemon: each connector's own limiters are exact); on, it
sets every HTTP client of every given connector to draw from budgets kept in the store
(:mod:`omnibridge.store.budgets`), one per (channel, limiter):

* :class:`~omnibridge.sdk.Bucket` (``TokenBucket``, ``CostBucket``) becomes a :class:`SharedBucket` with the same
  capacity, refill rate, level and observers; the connector's own bucket mirrors the shared level after every
  database answer, so what a connector asks its bucket directly (Shopify's ``wait_for_spare``) sees every
  process's requests.
* :class:`~omnibridge.sdk.SlidingWindow` (``limit`` per ``window``) becomes a shared bucket of ``limit / 2``
  refilling ``limit / (2 * window)`` per second: in any window it admits at most ``limit`` requests, whatever the
  order of arrivals (a bucket admits at most its capacity plus a window's refill).
* :class:`~omnibridge.sdk.ConcurrencyLimit` (Clover's 5 requests in flight per token) also holds each slot in a
  shared budget of ``limit`` whose refill is instant: at most ``limit`` in flight across every process.
* Any other limiter stays per process (logged once).

Budget names are stable across processes: the limiter's ``budget_name`` attribute if it has one, else the
attribute path where the connector keeps it (``bucket``, ``client.limiter``), else ``op:<operation>`` for
limiters a connector makes per request (Amazon's per-operation buckets are named after their operation).

Turned on by ``enabled=True`` (the replica mode passes it) or, when ``enabled`` is not given, by the environment
variable ``OMNIBRIDGE_SHARED_BUDGETS=1``; :func:`omnibridge.sync.runtime.build_channels` calls it for every
channel it builds with a store.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx

from omnibridge.errors import RetriableConnectorError, StoreError
from omnibridge.logs import get_logger
from omnibridge.sdk.http import ConnectorHttpClient
from omnibridge.sdk.ratelimit import (
    Bucket,
    ConcurrencyLimit,
    RateLimiter,
    RateLimitObserver,
    Sleeper,
    SlidingWindow,
)
from omnibridge.store.budgets import BudgetLevel, BudgetTable

if TYPE_CHECKING:
    from omnibridge.store.store import Store

__all__ = ["DEFAULT_LEASE_SECONDS", "SHARED_BUDGETS_ENV", "SharedBucket", "SharedBudgets", "share_budgets"]

SHARED_BUDGETS_ENV = "OMNIBRIDGE_SHARED_BUDGETS"
DEFAULT_LEASE_SECONDS = 60.0
"""How long a request may stay in flight before its cost is charged as answered (a process that died mid-request
never releases it). Longer than any request's timeout."""
_ANSWER_POLL = 0.01
"""How soon a waiter asks again while the budget is full of requests in flight (an answer frees it); doubled at
each refusal up to :data:`_ANSWER_POLL_MAX`, so waiters do not load the database while the slots stay taken."""
_ANSWER_POLL_MAX = 0.1
_MARGIN = 0.0005
_INSTANT = 1e6
"""Refill rate of a budget that only counts requests in flight (a concurrency limit)."""


class SharedBucket:
    """A :class:`~omnibridge.sdk.InFlightLimiter` whose bucket is a row of ``vendor_budgets`` (see the module
    docstring of :mod:`omnibridge.store.budgets` for the arithmetic, which is :class:`~omnibridge.sdk.Bucket`'s).

    ``hold(cost)`` takes ``cost`` in one statement (granted at once, or reserved behind the requests of every
    process and waited for outside the database), and when the block exits settles the lease together with what
    :meth:`observe` reads from the answer, in one statement run in the background. A failed request settles at
    once. ``available``, ``in_flight`` and ``capacity`` are the level the database last reported.
    """

    def __init__(
        self,
        table: BudgetTable,
        channel: str,
        name: str,
        *,
        capacity: float,
        refill_rate: float,
        available: float | None = None,
        observers: tuple[RateLimitObserver, ...] = (),
        mirror: Bucket | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        sleep: Sleeper = asyncio.sleep,
    ) -> None:
        self.table, self.channel, self.name = table, channel, name
        self.capacity, self.refill_rate = float(capacity), float(refill_rate)
        self.available = self.capacity if available is None else min(float(available), self.capacity)
        self.in_flight = 0.0
        self.observers = observers
        self.lease_seconds = lease_seconds
        self.waits = 0
        """How many takes had to wait."""
        self.waited_seconds = 0.0
        self._mirror_to = mirror
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._ensured = False
        self._unobserved: dict[str, None] = {}  # leases answered, awaiting their observe (newest last)
        self._tasks: set[asyncio.Task[None]] = set()
        self._log = get_logger("omnibridge.budgets").bind(channel=channel, budget=name)

    def _mirror(self, budget: BudgetLevel) -> None:
        self.available, self.in_flight = budget.level, budget.in_flight
        self.capacity, self.refill_rate = budget.capacity, budget.refill_rate
        if self._mirror_to is not None:
            self._mirror_to.adopt(budget.level, budget.in_flight, budget.capacity, budget.refill_rate)

    async def _take(self, cost: float, lease: bool) -> str | None:
        if cost < 0:
            raise ValueError(f"cost must not be negative, got {cost}")
        async with self._lock:  # this process's takes in order; the database queues every process's
            waited = False
            poll = _ANSWER_POLL
            while True:
                lease_id = str(uuid.uuid4()) if lease else None
                try:
                    if not self._ensured:
                        await self.table.ensure(
                            self.channel,
                            self.name,
                            capacity=self.capacity,
                            refill_rate=self.refill_rate,
                            available=self.available,
                        )
                        self._ensured = True
                    grant = await self.table.take(
                        self.channel, self.name, cost, lease=lease_id, lease_seconds=self.lease_seconds
                    )
                except StoreError as exc:
                    raise RetriableConnectorError(str(exc), connector=self.channel, op=self.name) from None
                if grant is None:  # the row was removed under us: create it again
                    self._ensured = False
                    continue
                self._mirror(grant.budget)
                if grant.granted:
                    break
                waited = True  # full of requests in flight: ask again once an answer may have come
                self.waited_seconds += poll
                await self._sleep(poll)
                poll = min(poll * 2, _ANSWER_POLL_MAX)
        if grant.wait > 0:  # reserved: wait for the refill it was granted against, outside the lock
            waited = True
            self.waited_seconds += grant.wait
            try:
                await self._sleep(grant.wait + _MARGIN)
            except BaseException:
                if lease_id is not None:  # cancelled before sending: give the reservation back
                    self._spawn(lease_id, {}, throttled=False)
                raise
        self.waits += waited
        return lease_id

    async def acquire(self, cost: float = 1.0) -> None:
        """Wait until the shared bucket can pay ``cost``, then take it (charged now, at send)."""
        await self._take(cost, lease=False)

    @asynccontextmanager
    async def hold(self, cost: float = 1.0, *, settle_at_exit: bool = False) -> AsyncIterator[None]:
        """Wait until the shared bucket can pay ``cost``; count it in flight (under a lease) while the block runs.

        The lease is settled by the :meth:`observe` that follows the block (the HTTP client observes every answer
        right after it), else on the next turn of the event loop; a failure settles it at once. With
        ``settle_at_exit`` (a slot of a concurrency limit: nothing to observe) the block's exit waits for the
        settle, so the next take of the same task finds the slot free.
        """
        lease = await self._take(cost, lease=True)
        assert lease is not None
        answered = False
        try:
            yield
            answered = True
        finally:
            if settle_at_exit:
                await asyncio.shield(self._settle(lease, {}, False))
            elif answered:
                self._unobserved[lease] = None
                asyncio.get_running_loop().call_soon(self._settle_unobserved, lease)
            else:
                self._spawn(lease, {}, throttled=False)

    def _settle_unobserved(self, lease: str) -> None:
        if lease in self._unobserved:
            del self._unobserved[lease]
            self._spawn(lease, {}, throttled=False)

    def observe(self, response: httpx.Response) -> None:
        """Read the vendor's answer with the observers; settle the request just answered together with it (a 429
        empties the bucket for every process)."""
        said: dict[str, float] = {}
        for observer in self.observers:
            observation = observer(response)
            if observation is None:
                continue
            for field in ("capacity", "available", "refill_rate"):
                value = getattr(observation, field)
                if value is not None:
                    said[field] = value
        throttled = response.status_code == 429
        # the HTTP client observes right after the block, with no await between: the newest lease is this answer's
        lease = self._unobserved.popitem()[0] if self._unobserved else None
        if throttled:
            self.available = min(self.available, 0.0)
        if lease is not None or said or throttled:
            self._spawn(lease, said, throttled=throttled)

    def _spawn(self, lease: str | None, said: Mapping[str, float], *, throttled: bool) -> None:
        task = asyncio.get_running_loop().create_task(self._settle(lease, dict(said), throttled))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle(self, lease: str | None, said: dict[str, float], throttled: bool) -> None:
        try:
            budget = await self.table.settle(
                self.channel,
                self.name,
                lease=lease,
                capacity=said.get("capacity"),
                refill_rate=said.get("refill_rate"),
                available=said.get("available"),
                throttled=throttled,
            )
        except StoreError as exc:  # the lease expires on its own; the level is corrected by the next answer
            self._log.warning("budgets.settle_failed", error=str(exc))
            return
        if budget is not None:
            self._mirror(budget)

    def wait_time(self, cost: float = 1.0) -> float:
        """Seconds of refill until ``cost`` could be taken, as the database last reported (in flight counted)."""
        wait = BudgetLevel(self.available, self.in_flight, self.capacity, self.refill_rate).wait_for(cost)
        return _ANSWER_POLL if wait is None else wait

    async def wait_for_spare(self, cost: float, spare: float) -> None:
        """As :meth:`omnibridge.sdk.Bucket.wait_for_spare`, on the level the database last reported."""
        target = self._mirror_to
        if target is not None:
            await target.wait_for_spare(cost, spare)

    async def drain(self) -> None:
        """Settle what is still unsettled and wait for the settlements still running."""
        for lease in list(self._unobserved):
            self._settle_unobserved(lease)
        while self._tasks:
            await asyncio.gather(*tuple(self._tasks), return_exceptions=True)


def _shared_from(
    table: BudgetTable, channel: str, name: str, limiter: object, lease_seconds: float
) -> SharedBucket | None:
    if isinstance(limiter, Bucket):
        return SharedBucket(
            table,
            channel,
            name,
            capacity=limiter.capacity,
            refill_rate=limiter.refill_rate,
            available=limiter.available,
            observers=limiter.observers,
            mirror=limiter,
            lease_seconds=lease_seconds,
            sleep=limiter._sleep,
        )
    if isinstance(limiter, SlidingWindow):
        half = limiter.limit / 2.0
        return SharedBucket(
            table, channel, name, capacity=half, refill_rate=half / limiter.window, lease_seconds=lease_seconds
        )
    return None


class ChannelBudgets:
    """The :class:`~omnibridge.sdk.ratelimit.LimiterResolver` of one channel's HTTP clients: each of the
    connector's limiters is replaced by its shared budget (made on first use, then kept)."""

    def __init__(self, table: BudgetTable, channel: str, names: Mapping[int, str], lease_seconds: float) -> None:
        self.table, self.channel, self.lease_seconds = table, channel, lease_seconds
        self._names = dict(names)
        self._shared: dict[int, tuple[object, RateLimiter]] = {}
        self._log = get_logger("omnibridge.budgets").bind(channel=channel)

    def limiter_for(self, limiter: RateLimiter, op: str) -> RateLimiter:
        known = self._shared.get(id(limiter))
        if known is not None:
            return known[1]
        if isinstance(limiter, SharedBucket):
            return limiter
        name = getattr(limiter, "budget_name", None) or self._names.get(id(limiter)) or f"op:{op}"
        shared: RateLimiter | None = _shared_from(self.table, self.channel, str(name), limiter, self.lease_seconds)
        if shared is None:
            self._log.warning("budgets.not_shared", limiter=type(limiter).__name__, budget=name)
            shared = limiter
        self._shared[id(limiter)] = (limiter, shared)  # the local limiter is kept alive: its id stays unique
        return shared

    def share_slots(self, limit: ConcurrencyLimit, name: str) -> SharedBucket:
        """Make ``limit`` also hold each slot in a shared budget of ``limit.limit`` requests in flight."""
        bucket = SharedBucket(
            self.table, self.channel, name, capacity=limit.limit, refill_rate=_INSTANT, lease_seconds=self.lease_seconds
        )
        limit.shared = lambda: bucket.hold(1, settle_at_exit=True)
        self._shared[id(limit)] = (limit, bucket)
        return bucket

    async def drain(self) -> None:
        """Let the settlements still running finish (called by ``ConnectorHttpClient.aclose``): a process that
        stops leaves no lease to expire."""
        for bucket in self.buckets().values():
            await bucket.drain()

    def buckets(self) -> dict[str, SharedBucket]:
        """The shared buckets made so far, by budget name."""
        return {bucket.name: bucket for _, bucket in self._shared.values() if isinstance(bucket, SharedBucket)}


def _walk(connector: object) -> tuple[list[ConnectorHttpClient], dict[int, str], list[tuple[str, ConcurrencyLimit]]]:
    """The HTTP clients a connector keeps, the attribute path of each limiter it keeps and its concurrency limits
    (breadth first, in attribute order, at most three objects deep, only through the connector package's own
    objects)."""
    package = type(connector).__module__.split(".")[0]
    roots = {package, "omnibridge", "connectors"}
    clients: list[ConnectorHttpClient] = []
    names: dict[int, str] = {}
    slots: list[tuple[str, ConcurrencyLimit]] = []
    seen: set[int] = {id(connector)}
    level: list[tuple[str, object]] = [("", connector)]
    for _depth in range(3):
        following: list[tuple[str, object]] = []
        for path, obj in level:
            for attr, value in sorted(getattr(obj, "__dict__", {}).items()):
                if id(value) in seen or not hasattr(value, "__dict__"):
                    continue
                seen.add(id(value))
                where = f"{path}.{attr}" if path else attr
                if isinstance(value, ConnectorHttpClient):
                    clients.append(value)
                    if value.rate_limiter is not None:
                        names.setdefault(id(value.rate_limiter), f"{where}.rate_limiter")
                elif isinstance(value, Bucket | SlidingWindow):
                    names[id(value)] = where
                elif isinstance(value, ConcurrencyLimit):
                    slots.append((where, value))
                elif type(value).__module__.split(".")[0] in roots:
                    following.append((where, value))
        level = following
    return clients, names, slots


def _enabled_from_env() -> bool:
    return os.environ.get(SHARED_BUDGETS_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


class SharedBudgets:
    """What :func:`share_budgets` switched on: the table, and each channel's resolver."""

    def __init__(self, table: BudgetTable, channels: dict[str, ChannelBudgets]) -> None:
        self.table = table
        self.channels = channels

    def buckets(self) -> dict[tuple[str, str], SharedBucket]:
        """Every shared bucket made so far, by (channel, budget name)."""
        return {(ch, name): b for ch, budgets in self.channels.items() for name, b in budgets.buckets().items()}

    async def aclose(self) -> None:
        """Let the running settlements finish, then close the database connection."""
        for bucket in self.buckets().values():
            await bucket.drain()
        await self.table.aclose()


def share_budgets(
    store: Store | str,
    connectors: Mapping[str, Any],
    *,
    enabled: bool | None = None,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
) -> SharedBudgets | None:
    """Make every HTTP client of ``connectors`` (channel id -> connector) draw from budgets kept in ``store`` (a
    :class:`~omnibridge.store.store.Store` or its URL), shared with every process that does the same on that
    store. ``enabled`` (default: :data:`SHARED_BUDGETS_ENV` set to ``1``) off returns ``None`` and changes
    nothing. Raises :class:`~omnibridge.errors.StoreError` when on and the store is not PostgreSQL."""
    if not (_enabled_from_env() if enabled is None else enabled):
        return None
    url = store if isinstance(store, str) else store.engine.url
    table = BudgetTable(url)
    channels: dict[str, ChannelBudgets] = {}
    for channel, connector in connectors.items():
        clients, names, slots = _walk(connector)
        budgets = ChannelBudgets(table, channel, names, lease_seconds)
        for where, limit in slots:
            budgets.share_slots(limit, where)
        for client in clients:
            client.budgets = budgets
        channels[channel] = budgets
    return SharedBudgets(table, channels)
