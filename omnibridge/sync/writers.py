"""One writer per channel: each writable channel's pending work is reconciled by its own long-lived task.

A channel's writer wakes whenever work is marked for it (an :class:`asyncio.Event` per channel) or every
``idle_seconds``, reads that channel's pending work from the store, and reconciles it
(:meth:`omnibridge.sync.engine.SyncEngine.write_channel`). Writers never wait for each other, nor for the
worker's apply pass, so a slow or throttled channel (Amazon's feed processing, a 429 storm) never delays what
another channel shows; a failing channel is backed off on its own. A per-channel lock keeps a writer and
:meth:`~omnibridge.sync.engine.SyncEngine.flush` (the synchronous "write everything now and wait" of
``sync --once``, the read-back and tests) from reconciling the same channel at once.

While a channel writes, its own events may be applied by the pass: the compare-and-set on what it is known to
show (:func:`omnibridge.sync.reconcile._versions`) keeps that from being lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection

from omnibridge.errors import OmnibridgeError
from omnibridge.logs import get_logger


class ChannelWriters:
    """The wake events, locks and tasks of the channels' writers (see the module docstring)."""

    def __init__(self, write: Callable[[str], Awaitable[None]]) -> None:
        self._write = write
        self._wake: dict[str, asyncio.Event] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.running = False
        """True while :meth:`run` runs: the worker's pass then wakes the writers instead of writing itself."""

    def lock(self, channel_id: str) -> asyncio.Lock:
        """Held while ``channel_id`` is reconciled (by its writer or by a flush)."""
        return self._locks.setdefault(channel_id, asyncio.Lock())

    def wake(self, channels: Collection[str]) -> None:
        """Work was marked for ``channels``: their writers look at it now."""
        for channel_id in channels:
            self._wake.setdefault(channel_id, asyncio.Event()).set()

    async def run(self, channels: Collection[str], stop: asyncio.Event, *, idle_seconds: float = 1.0) -> None:
        """Run one writer per channel of ``channels`` until ``stop`` is set; then each writes what is pending for its
        channel once more (unless backed off) and returns, so a stop loses no time on what was applied before it."""
        self.running = True
        try:
            async with asyncio.TaskGroup() as group:
                for channel_id in channels:
                    group.create_task(self._writer(channel_id, stop, idle_seconds), name=f"writer:{channel_id}")
                await stop.wait()
                self.wake(channels)
        finally:
            self.running = False

    async def _writer(self, channel_id: str, stop: asyncio.Event, idle_seconds: float) -> None:
        wake = self._wake.setdefault(channel_id, asyncio.Event())
        wake.set()  # work left by a previous process or marked before the writers started
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(idle_seconds):
                    await wake.wait()
            wake.clear()
            await self._turn(channel_id)
        # stopping: what the pass applied before the stop is written (as a pass in flight used to finish its writes)
        await self._turn(channel_id)

    async def _turn(self, channel_id: str) -> None:
        try:
            await self._write(channel_id)
        except OmnibridgeError as exc:  # the work stays pending in the store; tried again on the next wake
            get_logger("omnibridge.sync").error("writer.failed", channel=channel_id, reason=str(exc))
        except Exception:  # a writer outlives any one bad write
            get_logger("omnibridge.sync").exception("writer.crashed", channel=channel_id)
