"""The replicas' jobs: what runs where, one at a time per key, fleet-wide (procrastinate locks).

Jobs and their locks (``lock`` runs same-key jobs one at a time, in order; ``queueing_lock`` keeps at most one
waiting, so a burst of deferrals coalesces into one job that does everything pending when it runs):

* ``omnibridge.apply`` (channel): apply the channel's pending inbox entries (both its streams: orders and refunds,
  stock notifications), lock ``inbox:{channel}``. Coarser than a lock per stream: the engine's pass applies a
  channel's streams together. Between processes the inbox row's claim (``UnitOfWork.take_delivery``) is what keeps
  an entry from ever being applied twice, even if two jobs of a channel ran at once. A pass waits only moments for
  what the deliveries name to be fetched; while fetches it started are still running, the job stays with its channel
  (passes every ``poll_seconds`` or as a fetch ends, at most ``drain_seconds``), so what they bring is applied by
  the replica that fetched it, not fetched again by the replica that runs the channel's next job.
* ``omnibridge.apply_carriers``: the carrier channels' tracking deliveries, lock ``inbox:carriers``.
* ``omnibridge.pull`` (channel): pull the channel since its bookmark, lock ``inbox:{channel}`` (never beside the
  channel's deliveries), queueing lock ``pull:{channel}``.
* ``omnibridge.push`` (channel): write what is pending for the channel (compare-and-set on what it is known to
  show), lock ``push:{channel}``: one replica at a time writes a channel, and channels never wait for each other.
* ``omnibridge.readback_channel`` (channel): read the channel and reconcile every SKU, lock ``push:{channel}``,
  queueing lock ``readback:{channel}``.
* ``omnibridge.tick`` (kind, channel): a scheduled job, periodic (one job per tick fleet-wide, procrastinate's
  periodic defers), lock ``job:{key}``. A read-back tick fans out into ``pull`` and ``readback_channel`` jobs, a
  poll tick into a ``pull``; the others run the daemon's :class:`~omnibridge.daemon.jobs.JobRunner`.
* ``omnibridge.prune``: hourly, deletes finished jobs older than ``keep_jobs_hours``.
* ``omnibridge.rescue``: periodic, puts back the jobs of replicas whose heartbeat stopped (no lock: a dead replica
  may have been running it; retrying a job twice is refused by the database).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from structlog.stdlib import BoundLogger

from omnibridge.daemon.jobs import JobRunner
from omnibridge.daemon.schedule import POLL, READBACK, Job, ScheduleOptions, job_intervals
from omnibridge.errors import ConnectorError
from omnibridge.logs import get_logger
from omnibridge.shipping.runtime import CarrierRuntime
from omnibridge.sync import SyncEngine

if TYPE_CHECKING:
    from procrastinate import App

APPLY = "omnibridge.apply"
APPLY_CARRIERS = "omnibridge.apply_carriers"
PULL = "omnibridge.pull"
PUSH = "omnibridge.push"
READBACK_CHANNEL = "omnibridge.readback_channel"
TICK = "omnibridge.tick"
RESCUE = "omnibridge.rescue"
PRUNE = "omnibridge.prune"


def log() -> BoundLogger:
    return get_logger("omnibridge.replicas")


@dataclass(frozen=True)
class ReplicaSettings:
    """How fast a replica notices work and a dead peer."""

    concurrency: int = 8
    """Jobs a replica runs at once (different channels, different locks)."""
    heartbeat_seconds: float = 1.0
    """A replica's worker marks itself alive this often."""
    stalled_seconds: float = 4.0
    """A replica silent this long is dead: its jobs are put back for another (procrastinate's default is 30 s)."""
    rescue_seconds: int = 2
    """The rescue tick looks for dead replicas' jobs this often."""
    sweep_seconds: float = 1.0
    """Each replica looks for pending inbox entries and pending writes without a job this often."""
    poll_seconds: float = 0.1
    """How often an idle worker looks for a job without being notified: a job waiting behind a same-lock job that
    just ended is only found this way (procrastinate notifies at deferral, not when a lock frees)."""
    keep_jobs_hours: int = 24
    """Finished jobs (succeeded, failed) are kept this long, then pruned."""
    drain_seconds: float = 30.0
    """The longest an ``apply`` job stays with its channel for the fetches it started (see the module docstring)."""


@dataclass
class ReplicaContext:
    """What the jobs run against: this replica's engine, carriers and job runner."""

    engine: SyncEngine
    runner: JobRunner
    carriers: CarrierRuntime
    settings: ReplicaSettings


def cron_every(seconds: float) -> str:
    """The cron line (procrastinate's, seconds as a 6th column) closest to "every ``seconds``": whole seconds under a
    minute, whole minutes under an hour, whole hours beyond (ticks align on the clock, as cron's do)."""
    whole = max(1, round(seconds))
    if whole < 60:
        return f"* * * * * */{whole}"
    minutes = max(1, round(whole / 60))
    if minutes < 60:
        return f"*/{minutes} * * * *"
    return f"0 */{max(1, min(23, round(minutes / 60)))} * * *"


def scheduled_jobs(
    engine: SyncEngine, options: ScheduleOptions, *, carriers: Iterable[str], fulfilment: bool
) -> dict[Job, float]:
    """Every scheduled job of the daemon's schedule (:func:`omnibridge.daemon.schedule.job_intervals`) with its
    interval in seconds."""
    return job_intervals(engine.channels.values(), options, carriers=carriers, fulfilment=fulfilment)


