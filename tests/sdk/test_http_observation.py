"""One observation path per HTTP attempt: the client's own counts (metrics) and the process's call observers (the
console) see the same attempts, with the same outcomes."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from omnibridge.sdk.http import CallRecord, ConnectorHttpClient, HttpFatalError, add_call_observer
from omnibridge.sdk.http_stats import OK, outcome_of
from omnibridge.sdk.retry import RetryPolicy


def test_stats_and_call_observers_count_the_same_attempts() -> None:
    answers = iter([httpx.Response(429), httpx.Response(503), httpx.Response(200, json={}), httpx.Response(404)])
    seen: list[CallRecord] = []

    async def sleep(_: float) -> None:
        return None

    async def run() -> ConnectorHttpClient:
        client = ConnectorHttpClient(
            "acme",
            "https://api.example.test",
            transport=httpx.MockTransport(lambda request: next(answers)),
            retry_policy=RetryPolicy(max_attempts=3, jitter=0.0),
            sleep=sleep,
        )
        async with client:
            await client.get("/orders", op="getOrders")
            with pytest.raises(HttpFatalError):
                await client.get("/orders/9", op="getOrder")
        return client

    remove = add_call_observer(seen.append)
    try:
        client = asyncio.run(run())
    finally:
        remove()
    calls, retries = client.stats.snapshot()
    observed = Counter((record.op, OK if record.status in (200,) else outcome_of(record.status)) for record in seen)
    assert (
        calls
        == dict(observed)
        == {
            ("getOrders", "throttled"): 1,
            ("getOrders", "server_error"): 1,
            ("getOrders", OK): 1,
            ("getOrder", "client_error"): 1,
        }
    )
    assert retries == {"getOrders": 2}
