"""ConcurrencyLimit (a vendor's limit on requests in flight) and Bucket.adopt (a level kept elsewhere)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from omnibridge.sdk import ConcurrencyLimit, CostBucket

from .fakes import FakeClock

pytestmark = pytest.mark.anyio


async def test_at_most_limit_blocks_run_at_once() -> None:
    limit = ConcurrencyLimit(2)
    running, most = 0, 0

    async def one() -> None:
        nonlocal running, most
        async with limit.slot():
            running += 1
            most = max(most, running)
            await asyncio.sleep(0.001)
            running -= 1

    await asyncio.gather(*(one() for _ in range(7)))
    assert most == 2


async def test_a_shared_slot_is_held_inside_the_local_one() -> None:
    limit = ConcurrencyLimit(3)
    events: list[str] = []

    @asynccontextmanager
    async def shared() -> AsyncIterator[None]:
        events.append("shared taken")
        yield
        events.append("shared given back")

    limit.shared = shared
    async with limit.slot():
        events.append("request")
    assert events == ["shared taken", "request", "shared given back"]


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ConcurrencyLimit(0)


def test_a_bucket_adopts_a_level_kept_elsewhere_and_refills_from_now(clock: FakeClock) -> None:
    bucket = CostBucket(1000, 50, clock=clock, sleep=clock.sleep)
    clock.now += 10
    bucket.adopt(100.0, 200.0, 1000.0, 50.0)
    assert bucket.wait_time(200) == pytest.approx((200 + 200 - 100) / 50)
    clock.now += 2
    assert bucket.wait_time(200) == pytest.approx((200 + 200 - 200) / 50)
