from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
import respx
from pydantic import SecretStr

from omnibridge.logs import configure_logging
from omnibridge.sdk import (
    AmbiguousWriteError,
    ConnectorHttpClient,
    CostBucket,
    FatalConnectorError,
    HttpFatalError,
    HttpRetriableError,
    RetriableConnectorError,
    RetryPolicy,
    TokenBucket,
    shopify_graphql_throttle_status,
    shopify_rest_call_limit,
)

from .fakes import FakeClock

BASE = "https://vendor.test"
WALL_NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z
T = TypeVar("T")

# Deterministic backoff: 1s, 2s, 4s ... with jitter pinned to its midpoint (0.75s, 1.5s, 3s ...).
POLICY = RetryPolicy(max_attempts=4, max_elapsed=60.0, initial_backoff=1.0, multiplier=2.0, rng=lambda: 0.5)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


def make_client(clock: FakeClock, **kwargs: Any) -> ConnectorHttpClient:
    kwargs.setdefault("retry_policy", POLICY)
    return ConnectorHttpClient("vendor", BASE, clock=clock, sleep=clock.sleep, wall_clock=lambda: WALL_NOW, **kwargs)


def run(clock: FakeClock, call: Callable[[ConnectorHttpClient], Awaitable[T]], **kwargs: Any) -> T:
    async def main() -> T:
        async with make_client(clock, **kwargs) as client:
            return await call(client)

    return asyncio.run(main())


def test_429_is_retried_after_the_retry_after_seconds(router: respx.MockRouter, clock: FakeClock) -> None:
    route = router.get("/items").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200, json={"ok": True})]
    )
    response = run(clock, lambda c: c.get("/items"))
    assert response.json() == {"ok": True}
    assert route.call_count == 2
    assert clock.sleeps == [3.0]


def test_retry_after_as_http_date(router: respx.MockRouter, clock: FakeClock) -> None:
    router.get("/items").mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "Thu, 01 Jan 2026 00:00:07 GMT"}),
            httpx.Response(200),
        ]
    )
    run(clock, lambda c: c.get("/items"))
    assert clock.sleeps == [7.0]


def test_5xx_without_retry_after_backs_off_exponentially(router: respx.MockRouter, clock: FakeClock) -> None:
    route = router.get("/items").mock(
        side_effect=[httpx.Response(500), httpx.Response(502), httpx.Response(504), httpx.Response(200)]
    )
    assert run(clock, lambda c: c.get("/items")).status_code == 200
    assert route.call_count == 4
    assert clock.sleeps == [0.75, 1.5, 3.0]


def test_exhausted_retries_raise_a_retriable_error(router: respx.MockRouter, clock: FakeClock) -> None:
    route = router.get("/items").mock(return_value=httpx.Response(503, text="maintenance"))
    with pytest.raises(HttpRetriableError) as caught:
        run(clock, lambda c: c.get("/items", op="list_items"))
    error = caught.value
    assert isinstance(error, RetriableConnectorError)
    assert not isinstance(error, AmbiguousWriteError)
    assert (error.connector, error.op, error.status_code, error.attempts) == ("vendor", "list_items", 503, 4)
    assert error.retry_after == 6.0
    assert "maintenance" in str(error)
    assert route.call_count == 4
    assert clock.sleeps == [0.75, 1.5, 3.0]


def test_exhausted_429_keeps_the_vendors_retry_after(router: respx.MockRouter, clock: FakeClock) -> None:
    router.get("/items").mock(return_value=httpx.Response(429, headers={"Retry-After": "2"}))
    with pytest.raises(HttpRetriableError) as caught:
        run(clock, lambda c: c.get("/items"), retry_policy=RetryPolicy(max_attempts=2))
    assert caught.value.retry_after == 2.0
    assert clock.sleeps == [2.0]


def test_a_wait_beyond_the_time_budget_is_not_taken(router: respx.MockRouter, clock: FakeClock) -> None:
    route = router.get("/items").mock(return_value=httpx.Response(429, headers={"Retry-After": "120"}))
    with pytest.raises(HttpRetriableError) as caught:
        run(clock, lambda c: c.get("/items"))
    assert caught.value.retry_after == 120.0
    assert route.call_count == 1
    assert clock.sleeps == []


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
def test_permanent_statuses_are_fatal_and_not_retried(router: respx.MockRouter, clock: FakeClock, status: int) -> None:
    route = router.get("/items").mock(return_value=httpx.Response(status, json={"error": "nope"}))
    with pytest.raises(HttpFatalError) as caught:
        run(clock, lambda c: c.get("/items", op="list_items"))
    assert isinstance(caught.value, FatalConnectorError)
    assert caught.value.status_code == status
    assert caught.value.op == "list_items"
    assert "nope" in caught.value.body_excerpt
    assert route.call_count == 1
    assert clock.sleeps == []


