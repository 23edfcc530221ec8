"""The daemon's single consumer: inbox passes and queued jobs, one at a time, never concurrently.

The engine is driven from one coroutine only (it is single-loop and not re-entrant). Each turn of the loop
waits until something happens — a delivery was stored (:meth:`Worker.wake`), a job was queued, the idle
interval passed or the daemon is stopping — then runs one inbox pass (the carrier channels' deliveries through
``carriers.process_pending()``, then ``engine.process_pending()``: apply the pending deliveries and reconcile what
they touched) and then at most one queued job, so webhooks never wait behind more than one job. The pass only
applies: each channel's own writer (:mod:`omnibridge.sync.writers`, run beside the loop) writes what it marked.

Stopping (:meth:`Worker.stop`) lets the pass or job in flight finish; deliveries not yet processed stay
``pending`` in the inbox and are resumed by the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from omnibridge.daemon.jobs import STARTUP, JobRunner, log
from omnibridge.daemon.schedule import READBACK, RESOLVE_LOCATIONS, Job, JobQueue
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.errors import OmnibridgeError
from omnibridge.shipping.runtime import CarrierRuntime
from omnibridge.sync import SyncEngine


class Worker:
    """Runs inbox passes and queued jobs for one engine (see the module docstring)."""

    def __init__(
        self,
        engine: SyncEngine,
        queue: JobQueue,
        runner: JobRunner,
        metrics: DaemonMetrics,
        *,
        idle_seconds: float = 1.0,
        carriers: CarrierRuntime | None = None,
    ) -> None:
        self.engine = engine
        self.carriers = carriers
        self.queue = queue
        self.runner = runner
        self.metrics = metrics
        self.idle_seconds = idle_seconds
        self._signal = asyncio.Event()
        self._stopping = False
        self.busy = False

    def wake(self) -> None:
        """Something to do: a delivery was stored or a job queued."""
        self._signal.set()

    def stop(self) -> None:
        """Finish what is in flight, then return from :meth:`run`."""
        self._stopping = True
        self._signal.set()

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def run(self, *, catch_up: bool = True) -> None:
        """Resolve locations, catch up (one read-back, then the pending inbox), then serve until :meth:`stop`; each
        channel's writer (:mod:`omnibridge.sync.writers`) runs beside it and finishes its write in flight."""
        stop_writers = asyncio.Event()
        writers = asyncio.ensure_future(self.engine.run_writers(stop_writers, idle_seconds=self.idle_seconds))
        try:
            await self._serve(catch_up=catch_up)
        finally:
            stop_writers.set()
            await writers

    async def _serve(self, *, catch_up: bool) -> None:
        if not self._stopping:
            await self._run_job(Job(RESOLVE_LOCATIONS))
        if catch_up and not self._stopping:
            await self._run_job(Job(READBACK), STARTUP)
            self.runner.state.catch_up_done = True
        while not self._stopping:
            await self.inbox_pass()
            if self._stopping:
                break
            job = self.queue.pop()
            if job is not None:
                await self._run_job(job)
                continue  # look at the inbox again before the next job
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.idle_seconds):
                    await self._signal.wait()
            self._signal.clear()

    async def inbox_pass(self) -> int:
        """Apply every pending delivery (carrier channels' first: they are cheap and touch no channel); the worker
        outlives any one bad pass (the inbox keeps what was not done), and a failing carrier pass never holds up
        the sales channels' deliveries."""
        self.busy = True
        try:
            done = 0
            if self.carriers is not None and self.carriers.channels:
                done += await self._pass(self.carriers.process_pending, "carriers")
            done += await self._pass(self.engine.process_pending, "channels")
        finally:
            self.busy = False
        if done:
            log().debug("worker.pass", processed=done)
        return done

    async def _pass(self, process: Callable[[], Awaitable[int]], part: str) -> int:
        try:
            done = await process()
        except OmnibridgeError as exc:
            log().error("worker.pass_failed", part=part, reason=str(exc))
            self.metrics.inbox_passes.inc(outcome="failed")
            return 0
        except Exception:
            log().exception("worker.pass_crashed", part=part)
            self.metrics.inbox_passes.inc(outcome="failed")
            return 0
        if done:
            self.metrics.inbox_passes.inc(outcome="ok")
        return done

    async def _run_job(self, job: Job, label: str | None = None) -> None:
        self.busy = True
        try:
            await self.runner.run(job, label=label)
        finally:
            self.busy = False
