"""Blocking store calls made for an HTTP request, run off the event loop in a bounded set of threads.

The store is synchronous (SQLAlchemy sessions). A request handler that called it on the event loop would stop
every other coroutine of the process while the database answers: webhook answers, ``/healthz``, the worker's
vendor calls. :class:`StoreThreads` runs such calls in worker threads instead, at most ``size`` at once (a flood
of requests waits for a thread; it never spawns more), and hands back the call's result or raises its exception.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")

DEFAULT_THREADS = 8
"""Store calls running at once for HTTP requests: more than the webhook bursts need, fewer than the database
connections the store's pool allows (SQLAlchemy: 5 plus 10 overflow)."""


class StoreThreads:
    """A bounded thread pool for blocking store calls (see the module docstring); one per ASGI app."""

    def __init__(self, size: int = DEFAULT_THREADS) -> None:
        if size < 1:
            raise ValueError("a store thread pool needs at least one thread")
        self.size = size
        self._limiter: anyio.CapacityLimiter | None = None

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        """The limiter bounding the threads (made on first use, inside the serving event loop)."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.size)
        return self._limiter

    async def run(self, call: Callable[..., T], *args: object) -> T:
        """``call(*args)`` in a worker thread, once one of the ``size`` is free; its result or its exception."""
        return await anyio.to_thread.run_sync(call, *args, limiter=self.limiter)


__all__ = ["DEFAULT_THREADS", "StoreThreads"]