def test_expected_statuses_are_returned_to_the_caller(router: respx.MockRouter, clock: FakeClock) -> None:
    router.get("/items/1").mock(return_value=httpx.Response(404))
    assert run(clock, lambda c: c.get("/items/1", expected_statuses={404})).status_code == 404


def test_post_without_idempotency_key_is_not_retried_after_a_500(router: respx.MockRouter, clock: FakeClock) -> None:
    route = router.post("/orders").mock(side_effect=[httpx.Response(500), httpx.Response(201)])
    with pytest.raises(AmbiguousWriteError) as caught:
        run(clock, lambda c: c.post("/orders", json={"sku": "A"}))
    assert isinstance(caught.value, RetriableConnectorError)
    assert caught.value.status_code == 500
    assert "idempotency key" in str(caught.value)
    assert route.call_count == 1
    assert clock.sleeps == []


def test_post_with_idempotency_key_is_retried_with_the_same_key(router: respx.MockRouter, clock: FakeClock) -> None:
    route = router.post("/orders").mock(side_effect=[httpx.Response(500), httpx.Response(201)])
    response = run(
        clock,
        lambda c: c.post("/orders", json={"sku": "A"}, idempotency_key="key-1"),
        idempotency_header="Idempotency-Key",
    )
    assert response.status_code == 201
    assert [call.request.headers["Idempotency-Key"] for call in route.calls] == ["key-1", "key-1"]
    assert clock.sleeps == [0.75]


def test_patch_marked_idempotent_is_retried(router: respx.MockRouter, clock: FakeClock) -> None:
    route = router.patch("/items/1").mock(side_effect=[httpx.Response(503), httpx.Response(200)])
    run(clock, lambda c: c.patch("/items/1", json={"qty": 3}, idempotent=True))
    assert route.call_count == 2


def test_put_is_idempotent_by_default_but_can_be_declared_otherwise(router: respx.MockRouter, clock: FakeClock) -> None:
    route = router.put("/items/1").mock(side_effect=[httpx.Response(502), httpx.Response(200)])
    run(clock, lambda c: c.put("/items/1", json={"qty": 3}))
    assert route.call_count == 2
    route.reset()
    route.mock(side_effect=[httpx.Response(502), httpx.Response(200)])
    with pytest.raises(AmbiguousWriteError):
        run(clock, lambda c: c.put("/items/1", json={"qty": 3}, idempotent=False))


def test_a_throttled_post_is_retried_because_the_vendor_refused_it(router: respx.MockRouter, clock: FakeClock) -> None:
    route = router.post("/orders").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(201)]
    )
    assert run(clock, lambda c: c.post("/orders", json={})).status_code == 201
    assert route.call_count == 2


def test_connect_errors_are_retried_even_for_writes(router: respx.MockRouter, clock: FakeClock) -> None:
    route = router.post("/orders").mock(side_effect=[httpx.ConnectError("refused"), httpx.Response(201)])
    assert run(clock, lambda c: c.post("/orders", json={})).status_code == 201
    assert route.call_count == 2


def test_read_timeout_retries_a_get(router: respx.MockRouter, clock: FakeClock) -> None:
    route = router.get("/items").mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200)])
    assert run(clock, lambda c: c.get("/items")).status_code == 200
    assert route.call_count == 2


def test_read_timeout_does_not_retry_a_post_without_key(router: respx.MockRouter, clock: FakeClock) -> None:
    route = router.post("/orders").mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(201)])
    with pytest.raises(AmbiguousWriteError) as caught:
        run(clock, lambda c: c.post("/orders", json={}))
    assert caught.value.status_code is None
    assert route.call_count == 1


def test_persistent_connect_errors_become_retriable(clock: FakeClock) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(HttpRetriableError) as caught:
        run(clock, lambda c: c.get("/items"), transport=httpx.MockTransport(refuse))
    assert caught.value.attempts == 4
    assert "ConnectError" in str(caught.value)


def test_is_throttled_hook_retries_and_the_cost_bucket_waits_for_points(
    router: respx.MockRouter, clock: FakeClock
) -> None:
    def cost(available: float) -> dict[str, Any]:
        status = {"maximumAvailable": 1000, "currentlyAvailable": available, "restoreRate": 50}
        return {"cost": {"requestedQueryCost": 70, "throttleStatus": status}}

    throttled = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}], "extensions": cost(66)}
    route = router.post("/graphql.json").mock(
        side_effect=[
            httpx.Response(200, json=throttled),
            httpx.Response(200, json={"data": {"ok": True}, "extensions": cost(926)}),
        ]
    )

    def is_throttled(response: httpx.Response) -> bool:
        errors = response.json().get("errors") or []
        return any(e.get("extensions", {}).get("code") == "THROTTLED" for e in errors)

    bucket = CostBucket(1000, 50, observers=[shopify_graphql_throttle_status], clock=clock, sleep=clock.sleep)
    policy = RetryPolicy(initial_backoff=0.02, jitter=0.0)
    response = run(
        clock,
        lambda c: c.post("/graphql.json", json={"query": "{}"}, idempotent=True, cost=70),
        rate_limiter=bucket,
        is_throttled=is_throttled,
        retry_policy=policy,
    )
    assert response.json()["data"] == {"ok": True}
    assert route.call_count == 2
    # 0.02s backoff, then the bucket (66 + 1 restored) still misses 3 points at 50/s: 0.06s more.
    assert clock.sleeps == [pytest.approx(0.02), pytest.approx(0.06)]
    assert bucket.available == pytest.approx(926)


