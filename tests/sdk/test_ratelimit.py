from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from omnibridge.sdk import (
    CostBucket,
    RateLimitObservation,
    TokenBucket,
    amazon_rate_limit_header,
    ratelimit_remaining_headers,
    shopify_graphql_throttle_status,
    shopify_rest_call_limit,
)

from .fakes import FakeClock


def _response(status: int = 200, headers: dict[str, str] | None = None, body: object = None) -> httpx.Response:
    if body is None:
        return httpx.Response(status, headers=headers)
    return httpx.Response(status, headers=headers, json=body)


def test_token_bucket_lets_a_burst_through_then_waits_for_refill(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock, sleep=clock.sleep)

    async def run() -> None:
        for _ in range(5):
            await bucket.acquire()

    asyncio.run(run())
    assert clock.sleeps == [0.5, 0.5]
    assert bucket.waits == 2
    assert bucket.waited_seconds == pytest.approx(1.0)


def test_token_bucket_refills_with_time(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=1.0, burst=2, clock=clock, sleep=clock.sleep)

    async def run() -> None:
        await bucket.acquire()
        await bucket.acquire()
        clock.now += 1.5
        await bucket.acquire()
        await bucket.acquire()

    asyncio.run(run())
    assert clock.sleeps == [pytest.approx(0.5)]


def test_concurrent_waiters_are_served_in_turn(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=1.0, burst=1, clock=clock, sleep=clock.sleep)

    async def run() -> None:
        await asyncio.gather(*(bucket.acquire() for _ in range(3)))

    asyncio.run(run())
    assert clock.sleeps == [1.0, 1.0]
    assert bucket.available == 0


def test_cost_bucket_waits_for_the_missing_points(clock: FakeClock) -> None:
    bucket = CostBucket(1000, 50, currently_available=66, clock=clock, sleep=clock.sleep)
    asyncio.run(bucket.acquire(70))
    assert clock.sleeps == [pytest.approx(0.08)]
    assert bucket.available == pytest.approx(0, abs=1e-9)


def test_cost_larger_than_the_bucket_waits_for_a_full_bucket_then_goes_into_debt(clock: FakeClock) -> None:
    bucket = CostBucket(100, 10, currently_available=50, clock=clock, sleep=clock.sleep)
    asyncio.run(bucket.acquire(150))
    assert clock.sleeps == [pytest.approx(5.0)]
    assert bucket.available == pytest.approx(-50)


def test_negative_cost_is_refused(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=1, burst=1, clock=clock, sleep=clock.sleep)
    with pytest.raises(ValueError, match="negative"):
        asyncio.run(bucket.acquire(-1))


def test_bucket_rejects_non_positive_settings() -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(rate=0, burst=1)


def test_amazon_rate_header_sets_the_refill_rate(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=1.0, burst=1, observers=[amazon_rate_limit_header], clock=clock, sleep=clock.sleep)
    asyncio.run(bucket.acquire())
    bucket.observe(_response(headers={"x-amzn-RateLimit-Limit": "0.5"}))
    assert bucket.refill_rate == 0.5
    asyncio.run(bucket.acquire())
    assert clock.sleeps == [2.0]


def test_shopify_rest_call_limit_header() -> None:
    observation = shopify_rest_call_limit(_response(headers={"X-Shopify-Shop-Api-Call-Limit": "32/40"}))
    assert observation == RateLimitObservation(capacity=40.0, available=8.0)
    assert shopify_rest_call_limit(_response(headers={"X-Shopify-Shop-Api-Call-Limit": "garbage"})) is None
    assert shopify_rest_call_limit(_response()) is None


def test_shopify_graphql_throttle_status_from_the_body() -> None:
    body = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {
            "cost": {
                "requestedQueryCost": 70,
                "actualQueryCost": None,
                "throttleStatus": {"maximumAvailable": 1000, "currentlyAvailable": 66, "restoreRate": 50},
            }
        },
    }
    assert shopify_graphql_throttle_status(_response(body=body)) == RateLimitObservation(1000.0, 66.0, 50.0)
    assert shopify_graphql_throttle_status(_response(body={"data": {}})) is None
    not_json = httpx.Response(200, headers={"content-type": "application/json"}, content=b"{not json")
    assert shopify_graphql_throttle_status(not_json) is None
    text = httpx.Response(200, content=json.dumps(body).encode(), headers={"content-type": "text/plain"})
    assert shopify_graphql_throttle_status(text) is None


def test_generic_ratelimit_headers() -> None:
    headers = {"X-RateLimit-Limit": "16", "X-RateLimit-Remaining": "3"}
    assert ratelimit_remaining_headers(_response(headers=headers)) == RateLimitObservation(16.0, 3.0)
    assert ratelimit_remaining_headers(_response()) is None


def test_observed_remaining_budget_delays_the_next_request(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=2.0, burst=40, observers=[shopify_rest_call_limit], clock=clock, sleep=clock.sleep)
    bucket.observe(_response(headers={"X-Shopify-Shop-Api-Call-Limit": "40/40"}))
    asyncio.run(bucket.acquire())
    assert clock.sleeps == [0.5]


def test_a_429_empties_the_bucket(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=4.0, burst=10, clock=clock, sleep=clock.sleep)
    bucket.observe(_response(status=429))
    asyncio.run(bucket.acquire())
    assert clock.sleeps == [0.25]
