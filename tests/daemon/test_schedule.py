"""Scheduled ticks only enqueue (coalesced to one item per job); one worker runs jobs and inbox passes serially."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest

from omnibridge.daemon.jobs import JobRunner
from omnibridge.daemon.schedule import (
    EXPIRE_RESERVATIONS,
    POLL,
    READBACK,
    TRACKING_REFRESH,
    WAREHOUSE_EXPORT,
    Job,
    JobQueue,
    ScheduleOptions,
    build_scheduler,
    job_intervals,
    polled_channels,
)
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.daemon.worker import Worker
from omnibridge.store import Store, open_store
from omnibridge.sync import ApplyOutcome, ChannelRuntime, SyncEngine, SyncReport

from .fakes import FakeConnector, runtime
from .promtext import parse

pytestmark = pytest.mark.anyio
GUARD_S = 10.0
"""Only a guard against hangs; nothing asserts on time."""


class RecordingEngine:
    """Stands in for the engine to record what the worker asks of it, and how many calls overlap."""

    def __init__(self, channels: list[ChannelRuntime]) -> None:
        self.channels = {channel.id: channel for channel in channels}
        self.calls: list[str] = []
        self.active = 0
        self.most_active = 0
        self.gate: asyncio.Event | None = None
        self.store: Store | None = None  # the expiry job reads the pickups there (set by the test that runs it)

    async def _op(self, name: str) -> None:
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        self.calls.append(name)
        try:
            if self.gate is not None and name == "sync_once":
                await self.gate.wait()
            for _ in range(3):
                await asyncio.sleep(0)
        finally:
            self.active -= 1
        self.calls.append(f"{name}:end")

    async def resolve_locations(self) -> dict[str, str]:
        await self._op("resolve")
        return {}

    async def sync_once(self) -> SyncReport:
        await self._op("sync_once")
        return SyncReport([])

    async def process_pending(self) -> int:
        await self._op("inbox")
        return 0

    async def pull(self, channel: ChannelRuntime) -> tuple[int, ApplyOutcome]:
        await self._op(f"pull:{channel.id}")
        return 0, ApplyOutcome()

    async def flush(self) -> None:
        await self._op("flush")

    async def run_writers(self, stop: asyncio.Event, *, idle_seconds: float = 1.0) -> None:
        await stop.wait()  # the channels' writers: nothing to write here


def channels() -> list[ChannelRuntime]:
    return [
        runtime("web", FakeConnector(["W1"]), {"W1": "wh"}, webhooks=True),
        runtime("feed", FakeConnector(["F1"]), {"F1": "wh"}, webhooks=False),
        runtime("market", FakeConnector(["M1"]), {"M1": "wh"}, webhooks=False),
    ]


def make_worker(engine: RecordingEngine) -> tuple[Worker, JobQueue, DaemonMetrics]:
    metrics = DaemonMetrics()
    holder: dict[str, Worker] = {}
    queue = JobQueue(
        on_enqueue=lambda _job: holder["worker"].wake(),
        on_coalesced=lambda job: metrics.jobs_coalesced.inc(job=job.kind),
    )
    as_engine = cast(SyncEngine, engine)
    runner = JobRunner(as_engine, DaemonState(tuple(engine.channels)), metrics)
    holder["worker"] = worker = Worker(as_engine, queue, runner, metrics, idle_seconds=0.01)
    return worker, queue, metrics


async def wait_for(condition: Any) -> None:
    async with asyncio.timeout(GUARD_S):
        while not condition():
            await asyncio.sleep(0.005)


def test_queue_keeps_one_item_per_job_key_in_order() -> None:
    coalesced: list[Job] = []
    queue = JobQueue(on_coalesced=coalesced.append)
    assert queue.enqueue(Job(READBACK))
    assert queue.enqueue(Job(POLL, "feed"))
    assert queue.enqueue(Job(POLL, "market"))
    assert not queue.enqueue(Job(READBACK))
    assert not queue.enqueue(Job(POLL, "feed"))
    assert queue.waiting() == ["readback", "poll:feed", "poll:market"]
    assert coalesced == [Job(READBACK), Job(POLL, "feed")]
    assert queue.pop() == Job(READBACK)
    assert queue.enqueue(Job(READBACK))  # once taken, the next tick queues it again
    assert [queue.pop(), queue.pop(), queue.pop(), queue.pop()] == [
        Job(POLL, "feed"),
        Job(POLL, "market"),
        Job(READBACK),
        None,
    ]


async def test_schedule_has_the_documented_jobs_and_their_ticks_only_enqueue() -> None:
    engine = RecordingEngine(channels())
    queue = JobQueue()
    scheduler = build_scheduler(queue, engine.channels.values(), ScheduleOptions(poll_seconds=30, readback_minutes=5))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs) == ["expire_reservations", "poll:feed", "poll:market", "privacy_purge", "readback", "verify"]
    assert polled_channels(engine.channels.values()) == ["feed", "market"]  # "web" has webhooks: not polled
    intervals = {job_id: job.trigger.interval.total_seconds() for job_id, job in jobs.items()}
    assert intervals == {
        "readback": 300,
        "poll:feed": 30,
        "poll:market": 30,
        "expire_reservations": 60,
        "verify": 3600,
        "privacy_purge": 3600,
    }
    for job in jobs.values():
        assert (job.coalesce, job.max_instances) == (True, 1)

    for _ in range(3):  # three ticks of each job while the worker is busy elsewhere
        for job in jobs.values():
            await job.func(*job.args, **job.kwargs)

    assert queue.waiting() == ["readback", "poll:feed", "poll:market", "expire_reservations", "verify", "privacy_purge"]
    assert engine.calls == []  # a tick never runs sync itself


def test_the_scheduler_runs_every_job_of_the_schedule_at_its_interval() -> None:
    options = ScheduleOptions(privacy_minutes=120, warehouse_minutes=30, tracking_minutes=20)
    kwargs: dict[str, Any] = {"carriers": ["post", "courier"], "fulfilment": True}
    scheduler = build_scheduler(JobQueue(), channels(), options, **kwargs)
    scheduled = {job.id: job.trigger.interval.total_seconds() for job in scheduler.get_jobs()}
    intervals = job_intervals(channels(), options, **kwargs)
    assert scheduled == {job.key: seconds for job, seconds in intervals.items()}
    assert list(scheduled) == [job.key for job in intervals]
    assert intervals[Job(TRACKING_REFRESH, "courier")] == 1200
    assert intervals[Job(WAREHOUSE_EXPORT)] == 1800


async def test_a_running_scheduler_ticks_into_the_queue() -> None:
    queue = JobQueue()
    scheduler = build_scheduler(queue, channels(), ScheduleOptions(poll_seconds=0.02, readback_minutes=60))
    scheduler.start()
    try:
        await wait_for(lambda: "poll:feed" in queue.waiting() and "poll:market" in queue.waiting())
    finally:
        scheduler.shutdown(wait=False)
    assert "readback" not in queue.waiting()


async def test_worker_runs_jobs_and_inbox_passes_one_at_a_time(tmp_path: Path) -> None:
    engine = RecordingEngine(channels())
    engine.store = open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}")
    worker, queue, metrics = make_worker(engine)
    task = asyncio.get_running_loop().create_task(worker.run())

    async def hammer() -> None:
        for _ in range(50):
            worker.wake()
            queue.enqueue(Job(READBACK))
            queue.enqueue(Job(POLL, "feed"))
            queue.enqueue(Job(EXPIRE_RESERVATIONS))
            await asyncio.sleep(0)

    await hammer()
    await wait_for(lambda: not len(queue) and engine.calls.count("pull:feed:end") >= 1)
    worker.stop()
    await asyncio.wait_for(task, GUARD_S)

    assert engine.most_active == 1
    assert engine.calls[:4] == ["resolve", "resolve:end", "sync_once", "sync_once:end"]  # resolve, then catch up
    assert engine.calls[4] == "inbox"  # then the pending inbox
    assert "flush" in engine.calls[engine.calls.index("pull:feed") :]  # a poll pulls, then flushes
    parsed = parse(metrics.registry.render())
    assert parsed.value("omnibridge_job_runs_total", job="startup", outcome="ok") == 1
    assert parsed.value("omnibridge_job_runs_total", job="poll", outcome="ok") >= 1
    assert parsed.value("omnibridge_job_runs_total", job="expire_reservations", outcome="ok") >= 1
    assert parsed.value("omnibridge_reservations_expired_total") == 0
    engine.store.close()


async def test_stop_lets_the_job_in_flight_finish_and_starts_nothing_after() -> None:
    engine = RecordingEngine(channels())
    engine.gate = asyncio.Event()
    worker, queue, _ = make_worker(engine)
    task = asyncio.get_running_loop().create_task(worker.run())
    await wait_for(lambda: "sync_once" in engine.calls)
    queue.enqueue(Job(POLL, "feed"))
    worker.stop()
    engine.gate.set()
    await asyncio.wait_for(task, GUARD_S)
    assert engine.calls[-1] == "sync_once:end"
    assert queue.waiting() == ["poll:feed"]  # left for the next start (a queued tick holds no state)


async def test_poll_of_an_unknown_channel_fails_without_stopping_the_worker() -> None:
    engine = RecordingEngine(channels())
    worker, _, metrics = make_worker(engine)
    assert await worker.runner.run(Job(POLL, "gone")) == "failed"
    assert await worker.runner.run(Job(POLL, "feed")) == "ok"
    parsed = parse(metrics.registry.render())
    assert parsed.value("omnibridge_job_runs_total", job="poll", outcome="failed") == 1


def test_the_verify_job_records_each_inconsistency_once_as_an_incident(tmp_path: Path) -> None:
    from omnibridge.daemon.jobs import verify_ledger
    from omnibridge.models import MovementKind, StockMovement
    from omnibridge.store import open_store
    from omnibridge.store.tables import POSITIONS

    with open_store(f"sqlite:///{tmp_path / 'v.db'}") as store:
        store.apply(
            StockMovement(
                idempotency_key="r-1",
                source="manual",
                kind=MovementKind.RECEIPT,
                sku="A",
                location_id="wh",
                quantity=3,
                occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        assert verify_ledger(store) == "ok"
        with store.unit_of_work() as uow:
            uow.session.execute(POSITIONS.update().values(on_hand=5))
        assert verify_ledger(store) == "inconsistent"
        assert verify_ledger(store) == "inconsistent"
        [incident] = store.incidents(kind="verify")
        assert "on_hand is 5 but its movements sum to 3" in incident.summary
