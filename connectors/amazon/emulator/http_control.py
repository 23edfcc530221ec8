"""HTTP control API of the Amazon emulator under ``/_emulator/`` (no auth; JSON in, JSON out).

Mirrors :class:`~connectors.amazon.emulator.AmazonControl` so the demo and a person with curl can drive a running
emulator (routes listed in the package docstring). A bad request is 400 ``{"error": "..."}``; an unknown SKU or
order is 404 ``{"error": "..."}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.amazon.emulator.common import parse_time

if TYPE_CHECKING:
    from connectors.amazon.emulator.app import AmazonEmulator

__all__ = ["control_routes"]

_Action = Callable[[dict[str, Any], Request], Awaitable[Any] | Any]


def _listing(emu: AmazonEmulator, sku: str) -> dict[str, Any]:
    control = emu.control
    if not control.has_listing(sku):
        raise KeyError(f"unknown SKU {sku!r}")
    return {
        "sku": sku,
        "title": control.listing_title(sku),
        "price": control.listing_price(sku),
        "quantity": control.listing_quantity(sku),
    }


def _snapshot(emu: AmazonEmulator) -> dict[str, Any]:
    control = emu.control
    return {
        "seller_id": emu.config.seller_id,
        "marketplace_id": emu.config.marketplace_id,
        "listings": [_listing(emu, sku) for sku in emu.listings],
        "orders": [dict(stored.order) for stored in emu.orders.orders.values()],
        "feeds": control.feeds(),
        "calls": control.calls(),
        "refused_requests": control.refused_requests(),
        "api_requests": control.api_requests(),
        "notification_url": emu.config.notification_url,
        "supply_source_ids": list(emu.config.supply_source_ids),
        "packages": {
            order_id: control.packages(order_id) for order_id, stored in emu.orders.orders.items() if stored.packages
        },
    }


_WEBHOOK_KNOBS = ("duplicate_next", "duplicate_rate", "fail_first_attempts", "max_attempts", "retry_backoff_s")


def _knobs(emu: AmazonEmulator, body: dict[str, Any]) -> dict[str, Any]:
    knobs, hooks = emu.knobs, emu.webhooks.knobs
    if "latency_ms" in body:
        low, high = body["latency_ms"]
        knobs.latency_ms = (float(low), float(high))
    if "error_rate" in body:
        knobs.error_rate = float(body["error_rate"])
    for name, value in (body.get("webhooks") or {}).items():
        if name == "delay_s":
            hooks.delay_s = (float(value[0]), float(value[1]))
        elif name in _WEBHOOK_KNOBS:
            setattr(hooks, name, type(getattr(hooks, name))(value))
        else:
            raise ValueError(f"unknown webhook knob {name!r}; expected delay_s or one of {', '.join(_WEBHOOK_KNOBS)}")
    return {
        "latency_ms": list(knobs.latency_ms),
        "error_rate": knobs.error_rate,
        "webhooks": {"delay_s": list(hooks.delay_s), **{name: getattr(hooks, name) for name in _WEBHOOK_KNOBS}},
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
        except KeyError as exc:
            text = str(exc.args[0]) if exc.args else ""
            if text.startswith("unknown "):  # the back door's "unknown SKU/order" errors
                return JSONResponse({"error": text}, status_code=404)
            return JSONResponse({"error": f"missing field {text!r}"}, status_code=400)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(result)

    return endpoint


def control_routes(emu: AmazonEmulator) -> list[BaseRoute]:
    """The ``/_emulator/`` routes bound to ``emu``."""
    control = emu.control

    def seed(body: dict[str, Any], request: Request) -> dict[str, Any]:
        quantity = body.get("quantity")
        control.seed_listing(
            str(body["sku"]),
            title=body.get("title"),
            price=body.get("price"),
            quantity=None if quantity is None else int(quantity),
        )
        return _listing(emu, str(body["sku"]))

    def order(body: dict[str, Any], request: Request) -> dict[str, Any]:
        order_id = control.create_order(
            str(body["sku"]),
            int(body.get("quantity", 1)),
            status=str(body.get("status", "Unshipped")),
            price=body.get("price"),
            **({"shipping_address": body["shipping_address"]} if "shipping_address" in body else {}),
            pickup_at=None if body.get("pickup_at") is None else str(body["pickup_at"]),
        )
        return {"AmazonOrderId": order_id}

    def supply_source(body: dict[str, Any], request: Request) -> dict[str, Any]:
        control.add_supply_source(str(body["id"]))
        return {"supply_source_ids": list(emu.config.supply_source_ids)}

    def add_return(body: dict[str, Any], request: Request) -> dict[str, Any]:
        fields = dict(body)
        sku, quantity = str(fields.pop("sku")), int(fields.pop("quantity", 1))
        for name in ("requested_at", "delivered_at"):
            if fields.get(name) is not None:
                fields[name] = parse_time(str(fields[name]))
        return control.add_return(sku, quantity, **fields)

    def fail_next(body: dict[str, Any], request: Request) -> dict[str, Any]:
        control.fail_next(int(body["status"]), count=int(body.get("count", 1)))
        return {"injected": list(emu.injected)}

    def lose(body: dict[str, Any], request: Request) -> dict[str, Any]:
        control.lose_next_response(count=int(body.get("count", 1)))
        return {"lose_next": emu.lose_next}

    def notification_url(body: dict[str, Any], request: Request) -> dict[str, Any]:
        control.set_notification_url(body.get("url"))
        return {"notification_url": emu.config.notification_url}

    def process(body: dict[str, Any], request: Request) -> list[dict[str, Any]]:
        control.process_feeds()
        return control.feeds()

    async def drain(body: dict[str, Any], request: Request) -> dict[str, Any]:
        await control.drain(timeout=float(body.get("timeout", 30.0)))
        return {"deliveries": len(emu.webhooks.deliveries)}

    actions: list[tuple[str, str, _Action]] = [
        ("GET", "/_emulator/state", lambda body, req: _snapshot(emu)),
        (
            "GET",
            "/_emulator/calls",
            lambda body, req: {
                "calls": control.calls(),
                "refused_requests": control.refused_requests(),
                "api_requests": control.api_requests(),
            },
        ),
        ("GET", "/_emulator/listings/{sku:path}", lambda body, req: _listing(emu, str(req.path_params["sku"]))),
        ("POST", "/_emulator/listings", seed),
        ("POST", "/_emulator/orders", order),
        (
            "POST",
            "/_emulator/orders/{order_id}/status",
            lambda body, req: control.set_order_status(str(req.path_params["order_id"]), str(body["status"])),
        ),
        ("POST", "/_emulator/supply-sources", supply_source),
        ("POST", "/_emulator/returns", add_return),
        ("GET", "/_emulator/reports", lambda body, req: control.reports()),
        ("GET", "/_emulator/feeds", lambda body, req: control.feeds()),
        ("POST", "/_emulator/feeds/process", process),
        ("GET", "/_emulator/notifications", lambda body, req: control.notifications()),
        ("POST", "/_emulator/fail-next", fail_next),
        ("POST", "/_emulator/lose-next", lose),
        ("POST", "/_emulator/webhook-url", notification_url),
        ("POST", "/_emulator/knobs", lambda body, req: _knobs(emu, body)),
        ("POST", "/_emulator/drain", drain),
    ]
    return [Route(path, _wrap(action), methods=[method]) for method, path, action in actions]
