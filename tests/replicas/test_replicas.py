"""Several replicas on one PostgreSQL (real ``omnibridge run --replica`` processes, local emulators, a load
balancer in front): webhooks arrive at any replica and each acknowledged delivery is applied exactly once; a
scheduled tick runs once fleet-wide; a killed replica's job is finished by another."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from reliability.crash_harness import HANG_GUARD_S, Driver, check_world, make_stream, wait_settled
from reliability.harness import Knobs, disagreements

from .harness import ReplicaWorld, replica_world

pytestmark = pytest.mark.postgres

SEED = 20261206


def wait_for(
    what: str, check: Callable[[], bool], guard_s: float = HANG_GUARD_S, explain: Callable[[], str] | None = None
) -> None:
    deadline = time.monotonic() + guard_s
    while not check():
        if time.monotonic() >= deadline:
            detail = f"\n{explain()}" if explain is not None else ""
            raise AssertionError(f"{what}: not after {guard_s:.0f} s{detail}")
        time.sleep(0.1)


def converged(world: ReplicaWorld) -> bool:
    return not world.emulators.call(lambda: disagreements(world.store, world.emulators.emulators))


def why_not_converged(world: ReplicaWorld) -> str:
    """What still disagrees and what the fleet still has to do (for a convergence failure's message)."""
    mismatches = world.emulators.call(lambda: disagreements(world.store, world.emulators.emulators))
    pending = rows(world, "SELECT channel, kind, count(*) AS n FROM pending_work GROUP BY channel, kind")
    inbox = rows(world, "SELECT channel, status, count(*) AS n FROM webhook_inbox GROUP BY channel, status")
    levels = [
        tuple(row)
        for mismatch in mismatches
        for row in rows(
            world,
            "SELECT channel, sku, location_id, quantity, source, shown, unexplained_since, version"
            " FROM channel_levels WHERE channel = :channel AND sku = :sku",
            channel=mismatch.channel,
            sku=mismatch.sku,
        )
    ]
    unsettled = rows(world, "SELECT channel, sku, quantity, status FROM push_outbox WHERE finished_at IS NULL")
    jobs = rows(
        world,
        "SELECT task_name, status, args->>'channel' AS channel, count(*) AS n FROM procrastinate_jobs"
        " WHERE status IN ('todo', 'doing') GROUP BY task_name, status, args->>'channel'",
    )
    lines = [f"mismatches: {mismatches}", f"pending work: {[tuple(r) for r in pending]}"]
    lines += [f"inbox: {[tuple(r) for r in inbox]}", f"jobs waiting or running: {[tuple(r) for r in jobs]}"]
    lines += [f"known levels of the mismatched SKUs: {levels}", f"writes unsettled: {[tuple(r) for r in unsettled]}"]
    return "\n".join(lines)


def rows(world: ReplicaWorld, query: str, **params: object) -> list[sa.Row[Any]]:
    with world.store.engine.connect() as conn:
        return list(conn.execute(sa.text(query), params))


def test_webhooks_at_any_replica_are_applied_exactly_once_and_every_channel_converges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with replica_world(tmp_path, monkeypatch, 3) as world:
        world.start_all()
        driver = Driver(world.emulators)
        for sale in make_stream(SEED, 30):
            driver.play(sale)
        wait_settled(world.emulators, world.store)
        wait_for("every channel shows the ledger", lambda: converged(world), explain=lambda: why_not_converged(world))
        findings = check_world(world.emulators, world.store, driver)
        assert sum(findings.acknowledged.values()) >= 30
        assert len(world.balancer.forwarded) == 3  # every replica received webhooks
        for replica in world.replicas:
            assert replica.terminate() == 0
        appliers = [replica for replica in world.replicas if '"replica.applied"' in replica.log_path.read_text()]
        assert len(appliers) >= 2  # deliveries were applied by more than one replica


def test_a_scheduled_tick_runs_once_fleet_wide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with replica_world(tmp_path, monkeypatch, 3, extra=["--verify-minutes", "0.05"]) as world:  # every 3 s
        world.start_all()
        query = (
            "SELECT args->>'timestamp' AS tick, status FROM procrastinate_jobs"
            " WHERE task_name = 'omnibridge.tick' AND args->>'kind' = 'verify'"
        )
        wait_for("four verify ticks ran", lambda: sum(row.status == "succeeded" for row in rows(world, query)) >= 4)
        for replica in world.replicas:
            assert replica.terminate() == 0
        ticks = rows(world, query)
        per_tick = Counter(row.tick for row in ticks)
        assert set(per_tick.values()) == {1}, per_tick  # one job per tick, whichever replica deferred it
        succeeded = sum(row.status == "succeeded" for row in ticks)
        runs = sum(replica.log_path.read_text().count('"job": "verify"') for replica in world.replicas)
        assert runs == succeeded  # each tick's job ran once (job.done logged by the replica that ran it)


def test_a_killed_replicas_job_is_finished_by_another(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    slow = Knobs(latency_ms=(250.0, 300.0), webhook_retry_backoff_s=0.05, webhook_max_attempts=400)
    with replica_world(tmp_path, monkeypatch, 2, knobs=slow) as world:
        world.start_all()
        doing = (
            "SELECT id, args->>'channel' AS channel FROM procrastinate_jobs"
            " WHERE task_name = 'omnibridge.readback_channel' AND status = 'doing'"
        )
        wait_for("a read-back in flight", lambda: bool(rows(world, doing)))
        first = rows(world, doing)[0]
        job, channel = first.id, first.channel
        started = f"Starting job omnibridge.readback_channel[{job}]"
        wait_for("its replica logged it", lambda: any(started in r.log_path.read_text() for r in world.replicas))
        (runner,) = [replica for replica in world.replicas if started in replica.log_path.read_text()]
        (other,) = [replica for replica in world.replicas if replica is not runner]
        runner.kill()
        before = other.log_path.read_text()
        # the rescue puts the dead replica's job back (or, when a job of the same key already waits, marks it
        # failed so that one runs): either way the channel's read-back is done by the replica still alive
        done = (
            "SELECT id FROM procrastinate_jobs WHERE task_name = 'omnibridge.readback_channel'"
            " AND args->>'channel' = :channel AND status = 'succeeded' AND id >= :job"
        )

        def taken_over() -> bool:
            after = other.log_path.read_text()[len(before) :]
            return any(
                f"Job omnibridge.readback_channel[{row.id}]" in after
                for row in rows(world, done, channel=channel, job=job)
            )

        wait_for("the read-back finished on the other replica", taken_over)
        assert rows(world, "SELECT status FROM procrastinate_jobs WHERE id = :job", job=job)[0].status != "doing"
        assert other.terminate() == 0
