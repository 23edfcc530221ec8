"""``/_emulator/`` control endpoints: drive a separately started emulator with curl (JSON in, JSON out).

Not part of Shopify's API; no auth (the emulator listens on localhost). Errors: HTTP 400 for malformed JSON,
422 ``{"error": "..."}`` for an action the shop refuses.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.shopify.emulator.state import ShippingAddress, ShopError

if TYPE_CHECKING:
    from connectors.shopify.emulator.app import ShopifyEmulator

__all__ = ["control_routes"]

Handler = Callable[[Request], Awaitable[Response]]
_WEBHOOK_KNOBS = (
    "duplicate_next",
    "duplicate_rate",
    "delay_s",
    "fail_first_attempts",
    "max_attempts",
    "retry_backoff_s",
)


def _lines(raw: Any) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for line in raw or []:
        if isinstance(line, dict):
            out.append((str(line["sku"]), int(line["quantity"])))
        else:
            sku, quantity = line
            out.append((str(sku), int(quantity)))
    return out


def _shipping_address(body: dict[str, Any]) -> tuple[ShippingAddress | None, ...]:
    """``shipping_address`` of a placed order: absent → the sample buyer's; null → none; an object (REST field
    names, ``country_code`` required) → that address."""
    if "shipping_address" not in body:
        return ()
    raw = body["shipping_address"]
    if raw is None:
        return (None,)
    if not isinstance(raw, dict):
        raise ShopError("shipping_address must be an object or null")
    return (ShippingAddress.from_rest(raw),)


def control_routes(emu: ShopifyEmulator) -> list[Route]:
    """The control routes of one emulator."""

    def endpoint(action: Callable[[dict[str, Any], Request], Any]) -> Handler:
        async def handle(request: Request) -> Response:
            raw = await request.body()
            try:
                data = json.loads(raw) if raw.strip() else {}
            except ValueError:
                return JSONResponse({"error": "body must be JSON"}, status_code=400)
            if not isinstance(data, dict):
                return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
            try:
                result = action(data, request)
            except (ShopError, KeyError, TypeError, ValueError) as exc:
                return JSONResponse({"error": str(exc) or type(exc).__name__}, status_code=422)
            return JSONResponse(result)

        return handle

    def order_id(request: Request) -> str:
        return str(request.path_params["order_id"])

    def knobs(data: dict[str, Any], request: Request) -> dict[str, Any]:
        if request.method == "POST":
            if "latency_ms" in data:
                low, high = data["latency_ms"]
                emu.knobs.latency_ms = (float(low), float(high))
            if "error_rate" in data:
                emu.knobs.error_rate = float(data["error_rate"])
            if "fail_next" in data:
                emu.knobs.fail_next = int(data["fail_next"])
            if "bucket_size" in data:
                emu.bucket.maximum = float(data["bucket_size"])
                emu.bucket.available = min(emu.bucket.available, emu.bucket.maximum)
            if "restore_rate" in data:
                emu.bucket.restore_rate = float(data["restore_rate"])
            for name, value in (data.get("webhooks") or {}).items():
                if name not in _WEBHOOK_KNOBS:
                    raise ValueError(f"unknown webhook knob {name!r}")
                setattr(emu.webhooks.knobs, name, tuple(value) if name == "delay_s" else value)
        hooks = emu.webhooks.knobs
        return {
            "latency_ms": list(emu.knobs.latency_ms),
            "error_rate": emu.knobs.error_rate,
            "fail_next": emu.knobs.fail_next,
            "bucket_size": emu.bucket.maximum,
            "restore_rate": emu.bucket.restore_rate,
            "webhooks": {name: getattr(hooks, name) for name in _WEBHOOK_KNOBS},
        }

    def webhook_url(data: dict[str, Any], request: Request) -> dict[str, Any]:
        if request.method == "POST":
            emu.set_webhook_url(data.get("url"))
        return {"url": emu.webhooks.url}

    def redeliver(data: dict[str, Any], request: Request) -> dict[str, Any]:
        record = emu.redeliver_last(data.get("topic"))
        return {"topic": record.topic, "webhook_id": record.delivery_id, "event_id": record.event_id}

    def set_available(data: dict[str, Any], request: Request) -> dict[str, Any]:
        emu.set_available(str(data["sku"]), data["location_id"], int(data["available"]))
        return {"available": emu.available(str(data["sku"]), data["location_id"])}

    def listing(data: dict[str, Any], request: Request) -> dict[str, Any]:
        sku = request.query_params["sku"]
        title, price = emu.listing(sku)
        return {"sku": sku, "title": title, "price": price, "currency": emu.config.currency}

    def fulfill(data: dict[str, Any], request: Request) -> dict[str, Any]:
        return emu.fulfill(
            order_id(request),
            _lines(data["lines"]) if data.get("lines") is not None else None,
            tracking_number=data.get("tracking_number"),
            tracking_company=data.get("tracking_company"),
            tracking_url=data.get("tracking_url"),
        )

    routes: dict[str, tuple[Callable[[dict[str, Any], Request], Any], list[str]]] = {
        "/_emulator/locations": (lambda d, r: {"id": emu.add_location(str(d["name"]))}, ["POST"]),
        "/_emulator/products": (
            lambda d, r: asdict(
                emu.add_product(str(d["sku"]), str(d.get("title", d["sku"])), str(d.get("price", "0.00")))
            ),
            ["POST"],
        ),
        "/_emulator/inventory/set": (set_available, ["POST"]),
        "/_emulator/inventory/adjust": (
            lambda d, r: {"available": emu.admin_adjust(str(d["sku"]), d["location_id"], int(d["delta"]))},
            ["POST"],
        ),
        "/_emulator/orders": (
            lambda d, r: emu.place_order(
                _lines(d["lines"]), d["location_id"], *_shipping_address(d), pickup=bool(d.get("pickup", False))
            ),
            ["POST"],
        ),
        "/_emulator/orders/{order_id:path}/returns": (
            lambda d, r: {"id": emu.request_return(order_id(r), _lines(d["lines"]), str(d.get("reason", "UNWANTED")))},
            ["POST"],
        ),
        "/_emulator/orders/{order_id:path}/cancel": (
            lambda d, r: emu.cancel_order(order_id(r), bool(d.get("restock", True)), str(d.get("reason", "customer"))),
            ["POST"],
        ),
        "/_emulator/orders/{order_id:path}/refunds": (
            lambda d, r: emu.refund(
                order_id(r),
                _lines(d["lines"]),
                str(d.get("restock_type", "return")),
                d.get("location_id"),
                d.get("note"),
            ),
            ["POST"],
        ),
        "/_emulator/orders/{order_id:path}/fulfill": (fulfill, ["POST"]),
        "/_emulator/fulfillment-orders/{fo_id:path}/request-status": (
            lambda d, r: {
                "id": emu.set_request_status(str(r.path_params["fo_id"]), str(d["request_status"])),
                "request_status": d["request_status"],
            },
            ["POST"],
        ),
        "/_emulator/webhook-subscriptions": (
            lambda d, r: {
                "topics": emu.subscribe(*(d.get("topics") or ())) if r.method == "POST" else sorted(emu.subscribed)
            },
            ["GET", "POST"],
        ),
        "/_emulator/state": (lambda d, r: emu.snapshot(), ["GET"]),
        "/_emulator/listing": (listing, ["GET"]),
        "/_emulator/webhook-url": (webhook_url, ["GET", "POST"]),
        "/_emulator/knobs": (knobs, ["GET", "POST"]),
        "/_emulator/webhooks/redeliver": (redeliver, ["POST"]),
        "/_emulator/customers": (
            lambda d, r: asdict(emu.customers.add(int(d["id"]), email=d.get("email"), phone=d.get("phone"))),
            ["POST"],
        ),
        "/_emulator/compliance": (
            lambda d, r: {
                "delivery_id": emu.send_compliance(
                    str(d["topic"]), d.get("customer_id"), [int(o) for o in d.get("orders") or ()]
                ).delivery_id
            },
            ["POST"],
        ),
    }
    return [Route(path, endpoint(action), methods=methods) for path, (action, methods) in routes.items()]
