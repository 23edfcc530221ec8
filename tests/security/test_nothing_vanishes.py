"""Nothing vanishes: a skipped line and every dead letter on the sales-channel path is logged, counted and an
incident; an authentic but unstorable delivery (PostgreSQL: NUL, over-long id) is kept as a dead letter and
answered 2xx, never a 500 the vendor retries forever."""

from __future__ import annotations

import json

import httpx
import pytest
from structlog.testing import capture_logs
from sync.fake_channel import NOW, TOKEN, FakeChannel, receive, runtime, seed_store

from omnibridge.sdk.channel import RefundEvent, RefundLineEvent, RestockType
from omnibridge.store import InboxStatus, Store
from omnibridge.sync import SyncEngine, receiver_app
from omnibridge.sync.inbox_retry import InboxRetry

pytestmark = pytest.mark.anyio


def world(store: Store, retry: InboxRetry = InboxRetry()) -> tuple[SyncEngine, FakeChannel]:
    seed_store(store, ["A"], ["wh"])
    receive(store, "A", "wh", 5)
    web = FakeChannel(["W-WH"])
    web.levels[("A", "W-WH")] = 5
    return SyncEngine(store, [runtime("web", web, {"W-WH": "wh"})], inbox_retry=retry), web


def body(delivery_id: str, topic: str = "refunds/create") -> bytes:
    return json.dumps({"delivery": delivery_id, "event": delivery_id, "topic": topic}).encode()


async def test_a_refund_for_an_unknown_sku_is_logged_counted_and_an_incident(store: Store) -> None:
    engine, web = world(store)
    web.webhook_payloads["r-1"] = [
        RefundEvent("R-1", "O-1", NOW, (RefundLineEvent("L-1", "GHOST", 1, RestockType.RETURN, "W-WH"),))
    ]
    assert engine.receive("web", body("r-1"), {"x-token": TOKEN}, "").status == "stored"
    with capture_logs() as logs:
        await engine.process_pending()

    [entry] = store.inbox(channel="web")
    assert entry.status is InboxStatus.DONE
    assert engine.counters.skipped == 1
    assert [line["event"] for line in logs].count("apply.skipped") == 1
    [incident] = store.incidents(kind="skipped_line")
    assert incident.channel == "web"
    assert incident.sku == "GHOST"
    assert "refund R-1 line L-1" in incident.summary
    assert "not in the catalog" in incident.summary
    # the vendor's re-delivery of the same refund records no second incident
    engine.receive("web", body("r-1-again"), {"x-token": TOKEN}, "")
    web.webhook_payloads["r-1-again"] = web.webhook_payloads["r-1"]
    await engine.process_pending()
    assert len(store.incidents(kind="skipped_line")) == 1


async def test_a_dead_letter_is_logged_counted_and_an_incident(store: Store) -> None:
    engine, web = world(store, InboxRetry(max_attempts=1))
    web.webhook_failures["o-1"] = 5
    engine.receive("web", body("o-1", "orders/updated"), {"x-token": TOKEN}, "")
    with capture_logs() as logs:
        await engine.process_pending()

    [entry] = store.inbox(channel="web")
    assert entry.status is InboxStatus.DEAD
    assert engine.counters.dead == 1
    assert [line["event"] for line in logs].count("webhook.dead") == 1
    [incident] = store.incidents(kind="dead_letter")
    assert (incident.channel, incident.data["entry_id"]) == ("web", entry.id)
    assert entry.error is not None
    assert entry.error in incident.summary


async def test_an_authentic_but_unstorable_delivery_is_a_dead_letter_answered_200(store: Store) -> None:
    engine, _ = world(store)
    app = receiver_app(engine)
    nul = json.dumps({"delivery": "d\u0000x", "event": None, "topic": "orders/create"}).encode()
    too_long = json.dumps({"delivery": "d" * 300, "event": None, "topic": "orders/create"}).encode()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://d") as http:
        with capture_logs() as logs:
            answers = [
                await http.post("/webhooks/web", content=raw, headers={"x-token": TOKEN}) for raw in (nul, too_long)
            ]
            again = await http.post("/webhooks/web", content=nul, headers={"x-token": TOKEN})  # the vendor's retry

    assert [answer.status_code for answer in answers] == [200, 200]
    assert [answer.json()["status"] for answer in answers] == ["dead", "dead"]
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    dead = store.inbox(channel="web", status=InboxStatus.DEAD)
    assert [entry.error for entry in dead] == [
        "unstorable delivery: the delivery id contains a NUL byte",
        "unstorable delivery: the delivery id is 300 characters long; at most 255 are kept",
    ]
    assert [entry.delivery.raw_body for entry in dead] == [nul, too_long]
    assert engine.counters.dead == 2
    assert [line["event"] for line in logs].count("webhook.dead") == 2
    assert len(store.incidents(kind="dead_letter")) == 2
