"""Signed webhook deliveries from an emulator, with the vendor's retry behaviour and on-demand misbehaviour.

An emulator builds the vendor's body and headers (ids, topic) and hands them to :meth:`WebhookSender.send`;
the sender signs them (the ``sign`` callable computes the vendor's signature headers from the raw body and the
target URL), POSTs them in the background and retries any non-2xx answer or network failure with exponential
backoff, up to ``max_attempts`` — as Shopify (8 attempts) and Square (at-least-once) do, on a compressed clock.

Knobs (:class:`WebhookKnobs`, mutable at run time):

* ``duplicate_next`` / ``duplicate_rate`` — send a delivery twice (same ids, same body): at-least-once delivery.
* ``delay_s`` — hold a delivery before its first attempt: late delivery, possibly after newer ones.
* ``fail_first_attempts`` — the first N attempts of each delivery fail before reaching the receiver (as a
  connection timeout would), so the retry path is exercised.
* ``in_flight`` — attempts sent at once (20); the others wait in the sender, and the request timeout counts
  from the moment one is sent.

Every delivery and attempt is kept in :attr:`WebhookSender.deliveries` for tests and the demo.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

__all__ = ["DeliveryAttempt", "DeliveryRecord", "SignFn", "WebhookKnobs", "WebhookSender"]

SignFn = Callable[[bytes, str], Mapping[str, str]]
"""``(raw_body, target_url) -> signature headers``."""
RetryHeadersFn = Callable[[int, str], Mapping[str, str]]
"""``(retry_number, reason) -> extra headers`` for a re-attempt (Square's ``square-retry-number``...)."""


@dataclass
class WebhookKnobs:
    """How deliveries misbehave. ``retry_backoff_s`` doubles per attempt (the vendors' hours become seconds)."""

    duplicate_next: int = 0
    duplicate_rate: float = 0.0
    delay_s: tuple[float, float] = (0.0, 0.0)
    fail_first_attempts: int = 0
    max_attempts: int = 8
    retry_backoff_s: float = 0.25
    timeout_s: float = 5.0
    in_flight: int = 20
    """Attempts sent at once; later ones wait their turn here, off the HTTP client's pool (whose bookkeeping
    grows with the square of the requests queued in it: hundreds queued there spent the whole process's CPU)."""
    seed: int | None = 0
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def take_duplicate(self) -> bool:
        if self.duplicate_next > 0:
            self.duplicate_next -= 1
            return True
        return self.duplicate_rate > 0 and self._random.random() < self.duplicate_rate

    def draw_delay(self) -> float:
        low, high = self.delay_s
        return low if high <= low else self._random.uniform(low, high)


@dataclass
class DeliveryAttempt:
    number: int
    at: datetime
    status: int | None
    error: str = ""


@dataclass
class DeliveryRecord:
    """One logical delivery (a duplicate is a separate record with ``duplicate=True`` and the same ids)."""

    delivery_id: str
    event_id: str | None
    topic: str
    url: str | None
    body: bytes
    headers: dict[str, str]
    duplicate: bool = False
    attempts: list[DeliveryAttempt] = field(default_factory=list)
    delivered: bool = False
    gave_up: bool = False

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


class WebhookSender:
    """Sends one emulator's webhooks to ``url`` in background tasks of the running event loop."""

    def __init__(
        self,
        service: str,
        *,
        sign: SignFn,
        url: str | None = None,
        knobs: WebhookKnobs | None = None,
        retry_headers: RetryHeadersFn | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.service = service
        self.url = url
        self.knobs = knobs or WebhookKnobs()
        self.deliveries: list[DeliveryRecord] = []
        self._sign = sign
        self._retry_headers = retry_headers
        self._transport = transport
        self._clock = clock or (lambda: datetime.now(UTC))
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._unscheduled: list[DeliveryRecord] = []
        self._slots: asyncio.Semaphore | None = None

    def set_url(self, url: str | None) -> None:
        self.url = url

    def send(
        self,
        topic: str,
        body: bytes | Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        delivery_id: str,
        event_id: str | None = None,
    ) -> DeliveryRecord:
        """Queue one delivery (and a duplicate when the knobs say so); returns the first record."""
        raw = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode("utf-8")
        record = DeliveryRecord(delivery_id, event_id, topic, self.url, raw, dict(headers))
        self._schedule(record)
        if self.knobs.take_duplicate():
            self._schedule(self._copy(record))
        return record

    def redeliver(self, record: DeliveryRecord) -> DeliveryRecord:
        """Send ``record`` again with the same ids and body: what an at-least-once vendor does."""
        copy = self._copy(record)
        self._schedule(copy)
        return copy

    def last(self, topic: str | None = None) -> DeliveryRecord | None:
        """The most recent original (non-duplicate) delivery, optionally of one topic."""
        for record in reversed(self.deliveries):
            if not record.duplicate and (topic is None or record.topic == topic):
                return record
        return None

    async def drain(self, timeout: float | None = 30.0) -> None:
        """Wait until every queued delivery was delivered or given up."""
        self._start_unscheduled()
        async with asyncio.timeout(timeout):
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _copy(self, record: DeliveryRecord) -> DeliveryRecord:
        return DeliveryRecord(
            record.delivery_id, record.event_id, record.topic, self.url, record.body, dict(record.headers), True
        )

    def _schedule(self, record: DeliveryRecord) -> None:
        self.deliveries.append(record)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._unscheduled.append(record)  # started by drain() once a loop runs
            return
        self._start_unscheduled()
        self._start(loop, record)

    def _start_unscheduled(self) -> None:
        if not self._unscheduled:
            return
        loop = asyncio.get_running_loop()
        pending, self._unscheduled = self._unscheduled, []
        for record in pending:
            self._start(loop, record)

    def _start(self, loop: asyncio.AbstractEventLoop, record: DeliveryRecord) -> None:
        task = loop.create_task(self._deliver(record))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, record: DeliveryRecord) -> None:
        delay = self.knobs.draw_delay()
        if delay > 0:
            await asyncio.sleep(delay)
        url = record.url or self.url
        if url is None:
            record.attempts.append(DeliveryAttempt(1, self._clock(), None, "no webhook URL configured"))
            record.gave_up = True
            return
        record.url = url
        reason = ""
        for number in range(1, self.knobs.max_attempts + 1):
            headers = dict(record.headers)
            headers.update(self._sign(record.body, url))
            if number > 1 and self._retry_headers is not None:
                headers.update(self._retry_headers(number - 1, reason))
            status, error = await self._attempt(url, record.body, headers, number)
            record.attempts.append(DeliveryAttempt(number, self._clock(), status, error))
            if status is not None and 200 <= status < 300:
                record.delivered = True
                return
            reason = error or f"http_{status}"
            if number < self.knobs.max_attempts:
                await asyncio.sleep(self.knobs.retry_backoff_s * 2 ** (number - 1))
        record.gave_up = True

    async def _attempt(self, url: str, body: bytes, headers: dict[str, str], number: int) -> tuple[int | None, str]:
        if number <= self.knobs.fail_first_attempts:
            return None, "timeout"  # injected: the attempt never reached the receiver
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._transport, timeout=self.knobs.timeout_s)
        if self._slots is None:
            self._slots = asyncio.Semaphore(max(1, self.knobs.in_flight))
        async with self._slots:  # the timeout covers the receiver's answer, not this sender's own queue
            try:
                response = await self._client.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                return None, type(exc).__name__
        return response.status_code, ""
