"""Limits of the webhook port: how big a body may be, how long it may take to arrive, how many are read at once,
and a log of refused requests that cannot be flooded.

* :class:`WebhookLimits` — the numbers (defaults in docs/security.md, where each comes from).
* :class:`WebhookGate` — at most ``max_in_flight`` webhook bodies are read at once. When every slot is taken, the
  request that has been *reading its body* longest is cut off (408) to make room: a vendor sends its whole body at
  once, so under a slow-body attack the attacker's requests are the oldest readers, never a vendor's.
* :func:`read_body` — reads a body incrementally: a declared ``Content-Length`` over the limit is refused before a
  byte is read, a body that grows past it (chunked) is cut at the limit (413), one that is slower than the timeout
  is cut (408).
* :class:`RefusalLog` — one log line (``http.refused``) per reason per interval, with the count since the last
  line, instead of a line or a traceback per refused request.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.requests import ClientDisconnect, Request

from omnibridge.logs import get_logger

MIB = 1024 * 1024
DEFAULT_MAX_BODY_BYTES = MIB
"""1 MiB: above every vendor's documented webhook body we know of except Shopify's largest orders (see
docs/security.md); a channel can raise its own limit (``channels[].webhooks.max_body_bytes``)."""
DEFAULT_BODY_TIMEOUT = 10.0
"""Seconds a whole body may take to arrive; vendors send it at once and wait a few seconds for the answer."""
DEFAULT_MAX_IN_FLIGHT = 64
"""Webhook requests handled at once (bodies read, verified and stored); the rest wait for a slot."""
DEFAULT_EVICT_AFTER = 1.0
"""Seconds a body must have been arriving before a newer request may cut it off to take its slot."""
DEFAULT_LOG_INTERVAL = 60.0


@dataclass(frozen=True)
class WebhookLimits:
    """The webhook port's limits; ``per_channel`` overrides ``max_body_bytes`` for a channel id."""

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    per_channel: Mapping[str, int] = field(default_factory=dict)
    body_timeout_seconds: float = DEFAULT_BODY_TIMEOUT
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    evict_after_seconds: float = DEFAULT_EVICT_AFTER

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1 or any(limit < 1 for limit in self.per_channel.values()):
            raise ValueError("a webhook body limit must be at least 1 byte")
        if self.body_timeout_seconds <= 0 or self.max_in_flight < 1 or self.evict_after_seconds < 0:
            raise ValueError("body_timeout_seconds must be > 0, max_in_flight >= 1 and evict_after_seconds >= 0")

    def body_limit(self, channel: str) -> int:
        """The largest body accepted for ``channel``, in bytes."""
        return self.per_channel.get(channel, self.max_body_bytes)


class Refused(Exception):
    """A request refused before it reached the channel: ``status`` is the HTTP answer, ``reason`` a short code
    for the refusal log and ``message`` what the sender is told."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


class RefusalLog:
    """Rate-limited logging of refused or aborted requests: the first refusal of a reason is logged at once, later
    ones at most once per ``interval`` seconds as one ``http.refused`` line with ``count`` (how many since the
    previous line). ``totals`` counts every refusal by reason (for metrics)."""

    def __init__(
        self,
        interval: float = DEFAULT_LOG_INTERVAL,
        *,
        clock: Callable[[], float] = time.monotonic,
        emit: Callable[[str, int], None] | None = None,
    ) -> None:
        self.interval = interval
        self.totals: Counter[str] = Counter()
        self._clock = clock
        self._emit = emit or _log_refusal
        self._last: dict[str, float] = {}
        self._pending: Counter[str] = Counter()

    def note(self, reason: str) -> bool:
        """Count one refusal; True when it was logged now (the first of its interval)."""
        self.totals[reason] += 1
        self._pending[reason] += 1
        now = self._clock()
        last = self._last.get(reason)
        if last is not None and now - last < self.interval:
            return False
        self._last[reason] = now
        self._emit(reason, self._pending.pop(reason))
        return True

    def flush(self) -> None:
        """Log what was counted but not yet logged (at shutdown)."""
        for reason, count in sorted(self._pending.items()):
            self._emit(reason, count)
        self._pending.clear()


def _log_refusal(reason: str, count: int) -> None:
    get_logger("omnibridge.http").warning("http.refused", reason=reason, count=count)


class WebhookGate:
    """At most ``limits.max_in_flight`` webhook bodies are read at once (see the module docstring).

    There is no queue: a request finding every slot taken cuts off the request that has been reading its body
    longest, when that one has been at it for at least ``limits.evict_after_seconds`` (a vendor's body arrives in
    milliseconds), and takes its place at once; otherwise it is answered 503 (the vendor retries).
    """

    def __init__(self, limits: WebhookLimits) -> None:
        self.limits = limits
        self._readers: dict[int, tuple[float, asyncio.Timeout | None]] = {}
        self._next = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[int]:
        """Hold a slot for one request (its id, for :meth:`reading`); :class:`Refused` 503 when none can be had."""
        now = asyncio.get_running_loop().time()
        if len(self._readers) >= self.limits.max_in_flight:
            oldest = next(iter(self._readers))
            started, timeout = self._readers[oldest]
            if timeout is None or now - started < self.limits.evict_after_seconds:
                raise Refused(503, "busy", "too many webhook requests at once; send it again later")
            del self._readers[oldest]  # its slot is ours now; it is cut off with a 408
            timeout.reschedule(now)
        self._next += 1
        slot_id = self._next
        self._readers[slot_id] = (now, None)
        try:
            yield slot_id
        finally:
            self._readers.pop(slot_id, None)

    @asynccontextmanager
    async def reading(self, slot: int) -> AsyncIterator[None]:
        """The body of the request holding ``slot`` is read within this block, under the body timeout; the gate
        may cut it short (408) to make room for a newer request."""
        try:
            async with asyncio.timeout(self.limits.body_timeout_seconds) as timeout:
                if slot in self._readers:
                    self._readers[slot] = (self._readers[slot][0], timeout)
                yield
        except TimeoutError:
            raise Refused(408, "body_timeout", "the request body did not arrive in time") from None


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, at most ``limit`` bytes: :class:`Refused` 413 when ``Content-Length`` says more (nothing is
    read) or the body grows past it (reading stops there), 400 for a malformed ``Content-Length``, 499 (no answer
    reaches the sender) when the client goes away mid-body."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise Refused(400, "bad_content_length", "Content-Length is not a whole number of bytes")
        if int(declared) > limit:
            raise Refused(413, "too_large", f"the body is {int(declared)} bytes; at most {limit} are accepted")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise Refused(413, "too_large", f"the body is over {limit} bytes; at most {limit} are accepted")
    except ClientDisconnect:
        raise Refused(499, "client_disconnected", "the client went away before sending the whole body") from None
    return bytes(body)
