"""The sweep: every channel with a due pending delivery gets an ``apply`` job and every channel with pending writes a
``push`` job, whatever happened to the replica that stored them; a second sweep coalesces into the waiting jobs, and
a delivery waiting for its retry gets none before it is due."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from support import postgres_schema_url
from sync.fake_channel import NOW, TOKEN, FakeChannel, receive, runtime, seed_store

from omnibridge.daemon.jobs import JobRunner
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.replicas.app import build_app
from omnibridge.replicas.tasks import APPLY, ReplicaContext, ReplicaSettings, register
from omnibridge.replicas.worker import ReplicaWorker
from omnibridge.sdk import WebhookDelivery
from omnibridge.sdk.channel import ChannelEvent, OrderEvent, OrderEventKind, OrderLineEvent
from omnibridge.shipping.runtime import CarrierRuntime
from omnibridge.store import InboxStatus, LevelNote, open_store
from omnibridge.sync import SyncEngine

if TYPE_CHECKING:
    from procrastinate import App

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

GUARD_S = 10
"""Only a guard against hanging: the assertions are on what happened, in which order."""


def delivery(delivery_id: str) -> bytes:
    return json.dumps({"delivery": delivery_id, "event": delivery_id}).encode()


def replica_of(engine: SyncEngine, url: str) -> tuple[App, ReplicaWorker]:
    """A replica's app (its tasks registered, no schedule) and worker over ``engine``, jobs in ``url``."""
    app = build_app(url)
    runner = JobRunner(engine, DaemonState(tuple(engine.channels)), DaemonMetrics())
    context = ReplicaContext(engine, runner, CarrierRuntime(engine.store, []), ReplicaSettings())
    register(app, context, {})
    return app, ReplicaWorker(app, context)


def jobs(engine: SyncEngine) -> list[Any]:
    with engine.store.engine.connect() as conn:
        query = "SELECT task_name, lock, queueing_lock, status FROM procrastinate_jobs ORDER BY id"
        return [tuple(row) for row in conn.execute(sa.text(query))]


async def test_the_sweep_defers_one_job_per_channel_with_pending_work() -> None:
    with postgres_schema_url() as url, open_store(url) as store:
        seed_store(store, ["A"], ["shop"])
        channels = [
            runtime("web", FakeChannel(["W"]), {"W": "shop"}),
            runtime("pos", FakeChannel(["P"]), {"P": "shop"}),
            runtime("erp", FakeChannel(["E"]), {"E": "shop"}),
        ]
        engine = SyncEngine(store, channels)
        assert engine.receive("web", delivery("d-1"), {"x-token": TOKEN}, "").http_status == 200
        assert engine.receive("web", delivery("d-2"), {"x-token": TOKEN}, "").http_status == 200
        waiting = engine.receive("erp", delivery("d-3"), {"x-token": TOKEN}, "")
        assert waiting.entry_id is not None
        store.retry_delivery(waiting.entry_id, "503", store.now() + timedelta(hours=1))
        store.mark_work(["pos"], ["A"])

        app, replica = replica_of(engine, url)
        async with app.open_async():
            await replica.sweep()
            await replica.sweep()  # coalesced into the jobs already waiting
        assert jobs(engine) == [
            ("omnibridge.apply", "inbox:web", "inbox:web", "todo"),
            ("omnibridge.push", "push:pos", "push:pos", "todo"),
        ]
        assert len(store.inbox(status=InboxStatus.PENDING)) == 3
        await engine.aclose()


async def test_the_sweep_marks_a_change_left_unexplained_past_the_drift_grace_once() -> None:
    """The replica that was to re-read an unexplained level when its grace ended may have died (its re-check lived
    in its memory): the sweep marks that SKU for a reconcile on its channel, once per unexplained change."""
    with postgres_schema_url() as url, open_store(url) as store:
        seed_store(store, ["A", "B"], ["shop"])
        channels = [
            runtime("web", FakeChannel(["W"]), {"W": "shop"}),
            runtime("pos", FakeChannel(["P"]), {"P": "shop"}),
        ]
        engine = SyncEngine(store, channels)
        long_ago = store.now() - engine.drift_grace - timedelta(minutes=5)
        store.remember_levels("web", {("A", "shop"): LevelNote(5, "read", long_ago, 3)})
        store.remember_levels("pos", {("B", "shop"): LevelNote(5, "read", store.now(), 3)})  # still in its grace

        app, replica = replica_of(engine, url)
        async with app.open_async():
            await replica.sweep()
            assert set(store.pending_work()) == {("web", "A")}
            assert jobs(engine) == [("omnibridge.push", "push:web", "push:web", "todo")]
            store.finish_work(store.pending_work())  # reconciled: an alerting channel keeps it unexplained
            await replica.sweep()
            assert store.pending_work() == {}  # the same change is not marked again
            later = long_ago + timedelta(minutes=1)  # a new unexplained change there, past its grace too
            store.remember_levels("web", {("A", "shop"): LevelNote(5, "read", later, 2)})
            await replica.sweep()
            assert set(store.pending_work()) == {("web", "A")}
        await engine.aclose()


class SlowFetch(FakeChannel):
    """What its webhooks name is fetched only once ``release`` is set (an order read waiting on a rate limit)."""

    def __init__(self, locations: list[str]) -> None:
        super().__init__(locations)
        self.release = asyncio.Event()

    async def webhook_events(self, delivery: WebhookDelivery) -> list[ChannelEvent]:
        await self.release.wait()
        return await super().webhook_events(delivery)


async def test_an_apply_job_applies_what_the_fetches_it_started_bring() -> None:
    """A pass waits only moments for its fetches; the job stays with its channel until they end and applies what
    they bring, so another replica never fetches the same delivery again."""
    with postgres_schema_url() as url, open_store(url) as store:
        seed_store(store, ["A"], ["shop"])
        receive(store, "A", "shop", 5)
        web = SlowFetch(["W"])
        web.webhook_payloads["d-1"] = [
            OrderEvent("o-1", OrderEventKind.PLACED, NOW, (OrderLineEvent("1", "A", 2, "W"),))
        ]
        engine = SyncEngine(store, [runtime("web", web, {"W": "shop"})], fetch_wait=0.0)
        assert engine.receive("web", delivery("d-1"), {"x-token": TOKEN}, "").http_status == 200
        passes: list[int] = []
        first_pass_over = asyncio.Event()
        process_pending = engine.process_pending

        async def counted(channels: Collection[str] | None = None) -> int:
            done = await process_pending(channels)
            passes.append(done)
            first_pass_over.set()
            return done

        engine.process_pending = counted  # type: ignore[method-assign]
        app, _ = replica_of(engine, url)
        job = asyncio.ensure_future(app.tasks[APPLY].func(channel="web"))
        await asyncio.wait_for(first_pass_over.wait(), GUARD_S)
        assert passes == [0]  # the fetch was still waiting when the first pass ended
        web.release.set()
        await asyncio.wait_for(job, GUARD_S)
        assert sum(passes) == 1
        assert store.inbox(status=InboxStatus.PENDING) == []
        assert web.fetches["d-1"] == 1
        assert store.position("A", "shop").committed == 2
        await engine.aclose()
