"""Holds that expire (issue 14): the expiry releases every uncollected hold through the ledger once, with an
incident and a task telling the channel; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pickup_holds_support import SETTINGS, pickup_world
from sync.fake_channel import NOW

from omnibridge.models import LineStatus, OrderStatus
from omnibridge.pickup import records
from omnibridge.pickup.expiry import expire_due
from omnibridge.pickup.lifecycle import PickupConflict
from omnibridge.pickup.settings import PickupSettings
from omnibridge.pickup.staff import PickupService
from omnibridge.sdk.pickup import PickupState
from omnibridge.store.engine import read_session


def test_an_uncollected_hold_is_released_once_with_an_incident_and_the_channel_told(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 3}) as world:
        world.place("1001", ("TENT", 2))
        assert world.store.position("TENT", "nyc").committed == 2
        world.clock.now = NOW + timedelta(hours=25)  # the window ended at 14:00; held until 14:00 tomorrow
        assert expire_due(world.store, SETTINGS).released == {}
        world.clock.now = NOW + timedelta(hours=26, minutes=1)
        report = expire_due(world.store, SETTINGS)
        assert report.released == {"web:1001#1": 2}
        assert world.store.position("TENT", "nyc").committed == 0
        assert world.store.position("TENT", "nyc").available == 3
        assert world.movement_keys(":expire") == ["web:order:1001:1:v2:expire"]
        line = world.store.order_line("web:order:1001:1")
        assert line is not None
        assert (line.status, line.committed, line.cancelled) == (LineStatus.CANCELLED, 0, 2)
        order = world.store.get_order("web:1001")
        assert order is not None
        assert order.status is OrderStatus.CANCELLED
        (incident,) = [i for i in world.store.incidents() if i.kind == "pickup"]
        assert incident.decision == "expired"
        assert incident.order_id == "web:1001"
        tasks = dict(world.tasks())
        assert tasks["pickup:web:1001#1:expired"]["state"] == "expired"
        # a second run finds nothing due: nothing is released twice
        again = expire_due(world.store, SETTINGS)
        assert (again.due, again.released) == ([], {})
        assert world.movement_keys(":expire") == ["web:order:1001:1:v2:expire"]
        assert world.store.verify() == []


def test_a_dry_run_lists_what_is_due_and_changes_nothing(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 3}) as world:
        world.place("1001", ("TENT", 1))
        world.clock.now = NOW + timedelta(days=2)
        report = expire_due(world.store, SETTINGS, dry_run=True)
        assert (report.due, report.released) == (["web:1001#1"], {})
        assert world.store.position("TENT", "nyc").committed == 1


def test_a_collected_pickup_never_expires_and_an_expired_one_cannot_be_collected(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 3}) as world:
        world.place("1001", ("TENT", 1))
        world.place("1002", ("TENT", 1))
        staff = PickupService(world.store, SETTINGS)
        staff.collected("web:1001#1", actor="cli:ana")
        world.clock.now = NOW + timedelta(days=2)
        assert expire_due(world.store, SETTINGS).released == {"web:1002#1": 1}
        with pytest.raises(PickupConflict, match="pickup web:1002#1 is expired: it cannot become collected"):
            staff.collected("web:1002#1", actor="cli:ana")
        with read_session(world.store.engine) as session:
            assert records.get(session, "web:1001#1").status == PickupState.COLLECTED  # type: ignore[union-attr]


def test_a_channel_that_cannot_show_pickups_gets_no_task_and_one_that_shows_cancelled_is_told_so(
    store_url: str,
) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 3}) as world:
        world.place("1001", ("TENT", 1))
        world.clock.now = NOW + timedelta(days=2)
        cancels_only = PickupSettings(SETTINGS.rules, channel_states={"web": frozenset({PickupState.CANCELLED})})
        expire_due(world.store, cancels_only)
        tasks = dict(world.tasks())
        assert tasks["pickup:web:1001#1:expired"]["state"] == "cancelled"
        world.place("1002", ("TENT", 1))
        world.clock.now = NOW + timedelta(days=4)
        expire_due(world.store, PickupSettings(SETTINGS.rules, channel_states={}))
        assert "pickup:web:1002#1:expired" not in dict(world.tasks())


@pytest.mark.anyio
async def test_the_daemon_expiry_job_releases_due_holds_and_counts_them(store_url: str) -> None:
    from omnibridge.daemon.jobs import JobRunner
    from omnibridge.daemon.schedule import EXPIRE_RESERVATIONS, Job
    from omnibridge.daemon.state import DaemonState
    from omnibridge.daemon.telemetry import DaemonMetrics
    from omnibridge.sync import SyncEngine

    with pickup_world(store_url, {("TENT", "nyc"): 3}) as world:
        world.place("1001", ("TENT", 1))
        world.place("1002", ("TENT", 1))
        metrics = DaemonMetrics()
        runner = JobRunner(SyncEngine(world.store, [world.web]), DaemonState(("web",)), metrics, pickup=SETTINGS)
        assert await runner.run(Job(EXPIRE_RESERVATIONS)) == "ok"
        assert world.store.position("TENT", "nyc").committed == 2
        world.clock.now = NOW + timedelta(days=2)
        assert await runner.run(Job(EXPIRE_RESERVATIONS)) == "ok"
        assert world.store.position("TENT", "nyc").committed == 0
        assert "omnibridge_reservations_expired_total 2" in metrics.registry.render()
