"""SlidingWindow: at most N requests in any window, corrected by the vendor's remaining count and a 429's wait."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from omnibridge.sdk import SlidingWindow

from .fakes import FakeClock


def _window(clock: FakeClock) -> SlidingWindow:
    return SlidingWindow(
        3,
        60.0,
        remaining_header="x-remaining-calls",
        retry_after_header="x-retry-after",
        clock=clock,
        sleep=clock.sleep,
    )


def _acquire(window: SlidingWindow, times: int) -> None:
    async def run() -> None:
        for _ in range(times):
            await window.acquire()

    asyncio.run(run())


def test_the_fourth_request_waits_until_the_first_leaves_the_window(clock: FakeClock) -> None:
    window = _window(clock)
    _acquire(window, 3)
    clock.now += 10.0
    _acquire(window, 1)
    assert clock.sleeps == [pytest.approx(50.0)]
    assert window.waits == 1


def test_a_lower_remaining_count_counts_requests_this_client_did_not_send(clock: FakeClock) -> None:
    window = _window(clock)
    _acquire(window, 1)
    window.observe(httpx.Response(200, headers={"x-remaining-calls": "0"}))
    assert window.in_window() == 3
    clock.now += 5.0
    _acquire(window, 1)
    assert clock.sleeps == [pytest.approx(55.0)]  # the unseen calls age out with the oldest one seen


def test_a_429_blocks_for_x_retry_after(clock: FakeClock) -> None:
    window = _window(clock)
    window.observe(httpx.Response(429, headers={"x-retry-after": "7", "x-remaining-calls": "0"}))
    _acquire(window, 1)
    assert clock.sleeps == [pytest.approx(7.0)]
