"""Failure injection in front of an emulator, for harnesses whose emulator has no such back door.

:class:`FaultInjector` wraps an emulator's ASGI app and gives a harness the ``fail_next``,
``lose_next_response`` and ``api_requests`` hooks of :class:`~omnibridge.testing.harness.EmulatorControl`:

* ``fail_next(status, count)`` answers the next ``count`` API requests with ``error_response(status)`` (the
  vendor's own error body for that status) without passing them to the emulator;
* ``lose_next_response(count)`` passes the next ``count`` *write* requests to the emulator, which applies them,
  then answers ``error_response(503)`` instead of the real response — a response lost on the way back.

Requests outside the vendor API (``is_api`` false: the emulator's own control routes) pass untouched.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from starlette.responses import Response

__all__ = ["FaultInjector"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]


class FaultInjector:
    """An ASGI middleware around ``app``.

    ``is_api(path)`` tells vendor API requests from control routes; ``is_write(method, path, body)`` tells which
    API requests change state (for ``lose_next_response``); ``error_response(status)`` builds the vendor's answer
    for an injected status.
    """

    def __init__(
        self,
        app: Any,
        *,
        is_api: Callable[[str], bool],
        is_write: Callable[[str, str, bytes], bool],
        error_response: Callable[[int], Response],
    ) -> None:
        self.app = app
        self._is_api = is_api
        self._is_write = is_write
        self._error_response = error_response
        self._failures: list[int] = []
        self._lose = 0
        self.api_requests = 0
        self.injected = 0
        self.lost = 0

    def fail_next(self, status: int, *, count: int = 1) -> None:
        """Answer the next ``count`` API requests with ``status``."""
        self._failures.extend([status] * count)

    def lose_next_response(self, *, count: int = 1) -> None:
        """Apply the next ``count`` write requests, then answer 503 instead of their response."""
        self._lose += count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or not self._is_api(str(scope.get("path", ""))):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message.get("type") != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        self.api_requests += 1
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            message: Message = await receive()
            return message

        if self._failures:
            self.injected += 1
            await self._error_response(self._failures.pop(0))(scope, replay, send)
            return
        if self._lose > 0 and self._is_write(str(scope.get("method", "")), str(scope.get("path", "")), body):
            self._lose -= 1
            self.lost += 1

            async def swallow(message: Message) -> None:
                del message

            await self.app(scope, replay, swallow)
            await self._error_response(503)(scope, replay, send)
            return
        await self.app(scope, replay, send)
