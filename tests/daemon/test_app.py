"""The daemon's HTTP surface on a real SQLite store: liveness, readiness with reasons, webhooks counted, metrics."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from omnibridge.daemon.app import daemon_app, receipt_status
from omnibridge.daemon.jobs import JobRunner
from omnibridge.daemon.operators import TOKEN_ENV
from omnibridge.daemon.state import DaemonState, store_answers
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.models import Location, LocationType
from omnibridge.store import InboxStatus, Store, open_store
from omnibridge.sync import SyncEngine

from .fakes import TOKEN, FakeConnector, runtime
from .promtext import parse

pytestmark = pytest.mark.anyio


@dataclass
class Served:
    client: httpx.AsyncClient
    engine: SyncEngine
    state: DaemonState
    runner: JobRunner
    web: FakeConnector
    pos: FakeConnector
    woken: list[int]


OPERATOR = "operator-test-token"


@pytest.fixture
async def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Served]:
    monkeypatch.setenv(TOKEN_ENV, OPERATOR)
    with open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}") as store:
        store.upsert_location(Location(id="wh", name="Warehouse", type=LocationType.WAREHOUSE))
        web, pos = FakeConnector(["W1"]), FakeConnector(["P1"])
        engine = SyncEngine(
            store,
            [runtime("web", web, {"W1": "wh"}, webhooks=True), runtime("pos", pos, {"P1": "wh"}, webhooks=True)],
        )
        state = DaemonState(tuple(engine.channels))
        metrics = DaemonMetrics()
        woken: list[int] = []
        app = daemon_app(engine, state, metrics, on_stored=lambda: woken.append(1))
        transport = httpx.ASGITransport(app=app)
        operator = {"authorization": f"Bearer {OPERATOR}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://daemon", headers=operator) as client:
            yield Served(client, engine, state, JobRunner(engine, state, metrics), web, pos, woken)


def delivery(delivery_id: str) -> bytes:
    return json.dumps({"delivery": delivery_id}).encode()


async def test_healthz_answers_while_the_process_serves(served: Served) -> None:
    response = await served.client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_names_what_is_missing_until_every_channel_resolved(served: Served) -> None:
    before = await served.client.get("/readyz")
    assert before.status_code == 503
    assert before.json()["channels"] == {"web": "not_tried", "pos": "not_tried"}
    assert before.json()["reasons"] == [
        "channel pos: not tried yet: locations not resolved",
        "channel web: not tried yet: locations not resolved",
    ]

    served.pos.locations_down = True
    assert await served.runner.resolve() == "partial"
    one_down = await served.client.get("/readyz")
    assert one_down.status_code == 503
    body = one_down.json()
    assert body["channels"]["web"] == "ok"
    assert body["channels"]["pos"].startswith("failed: locations not resolved:")  # tried and failed, not "not tried"
    assert "fake is down" in body["channels"]["pos"]
    assert body["store"] == "ok"
    [reason] = body["reasons"]
    assert reason.startswith("channel pos: locations not resolved:")
    assert "fake is down" in reason

    served.pos.locations_down = False
    assert await served.runner.resolve() == "ok"
    ready = await served.client.get("/readyz")
    assert (ready.status_code, ready.json()["status"]) == (200, "ready")
    assert ready.json()["channels"] == {"web": "ok", "pos": "ok"}
    assert served.web.calls["list_locations"] == 1  # a resolved channel is not asked again

    served.state.stopping = True
    assert (await served.client.get("/readyz")).json()["reasons"] == ["shutting down"]


async def test_readyz_shows_states_only_to_callers_who_are_not_operators(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    served.pos.locations_down = True
    await served.runner.resolve()
    detailed = (await served.client.get("/readyz")).json()
    assert "fake is down" in detailed["channels"]["pos"]

    anonymous = {"authorization": ""}
    for headers in (anonymous, {"authorization": "Bearer wrong-token"}, {"authorization": f"Basic {OPERATOR}"}):
        public = await served.client.get("/readyz", headers=headers)
        assert public.status_code == 503
        assert public.json() == {
            "status": "not_ready",
            "store": "ok",
            "channels": {"web": "ok", "pos": "failed"},
            "catch_up_done": False,
            "detail": "reasons are shown to operators only (Authorization: Bearer <operator token>)",
        }
        assert "fake is down" not in public.text

    monkeypatch.delenv(TOKEN_ENV)  # no operator token configured: nobody gets the detail
    assert "reasons" not in (await served.client.get("/readyz")).json()


def test_a_store_that_does_not_answer_is_named(tmp_path: Path) -> None:
    unreachable = Store(sa.create_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"))
    reason = store_answers(unreachable)
    assert reason is not None
    assert "unable to open database file" in reason


async def test_webhooks_are_stored_counted_and_wake_the_worker(served: Served) -> None:
    headers = {"x-token": TOKEN, "content-type": "application/json"}
    first = await served.client.post("/webhooks/web", content=delivery("d1"), headers=headers)
    again = await served.client.post("/webhooks/web", content=delivery("d1"), headers=headers)
    forged = await served.client.post("/webhooks/pos", content=delivery("d2"), headers={"x-token": "forged"})
    nowhere = await served.client.post("/webhooks/nope", content=delivery("d3"), headers=headers)
    assert [r.status_code for r in (first, again, forged, nowhere)] == [200, 200, 401, 404]
    assert served.woken == [1]  # only the stored delivery wakes the worker
    assert [e.delivery.delivery_id for e in served.engine.store.inbox(status=InboxStatus.PENDING)] == ["d1"]

    response = await served.client.get("/metrics")
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    parsed = parse(response.text)
    assert parsed.value("omnibridge_webhooks_received_total", channel="web") == 1
    assert parsed.value("omnibridge_webhooks_duplicates_total", channel="web") == 1
    assert parsed.value("omnibridge_webhooks_rejected_total", channel="pos") == 1
    assert parsed.value("omnibridge_webhooks_rejected_total", channel="unknown") == 1
    assert parsed.value("omnibridge_inbox_pending", channel="web") == 1
    assert parsed.value("omnibridge_inbox_pending", channel="pos") == 0
    assert parsed.value("omnibridge_sync_lag_seconds", channel="web") > 0  # the fake stamps deliveries in the past
    assert parsed.value("omnibridge_sync_lag_seconds", channel="pos") == 0
    assert parsed.value("omnibridge_engine_received_total") == 1
    assert parsed.value("omnibridge_engine_duplicates_total") == 1
    assert parsed.value("omnibridge_engine_rejected_total") == 2
    assert parsed.value("omnibridge_dead_letters_total") == 0
    assert parsed.value("omnibridge_ready") == 0
    assert parsed.value("omnibridge_last_sync_age_seconds", channel="web") >= 0
    assert parsed.value("omnibridge_webhook_ack_seconds_count", channel="web") == 2

    assert parsed.value("omnibridge_inbox_retrying", channel="web") == 0

    [pending] = served.engine.store.inbox(status=InboxStatus.PENDING)
    served.engine.store.retry_delivery(pending.id, "fake answered 503", served.engine.store.now())
    waiting = parse((await served.client.get("/metrics")).text)
    assert waiting.value("omnibridge_inbox_retrying", channel="web") == 1
    assert waiting.value("omnibridge_inbox_retrying", channel="pos") == 0

    await served.engine.process_pending()
    after = parse((await served.client.get("/metrics")).text)
    assert after.value("omnibridge_inbox_pending", channel="web") == 0
    assert after.value("omnibridge_inbox_retrying", channel="web") == 0
    assert after.value("omnibridge_sync_lag_seconds", channel="web") == 0
    assert after.value("omnibridge_engine_processed_total") == 1


def test_receipt_status_reads_the_receivers_answer() -> None:
    assert receipt_status(200, b'{"status": "stored", "message": ""}') == "stored"
    assert receipt_status(200, b'{"status": "duplicate"}') == "duplicate"
    assert receipt_status(401, b"not json") == "rejected"
    assert receipt_status(500, b"") == "http_500"


def test_carrier_channels_webhooks_count_and_unknown_channels_do_not() -> None:
    state = DaemonState(("web",), carriers=("parcels",), webhook_reject_limit=2)
    state.resolved({})
    assert state.channel_status("parcels") == "ok"  # a carrier has no locations to resolve
    for _ in range(2):
        state.webhook_answered("parcels", "rejected", "easypost: bad X-Hmac-Signature")
        state.webhook_answered("unknown", "rejected", "no such channel")
    assert state.channel_status("parcels") == "ok"  # rejections are a warning, never a failure (forgeable)
    assert state.channel_warnings("parcels") == [
        "webhooks rejected: the last 2 deliveries, none accepted since (easypost: bad X-Hmac-Signature);"
        " check the channel's webhook signing secret"
    ]
    assert set(state.rejections) == {"parcels"}
    state.webhook_answered("parcels", "unavailable")  # the store could not keep it: nothing about the secret
    assert state.webhooks_failing("parcels") is not None


async def test_refused_requests_are_counted_by_reason(served: Served) -> None:
    headers = {"x-token": TOKEN}
    too_large = await served.client.post("/webhooks/web", content=b"x" * (1024 * 1024 + 1), headers=headers)
    assert (too_large.status_code, too_large.json()["status"]) == (413, "too_large")
    parsed = parse((await served.client.get("/metrics")).text)
    assert parsed.value("omnibridge_http_refused_total", reason="too_large") == 1
    await served.client.post("/webhooks/web", content=b"x" * (1024 * 1024 + 1), headers=headers)
    parsed = parse((await served.client.get("/metrics")).text)
    assert parsed.value("omnibridge_http_refused_total", reason="too_large") == 2


async def test_the_time_spent_writing_a_sqlite_store_is_exported(served: Served) -> None:
    headers = {"x-token": TOKEN, "content-type": "application/json"}
    await served.client.post("/webhooks/web", content=delivery("d1"), headers=headers)

    parsed = parse((await served.client.get("/metrics")).text)

    if served.engine.store.engine.dialect.name == "sqlite":
        assert parsed.value("omnibridge_store_write_turns_total") >= 1  # the delivery's transaction at least
        assert parsed.value("omnibridge_store_write_hold_seconds_total") > 0
        assert parsed.value("omnibridge_store_write_wait_seconds_total") >= 0
    else:  # PostgreSQL has no in-process write lock: nothing to export
        assert served.engine.store.write_turns() is None
        assert parsed.series("omnibridge_store_write_turns_total") == {}
