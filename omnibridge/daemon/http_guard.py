"""The daemon's HTTP server settings that hold up on the open internet (uvicorn, HTTP/1.1 with h11).

uvicorn alone keeps a connection that never finishes its request head open for ever, and lets connections pile
up until the process runs out of descriptors (then every accept logs a traceback). :class:`ConnectionGuard` adds,
for the protocol built by :func:`guarded_protocol`:

* a **request-head timeout**: a connection must complete a request head within ``head_timeout_seconds`` of being
  opened (or of its previous answer), however slowly it trickles bytes; otherwise it is closed;
* a **connection cap**: at most ``max_connections`` open at once. A new connection over the cap closes the one
  that has been waiting for a request head longest (a slow-loris connection, never a request being served); when
  every connection is serving a request, the new one is closed instead.

:func:`server_config` puts it together with uvicorn's own limits (``limit_concurrency``, ``timeout_keep_alive``,
h11's largest request head) and :func:`quiet_uvicorn` routes uvicorn's per-request warnings and the event loop's
accept errors through a :class:`~omnibridge.sync.webhook_limits.RefusalLog`: one line per reason per interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from omnibridge.sync.webhook_limits import RefusalLog

DEFAULT_MAX_CONNECTIONS = 512
"""Open connections at once; well under the usual 1,024 descriptor limit, leaving room for the store and the
vendors' APIs."""
DEFAULT_HEAD_TIMEOUT = 10.0
"""Seconds a connection may take to send a complete request head."""
DEFAULT_KEEP_ALIVE = 5
"""Seconds an idle kept-alive connection stays open (uvicorn's default)."""
MAX_HEAD_BYTES = 16 * 1024
"""The largest request head (request line and headers) h11 buffers; a larger one is answered 400."""


@dataclass(frozen=True)
class ServerLimits:
    """The server-level limits (see the module docstring); webhook-level ones are in
    :class:`~omnibridge.sync.webhook_limits.WebhookLimits`."""

    max_connections: int = DEFAULT_MAX_CONNECTIONS
    head_timeout_seconds: float = DEFAULT_HEAD_TIMEOUT
    keep_alive_seconds: int = DEFAULT_KEEP_ALIVE

    def __post_init__(self) -> None:
        if self.max_connections < 2 or self.head_timeout_seconds <= 0 or self.keep_alive_seconds < 1:
            raise ValueError("max_connections must be >= 2, head_timeout_seconds > 0 and keep_alive_seconds >= 1")


class ConnectionGuard:
    """Shared by every connection of one server: which connections wait for a request head and which serve a
    request, each oldest first."""

    def __init__(self, limits: ServerLimits, refusals: RefusalLog) -> None:
        self.limits = limits
        self.refusals = refusals
        self.waiting: dict[GuardedH11Protocol, None] = {}
        self.serving: dict[GuardedH11Protocol, None] = {}

    def admit(self, connection: GuardedH11Protocol, open_connections: int) -> None:
        """``connection`` was just opened: over the cap, close the connection waiting longest for a request head,
        else the oldest one whose request body is still arriving, else ``connection`` itself."""
        if open_connections <= self.limits.max_connections:
            return
        victim = next((other for other in self.waiting if other is not connection), None)
        if victim is None:
            victim = next((other for other in self.serving if other.body_incomplete), None)
        if victim is None:
            self.refusals.note("connection_limit")
            connection.close()
            return
        self.refusals.note("connection_evicted")
        victim.close()


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the guard's head timeout and connection cap."""

    guard: ClassVar[ConnectionGuard]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._wait_for_head()
        self.guard.admit(self, len(self.connections))

    def connection_lost(self, exc: Exception | None) -> None:
        self._forget()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self._serving()

    def on_response_complete(self) -> None:
        self._wait_for_head()
        super().on_response_complete()

    @property
    def body_incomplete(self) -> bool:
        """True while a request is being served whose body has not fully arrived."""
        return self.cycle is not None and not self.cycle.response_complete and self.cycle.more_body

    def close(self) -> None:
        """Close the connection now (evicted, or over the cap)."""
        self._forget()
        if not self.transport.is_closing():
            self.transport.close()

    def _wait_for_head(self) -> None:
        self._forget()
        self.guard.waiting[self] = None
        self._head_timer = self.loop.call_later(self.guard.limits.head_timeout_seconds, self._head_timed_out)

    def _serving(self) -> None:
        if self not in self.guard.serving:
            self._forget()
            self.guard.serving[self] = None

    def _forget(self) -> None:
        self.guard.waiting.pop(self, None)
        self.guard.serving.pop(self, None)
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self in self.guard.waiting:
            self.guard.refusals.note("head_timeout")
            self.close()


def guarded_protocol(limits: ServerLimits, refusals: RefusalLog) -> type[GuardedH11Protocol]:
    """A protocol class for one server (its own guard)."""
    return type("ServerH11Protocol", (GuardedH11Protocol,), {"guard": ConnectionGuard(limits, refusals)})


def server_config(app: Any, limits: ServerLimits, refusals: RefusalLog, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for ``app`` with the guard and uvicorn's own limits; ``options`` are passed on."""
    return uvicorn.Config(
        app,
        http=guarded_protocol(limits, refusals),
        # a backstop only: the guard keeps connections under the cap, so uvicorn's 503 answers requests beyond it
        limit_concurrency=limits.max_connections + 1,
        timeout_keep_alive=limits.keep_alive_seconds,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        **options,
    )


_UVICORN_NOISE = {
    "Invalid HTTP request received.": "invalid_http",
    "Exceeded concurrency limit.": "concurrency_limit",
    "Exception in ASGI application\n": "app_exception",
}


class _RateLimitFilter(logging.Filter):
    def __init__(self, refusals: RefusalLog) -> None:
        super().__init__()
        self.refusals = refusals

    def filter(self, record: logging.LogRecord) -> bool:
        reason = _UVICORN_NOISE.get(str(record.msg))
        if reason is None:
            return True
        first = self.refusals.note(reason)
        return first and reason == "app_exception"  # a bug's first traceback of the interval is kept


def quiet_uvicorn(refusals: RefusalLog) -> Callable[[], None]:
    """Route uvicorn's per-request warnings through ``refusals``; returns the undo."""
    logger = logging.getLogger("uvicorn.error")
    rate_limit = _RateLimitFilter(refusals)
    logger.addFilter(rate_limit)
    return lambda: logger.removeFilter(rate_limit)


def accept_error_handler(refusals: RefusalLog) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    """An event-loop exception handler that turns accept failures (out of descriptors) into rate-limited refusals
    and leaves every other error to the default handler."""

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if str(context.get("message", "")).startswith("socket.accept() out of system resource"):
            refusals.note("accept_failed")
            return
        loop.default_exception_handler(context)

    return handle


__all__ = [
    "ConnectionGuard",
    "GuardedH11Protocol",
    "ServerLimits",
    "accept_error_handler",
    "guarded_protocol",
    "quiet_uvicorn",
    "server_config",
]
