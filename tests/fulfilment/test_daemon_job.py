"""The daemon runs the dispatcher as a scheduled job (``fulfilment`` every ``fulfilment_seconds``): its outcome is
``ok`` when every task was done, ``partial`` otherwise, and its task runs are exported as metrics."""

from __future__ import annotations

from typing import cast

import pytest

from fulfilment.fakes import SalesChannel, place_order, runtime, seed
from omnibridge.daemon.jobs import JobRunner
from omnibridge.daemon.schedule import FULFILMENT, Job, JobQueue, ScheduleOptions, build_scheduler
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.errors import FatalConnectorError
from omnibridge.fulfilment.dispatcher import Dispatcher
from omnibridge.fulfilment.tasks import confirm_task
from omnibridge.store import Store
from omnibridge.sync import SyncEngine

pytestmark = pytest.mark.anyio


class _Engine:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.channels: dict[str, object] = {}


def test_the_schedule_runs_the_dispatcher_every_few_seconds() -> None:
    scheduler = build_scheduler(JobQueue(), [], ScheduleOptions(fulfilment_seconds=3), fulfilment=True)
    job = scheduler.get_job(FULFILMENT)
    assert job is not None
    assert job.trigger.interval.total_seconds() == 3
    assert build_scheduler(JobQueue(), [], ScheduleOptions()).get_job(FULFILMENT) is None


async def test_the_job_runs_a_pass_and_counts_each_task(store: Store) -> None:
    seed(store)
    web = SalesChannel(["W"])
    place_order(store, runtime("web", web, {"W": "wh"}))
    order = store.get_order("web:1001")
    assert order is not None
    with store.unit_of_work() as uow:
        uow.enqueue_task(confirm_task(order, "shp-1", "wh", [("L1", 2)], order.placed_at))
        uow.enqueue_task(confirm_task(order, "shp-2", "wh", [("L2", 1)], order.placed_at))
    web.script = [FatalConnectorError("401", connector="web", op="confirm")]
    metrics = DaemonMetrics()
    dispatcher = Dispatcher(store, {"web": runtime("web", web, {"W": "wh"})})
    dispatcher.register_metrics(metrics.registry)
    engine = cast(SyncEngine, _Engine(store))
    runner = JobRunner(engine, DaemonState(()), metrics, dispatcher=dispatcher)

    assert await runner.run(Job(FULFILMENT)) == "partial"
    assert await runner.run(Job(FULFILMENT)) == "ok"  # nothing due: the failed one waits for an operator
    rendered = metrics.registry.render()
    assert 'omnibridge_fulfilment_tasks_total{kind="confirm",outcome="done"} 1' in rendered
    assert 'omnibridge_fulfilment_tasks_total{kind="confirm",outcome="failed"} 1' in rendered
    assert 'omnibridge_job_runs_total{job="fulfilment",outcome="partial"} 1' in rendered
