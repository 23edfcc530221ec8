"""A replica's worker: procrastinate's worker and the sweep, inside the daemon's event loop.

:class:`ReplicaWorker` replaces the single daemon's in-process worker and APScheduler schedule when the daemon runs
with ``--replica``:

* it resolves the channels' locations, then runs ``app.run_worker_async`` (the jobs of :mod:`.tasks`, their
  periodic ticks and the rescue of dead replicas' jobs) with heartbeats tuned to a few seconds;
* the engine's writers are replaced by :class:`DeferringWriters`: where the single daemon wakes a channel's writer,
  a replica defers that channel's ``push`` job (any replica may run it, one at a time per channel);
* a stored delivery (:meth:`ReplicaWorker.wake`) and, every ``sweep_seconds``, the sweep defer an ``apply`` job for
  each channel with a pending inbox entry that is due and a ``push`` job for each channel with pending writes. The
  deferral comes right after the delivery's commit (not in its transaction); the sweep is what guarantees that an
  acknowledged delivery always gets its job, even when the replica that stored it died just after the commit;
* the sweep also marks for a reconcile every level a channel reported that nothing has explained for longer than the
  drift grace: the replica whose reconcile was to re-read it when its grace ended (a re-check it keeps in memory)
  may have died, and the read that decides it would otherwise wait for the read-back tick. Each replica marks an
  unexplained change once (a channel that only alerts keeps it unexplained after the decision).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from structlog.stdlib import BoundLogger

from omnibridge.logs import get_logger
from omnibridge.replicas.tasks import ReplicaContext, defer_apply, defer_apply_carriers, defer_push
from omnibridge.store import InboxStatus
from omnibridge.store.engine import read_session
from omnibridge.store.pending_work import PUSH
from omnibridge.store.tables import CHANNEL_LEVELS, INBOX, PENDING_WORK
from omnibridge.sync.writers import ChannelWriters

if TYPE_CHECKING:
    from procrastinate import App


def log() -> BoundLogger:
    return get_logger("omnibridge.replicas")


class DeferringWriters(ChannelWriters):
    """The engine's writers in a replica: waking a channel's writer defers its ``push`` job instead."""

    def __init__(self, app: App) -> None:
        super().__init__(self._never)
        self.app = app
        self.running = True  # the pass wakes writers instead of writing itself
        self._deferrals: set[asyncio.Task[None]] = set()

    @staticmethod
    async def _never(channel_id: str) -> None:
        raise AssertionError("a replica's channels are written by push jobs")

    def wake(self, channels: Collection[str]) -> None:
        for channel_id in channels:
            task = asyncio.get_running_loop().create_task(self._defer(channel_id))
            self._deferrals.add(task)
            task.add_done_callback(self._deferrals.discard)

    async def _defer(self, channel_id: str) -> None:
        try:
            await defer_push(self.app, channel_id)
        except Exception as exc:  # the sweep defers it later: the work is pending in the store
            log().warning("replica.defer_failed", channel=channel_id, reason=str(exc))


class ReplicaWorker:
    """Runs one replica's share of the work (see the module docstring)."""

    def __init__(self, app: App, ctx: ReplicaContext) -> None:
        self.app = app
        self.ctx = ctx
        self._signal = asyncio.Event()
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._overdue_marked: set[tuple[str, str, str, datetime]] = set()
        """Unexplained changes (channel, SKU, location, since) this replica marked for a reconcile (see
        :meth:`_mark_overdue`)."""

    def wake(self) -> None:
        """A delivery was stored: defer its channel's job now (by the sweep, at once)."""
        self._signal.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set; then let the jobs in flight finish (procrastinate's graceful stop)."""
        level = logging.getLogger().getEffectiveLevel()
        logging.getLogger("procrastinate").setLevel(max(logging.WARNING, level))  # a line per deferral otherwise
        logging.getLogger("procrastinate.worker").setLevel(level)  # each job's start and end, as job.done
        engine = self.ctx.engine
        engine.writers = DeferringWriters(self.app)
        engine.resume_every_write = True
        await self.ctx.runner.resolve()
        self.ctx.runner.state.catch_up_done = True
        settings = self.ctx.settings
        async with self.app.open_async():
            await self._catch_up()
            worker = asyncio.ensure_future(
                self.app.run_worker_async(
                    name=self.name,
                    concurrency=settings.concurrency,
                    install_signal_handlers=False,
                    update_heartbeat_interval=settings.heartbeat_seconds,
                    stalled_worker_timeout=settings.stalled_seconds,
                    fetch_job_polling_interval=settings.poll_seconds,
                    delete_jobs="never",
                )
            )
            try:
                while not stop.is_set() and not worker.done():
                    await self.sweep()
                    await self._next_wake(settings.sweep_seconds)
            finally:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker

    async def _next_wake(self, seconds: float) -> None:
        """Wait until a delivery is stored, a fetch a pass left running ends, or ``seconds`` pass."""
        fetched = self.ctx.engine.wake_event
        waits = [asyncio.ensure_future(self._signal.wait()), asyncio.ensure_future(fetched.wait())]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        self._signal.clear()
        fetched.clear()

    async def _catch_up(self) -> None:
        """A read-back at start when no other replica is alive (the whole fleet was down: what happened meanwhile
        is read back); a replica joining a live fleet leaves that to the read-back tick."""
        from omnibridge.replicas.tasks import defer_pull, defer_readback

        if await asyncio.to_thread(self._peers_alive):
            return
        for runtime in self.ctx.engine.channels.values():
            await defer_pull(self.app, runtime.id)
            if not runtime.stock_source:
                await defer_readback(self.app, runtime.id)

    async def sweep(self) -> None:
        """Mark what this replica's passes left to re-check or pull once due, then defer an ``apply`` job per
        channel with a due pending delivery and a ``push`` job per channel with pending writes (already waiting ones
        coalesce)."""
        try:
            inbox, writes = await asyncio.to_thread(self._pending)
        except Exception as exc:  # the database is down: the next sweep tries again
            log().warning("replica.sweep_failed", reason=str(exc))
            return
        engine = self.ctx.engine
        carriers = set(self.ctx.carriers.channels)
        try:
            await engine.mark_due()  # re-checks and pulls this replica's passes left for later
            for channel in sorted(inbox):
                if channel in engine.channels:
                    await defer_apply(self.app, channel)
            if inbox & carriers:
                await defer_apply_carriers(self.app)
            for channel in sorted(writes):
                if channel in engine.channels:
                    await defer_push(self.app, channel)
        except Exception as exc:
            log().warning("replica.sweep_failed", reason=str(exc))

    def _peers_alive(self) -> bool:
        """Whether another replica's worker beat within ``stalled_seconds`` (this one has not registered yet)."""
        seconds = self.ctx.settings.stalled_seconds
        with read_session(self.ctx.engine.store.engine) as session:
            alive = session.execute(
                sa.text(
                    "SELECT count(*) FROM procrastinate_workers"
                    " WHERE last_heartbeat > now() - make_interval(secs => :seconds)"
                ),
                {"seconds": seconds},
            ).scalar()
        return bool(alive)

    def _mark_overdue(self) -> None:
        """Mark for a reconcile, once per unexplained change, every level unexplained for longer than the drift
        grace (plus two sweeps) on a channel this replica writes."""
        engine = self.ctx.engine
        store = engine.store
        overdue_before = store.now() - engine.drift_grace - timedelta(seconds=2 * self.ctx.settings.sweep_seconds)
        with read_session(store.engine) as session:
            rows = session.execute(
                sa.select(
                    CHANNEL_LEVELS.c.channel,
                    CHANNEL_LEVELS.c.sku,
                    CHANNEL_LEVELS.c.location_id,
                    CHANNEL_LEVELS.c.unexplained_since,
                ).where(CHANNEL_LEVELS.c.unexplained_since < overdue_before)
            )
            overdue = {tuple(row) for row in rows if row[0] in engine.channels}
        fresh = overdue - self._overdue_marked
        self._overdue_marked &= overdue  # an episode that ended is forgotten: a later one is marked again
        by_channel: dict[str, set[str]] = {}
        for channel, sku, _, _ in fresh:
            by_channel.setdefault(channel, set()).add(sku)
        for channel, skus in sorted(by_channel.items()):
            store.mark_work([channel], skus)
            log().info("replica.overdue_marked", channel=channel, skus=len(skus))
        self._overdue_marked |= fresh

    def _pending(self) -> tuple[set[str], set[str]]:
        self._mark_overdue()
        store = self.ctx.engine.store
        now = store.now()
        with read_session(store.engine) as session:
            due = sa.or_(INBOX.c.next_attempt_at.is_(None), INBOX.c.next_attempt_at <= now)
            inbox = session.execute(
                sa.select(INBOX.c.channel).where(INBOX.c.status == InboxStatus.PENDING.value, due).distinct()
            )
            writes = session.execute(sa.select(PENDING_WORK.c.channel).where(PENDING_WORK.c.kind == PUSH).distinct())
            return {row[0] for row in inbox}, {row[0] for row in writes}
