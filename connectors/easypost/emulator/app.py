"""The EasyPost emulator: account state, scripted carrier actions and the ASGI app serving EasyPost's v2 API."""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.easypost.emulator.config import EasyPostEmulatorConfig
from connectors.easypost.emulator.control import control_routes
from connectors.easypost.emulator.state import ApiError, EasyPostState, example, invalid
from connectors.easypost.webhooks import signer
from omnibridge.sdk.emulator import EmulatorKnobs, RequestRecorder, WebhookKnobs, WebhookSender

__all__ = ["EasyPostEmulator"]

_Handler = Callable[[dict[str, Any], Request], dict[str, Any]]
_LIST_PATHS = frozenset({"/v2/shipments", "/v2/trackers", "/v2/events"})


class _Bucket:
    """Token bucket: ``rate`` tokens per second up to ``burst``; ``take()`` is False when empty."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, float(burst), now

    def take(self, now: float) -> bool:
        self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


def _error_for(status: int) -> ApiError:
    if status == 429:
        return ApiError(429, "RATE_LIMITED", "You have exceeded the rate limit. Please slow down.")
    if status >= 500:
        return ApiError(status, "INTERNAL_SERVER_ERROR", "We're sorry, something went wrong.")
    codes = {401: "APIKEY.INACTIVE", 402: "PAYMENT.REQUIRED", 404: "NOT_FOUND", 422: "PARAMETER.INVALID"}
    return ApiError(status, codes.get(status, "BAD_REQUEST"), f"Injected error {status}.")


async def _not_found(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods answer in EasyPost's error shape, not Starlette's plain text."""
    return JSONResponse(ApiError(404, "NOT_FOUND", f"No route {request.method} {request.url.path}.").body(), 404)


