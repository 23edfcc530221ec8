"""The demo's webhook worker, which can step aside while a scheduled job runs (the engine is not re-entrant).

In the daemon, scheduled jobs (a poll of a channel without webhooks, such as the ERP's file feed) run one at a
time between inbox passes. The demo has no scheduler: :meth:`DemoWorker.poll` stops the worker, runs the same
work as the daemon's ``poll`` job (pull the channel, then reconcile what it changed) and starts it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from omnibridge.sync import SyncEngine
from omnibridge.sync.apply import ApplyOutcome

IDLE_SECONDS = 0.25


@dataclass(frozen=True)
class Polled:
    """One poll: when it started (``time.perf_counter``), how many events it pulled and what applying them did."""

    started: float
    events: int
    outcome: ApplyOutcome


class DemoWorker:
    """``engine.run_worker`` as a task that can be paused; :meth:`start` it, :meth:`stop` it at the end."""

    def __init__(self, engine: SyncEngine) -> None:
        self.engine = engine
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._stop = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(
                self.engine.run_worker(self._stop, idle_seconds=IDLE_SECONDS)
            )

    async def stop(self) -> None:
        """Let the current pass finish, then stop (returns within one idle period after it)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        running = self._task is not None
        await self.stop()
        try:
            yield
        finally:
            if running:
                self.start()

    async def poll(self, channel_id: str, *, first: Callable[[], object] | None = None) -> Polled:
        """What the daemon's ``poll`` job does: pull ``channel_id``, then reconcile the SKUs it touched. ``first``
        runs once the worker has stepped aside, just before the pull (the clock of :attr:`Polled.started` starts
        there)."""
        async with self.paused():
            started = time.perf_counter()
            if first is not None:
                first()
            events, outcome = await self.engine.pull(self.engine.channels[channel_id])
            await self.engine.flush()
        return Polled(started, events, outcome)
