"""What the carrier emulators share: OAuth client-credential tokens, parcels and their scan history, failure
injection, request recording and the ``/_emulator/`` back door.

A carrier emulator subclasses :class:`CarrierEmulator`, declares its API routes (each wrapped by :meth:`api`)
and renders the carrier's own JSON. State is in memory; one instance is one carrier account.
"""

from __future__ import annotations

import itertools
import json
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from omnibridge.sdk.emulator import EmulatorKnobs, RequestRecorder

__all__ = ["CarrierEmulator", "EmulatedParcel", "ScanStep", "VendorError"]

Handler = Callable[[Request, bytes], Awaitable[Response]]


class VendorError(Exception):
    """Raised by a handler to answer ``status`` with the carrier's error body for ``code``/``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class ScanStep:
    """One step of a parcel's journey: the carrier's status code(s) and the scan description."""

    code: str
    description: str
    detail_code: str = ""


@dataclass
class EmulatedParcel:
    """A parcel whose label the emulator sold. ``scans`` are (step, time), oldest first."""

    tracking_number: str
    reference: str
    service: str
    amount: Decimal
    currency: str
    destination_city: str
    destination_postal_code: str
    destination_country: str
    scans: list[tuple[ScanStep, datetime]] = field(default_factory=list)


class CarrierEmulator(ABC):
    """Base of the carrier emulators. ``steps`` is the carrier's scan sequence (the label sale records the
    first; :meth:`advance` each next one). ``clock`` returns aware UTC time for token issue and scan times."""

    service: str = "carrier"
    steps: Sequence[ScanStep] = ()
    token_lifetime_seconds: int = 3600

    def __init__(
        self,
        *,
        client_id: str = "emulator-client",
        client_secret: str = "emulator-secret",  # noqa: S107 - the emulator's fixed test credential
        account_number: str = "A1B2C3",
        clock: Callable[[], datetime] | None = None,
        recorder: RequestRecorder | None = None,
    ) -> None:
        self.client_id, self.client_secret, self.account_number = client_id, client_secret, account_number
        self.clock = clock or (lambda: datetime.now(UTC))
        self.recorder = recorder or RequestRecorder.from_env(self.service)
        self.knobs = EmulatorKnobs()
        self.tokens: dict[str, datetime] = {}
        self.parcels: dict[str, EmulatedParcel] = {}
        self.labels_by_reference: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.api_requests = 0
        self.refused_requests = 0
        self.lose_next = 0
        self._fail: list[int] = []
        self._ids = itertools.count(1)
        self.app = Starlette(routes=[*self.routes(), *self._control_routes()])

    # -- carrier specifics (subclasses) -------------------------------------------------------------------------

    @abstractmethod
    def routes(self) -> list[BaseRoute]:
        """The carrier's API routes, each endpoint built with :meth:`api`."""
        raise NotImplementedError

    @abstractmethod
    def error_response(self, status: int, code: str, message: str) -> Response:
        """The carrier's error body for ``status``."""
        raise NotImplementedError

    @abstractmethod
    def injected_error(self, status: int) -> tuple[str, str]:
        """The carrier's (code, message) for an injected ``status`` (429, 5xx)."""
        raise NotImplementedError

    # -- scripted actions (Python API, also under /_emulator/) ----------------------------------------------------

    def fail_next(self, status: int, count: int = 1) -> None:
        """Answer the next ``count`` API requests (token requests included) with ``status``."""
        self._fail.extend([status] * count)

    def lose_next_response(self, count: int = 1) -> None:
        """Process the next ``count`` write requests, then answer 503 instead of their response."""
        self.lose_next += count

    def advance(self, tracking_number: str) -> ScanStep:
        """Record the parcel's next scan (the last step repeats once reached) and return it."""
        parcel = self.parcels[tracking_number]
        index = min(len(parcel.scans), len(self.steps) - 1)
        step = self.steps[index]
        last = parcel.scans[-1][1] if parcel.scans else None
        now = self.clock().astimezone(UTC).replace(microsecond=0)
        # Scans carry whole seconds; keep them strictly ordered even when advanced within one second.
        parcel.scans.append((step, now if last is None or now > last else last + timedelta(seconds=1)))
        return step

    def next_id(self) -> int:
        return next(self._ids)

    # -- plumbing -------------------------------------------------------------------------------------------------

    def issue_token(self) -> str:
        token = f"emu-{self.service}-token-{self.next_id()}"
        self.tokens[token] = self.clock() + timedelta(seconds=self.token_lifetime_seconds)
        return token

    def check_bearer(self, request: Request) -> None:
        """Refuse a request without a live bearer token the way the carrier does (401)."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        expiry = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expiry is None or expiry <= self.clock():
            raise VendorError(401, *self.unauthorized())

    @abstractmethod
    def unauthorized(self) -> tuple[str, str]:
        """The carrier's (code, message) for a missing or expired token."""
        raise NotImplementedError

    def api(self, name: str, handler: Handler, *, write: bool = False) -> Callable[[Request], Awaitable[Response]]:
        """Wrap ``handler`` with recording, counting, failure injection and the lost-response knob."""

        async def endpoint(request: Request) -> Response:
            body = await request.body()
            self.recorder.record(request.method, request.url.path, request.url.query, dict(request.headers), body)
            self.api_requests += 1
            self.calls[name] += 1
            await self.knobs.delay()
            if self._fail:
                status = self._fail.pop(0)
                return self.error_response(status, *self.injected_error(status))
            try:
                response = await handler(request, body)
            except VendorError as exc:
                return self.error_response(exc.status, exc.code, exc.message)
            if write and self.lose_next > 0 and response.status_code < 400:
                self.lose_next -= 1
                return self.error_response(503, *self.injected_error(503))
            return response

        return endpoint

    @staticmethod
    def json_body(body: bytes) -> dict[str, Any]:
        try:
            parsed = json.loads(body or b"null")
        except ValueError as exc:
            raise VendorError(400, "INVALID.INPUT", f"The request body is not JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise VendorError(400, "INVALID.INPUT", "The request body must be a JSON object.")
        return parsed

    def _control_routes(self) -> list[BaseRoute]:
        async def state(request: Request) -> Response:
            return JSONResponse(
                {
                    "calls": dict(self.calls),
                    "labels_by_reference": dict(self.labels_by_reference),
                    "parcels": {
                        number: {"reference": p.reference, "service": p.service, "scans": [s.code for s, _ in p.scans]}
                        for number, p in self.parcels.items()
                    },
                }
            )

        async def advance(request: Request) -> Response:
            payload = await request.json()
            try:
                step = self.advance(str(payload["tracking_number"]))
            except KeyError as exc:
                return JSONResponse({"error": f"unknown parcel {exc}"}, status_code=400)
            return JSONResponse({"code": step.code, "description": step.description})

        async def fail(request: Request) -> Response:
            payload = await request.json()
            self.fail_next(int(payload["status"]), int(payload.get("count", 1)))
            return JSONResponse({"pending_failures": len(self._fail)})

        async def lose(request: Request) -> Response:
            payload = await request.json() if await request.body() else {}
            self.lose_next_response(int(payload.get("count", 1)))
            return JSONResponse({"pending_losses": self.lose_next})

        return [
            Route("/_emulator/state", state, methods=["GET"]),
            Route("/_emulator/advance", advance, methods=["POST"]),
            Route("/_emulator/fail-next", fail, methods=["POST"]),
            Route("/_emulator/lose-next", lose, methods=["POST"]),
        ]