class EasyPostEmulator:
    """A local fake of EasyPost's Shipments, Trackers and Events APIs with signed webhooks.

    ``clock`` returns the current aware UTC time (timestamps, tracking events); ``monotonic`` drives the
    rate-limit buckets. ``webhook_transport`` lets tests deliver webhooks to an in-process ASGI receiver.
    """

    def __init__(
        self,
        config: EasyPostEmulatorConfig | None = None,
        clock: Callable[[], datetime] | None = None,
        *,
        monotonic: Callable[[], float] | None = None,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
        webhook_knobs: WebhookKnobs | None = None,
        recorder: RequestRecorder | None = None,
    ) -> None:
        self.config = config or EasyPostEmulatorConfig()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.monotonic = monotonic or time.monotonic
        cfg = self.config
        self.knobs = EmulatorKnobs(latency_ms=cfg.latency_ms, error_rate=cfg.error_rate, seed=cfg.seed)
        self.state = EasyPostState(cfg.carrier_accounts, self.clock, self.knobs.random(), cfg.user_id)
        self.recorder = recorder or RequestRecorder.from_env("easypost")
        self.webhooks = WebhookSender(
            "easypost",
            sign=signer(cfg.webhook_secret),
            url=cfg.webhook_url,
            knobs=webhook_knobs,
            transport=webhook_transport,
            clock=self.clock,
        )
        self.calls: Counter[str] = Counter()
        self.events: list[dict[str, Any]] = []
        self.refused = 0
        self.answered = 0
        self.fail_queue: list[int] = []
        self.lose_next = 0
        self._buckets: dict[str, _Bucket] = {}
        self.app = Starlette(routes=self._routes(), exception_handlers={404: _not_found, 405: _not_found})

    # -- scripted actions (Python API; the control back door) -------------------------------------------------

    def set_webhook_url(self, url: str | None) -> None:
        """Change the subscribed webhook URL."""
        self.config.webhook_url = url
        self.webhooks.set_url(url)

    def labels_bought(self, shipment_id: str) -> int:
        """How many labels were sold for ``shipment_id`` (never more than 1)."""
        return self.state.labels_bought[shipment_id]

    def advance_tracking(self, tracking_code: str) -> str:
        """Move the parcel one step on and send ``tracker.updated``; returns the tracker's status now (unchanged at
        the end of its path, and then no event). Raises ``KeyError`` for an unknown tracking code."""
        moved = self.state.advance(tracking_code)
        if moved is None:
            tracker = self.state.find_tracker(tracking_code)
            assert tracker is not None
            return str(tracker["status"])
        tracker, previous = moved
        self._emit("tracker.updated", tracker, {"status": previous})
        return str(tracker["status"])

    def fail_next(self, status: int, count: int = 1) -> None:
        """Answer the next ``count`` API requests with ``status`` and EasyPost's error body for it."""
        self.fail_queue.extend([status] * count)

    def lose_next_response(self, count: int = 1) -> None:
        """Apply the next ``count`` write requests, then answer 503 as if the response were lost."""
        self.lose_next += count

    def track(self, tracking_code: str, carrier: str) -> dict[str, Any]:
        """Create (or find) a tracker directly, as a merchant would in the dashboard; fires ``tracker.created``."""
        known = self.state.find_tracker(tracking_code, carrier) is not None
        tracker = self.state.create_tracker(tracking_code, carrier)
        if not known:
            self._emit("tracker.created", tracker, {})
        return tracker

    def redeliver_last(self) -> None:
        """Send the last Event again (same id): EasyPost delivers at least once."""
        record = self.webhooks.last()
        if record is not None:
            self.webhooks.redeliver(record)

    # -- events ------------------------------------------------------------------------------------------------

    def event_body(self, description: str, result: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
        """An Event as EasyPost delivers it (every key of the official example, plus ``result``)."""
        event = example("events-retrieve.json")
        now = self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        event.update(
            id=self.state.new_id("evt"),
            description=description,
            mode="test",
            previous_attributes=previous,
            result=json.loads(json.dumps(result)),
            created_at=now,
            updated_at=now,
            user_id=self.config.user_id,
            status="pending",
            pending_urls=[self.config.webhook_url] if self.config.webhook_url else [],
            completed_urls=[],
        )
        return event

    def _emit(self, description: str, tracker: dict[str, Any], previous: dict[str, Any]) -> None:
        event = self.event_body(description, tracker, previous)
        self.events.append(event)
        headers = {"content-type": "application/json", "user-agent": "EasyPost WebHook Agent 1.0"}
        self.webhooks.send(description, event, headers, delivery_id=event["id"], event_id=event["id"])

    # -- HTTP --------------------------------------------------------------------------------------------------

    def _routes(self) -> list[BaseRoute]:
        state = self.state
        api: list[tuple[str, str, _Handler]] = [
            ("POST", "/v2/shipments", lambda body, req: state.create_shipment(body)),
            ("GET", "/v2/shipments", lambda body, req: self._page("shipments", list(state.shipments.values()), req)),
            ("GET", "/v2/shipments/{id}", lambda body, req: state.get_shipment(req.path_params["id"])),
            ("POST", "/v2/shipments/{id}/buy", self._buy),
            ("POST", "/v2/trackers", self._create_tracker),
            ("GET", "/v2/trackers", lambda body, req: self._page("trackers", list(state.trackers.values()), req)),
            ("GET", "/v2/trackers/{id}", lambda body, req: state.get_tracker(req.path_params["id"])),
            ("GET", "/v2/events", lambda body, req: self._page("events", self.events, req)),
        ]
        routes: list[BaseRoute] = [
            Route(path, self._endpoint(method, path, handler), methods=[method]) for method, path, handler in api
        ]
        return routes + control_routes(self)

    def _page(self, key: str, items: list[dict[str, Any]], request: Request) -> dict[str, Any]:
        """Newest first, ``page_size`` (≤100, default 20) after ``before_id``."""
        try:
            size = min(100, max(1, int(request.query_params.get("page_size", "20"))))
        except ValueError:
            raise invalid("PARAMETER.INVALID", "Invalid page_size.", "page_size", "must be an integer") from None
        ordered = list(reversed(items))
        before = request.query_params.get("before_id")
        if before:
            ids = [item["id"] for item in ordered]
            ordered = ordered[ids.index(before) + 1 :] if before in ids else []
        return {key: ordered[:size], "has_more": len(ordered) > size}

    def _buy(self, body: dict[str, Any], request: Request) -> dict[str, Any]:
        shipment, tracker = self.state.buy(request.path_params["id"], body)
        self._emit("tracker.created", tracker, {})
        return shipment

    def _create_tracker(self, body: dict[str, Any], request: Request) -> dict[str, Any]:
        spec = body.get("tracker")
        code = spec.get("tracking_code") if isinstance(spec, dict) else None
        if not isinstance(code, str) or not code.strip():
            raise invalid("PARAMETER.REQUIRED", "Missing required parameter.", "tracker.tracking_code", "is required")
        carrier = spec.get("carrier") if isinstance(spec, dict) else None
        carrier_name = carrier if isinstance(carrier, str) and carrier else "USPS"
        return self.track(code.strip(), carrier_name)

    def _endpoint(self, method: str, template: str, handler: _Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            self.recorder.record(request.method, request.url.path, request.url.query, request.headers, raw)
            self.answered += 1
            try:
                body = self._admit(request, raw, template)
                await self.knobs.delay()
                if self.fail_queue:
                    raise _error_for(self.fail_queue.pop(0))
                if self.knobs.should_fail():
                    raise _error_for(503)
                result = handler(body, request)
            except ApiError as error:
                return JSONResponse(error.body(), status_code=error.status)
            if method == "POST" and self.lose_next > 0:
                self.lose_next -= 1  # applied above; the answer is "lost" on the way back
                return JSONResponse(_error_for(503).body(), status_code=503)
            created = method == "POST" and not template.endswith("/buy")
            return JSONResponse(result, status_code=201 if created else 200)

        return endpoint

    def _admit(self, request: Request, raw: bytes, template: str) -> dict[str, Any]:
        """Auth (HTTP Basic with the key as user, or Bearer key), rate limits and call counting; returns the
        parsed body."""
        key = self._api_key(request.headers.get("authorization", ""))
        if key is None:
            raise ApiError(
                401, "APIKEY.REQUIRED", "No API key provided; use Bearer auth or HTTP Basic auth with the key as user."
            )
        if key != self.config.api_key:
            raise ApiError(401, "APIKEY.INACTIVE", "The API key is invalid or inactive.")
        now = self.monotonic()
        listing = request.method == "GET" and template in _LIST_PATHS
        cfg = self.config
        if listing:
            rate, burst = cfg.list_requests_per_second, max(1, int(cfg.list_requests_per_second))
        else:
            rate, burst = cfg.requests_per_second, cfg.burst
        bucket = self._buckets.setdefault(f"{'list' if listing else 'api'}:{key}", _Bucket(rate, burst, now))
        if not bucket.take(now):
            self.refused += 1
            raise _error_for(429)
        self.calls[f"{request.method} {template}"] += 1
        if not raw.strip():
            return {}
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise ApiError(400, "BAD_REQUEST", "The request body is not valid JSON.") from None
        if not isinstance(parsed, dict):
            raise ApiError(400, "BAD_REQUEST", "The request body must be a JSON object.")
        return parsed

    @staticmethod
    def _api_key(header: str) -> str | None:
        # EasyPost takes the key as a Bearer token (its client libraries) or as the Basic user (its curl examples).
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        if scheme.lower() != "basic" or not token:
            return None
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, _ = decoded.partition(":")
        return user or None
