"""HTTP control API of the Clover emulator under ``/_emulator/`` (no auth; JSON in, JSON out).

Mirrors the Python API of :class:`~connectors.clover.emulator.CloverEmulator` so the demo and a person with curl
can drive a running emulator (see the package docstring for the list). A bad request is 400 ``{"error": "..."}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from connectors.clover.emulator.app import CloverEmulator

__all__ = ["control_routes"]

_Action = Callable[[dict[str, Any], Request], Awaitable[Any] | Any]


def _delivery(record: Any) -> dict[str, Any]:
    return {
        "delivery_id": record.delivery_id,
        "topic": record.topic,
        "url": record.url,
        "body": record.payload,
        "duplicate": record.duplicate,
        "delivered": record.delivered,
        "gave_up": record.gave_up,
        "attempts": [{"number": a.number, "status": a.status, "error": a.error} for a in record.attempts],
    }


def _snapshot(emu: CloverEmulator) -> dict[str, Any]:
    state = emu.state
    return {
        "merchant_id": state.merchant_id,
        "items": [state.item_json(item_id, ["itemStock"]) for item_id in state.items],
        "orders": [state.order_json(order_id, ["lineItems"]) for order_id in state.orders],
        "calls": dict(emu.calls),
        "api_requests": emu.api_requests,
        "refused_requests": emu.refused,
        "notification_url": emu.config.notification_url,
    }


def _knobs(emu: CloverEmulator, body: dict[str, Any]) -> dict[str, Any]:
    knobs = emu.knobs
    if "latency_ms" in body:
        low, high = body["latency_ms"]
        knobs.latency_ms = (float(low), float(high))
    if "error_rate" in body:
        knobs.error_rate = float(body["error_rate"])
    if "fail_next" in body:
        spec = body["fail_next"]
        emu.fail_next(int(spec["status"]), int(spec.get("count", 1)))
    if "lose_next_response" in body:
        emu.lose_next_response(int(body["lose_next_response"]))
    if "requests_per_second" in body:
        emu.config.requests_per_second = float(body["requests_per_second"])
        emu._buckets.clear()
    if "concurrent_limit" in body:
        emu.config.concurrent_limit = int(body["concurrent_limit"])
    return {
        "latency_ms": list(knobs.latency_ms),
        "error_rate": knobs.error_rate,
        "fail_next": list(emu.injected),
        "lose_next_response": emu.lose_writes,
        "requests_per_second": emu.config.requests_per_second,
        "concurrent_limit": emu.config.concurrent_limit,
    }


def _wrap(action: _Action) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            raw = await request.body()
            body = (await request.json()) if raw.strip() else {}
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            result = action(body, request)
            if isinstance(result, Awaitable):
                result = await result
        except (KeyError, ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(result)

    return endpoint


def control_routes(emu: CloverEmulator) -> list[BaseRoute]:
    """The ``/_emulator/`` routes bound to ``emu``."""

    async def drain(body: dict[str, Any], request: Request) -> dict[str, Any]:
        await emu.webhooks.drain(timeout=float(body.get("timeout", 30.0)))
        return {"deliveries": len(emu.webhooks.deliveries)}

    def add_item(body: dict[str, Any], request: Request) -> dict[str, Any]:
        item_id = emu.add_item(
            body.get("sku"),
            str(body["name"]),
            int(body.get("price", 0)),
            body.get("quantity", 0),
            code=body.get("code"),
        )
        return {"id": item_id}

    def stock(body: dict[str, Any], request: Request) -> dict[str, Any]:
        sku = str(body["sku"])
        if body.get("notify", True):
            emu.dashboard_stock(sku, float(body["quantity"]))
        else:
            emu.seed_stock(sku, float(body["quantity"]))
        return {"quantity": emu.quantity(sku)}

    def sale(body: dict[str, Any], request: Request) -> dict[str, Any]:
        return {"order": emu.pos_sale([(str(line["sku"]), int(line["quantity"])) for line in body["lines"]])}

    def listing(body: dict[str, Any], request: Request) -> dict[str, Any]:
        name, cents = emu.listing(request.query_params["sku"])
        return {"name": name, "price": cents}

    def notification_url(body: dict[str, Any], request: Request) -> dict[str, Any]:
        emu.set_notification_url(body.get("url"))
        return {"notification_url": emu.config.notification_url}

    actions: list[tuple[str, str, _Action]] = [
        ("GET", "/_emulator/state", lambda body, req: _snapshot(emu)),
        ("GET", "/_emulator/calls", lambda body, req: dict(emu.calls)),
        ("GET", "/_emulator/stock", lambda body, req: {"quantity": emu.quantity(req.query_params["sku"])}),
        ("GET", "/_emulator/listing", listing),
        (
            "GET",
            "/_emulator/refused",
            lambda body, req: {"refused_requests": emu.refused, "api_requests": emu.api_requests},
        ),
        ("GET", "/_emulator/webhooks", lambda body, req: [_delivery(r) for r in emu.webhooks.deliveries]),
        ("POST", "/_emulator/items", add_item),
        ("POST", "/_emulator/stock", stock),
        ("POST", "/_emulator/sale", sale),
        (
            "POST",
            "/_emulator/orders/{order_id}/refund",
            lambda body, req: {"order": emu.refund_line(req.path_params["order_id"], str(body["line_id"]))},
        ),
        ("POST", "/_emulator/webhook-url", notification_url),
        ("POST", "/_emulator/knobs", lambda body, req: _knobs(emu, body)),
        ("POST", "/_emulator/drain", drain),
    ]
    return [Route(path, _wrap(action), methods=[method]) for method, path, action in actions]