async def defer(app: App, task: str, *, lock: str | None, queueing_lock: str | None, **kwargs: str) -> bool:
    """Defer ``task``; False when a job with the same queueing lock is already waiting (it will do this work)."""
    from procrastinate.exceptions import AlreadyEnqueued

    try:
        await app.configure_task(task, lock=lock, queueing_lock=queueing_lock).defer_async(**kwargs)
    except AlreadyEnqueued:
        return False
    return True


async def defer_apply(app: App, channel: str) -> bool:
    return await defer(app, APPLY, lock=f"inbox:{channel}", queueing_lock=f"inbox:{channel}", channel=channel)


async def defer_apply_carriers(app: App) -> bool:
    return await defer(app, APPLY_CARRIERS, lock="inbox:carriers", queueing_lock="inbox:carriers")


async def defer_push(app: App, channel: str) -> bool:
    return await defer(app, PUSH, lock=f"push:{channel}", queueing_lock=f"push:{channel}", channel=channel)


async def defer_pull(app: App, channel: str) -> bool:
    return await defer(app, PULL, lock=f"inbox:{channel}", queueing_lock=f"pull:{channel}", channel=channel)


async def defer_readback(app: App, channel: str) -> bool:
    return await defer(
        app, READBACK_CHANNEL, lock=f"push:{channel}", queueing_lock=f"readback:{channel}", channel=channel
    )


def register(app: App, ctx: ReplicaContext, schedule: dict[Job, float]) -> None:
    """Register the replicas' tasks on ``app`` (every replica registers the same names) and the periodic ticks of
    ``schedule`` (see the module docstring)."""
    engine = ctx.engine

    @app.task(name=APPLY)
    async def apply(channel: str) -> None:
        done = await engine.process_pending([channel])
        loop = asyncio.get_running_loop()
        until = loop.time() + ctx.settings.drain_seconds
        while (running := engine.fetches_running(channel)) and loop.time() < until:
            await asyncio.wait(running, timeout=ctx.settings.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
            done += await engine.process_pending([channel])
        if done:
            log().info("replica.applied", channel=channel, deliveries=done)

    @app.task(name=APPLY_CARRIERS)
    async def apply_carriers() -> None:
        if ctx.carriers.channels:
            await ctx.carriers.process_pending()

    @app.task(name=PULL)
    async def pull(channel: str) -> None:
        runtime = engine.channels.get(channel)
        await engine.resolve_locations(respect_backoff=True)
        if runtime is None or not engine.available(channel):
            return
        try:
            await engine.pull(runtime)
        except ConnectorError as exc:
            log().warning("pull.failed", channel=channel, reason=str(exc))
            return
        for target in engine.channels.values():
            if not target.stock_source:
                await defer_push(app, target.id)

    @app.task(name=PUSH)
    async def push(channel: str) -> None:
        await engine.resolve_locations(respect_backoff=True)
        await engine.write_channel(channel)

    @app.task(name=READBACK_CHANNEL)
    async def readback_channel(channel: str) -> None:
        try:
            await engine.readback_channel(channel)
        except ConnectorError as exc:
            log().warning("readback.channel_failed", channel=channel, reason=str(exc))

    @app.task(name=TICK)
    async def tick(timestamp: int, kind: str, channel: str | None = None) -> None:
        if kind == READBACK:
            for runtime in engine.channels.values():
                await defer_pull(app, runtime.id)
                if not runtime.stock_source:
                    await defer_readback(app, runtime.id)
        elif kind == POLL and channel is not None:
            await defer_pull(app, channel)
        else:
            await ctx.runner.run(Job(kind, channel))

    @app.task(name=RESCUE)
    async def rescue(timestamp: int) -> None:
        await rescue_stalled(app, ctx.settings.stalled_seconds)

    @app.task(name=PRUNE)
    async def prune(timestamp: int) -> None:
        await app.job_manager.delete_old_jobs(nb_hours=ctx.settings.keep_jobs_hours, include_failed=True)

    for job, seconds in schedule.items():
        app.periodic(
            cron=cron_every(seconds),
            periodic_id=job.key,
            lock=f"job:{job.key}",
            queueing_lock=f"job:{job.key}",
            task_kwargs={"kind": job.kind, "channel": job.channel},
        )(tick)
    app.periodic(cron=cron_every(ctx.settings.rescue_seconds), periodic_id="rescue")(rescue)
    app.periodic(cron="17 * * * *", periodic_id="prune", queueing_lock="prune")(prune)


async def rescue_stalled(app: App, stalled_seconds: float) -> int:
    """Put back the jobs of workers silent for ``stalled_seconds`` (a replica that died); returns how many. A job
    whose queueing lock is already taken by a waiting job is marked failed instead: the waiting one does its work."""
    from procrastinate.jobs import Status

    manager = app.job_manager
    rescued = 0
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_seconds):
        assert job.id is not None
        try:
            await manager.retry_job(job)
            rescued += 1
        except Exception as exc:  # the queueing lock is taken (a unique index), or another replica retried it
            log().info("replica.rescue_superseded", job=job.id, task=job.task_name, reason=type(exc).__name__)
            try:
                await manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)
            except Exception as finish_error:  # another replica finished it first
                log().info("replica.rescue_skipped", job=job.id, reason=type(finish_error).__name__)
    if rescued:
        log().warning("replica.rescued", jobs=rescued)
    return rescued


__all__ = [
    "ReplicaContext",
    "ReplicaSettings",
    "cron_every",
    "defer_apply",
    "defer_apply_carriers",
    "defer_push",
    "register",
    "rescue_stalled",
    "scheduled_jobs",
]
