"""Coalesce the reads of callers that ask at the same moment into one vendor request.

A rush of webhook deliveries names one record each (an order per sale); reading each on its own costs one request
per delivery against the vendor's rate limit, which the stock writes need too. A :class:`CoalescingBatcher` lets
every caller ask for one id and await its own result, while the ids asked for together are read with one call of
``read``. See :class:`CoalescingBatcher` for the contract.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from itertools import islice
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

BatchRead = Callable[[list[K]], Awaitable[Mapping[K, V]]]
"""``ids -> a mapping from each id to its result``: one vendor request (or a few) for the whole batch."""


class MissingFromBatchError(LookupError):
    """A batch read answered without an id it was given: the read broke its contract, not the vendor."""

    def __init__(self, key: Hashable) -> None:
        super().__init__(
            f"the batch read returned nothing for {key!r}; expected a result for every id it was given "
            "(map an id the vendor lacks to a value such as None)"
        )
        self.key = key


class CoalescingBatcher(Generic[K, V]):
    """Reads ids through ``read``, one call for the callers that ask together.

    Contract:

    * :meth:`get` asks for one id and returns its result. Callers that ask in the same pass of the event loop (the
      deliveries a webhook burst hands over together, a ``gather``) are read together; an id asked for by several
      of them is read once and each gets the result.
    * ``read`` receives the ids of one batch, each once, in the order they were first asked for, and at most
      ``batch_size`` of them (``None``: no limit); it returns a mapping from id to result. ``read`` is called the
      moment its ids leave the waiting set, so whatever a wrapper recorded for those ids before calling
      :meth:`get` is there for it to consume before its first ``await``.
    * Ids asked for while a read is running, and those past ``batch_size``, wait for the next read of the same
      drain; once nothing waits, the drain ends and a later :meth:`get` starts a new one.
    * An id the mapping lacks fails its callers with :class:`MissingFromBatchError`; a read that raises fails
      every caller of that batch with the same exception, and the drain goes on with the ids still waiting. A
      cancelled drain fails its batch's callers with the cancellation and stops; the next :meth:`get` resumes
      the ids left waiting.
    * A caller cancelled while it waits leaves the batch unchanged; the others still get their results.
    """

    def __init__(self, read: BatchRead[K, V], *, batch_size: int | None = None) -> None:
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be at least 1 or None, got {batch_size}")
        self._read = read
        self._batch_size = batch_size
        self._waiting: dict[K, list[asyncio.Future[V]]] = {}
        self._drain_task: asyncio.Task[None] | None = None

    async def get(self, key: K) -> V:
        """The result ``read`` gives for ``key``, read together with the ids other callers ask for now."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[V] = loop.create_future()
        self._waiting.setdefault(key, []).append(future)
        if self._drain_task is None or self._drain_task.done():
            self._drain_task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        # Let the callers scheduled in the same pass of the event loop join this batch.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        while self._waiting:
            keys = list(islice(self._waiting, self._batch_size))
            batch = {key: self._waiting.pop(key) for key in keys}
            try:
                found = await self._read(keys)
            except BaseException as exc:  # each waiting caller gets the failure of its read
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                if not isinstance(exc, Exception):  # cancellation, interpreter exit: stop draining
                    raise
                continue
            for key, futures in batch.items():
                for future in futures:
                    if future.done():
                        continue
                    if key in found:
                        future.set_result(found[key])
                    else:
                        future.set_exception(MissingFromBatchError(key))
