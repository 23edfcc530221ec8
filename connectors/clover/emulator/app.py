"""The Clover emulator: merchant state, scripted POS actions and the ASGI app serving Clover's REST v3 API."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.clover.emulator.api import (
    ITEM_FIELDS,
    ORDER_FIELDS,
    ApiError,
    Query,
    filter_rows,
    item_field,
    order_field,
    page,
)
from connectors.clover.emulator.config import CloverEmulatorConfig
from connectors.clover.emulator.control import control_routes
from connectors.clover.emulator.items import item_changes
from connectors.clover.emulator.state import MerchantState
from omnibridge.sdk.emulator import EmulatorKnobs, RequestRecorder, WebhookKnobs, WebhookSender

__all__ = ["CloverEmulator"]

_Handler = Callable[[Request, Any], Any]
_WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})


class _Bucket:
    """Token bucket: ``rate`` tokens per second, holding at most one second's worth; ``take()`` False when empty."""

    def __init__(self, rate: float, now: float) -> None:
        self.rate, self.tokens, self.stamp = rate, rate, now

    def take(self, now: float) -> bool:
        self.tokens = min(self.rate, self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"message": "Not Found"}, 404)


class CloverEmulator:
    """A local fake of Clover's merchant, inventory (items, item_stocks) and orders APIs, with notifications.

    ``clock`` returns the current aware UTC time (``modifiedTime``s); ``monotonic`` drives the rate-limit bucket
    (default :func:`time.monotonic`). ``webhook_transport`` lets tests deliver notifications in process. One
    instance is one merchant, in memory.
    """

    def __init__(
        self,
        config: CloverEmulatorConfig | None = None,
        clock: Callable[[], datetime] | None = None,
        *,
        monotonic: Callable[[], float] | None = None,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
        webhook_knobs: WebhookKnobs | None = None,
        recorder: RequestRecorder | None = None,
    ) -> None:
        self.config = config or CloverEmulatorConfig()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.monotonic = monotonic or time.monotonic
        cfg = self.config
        self.knobs = EmulatorKnobs(latency_ms=cfg.latency_ms, error_rate=cfg.error_rate, seed=cfg.seed)
        self.state = MerchantState(cfg.merchant_id, cfg.currency, self.clock, self.knobs.random())
        self.recorder = recorder or RequestRecorder.from_env("clover")
        self.webhooks = WebhookSender(
            "clover",
            sign=lambda body, url: {"X-Clover-Auth": self.config.auth_code},
            url=cfg.notification_url,
            knobs=webhook_knobs,
            transport=webhook_transport,
            clock=self.clock,
        )
        self.calls: Counter[str] = Counter()
        self.refused = 0
        """Requests refused with 429 because the client broke a rate or concurrency limit (not injected)."""
        self.api_requests = 0
        self.injected: list[int] = []
        self.lose_writes = 0
        self.notifications: list[dict[str, Any]] = []
        self._buckets: dict[str, _Bucket] = {}
        self._in_flight: Counter[str] = Counter()
        self.app = Starlette(routes=self._routes(), exception_handlers={404: _not_found, 405: _not_found})

    # -- scripted merchant actions (Python API) --------------------------------------------------------------

    def set_notification_url(self, url: str | None) -> None:
        self.config.notification_url = url
        self.webhooks.set_url(url)

    def add_item(
        self, sku: str | None, name: str, price_cents: int, quantity: float | None = 0, *, code: str | None = None
    ) -> str:
        """Create an item; returns its id. No notification (seeding)."""
        if sku is not None and any(i.get("sku") == sku for i in self.state.items.values()):
            raise ValueError(f"SKU {sku!r} already exists")
        return self.state.add_item(sku, name, price_cents, quantity, code)

    def seed_stock(self, sku: str, quantity: float) -> None:
        """Set an item's stock without a notification (creating the item if needed)."""
        try:
            item_id = self.state.item_for_sku(sku)
        except KeyError:
            self.add_item(sku, f"Item {sku}", 1000, quantity)
            return
        self.state.set_stock(item_id, quantity)

    def dashboard_stock(self, sku: str, quantity: float) -> None:
        """Staff edit the stock on the Clover dashboard: sets it and notifies ``I:<id>`` UPDATE."""
        item_id = self.state.item_for_sku(sku)
        self.state.set_stock(item_id, quantity)
        self._notify([("I:" + item_id, "UPDATE")])

    def pos_sale(self, lines: Sequence[tuple[str, int]], *, created_ms: int | None = None) -> dict[str, Any]:
        """A sale on a Clover device: a paid, locked order (one line item per unit), stock taken, and one message
        notifying ``O:<order>`` CREATE and ``I:<item>`` UPDATE for each item sold. Returns the order."""
        resolved = [(self.state.item_for_sku(sku), int(units)) for sku, units in lines]
        if any(units < 1 for _, units in resolved):
            raise ValueError("every line needs at least one unit")
        order = self.state.new_paid_order(resolved, created_ms)
        for item_id, units in resolved:
            if self.state.stock(item_id) is not None:
                self.state.set_stock(item_id, self.state.quantity(item_id) - units)
        items = list(dict.fromkeys(item_id for item_id, _ in resolved))
        self._notify([("O:" + order["id"], "CREATE"), *(("I:" + i, "UPDATE") for i in items)])
        return self.state.order_json(order["id"], ["lineItems"])

    def open_order(self, lines: Sequence[tuple[str, int]]) -> dict[str, Any]:
        """An unpaid order (a tab left open): no stock taken; notifies ``O:`` CREATE."""
        order = self.state.new_open_order([(self.state.item_for_sku(s), int(u)) for s, u in lines])
        self._notify([("O:" + order["id"], "CREATE")])
        return self.state.order_json(order["id"], ["lineItems"])

    def refund_line(self, order_id: str, line_id: str) -> dict[str, Any]:
        """Refund one line item of a paid order; notifies ``O:`` UPDATE. Stock is not put back (see README)."""
        self.state.refund_line(order_id, line_id)
        self._notify([("O:" + order_id, "UPDATE")])
        return self.state.order_json(order_id, ["lineItems"])

    def quantity(self, sku: str) -> float:
        """``itemStock.quantity`` of the item with ``sku`` (0 without a stock record)."""
        return self.state.quantity(self.state.item_for_sku(sku))

    def listing(self, sku: str) -> tuple[str, int]:
        """``(name, price in cents)`` of the item with ``sku``."""
        item = self.state.items[self.state.item_for_sku(sku)]
        return str(item["name"]), int(item["price"])

    def fail_next(self, status: int, count: int = 1) -> None:
        """Answer the next ``count`` API requests with ``status`` and Clover's body for it (not counted as refused)."""
        self.injected.extend([status] * count)

    def lose_next_response(self, count: int = 1) -> None:
        """Apply the next ``count`` write requests, then answer 503 instead of the real response."""
        self.lose_writes += count

    def _notify(self, objects: Sequence[tuple[str, str]]) -> None:
        ts = self.state.now()
        entries = [{"objectId": object_id, "type": kind, "ts": ts} for object_id, kind in objects]
        body = {"appId": self.config.app_id, "merchants": {self.config.merchant_id: entries}}
        self.notifications.append(body)
        delivery = f"{self.config.merchant_id}:{','.join(o for o, _ in objects)}:{ts}"
        self.webhooks.send(
            objects[0][0].split(":", 1)[0], body, {"content-type": "application/json"}, delivery_id=delivery
        )

    # -- HTTP --------------------------------------------------------------------------------------------------

    def _routes(self) -> list[BaseRoute]:
        base = "/v3/merchants/{mId}"
        api: list[tuple[str, str, _Handler]] = [
            ("GET", base, self._merchant),
            ("GET", base + "/items", self._list_items),
            ("GET", base + "/items/{itemId}", self._get_item),
            ("POST", base + "/items/{itemId}", self._update_item),
            ("GET", base + "/item_stocks/{itemId}", self._get_stock),
            ("POST", base + "/item_stocks/{itemId}", self._set_stock),
            ("GET", base + "/orders", self._list_orders),
            ("GET", base + "/orders/{orderId}", self._get_order),
        ]
        routes: list[BaseRoute] = [
            Route(path, self._endpoint(method, path, handler), methods=[method]) for method, path, handler in api
        ]
        return routes + control_routes(self)

    def _item(self, request: Request) -> str:
        item_id = request.path_params["itemId"]
        if item_id not in self.state.items:
            raise ApiError(404, f"Item not found: {item_id}")
        return str(item_id)

    def _merchant(self, request: Request, body: Any) -> dict[str, Any]:
        return {
            "id": self.config.merchant_id,
            "name": self.config.merchant_name,
            "currency": self.config.currency,
            "defaultCurrency": self.config.currency,
        }

    def _list_items(self, request: Request, body: Any) -> dict[str, Any]:
        query = Query(request.query_params.multi_items(), ITEM_FIELDS)
        rows = filter_rows(list(self.state.items.values()), query, item_field(self.state))
        return page([self.state.item_json(r["id"], query.expand) for r in rows], query)

    def _get_item(self, request: Request, body: Any) -> dict[str, Any]:
        query = Query(request.query_params.multi_items(), ITEM_FIELDS)
        return self.state.item_json(self._item(request), query.expand)

    def _update_item(self, request: Request, body: Any) -> dict[str, Any]:
        item_id = self._item(request)
        self.state.update_item(item_id, item_changes(body))
        return self.state.item_json(item_id)

    def _get_stock(self, request: Request, body: Any) -> dict[str, Any]:
        stock = self.state.stock(self._item(request))
        if stock is None:
            raise ApiError(404, "Item stock not found")
        return stock

    def _set_stock(self, request: Request, body: Any) -> dict[str, Any]:
        item_id = self._item(request)
        quantity = body.get("quantity") if isinstance(body, dict) else None
        if isinstance(quantity, bool) or not isinstance(quantity, int | float) or not math.isfinite(quantity):
            raise ApiError(400, "quantity is required and must be a number")
        stock = self.state.set_stock(item_id, float(Decimal(str(quantity))))
        self._notify([("I:" + item_id, "UPDATE")])
        return stock

    def _list_orders(self, request: Request, body: Any) -> dict[str, Any]:
        query = Query(request.query_params.multi_items(), ORDER_FIELDS)
        newest_first = sorted(self.state.orders.values(), key=lambda o: (o["createdTime"], o["id"]), reverse=True)
        rows = filter_rows(newest_first, query, order_field)
        return page([self.state.order_json(r["id"], query.expand) for r in rows], query)

    def _get_order(self, request: Request, body: Any) -> dict[str, Any]:
        order_id = request.path_params["orderId"]
        if order_id not in self.state.orders:
            raise ApiError(404, f"Order not found: {order_id}")
        query = Query(request.query_params.multi_items(), ORDER_FIELDS)
        return self.state.order_json(order_id, query.expand)

    def _endpoint(self, method: str, template: str, handler: _Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            self.recorder.record(request.method, request.url.path, request.url.query, request.headers, raw)
            self.api_requests += 1
            token = ""
            admitted = False
            try:
                token = self._authenticate(request)
                self._admit(token)
                admitted = True
                self._in_flight[token] += 1
                self.calls[f"{method} {template.replace('/v3/merchants/{mId}', '') or '/merchants/{mId}'}"] += 1
                await self.knobs.delay()
                if self.injected:
                    self._inject(self.injected.pop(0))
                if self.knobs.should_fail():
                    raise ApiError(503, "Service Unavailable")
                body = self._parse(raw) if method in _WRITE_METHODS else None
                result = handler(request, body)
                if method in _WRITE_METHODS and self.lose_writes > 0:
                    self.lose_writes -= 1
                    raise ApiError(503, "Service Unavailable")
                return JSONResponse(result)
            except ApiError as error:
                return JSONResponse({"message": error.message}, status_code=error.status, headers=error.headers)
            finally:
                if admitted:
                    self._in_flight[token] -= 1

        return endpoint

    def _authenticate(self, request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or token != self.config.access_token:
            raise ApiError(401, "401 Unauthorized")
        if request.path_params.get("mId") != self.config.merchant_id:
            raise ApiError(401, "401 Unauthorized")
        if self.config.require_user_agent and not request.headers.get("user-agent", "").strip():
            raise ApiError(400, "User-Agent header is required")
        return token

    def _admit(self, token: str) -> None:
        cfg = self.config
        now = self.monotonic()
        bucket = self._buckets.setdefault(token, _Bucket(cfg.requests_per_second, now))
        if self._in_flight[token] >= cfg.concurrent_limit:
            self.refused += 1
            self.calls["rate_limited"] += 1
            raise ApiError(
                429,
                "Too Many Requests",
                {"X-RateLimit-tokenConcurrentLimit": str(cfg.concurrent_limit), "retry-after": "1"},
            )
        if not bucket.take(now):
            self.refused += 1
            self.calls["rate_limited"] += 1
            raise ApiError(429, "Too Many Requests", {"X-RateLimit-tokenLimit": str(int(cfg.requests_per_second))})

    def _inject(self, status: int) -> None:
        if status == 429:
            raise ApiError(
                429, "Too Many Requests", {"X-RateLimit-tokenLimit": str(int(self.config.requests_per_second))}
            )
        messages = {401: "401 Unauthorized", 404: "Not Found", 400: "Bad Request", 500: "Internal Server Error"}
        raise ApiError(status, messages.get(status, "Service Unavailable"))

    @staticmethod
    def _parse(raw: bytes) -> Any:
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "Request body is not valid JSON") from None
