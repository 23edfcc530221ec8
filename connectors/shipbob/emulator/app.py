"""The ShipBob emulator: the ASGI app serving ShipBob's 1.0 API, held to the official OpenAPI document."""

from __future__ import annotations

import base64
import json
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.shipbob.emulator.openapi import request_problems, response_problems
from connectors.shipbob.emulator.returns import ReturnBook
from connectors.shipbob.emulator.state import DEFAULT_CENTRES, ApiError, Centre, ShipBobState
from connectors.shipbob.webhooks import signature_headers
from omnibridge.sdk.emulator import EmulatorKnobs, RequestRecorder, WebhookKnobs, WebhookSender

__all__ = ["ShipBobEmulator", "ShipBobEmulatorConfig"]

_Handler = Callable[[Any, Request], Any]


@dataclass
class ShipBobEmulatorConfig:
    """How a :class:`ShipBobEmulator` behaves.

    * ``token``: the only Personal Access Token accepted (``Authorization: Bearer``); anything else is 401.
    * ``channel_id`` / ``channel_name``: the channel the token writes as (``GET /1.0/channel``).
    * ``webhook_secret`` (``whsec_`` + base64) signs deliveries; ``webhook_url`` receives every topic that has no
      subscription of its own (``POST /1.0/webhook``).
    * ``requests_per_minute``: ShipBob's sliding window (60 s) across every call of the token; over it: 429.
    * ``latency_ms``, ``error_rate``, ``seed``: :class:`omnibridge.sdk.emulator.EmulatorKnobs`.
    """

    token: str = "sbpat-emulator"  # noqa: S105 - the emulator's public demo token
    channel_id: int = 1001
    channel_name: str = "omnibridge"
    webhook_secret: str = "whsec_" + base64.b64encode(b"shipbob-emulator-webhook-secret!").decode("ascii")
    webhook_url: str | None = None
    requests_per_minute: int = 150
    centres: tuple[Centre, ...] = DEFAULT_CENTRES
    latency_ms: tuple[float, float] = (0.0, 0.0)
    error_rate: float = 0.0
    seed: int = 0
    check_answers: bool = True
    stock: dict[str, dict[int, int]] = field(default_factory=dict)
    """Initial on-hand quantities: reference_id (SKU) -> {centre id: units}."""


def _error_response(error: ApiError, headers: dict[str, str]) -> Response:
    if error.text:
        return PlainTextResponse(error.text, status_code=error.status, headers=headers)
    if error.status in (401, 403) and not error.errors:
        return Response(status_code=error.status, headers=headers)
    return JSONResponse(error.errors, status_code=error.status, headers=headers)