def test_the_limiter_delays_requests_when_empty(router: respx.MockRouter, clock: FakeClock) -> None:
    router.get("/items").mock(return_value=httpx.Response(200))
    bucket = TokenBucket(rate=1.0, burst=1, clock=clock, sleep=clock.sleep)

    async def twice(client: ConnectorHttpClient) -> None:
        await client.get("/items")
        await client.get("/items")

    run(clock, twice, rate_limiter=bucket)
    assert clock.sleeps == [1.0]


def test_the_limiter_is_fed_from_vendor_headers(router: respx.MockRouter, clock: FakeClock) -> None:
    router.get("/items").mock(return_value=httpx.Response(200, headers={"X-Shopify-Shop-Api-Call-Limit": "40/40"}))
    bucket = TokenBucket(rate=2.0, burst=40, observers=[shopify_rest_call_limit], clock=clock, sleep=clock.sleep)

    async def twice(client: ConnectorHttpClient) -> None:
        await client.get("/items")
        await client.get("/items")

    run(clock, twice, rate_limiter=bucket)
    assert clock.sleeps == [0.5]


def test_a_per_request_limiter_overrides_the_clients(router: respx.MockRouter, clock: FakeClock) -> None:
    router.get("/orders").mock(return_value=httpx.Response(200))
    shared = TokenBucket(rate=100.0, burst=100, clock=clock, sleep=clock.sleep)
    orders = TokenBucket(rate=0.5, burst=1, clock=clock, sleep=clock.sleep)

    async def twice(client: ConnectorHttpClient) -> None:
        await client.get("/orders", rate_limiter=orders)
        await client.get("/orders", rate_limiter=orders)

    run(clock, twice, rate_limiter=shared)
    assert clock.sleeps == [2.0]
    assert shared.available == 100


def test_secrets_never_reach_logs_or_errors(router: respx.MockRouter, clock: FakeClock) -> None:
    token = "shpat_0123456789abcdef"
    router.get("/items").mock(return_value=httpx.Response(200))
    router.get("/fail").mock(return_value=httpx.Response(401, text=f"invalid token {token}"))
    buffer = io.StringIO()
    configure_logging(json=True, level="DEBUG", stream=buffer)

    async def calls(client: ConnectorHttpClient) -> None:
        await client.get("/items", params={"api_key": "query-secret-1"})
        with pytest.raises(HttpFatalError) as caught:
            await client.get("/fail")
        assert token not in str(caught.value)
        assert caught.value.status_code == 401

    run(clock, calls, auth_headers={"X-Shopify-Access-Token": SecretStr(token)})
    output = buffer.getvalue()
    assert token not in output
    assert "query-secret-1" not in output
    lines = [json.loads(line) for line in output.splitlines()]
    requests = [line for line in lines if line["event"] == "http.request"]
    assert [(line["status"], line["connector"], line["method"]) for line in requests] == [
        (200, "vendor", "GET"),
        (401, "vendor", "GET"),
    ]
    headers = next(line["headers"] for line in lines if line["event"] == "http.request.headers")
    assert headers["x-shopify-access-token"] == "***"


def test_auth_headers_are_sent(router: respx.MockRouter, clock: FakeClock) -> None:
    route = router.get("/items").mock(return_value=httpx.Response(200))
    run(clock, lambda c: c.get("/items"), auth_headers={"X-Api-Key": SecretStr("k-123456")}, headers={"A": "b"})
    request = route.calls.last.request
    assert request.headers["X-Api-Key"] == "k-123456"
    assert request.headers["A"] == "b"


def test_an_invalid_url_is_fatal(clock: FakeClock) -> None:
    with pytest.raises(HttpFatalError) as caught:
        run(clock, lambda c: c.get("ftp://elsewhere.test/x"))
    assert caught.value.status_code is None


def test_a_vendor_specific_retry_after_header_is_honoured(router: respx.MockRouter, clock: FakeClock) -> None:
    router.get("/items").mock(
        side_effect=[httpx.Response(429, headers={"x-retry-after": "4"}), httpx.Response(200, json={"ok": True})]
    )
    response = run(clock, lambda c: c.get("/items"), retry_after_header="x-retry-after")
    assert response.json() == {"ok": True}
    assert clock.sleeps == [4.0]
