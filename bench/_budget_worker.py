"""One of N processes calling a Clover emulator through the real Clover connector, with its vendor budget shared
in PostgreSQL (``--shared``) or per process: the worker of ``bench budgets`` and of the shared budget tests.

``python -m bench._budget_worker BASE_URL --requests N --start-at UNIX [--shared STORE_URL] [--channel ID]``
waits until ``--start-at`` (so every worker bursts at once), sends N ``GET /v3/merchants/{mId}`` one after the
other (``--tasks`` at a time; the connector keeps Clover's 5 slots, the limit of requests in flight per token)
and prints one JSON line: ``sent``, ``ok``,
``refused`` (429 answers), ``errors``, ``acquire_ms`` (time each request waited for its budget), ``elapsed_s``
and ``round_trips`` (statements sent to the budget table).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from omnibridge.errors import ConnectorError
from omnibridge.sdk.ratelimit import InFlightLimiter, LimiterResolver, RateLimiter


class _Timed:
    """A limiter that records how long each ``hold`` waited to enter."""

    def __init__(self, inner: InFlightLimiter, waits: list[float]) -> None:
        self.inner, self.waits = inner, waits

    async def acquire(self, cost: float = 1.0) -> None:
        await self.inner.acquire(cost)

    @asynccontextmanager
    async def hold(self, cost: float = 1.0) -> AsyncIterator[None]:
        asked = time.perf_counter()
        async with self.inner.hold(cost):
            self.waits.append((time.perf_counter() - asked) * 1000.0)
            yield

    def observe(self, response: httpx.Response) -> None:
        self.inner.observe(response)


class _TimingResolver:
    def __init__(self, inner: LimiterResolver | None, waits: list[float]) -> None:
        self.inner, self.waits = inner, waits
        self._timed: dict[int, _Timed] = {}

    def limiter_for(self, limiter: RateLimiter, op: str) -> RateLimiter:
        chosen = self.inner.limiter_for(limiter, op) if self.inner is not None else limiter
        timed = self._timed.get(id(chosen))
        if timed is None:
            assert hasattr(chosen, "hold")
            timed = self._timed[id(chosen)] = _Timed(chosen, self.waits)  # type: ignore[arg-type]
        return timed


async def run(
    base_url: str, requests: int, start_at: float, shared: str | None, channel: str, tasks: int = 1
) -> dict[str, object]:
    from connectors.clover.client import CloverConnector
    from connectors.clover.emulator.config import CloverEmulatorConfig
    from connectors.clover.settings import CloverSettings
    from omnibridge.sync.shared_budgets import share_budgets

    emulator = CloverEmulatorConfig()
    settings = CloverSettings(
        base_url=base_url,
        merchant_id=emulator.merchant_id,
        access_token=emulator.access_token,
        retry_attempts=1,
    )
    connector = CloverConnector(settings)
    budgets = share_budgets(shared, {channel: connector}, enabled=True) if shared else None
    waits: list[float] = []
    connector.http.budgets = _TimingResolver(connector.http.budgets, waits)
    counts = {"sent": 0, "ok": 0, "refused": 0, "errors": 0}
    if budgets is not None:  # connect and create the budget before the start, as a running daemon has
        bucket = connector.bucket
        await budgets.table.ensure(
            channel, "bucket", capacity=bucket.capacity, refill_rate=bucket.refill_rate, available=bucket.available
        )
    await asyncio.sleep(max(0.0, start_at - time.time()))
    began = time.perf_counter()

    async def send() -> None:
        while counts["sent"] < requests:
            counts["sent"] += 1
            try:
                await connector.list_locations()
                counts["ok"] += 1
            except ConnectorError as exc:
                counts["refused" if getattr(exc, "status_code", None) == 429 else "errors"] += 1

    await asyncio.gather(*(send() for _ in range(tasks)))
    elapsed = time.perf_counter() - began
    round_trips = 0
    if budgets is not None:
        await budgets.aclose()
        round_trips = budgets.table.round_trips - 1  # the ensure above
    await connector.aclose()
    return {**counts, "acquire_ms": waits, "elapsed_s": elapsed, "round_trips": round_trips}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench._budget_worker")
    parser.add_argument("base_url")
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--start-at", type=float, required=True)
    parser.add_argument("--shared", default=None, help="store URL (PostgreSQL) holding the shared budget")
    parser.add_argument("--channel", default="clover-main")
    parser.add_argument("--tasks", type=int, default=1, help="requests in flight at once (Clover allows 5)")
    args = parser.parse_args()
    result = asyncio.run(run(args.base_url, args.requests, args.start_at, args.shared, args.channel, args.tasks))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
