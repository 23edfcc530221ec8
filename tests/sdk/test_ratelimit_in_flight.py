"""Limiters count a request from its send until its answer: no arrival order can exceed the vendor's limit.

The vendor counts a request when it arrives, at some moment between our send and its answer. The property tests run
any schedule of concurrent requests with any latencies in virtual time and check the worst case: every request
whose send-to-answer span touches a vendor window is counted in it.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Coroutine
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from omnibridge.sdk import CostBucket, SlidingWindow, TokenBucket

_EPS = 1e-6


class VirtualTime:
    """A clock that jumps to the next timer once every task is blocked; ``sleep`` registers a timer."""

    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + max(0.0, seconds), self._seq, future))
        self._seq += 1
        await future

    async def run(self, coroutines: list[Coroutine[Any, Any, None]]) -> None:
        tasks = [asyncio.ensure_future(c) for c in coroutines]
        while True:
            for _ in range(30):  # let every task that can run reach its next wait
                await asyncio.sleep(0)
            if all(task.done() for task in tasks):
                break
            assert self._timers, "deadlock: tasks wait and no timer is set"
            at, _, future = heapq.heappop(self._timers)
            self.now = max(self.now, at)
            future.set_result(None)
        for task in tasks:
            task.result()


Spans = list[tuple[float, float]]

_schedules = st.lists(
    st.tuples(st.floats(0.0, 3.0), st.floats(0.0, 2.0)),  # (wants to send at, answer latency)
    min_size=1,
    max_size=25,
)


def _run(limiter: TokenBucket | SlidingWindow, time: VirtualTime, schedule: list[tuple[float, float]]) -> Spans:
    spans: Spans = []

    async def request(start: float, latency: float) -> None:
        await time.sleep(start)
        async with limiter.hold():
            sent = time.now
            await time.sleep(latency)
        spans.append((sent, time.now))

    asyncio.run(time.run([request(start, latency) for start, latency in schedule]))
    return spans


def _worst_token_bucket_count(spans: Spans, rate: float, burst: float) -> float:
    """Largest excess over ``burst + rate * (t2 - t1)`` of requests that may arrive in some ``[t1, t2]``."""
    points = sorted({t for span in spans for t in span})
    worst = float("-inf")
    for i, t1 in enumerate(points):
        for t2 in points[i:]:
            arriving = sum(1 for sent, answered in spans if sent <= t2 and answered >= t1)
            worst = max(worst, arriving - (burst + rate * (t2 - t1)))
    return worst


@settings(max_examples=60, deadline=None)
@given(schedule=_schedules, rate=st.sampled_from([0.5, 2.0, 5.0, 16.0]), burst=st.integers(1, 6))
def test_token_bucket_never_lets_more_arrive_than_the_vendor_allows(
    schedule: list[tuple[float, float]], rate: float, burst: int
) -> None:
    time = VirtualTime()
    spans = _run(TokenBucket(rate, burst, clock=time, sleep=time.sleep), time, schedule)
    assert len(spans) == len(schedule)
    assert _worst_token_bucket_count(spans, rate, burst) <= _EPS


@settings(max_examples=60, deadline=None)
@given(schedule=_schedules, limit=st.integers(1, 6), window=st.sampled_from([0.5, 1.0, 3.0]))
def test_sliding_window_never_lets_more_arrive_in_a_window_than_the_limit(
    schedule: list[tuple[float, float]], limit: int, window: float
) -> None:
    time = VirtualTime()
    spans = _run(SlidingWindow(limit, window, clock=time, sleep=time.sleep), time, schedule)
    assert len(spans) == len(schedule)
    for end in {sent for sent, _ in spans}:
        # the vendor's window (end - window, end]: every request sent by its end and not answered before it
        arriving = sum(1 for sent, answered in spans if sent <= end and answered + window > end)
        assert arriving <= limit


def test_a_full_cost_bucket_waits_for_an_answer_not_for_refill() -> None:
    time = VirtualTime()
    bucket = CostBucket(10, 5, clock=time, sleep=time.sleep)
    sent: list[float] = []

    async def query(start: float, latency: float) -> None:
        await time.sleep(start)
        async with bucket.hold(10):
            sent.append(time.now)
            await time.sleep(latency)

    asyncio.run(time.run([query(0.0, 4.0), query(1.0, 0.0)]))
    # the second query waits for the first answer (at 4 s) and two seconds of refill after it
    assert sent == [0.0, 6.0]
