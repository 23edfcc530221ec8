"""A local emulator of the ACME WMS stock API (a Starlette ASGI app), for tests and trying the connector.

Vendor API (every request needs ``X-Api-Key``; ``{code}`` is the warehouse code):

===============================================  ==================================================================
``GET  /v1/warehouses/{code}/locations``         ``{"locations": [{"code", "name", "active"}]}``
``GET  /v1/warehouses/{code}/stock``             ``{"rows": [{"item_code", "location", "qty_on_hand"}],
                                                 "next_cursor"}``; ``limit`` (1..500, default 100), ``cursor``,
                                                 repeatable ``item_code`` filter
``PUT  /v1/warehouses/{code}/stock/{item_code}`` ``{"location", "qty_on_hand"}``: set an absolute count -> the row
``POST /v1/warehouses/{code}/adjustments``       ``{"item_code", "location", "delta"}`` with ``Idempotency-Key``
                                                 (required): apply a delta -> 201 and the row. A repeated key with
                                                 the same body answers the stored response again (nothing applied);
                                                 with another body, 422 ``idempotency_key_reused``
===============================================  ==================================================================

ACME's behaviour, as its (fictional) documentation states it: errors are ``{"error": {"code", "message"}}``
(401 ``unauthorized``, 404 ``unknown_warehouse`` / ``unknown_item`` / ``unknown_location``, 400 ``bad_request``,
422 ``invalid_quantity``, 429 ``rate_limited`` with ``Retry-After: 1``, 503 ``unavailable``). Every answer
carries ``X-RateLimit-Limit`` (the bucket size) and ``X-RateLimit-Remaining``; the bucket refills at
``requests_per_second`` per API key. Counts never go below zero (an adjustment that would is 422).

Back door (Python, for tests): :meth:`AcmeEmulator.seed`, :meth:`AcmeEmulator.quantity`,
:meth:`AcmeEmulator.fail_next`, :meth:`AcmeEmulator.lose_next_response`, and the counters ``api_requests`` and
``refused`` (requests refused with 429 by the rate limit, injected ones not counted). ``GET /_emulator/state``
shows the stock as JSON. With ``OMNIBRIDGE_RECORD_REQUESTS`` set, every API request is recorded (service
``"acme"``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omnibridge.sdk.emulator import RequestRecorder

__all__ = ["AcmeEmulator", "AcmeEmulatorConfig"]

_MESSAGES = {
    400: ("bad_request", "The request body is not valid."),
    401: ("unauthorized", "Missing or invalid X-Api-Key."),
    404: ("not_found", "No such resource."),
    422: ("invalid_quantity", "The quantity is not valid."),
    429: ("rate_limited", "Too many requests; retry after the given delay."),
    500: ("internal_error", "Internal server error."),
    503: ("unavailable", "The service is temporarily unavailable."),
}


@dataclass
class AcmeEmulatorConfig:
    """One emulated warehouse: its code, the accepted API key, its locations and its rate limit."""

    warehouse_code: str = "WH1"
    api_key: str = "acme-emulator-key"
    locations: dict[str, str] = field(default_factory=lambda: {"A-01": "Aisle A", "B-01": "Aisle B"})
    requests_per_second: float = 20.0
    burst: int = 10
    items: tuple[str, ...] = ()


class _ApiError(Exception):
    def __init__(self, status: int, code: str | None = None, message: str | None = None) -> None:
        default_code, default_message = _MESSAGES.get(status, ("error", "Error."))
        self.status = status
        self.code = code or default_code
        self.message = message or default_message
        super().__init__(self.message)


class AcmeEmulator:
    """The ACME WMS API over in-memory stock (see the module docstring). ``monotonic`` drives the rate limit."""

    def __init__(
        self,
        config: AcmeEmulatorConfig | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        recorder: RequestRecorder | None = None,
    ) -> None:
        self.config = config or AcmeEmulatorConfig()
        self._monotonic = monotonic
        self.recorder = recorder or RequestRecorder.from_env("acme")
        self.items: set[str] = set(self.config.items)
        self.stock: dict[tuple[str, str], int] = {}
        self._tokens = float(self.config.burst)
        self._stamp = monotonic()
        self._keys: dict[str, tuple[str, int, dict[str, Any]]] = {}
        self._failures: list[int] = []
        self._lose = 0
        self.api_requests = 0
        self.refused = 0
        base = "/v1/warehouses/{code}"
        self.app = Starlette(
            routes=[
                Route(f"{base}/locations", self._api(self._locations), methods=["GET"]),
                Route(f"{base}/stock", self._api(self._stock_page), methods=["GET"]),
                Route(f"{base}/stock/{{item_code:path}}", self._api(self._set_stock, write=True), methods=["PUT"]),
                Route(f"{base}/adjustments", self._api(self._adjust, write=True), methods=["POST"]),
                Route("/_emulator/state", self._state, methods=["GET"]),
            ]
        )

    # -- back door ---------------------------------------------------------------------------------------------
    def seed(self, item_code: str, location: str, quantity: int) -> None:
        """Create the item if needed and set its count at ``location``."""
        if location not in self.config.locations:
            raise KeyError(f"unknown location {location!r}")
        self.items.add(item_code)
        self.stock[(item_code, location)] = quantity

    def quantity(self, item_code: str, location: str) -> int:
        """The count of ``item_code`` at ``location`` (0 when never stocked there)."""
        return self.stock.get((item_code, location), 0)

    def fail_next(self, status: int, *, count: int = 1) -> None:
        """Answer the next ``count`` API requests with ``status`` and ACME's error body (429: ``Retry-After: 1``)."""
        self._failures.extend([status] * count)

    def lose_next_response(self, *, count: int = 1) -> None:
        """Apply the next ``count`` writes, then answer 503 instead of their response."""
        self._lose += count

    # -- plumbing ----------------------------------------------------------------------------------------------
    def _take_token(self) -> bool:
        now = self._monotonic()
        self._tokens = min(
            float(self.config.burst), self._tokens + (now - self._stamp) * self.config.requests_per_second
        )
        self._stamp = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def _limit_headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.config.burst), "X-RateLimit-Remaining": str(int(self._tokens))}

    def _error(self, error: _ApiError) -> JSONResponse:
        headers = self._limit_headers()
        if error.status == 429:
            headers["Retry-After"] = "1"
        body = {"error": {"code": error.code, "message": error.message}}
        return JSONResponse(body, status_code=error.status, headers=headers)

    def _api(
        self, handler: Callable[[Request, bytes], tuple[int, dict[str, Any]]], *, write: bool = False
    ) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            self.recorder.record(request.method, request.url.path, request.url.query, dict(request.headers), raw)
            self.api_requests += 1
            try:
                if self._failures:
                    raise _ApiError(self._failures.pop(0))
                if request.headers.get("x-api-key") != self.config.api_key:
                    raise _ApiError(401)
                if not self._take_token():
                    self.refused += 1
                    raise _ApiError(429)
                if request.path_params["code"] != self.config.warehouse_code:
                    raise _ApiError(404, "unknown_warehouse", f"No warehouse {request.path_params['code']!r}.")
                status, body = handler(request, raw)
            except _ApiError as error:
                return self._error(error)
            if write and self._lose > 0:
                self._lose -= 1
                return self._error(_ApiError(503))
            return JSONResponse(body, status_code=status, headers=self._limit_headers())

        return endpoint

    @staticmethod
    def _json(raw: bytes) -> dict[str, Any]:
        try:
            body = json.loads(raw)
        except ValueError:
            raise _ApiError(400, message="The body is not JSON.") from None
        if not isinstance(body, dict):
            raise _ApiError(400, message="The body must be a JSON object.")
        return body

    def _location(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.config.locations:
            raise _ApiError(404, "unknown_location", f"No location {value!r} in this warehouse.")
        return value

    def _row(self, item_code: str, location: str) -> dict[str, Any]:
        return {"item_code": item_code, "location": location, "qty_on_hand": self.quantity(item_code, location)}

    # -- handlers ----------------------------------------------------------------------------------------------
    def _locations(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        rows = [{"code": code, "name": name, "active": True} for code, name in self.config.locations.items()]
        return 200, {"locations": rows}

    def _stock_page(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        wanted = set(request.query_params.getlist("item_code"))
        rows = [self._row(item, location) for (item, location) in sorted(self.stock) if not wanted or item in wanted]
        try:
            limit = int(request.query_params.get("limit", "100"))
            offset = int(request.query_params.get("cursor") or 0)
        except ValueError:
            raise _ApiError(400, message="limit and cursor must be whole numbers.") from None
        limit = limit if 1 <= limit <= 500 else 100
        page = rows[offset : offset + limit]
        more = offset + limit < len(rows)
        return 200, {"rows": page, "next_cursor": str(offset + limit) if more else None}

    def _set_stock(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        body = self._json(raw)
        item_code = str(request.path_params["item_code"])
        if item_code not in self.items:
            raise _ApiError(404, "unknown_item", f"No item {item_code!r}.")
        location = self._location(body.get("location"))
        quantity = body.get("qty_on_hand")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise _ApiError(422, message=f"qty_on_hand must be a whole number >= 0, got {quantity!r}.")
        self.stock[(item_code, location)] = quantity
        return 200, self._row(item_code, location)

    def _adjust(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        key = request.headers.get("idempotency-key", "").strip()
        if not key:
            raise _ApiError(400, message="Idempotency-Key header is required for adjustments.")
        body = self._json(raw)
        fingerprint = json.dumps(body, sort_keys=True)
        if key in self._keys:
            stored_fingerprint, status, response = self._keys[key]
            if stored_fingerprint != fingerprint:
                raise _ApiError(422, "idempotency_key_reused", "This Idempotency-Key was used with another body.")
            return status, response
        item_code = body.get("item_code")
        if not isinstance(item_code, str) or item_code not in self.items:
            raise _ApiError(404, "unknown_item", f"No item {item_code!r}.")
        location = self._location(body.get("location"))
        delta = body.get("delta")
        if not isinstance(delta, int) or isinstance(delta, bool):
            raise _ApiError(422, message=f"delta must be a whole number, got {delta!r}.")
        after = self.quantity(item_code, location) + delta
        if after < 0:
            raise _ApiError(422, message=f"the count would go below zero ({after}).")
        self.stock[(item_code, location)] = after
        response = self._row(item_code, location)
        self._keys[key] = (fingerprint, 201, response)
        return 201, response

    async def _state(self, request: Request) -> Response:
        rows = [self._row(item, location) for (item, location) in sorted(self.stock)]
        return JSONResponse({"warehouse": self.config.warehouse_code, "items": sorted(self.items), "stock": rows})
