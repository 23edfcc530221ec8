"""The daemon's warehouse export job: scheduled only when the profile names a folder, and it writes there."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from support import TickingClock

from omnibridge.config import load_profile
from omnibridge.daemon.jobs import JobRunner
from omnibridge.daemon.schedule import WAREHOUSE_EXPORT, Job, JobQueue, ScheduleOptions, build_scheduler
from omnibridge.daemon.service import DaemonOptions, with_profile_limits
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.store import Store
from omnibridge.sync import SyncEngine

from .figures import LATER, build

pytestmark = pytest.mark.anyio

PROFILE = """
version: 1
merchant: {name: Trail & Co, currency: USD, timezone: UTC}
locations:
  - {id: wh, name: Warehouse, type: warehouse, capabilities: [ships]}
"""


async def test_scheduled_only_when_configured() -> None:
    off = build_scheduler(JobQueue(), [], ScheduleOptions())
    assert "warehouse_export" not in {job.id for job in off.get_jobs()}
    on = build_scheduler(JobQueue(), [], ScheduleOptions(warehouse_minutes=30))
    jobs = {job.id: job for job in on.get_jobs()}
    assert jobs["warehouse_export"].trigger.interval.total_seconds() == 1800


def test_the_profile_names_the_folder_relative_to_itself(tmp_path: Path) -> None:
    path = tmp_path / "omnibridge.yaml"
    path.write_text(PROFILE + "warehouse:\n  directory: dwh\n  interval_minutes: 15\n", encoding="utf-8")
    options = with_profile_limits(DaemonOptions(), load_profile(path))
    assert (options.warehouse_dir, options.warehouse_minutes) == (tmp_path / "dwh", 15)
    path.write_text(PROFILE, encoding="utf-8")
    assert with_profile_limits(DaemonOptions(), load_profile(path)).warehouse_dir is None


def test_a_bad_interval_is_named(tmp_path: Path) -> None:
    path = tmp_path / "omnibridge.yaml"
    path.write_text(
        PROFILE + textwrap.dedent("warehouse:\n  directory: dwh\n  interval_minutes: 0\n"), encoding="utf-8"
    )
    with pytest.raises(Exception, match="interval_minutes"):
        load_profile(path)


async def test_the_job_exports_and_counts_rows(store: Store, clock: TickingClock, tmp_path: Path) -> None:
    build(store)
    clock.now = LATER
    metrics = DaemonMetrics()
    engine = cast(SyncEngine, SimpleNamespace(store=store, channels={}))
    runner = JobRunner(engine, DaemonState(()), metrics, warehouse_dir=tmp_path / "dwh")
    assert await runner.run(Job(WAREHOUSE_EXPORT)) == "ok"
    assert metrics.exported_records.value(channel="warehouse", kind="movements") == 6
    assert (tmp_path / "dwh" / "movements" / "date=2026-03-01").is_dir()
    assert await runner.run(Job(WAREHOUSE_EXPORT)) == "ok"
    assert metrics.exported_records.value(channel="warehouse", kind="movements") == 6


async def test_without_a_folder_the_job_fails_and_says_why(store: Store) -> None:
    runner = JobRunner(cast(SyncEngine, SimpleNamespace(store=store)), DaemonState(()), DaemonMetrics())
    assert await runner.run(Job(WAREHOUSE_EXPORT)) == "failed"