class ShipBobEmulator:
    """A local fake of ShipBob's 1.0 API: fulfilment centres, products and stock, orders keyed by
    ``reference_id``, shipments with tracking and signed webhooks. ``clock`` gives aware UTC times; ``monotonic``
    drives the rate window (both injectable for tests)."""

    def __init__(
        self,
        config: ShipBobEmulatorConfig | None = None,
        clock: Callable[[], datetime] | None = None,
        *,
        monotonic: Callable[[], float] | None = None,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
        webhook_knobs: WebhookKnobs | None = None,
        recorder: RequestRecorder | None = None,
    ) -> None:
        self.config = config or ShipBobEmulatorConfig()
        cfg = self.config
        self.clock = clock or (lambda: datetime.now(UTC))
        self.monotonic = monotonic or time.monotonic
        self.knobs = EmulatorKnobs(latency_ms=cfg.latency_ms, error_rate=cfg.error_rate, seed=cfg.seed)
        self.state = ShipBobState(cfg.centres, cfg.channel_id, cfg.channel_name, self.clock)
        self.returns = ReturnBook(self.state)
        for sku, per_centre in cfg.stock.items():
            for centre_id, units in per_centre.items():
                self.state.set_stock(sku, centre_id, units)
        self.recorder = recorder or RequestRecorder.from_env("shipbob")
        self.webhooks = WebhookSender(
            "shipbob", sign=lambda body, url: {}, url=cfg.webhook_url, knobs=webhook_knobs, transport=webhook_transport
        )
        self.calls: Counter[str] = Counter()
        self.problems: list[str] = []
        """Every request the spec refused (``METHOD path: field: message``), for tests."""
        self.refused = 0
        self.answered = 0
        self.fail_queue: list[int] = []
        self.lose_next = 0
        self._sent: deque[float] = deque()
        self._deliveries = 0
        from connectors.shipbob.emulator.control import control_routes

        self.app = Starlette(routes=self._routes() + control_routes(self))

    # -- scripted actions (the control back door) ---------------------------------------------------------

    def set_webhook_url(self, url: str | None) -> None:
        self.config.webhook_url = url
        self.webhooks.set_url(url)

    def set_stock(self, sku: str, centre_id: int, on_hand: int) -> None:
        """Make the warehouse hold ``on_hand`` units of ``sku`` at ``centre_id`` (creates the product)."""
        self.state.set_stock(sku, centre_id, on_hand)

    def ship(self, ref: str | int, carrier: str = "USPS") -> dict[str, Any]:
        """Ship the order (by id or reference_id) and send a signed ``order_shipped``; returns the shipment."""
        shipment = self.state.ship(ref, carrier)
        self._emit("order_shipped", shipment)
        return shipment

    def cancel(self, ref: str | int) -> dict[str, Any]:
        """Cancel the order as ShipBob staff would; sends ``shipment_cancelled`` per cancelled shipment."""
        answer = self.state.cancel(ref)
        for shipment in answer["order"]["shipments"]:
            if shipment["status"] == "Cancelled":
                self._emit("shipment_cancelled", shipment)
        return answer

    def fail_next(self, status: int, count: int = 1) -> None:
        """Answer the next ``count`` API requests with ``status`` (429 with ShipBob's body and headers)."""
        self.fail_queue.extend([status] * count)

    def lose_next_response(self, count: int = 1) -> None:
        """Apply the next ``count`` writes, then answer 503 as if the response were lost."""
        self.lose_next += count

    def _emit(self, topic: str, shipment: dict[str, Any]) -> None:
        body = json.dumps(shipment, separators=(",", ":")).encode("utf-8")
        self._deliveries += 1
        delivery_id = f"msg_{self._deliveries:08d}"
        stamp = int(self.clock().timestamp())
        headers = signature_headers(self.config.webhook_secret, delivery_id, stamp, body, topic)
        subscribed = [w for w in self.state.webhooks.values() if w["topic"] == topic]
        self.webhooks.set_url(subscribed[0]["subscription_url"] if subscribed else self.config.webhook_url)
        self.webhooks.send(topic, body, headers, delivery_id=delivery_id, event_id=f"{topic}:{shipment['id']}")

    # -- API -----------------------------------------------------------------------------------------------

    def _routes(self) -> list[BaseRoute]:
        state = self.state
        api: list[tuple[str, str, _Handler, int]] = [
            ("GET", "/1.0/channel", lambda body, req: [self._channel()], 200),
            ("GET", "/1.0/fulfillmentCenter", lambda body, req: [c.body() for c in state.centres.values()], 200),
            ("GET", "/1.0/product", self._products, 200),
            ("GET", "/1.0/order", self._orders, 200),
            ("POST", "/1.0/order", self._create_order, 201),
            ("GET", "/1.0/order/{orderId}", lambda body, req: state.order(self._int(req, "orderId")), 200),
            ("POST", "/1.0/order/{orderId}/cancel", self._cancel_order, 200),
            (
                "GET",
                "/1.0/order/{orderId}/shipment",
                lambda body, req: state.order(self._int(req, "orderId"))["shipments"],
                200,
            ),
            (
                "GET",
                "/1.0/shipment/{shipmentId}",
                lambda body, req: self.returns.shipment(self._int(req, "shipmentId")),
                200,
            ),
            ("GET", "/1.0/return", lambda body, req: self._page(self.returns.listed(dict(req.query_params)), req), 200),
            ("POST", "/1.0/return", self._create_return, 201),
            ("GET", "/1.0/return/{id}", lambda body, req: self.returns.get(self._int(req, "id")), 200),
            ("POST", "/1.0/return/{id}/cancel", lambda body, req: self.returns.cancel(self._int(req, "id")), 200),
            ("GET", "/1.0/webhook", lambda body, req: list(state.webhooks.values()), 200),
            ("POST", "/1.0/webhook", self._create_webhook, 201),
            ("DELETE", "/1.0/webhook/{id}", self._delete_webhook, 204),
        ]
        return [
            Route(path, self._endpoint(method, handler, status), methods=[method])
            for method, path, handler, status in api
        ]

    def _channel(self) -> dict[str, Any]:
        scopes = ["orders_read", "orders_write", "inventory_read", "products_read", "webhooks_write"]
        return {
            "id": self.config.channel_id,
            "name": self.config.channel_name,
            "application_name": "Api",
            "scopes": scopes,
        }

    @staticmethod
    def _int(request: Request, name: str) -> int:
        raw = request.path_params[name]
        if not str(raw).isdigit():
            raise ApiError(400, {name: [f"The value '{raw}' is not valid."]})
        return int(raw)

    def _page(self, items: list[Any], request: Request) -> tuple[list[Any], dict[str, str]]:
        query = {k.lower(): v for k, v in request.query_params.items()}
        limit = min(250, max(1, int(query.get("limit", "50"))))
        page = max(1, int(query.get("page", "1")))
        chunk = items[(page - 1) * limit : page * limit]
        headers = {"page-number": str(page), "page-size": str(limit), "total-count": str(len(items))}
        headers["total-pages"] = str(max(1, -(-len(items) // limit)))
        if page * limit < len(items):
            params = {k: v for k, v in request.query_params.items() if k.lower() != "page"}
            headers["next-page"] = f"{request.url.path}?{urlencode({**params, 'Page': page + 1})}"
        return chunk, headers

    def _products(self, body: Any, request: Request) -> tuple[list[Any], dict[str, str]]:
        wanted = _csv(request, "referenceids")
        products = [p for p in self.state.products.values() if wanted is None or p.reference_id in wanted]
        chunk, headers = self._page(products, request)
        return [self.state.product_body(p) for p in chunk], headers

    def _orders(self, body: Any, request: Request) -> tuple[list[Any], dict[str, str]]:
        state = self.state
        wanted = _csv(request, "referenceids")
        ids = _csv(request, "ids")
        since_raw = {k.lower(): v for k, v in request.query_params.items()}.get("lastupdatestartdate")
        since = datetime.fromisoformat(since_raw.replace("Z", "+00:00")) if since_raw else None
        orders = [
            o
            for o in state.orders.values()
            if (wanted is None or o["reference_id"] in wanted)
            and (ids is None or str(o["id"]) in ids)
            and (since is None or state.updated[o["id"]] >= since)
        ]
        newest = {k.lower(): v for k, v in request.query_params.items()}.get("sortorder", "Newest") == "Newest"
        orders.sort(key=lambda o: (state.updated[o["id"]], o["id"]), reverse=newest)
        return self._page(orders, request)

    def _create_order(self, body: Any, request: Request) -> Any:
        channel = int(request.headers["shipbob_channel_id"])
        if channel != self.config.channel_id:
            raise ApiError(403)
        return self.state.create_order(body, channel)

    def _create_return(self, body: Any, request: Request) -> Any:
        channel = int(request.headers["shipbob_channel_id"])
        if channel != self.config.channel_id:
            raise ApiError(403)
        return self.returns.create(body, channel)

    def _cancel_order(self, body: Any, request: Request) -> Any:
        answer = self.state.cancel(self._int(request, "orderId"))
        for shipment in answer["order"]["shipments"]:
            if shipment["status"] == "Cancelled":
                self._emit("shipment_cancelled", shipment)
        return answer

    def _create_webhook(self, body: Any, request: Request) -> Any:
        webhook_id = self.state.new_id("webhook")
        created = self.clock().astimezone(UTC).isoformat(timespec="seconds")
        hook = {
            "id": webhook_id,
            "topic": body["topic"],
            "subscription_url": body["subscription_url"],
            "created_at": created,
        }
        self.state.webhooks[webhook_id] = hook
        return hook

    def _delete_webhook(self, body: Any, request: Request) -> Any:
        if self.state.webhooks.pop(self._int(request, "id"), None) is None:
            raise ApiError(404, {"id": ["Webhook not found"]})
        return None

    def _throttle(self) -> ApiError | None:
        now = self.monotonic()
        while self._sent and self._sent[0] <= now - 60.0:
            self._sent.popleft()
        if len(self._sent) >= self.config.requests_per_minute:
            wait = max(1, int(self._sent[0] + 60.0 - now + 0.999))
            return ApiError(429, text=f"Rate limit is exceeded. Try again in {wait} seconds")
        self._sent.append(now)
        return None

    def remaining(self) -> int:
        """Calls left in the current window."""
        return max(0, self.config.requests_per_minute - len(self._sent))

    def _injected(self, status: int) -> ApiError:
        if status == 429:
            return ApiError(429, text="Rate limit is exceeded. Try again in 1 seconds")
        if status >= 500:
            return ApiError(status, {"": ["An unexpected error occurred."]})
        return ApiError(status, {"": [f"Injected error {status}."]})

    def _endpoint(self, method: str, handler: _Handler, ok: int) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            self.recorder.record(request.method, request.url.path, request.url.query, request.headers, raw)
            self.answered += 1
            headers: dict[str, str] = {}
            try:
                body = self._admit(request, raw, headers)
                await self.knobs.delay()
                if self.fail_queue:
                    raise self._injected(self.fail_queue.pop(0))
                if self.knobs.should_fail():
                    raise self._injected(503)
                result = handler(body, request)
            except ApiError as error:
                if error.status == 429:
                    wait = error.text.rsplit(" in ", 1)[-1].split(" ")[0]
                    headers.update({"x-retry-after": wait, "x-remaining-calls": str(self.remaining())})
                return _error_response(error, headers)
            if method == "POST" and self.lose_next > 0:
                self.lose_next -= 1  # applied above; the answer is "lost" on the way back
                return JSONResponse({"": ["Service unavailable"]}, status_code=503, headers=headers)
            if isinstance(result, tuple):
                result, extra = result
                headers.update(extra)
            if ok == 204:
                return Response(status_code=204, headers=headers)
            if self.config.check_answers:
                problems = response_problems(method, request.url.path, ok, result)
                if problems:
                    raise AssertionError(f"emulator answer breaks the spec: {problems}")
            return JSONResponse(result, status_code=ok, headers=headers)

        return endpoint

    def _admit(self, request: Request, raw: bytes, headers: dict[str, str]) -> Any:
        """Auth, the rate window, counting and the spec check; returns the parsed body (None when empty)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.config.token:
            raise ApiError(401)
        throttled = self._throttle()
        headers["x-remaining-calls"] = str(self.remaining())
        if throttled is not None:
            self.refused += 1
            raise throttled
        self.calls[f"{request.method} {request.url.path}"] += 1
        body: Any = None
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                raise ApiError(400, {"": ["The request body is not valid JSON."]}) from None
        problems = request_problems(request.method, request.url.path, dict(request.query_params), request.headers, body)
        if problems:
            self.problems.extend(
                f"{request.method} {request.url.path}: {key}: {msg}" for key, msgs in problems.items() for msg in msgs
            )
            raise ApiError(400, problems)
        return body


def _csv(request: Request, name: str) -> set[str] | None:
    for key, value in request.query_params.multi_items():
        if key.lower() == name:
            return {part for part in value.split(",") if part}
    return None
