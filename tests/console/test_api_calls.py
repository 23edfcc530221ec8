"""Vendor API calls as the console sees them: every attempt of a connector's HTTP client reaches the call
observers (query and secrets left out), is counted per connector, operation and minute, written to
``api_call_counts`` once its minute is over, and shown on the overview and the channel's page."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from omnibridge.access import Actor, Role, tokens
from omnibridge.console import ConsoleContext, console_app
from omnibridge.console.api_calls import ApiCallLog, call_totals
from omnibridge.sdk import ConnectorHttpClient, RetryPolicy, TokenBucket
from omnibridge.sdk.http import CallRecord, add_call_observer
from omnibridge.store import Store
from omnibridge.store.tables import API_CALL_COUNTS
from omnibridge.store.types import to_utc

MINUTE = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def record(op: str, status: int | None, at: datetime, *, throttled: bool = False) -> CallRecord:
    return CallRecord(
        "shopify", op, "POST", "https://shop.test/graphql.json", status, 120.0, throttled, None, at.timestamp()
    )


def test_the_client_tells_observers_each_attempt_without_query_or_secret() -> None:
    seen: list[CallRecord] = []
    answers = iter([httpx.Response(429), httpx.Response(200, json={"ok": True})])

    async def main() -> None:
        client = ConnectorHttpClient(
            "vendor",
            "https://vendor.test",
            auth_headers={"X-Token": "s3cr3t-token-value"},
            transport=httpx.MockTransport(lambda _request: next(answers)),
            retry_policy=RetryPolicy(max_attempts=3, initial_backoff=0.0, rng=lambda: 0.0),
            rate_limiter=TokenBucket(2, 40),
            sleep=lambda _s: asyncio.sleep(0),
        )
        async with client:
            await client.get("/customers", params={"email": "ana@example.com"}, op="customers.find")

    remove = add_call_observer(seen.append)
    try:
        asyncio.run(main())
    finally:
        remove()
    assert [(r.op, r.status, r.url) for r in seen] == [
        ("customers.find", 429, "https://vendor.test/customers"),
        ("customers.find", 200, "https://vendor.test/customers"),
    ]
    assert seen[0].budget is not None
    assert seen[0].budget[1] == 40.0


def test_a_failing_observer_does_not_fail_the_call() -> None:
    def broken(_record: CallRecord) -> None:
        raise RuntimeError("observer bug")

    async def main() -> int:
        transport = httpx.MockTransport(lambda _request: httpx.Response(200))
        async with ConnectorHttpClient("vendor", "https://vendor.test", transport=transport) as client:
            return (await client.get("/items")).status_code

    remove = add_call_observer(broken)
    try:
        assert asyncio.run(main()) == 200
    finally:
        remove()


def test_minutes_are_counted_written_once_over_and_totalled(store: Store) -> None:
    log = ApiCallLog(store)
    log(record("inventorySet", 200, MINUTE))
    log(record("inventorySet", 200, MINUTE + timedelta(seconds=30), throttled=True))
    log(record("inventorySet", None, MINUTE + timedelta(seconds=40)))
    assert call_totals(store, MINUTE + timedelta(minutes=5)) == []  # nothing written while the minute runs
    log(record("inventorySet", 200, MINUTE + timedelta(minutes=1, seconds=5)))  # the next minute: the first is due
    totals = call_totals(store, MINUTE + timedelta(minutes=5))
    assert [(t.op, t.calls_1h, t.refusals_1h, t.calls_24h) for t in totals] == [("inventorySet", 3, 1, 3)]
    with_pending = call_totals(store, MINUTE + timedelta(minutes=5), log.pending())
    assert [(t.calls_1h, t.calls_24h) for t in with_pending] == [(4, 4)]
    later = call_totals(store, MINUTE + timedelta(hours=2))
    assert [(t.calls_1h, t.calls_24h) for t in later] == [(0, 3)]
    log(record("inventorySet", 200, MINUTE + timedelta(seconds=50)))  # a late attempt of a written minute adds up
    assert log.flush() == 2
    assert [t.calls_24h for t in call_totals(store, MINUTE + timedelta(minutes=5))] == [5]
    week_later = MINUTE + timedelta(days=8)
    log(record("inventorySet", 200, week_later))
    log.flush()
    with store.engine.connect() as conn:
        minutes = conn.execute(sa.select(API_CALL_COUNTS.c.minute)).scalars().all()
    assert [to_utc(minute) for minute in minutes] == [week_later]  # older than a week: deleted


@pytest.mark.anyio
async def test_the_overview_and_the_channel_page_show_the_calls(store: Store) -> None:
    now = store.now()
    log = ApiCallLog(store)
    log(record("inventorySet", 200, now))
    log(CallRecord("shopify", "inventorySet", "POST", "https://shop.test/graphql.json", 429, 80.0, True, (0.0, 1000.0),
                   now.timestamp()))  # fmt: skip
    secret = tokens.create(store, Role.VIEWER, "Vic", Actor("user", "alice"))[1]
    app = console_app(ConsoleContext(store, calls=log))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon") as client:
        await client.post("/console/login", data={"token": secret})
        overview = await client.get("/console/")
        page = await client.get("/console/channels/shopify")
    assert re.search(r"<td>shopify</td><td>inventorySet</td><td>2</td><td>1</td><td>2</td><td>1</td>", overview.text)
    assert "<td>0 / 1000</td>" in overview.text
    assert "POST https://shop.test/graphql.json" in page.text
    assert "429 (throttled)" in page.text
