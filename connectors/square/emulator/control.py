"""HTTP control API of the Square emulator under ``/_emulator/`` (no auth; JSON in, JSON out).

Mirrors the Python API of :class:`~connectors.square.emulator.SquareEmulator` so the demo and a person with
curl can drive a running emulator (see the package docstring for the list). A bad request is 400
``{"error": "..."}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.square.emulator.catalog import listing
from connectors.square.emulator.inventory import describe

if TYPE_CHECKING:
    from connectors.square.emulator.app import SquareEmulator

__all__ = ["control_routes"]

_Action = Callable[[dict[str, Any], Request], Awaitable[Any] | Any]


def _delivery(record: Any) -> dict[str, Any]:
    return {
        "event_id": record.event_id,
        "type": record.topic,
        "url": record.url,
        "duplicate": record.duplicate,
        "delivered": record.delivered,
        "gave_up": record.gave_up,
        "attempts": [{"number": a.number, "status": a.status, "error": a.error} for a in record.attempts],
    }


def _snapshot(emu: SquareEmulator) -> dict[str, Any]:
    state = emu.state
    return {
        "merchant_id": state.merchant_id,
        "locations": list(state.locations.values()),
        "variations": [
            {"id": o["id"], "sku": o["item_variation_data"]["sku"], "name": state.item_name(o["id"])}
            for o in state.catalog.values()
            if o["type"] == "ITEM_VARIATION"
        ],
        "counts": state.all_counts(),
        "orders": list(state.orders.values()),
        "calls": dict(emu.calls),
        "notification_url": emu.config.notification_url,
    }


def _knobs(emu: SquareEmulator, body: dict[str, Any]) -> dict[str, Any]:
    knobs, hooks = emu.knobs, emu.webhooks.knobs
    if "latency_ms" in body:
        low, high = body["latency_ms"]
        knobs.latency_ms = (float(low), float(high))
    for name in ("error_rate", "fail_next"):
        if name in body:
            setattr(knobs, name, type(getattr(knobs, name))(body[name]))
    if "requests_per_second" in body or "burst" in body:
        emu.set_rate_limit(
            float(body.get("requests_per_second", emu.config.requests_per_second)),
            int(body.get("burst", emu.config.burst)),
        )
    for name, value in (body.get("webhooks") or {}).items():
        if name == "delay_s":
            hooks.delay_s = (float(value[0]), float(value[1]))
        elif name in ("duplicate_next", "duplicate_rate", "fail_first_attempts", "max_attempts", "retry_backoff_s"):
            setattr(hooks, name, type(getattr(hooks, name))(value))
        else:
            raise ValueError(f"unknown webhook knob {name!r}")
    return {
        "latency_ms": list(knobs.latency_ms),
        "error_rate": knobs.error_rate,
        "fail_next": knobs.fail_next,
        "requests_per_second": emu.config.requests_per_second,
        "burst": emu.config.burst,
        "webhooks": {
            "duplicate_next": hooks.duplicate_next,
            "duplicate_rate": hooks.duplicate_rate,
            "delay_s": list(hooks.delay_s),
            "fail_first_attempts": hooks.fail_first_attempts,
            "max_attempts": hooks.max_attempts,
            "retry_backoff_s": hooks.retry_backoff_s,
        },
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


def control_routes(emu: SquareEmulator) -> list[BaseRoute]:
    """The ``/_emulator/`` routes bound to ``emu``."""

    async def drain(body: dict[str, Any], request: Request) -> dict[str, Any]:
        await emu.webhooks.drain(timeout=float(body.get("timeout", 30.0)))
        return {"deliveries": len(emu.webhooks.deliveries)}

    def redeliver(body: dict[str, Any], request: Request) -> dict[str, Any]:
        record = emu.redeliver_last(body.get("event_type"))
        if record is None:
            raise ValueError("no delivery to repeat")
        return _delivery(record)

    def notification_url(body: dict[str, Any], request: Request) -> dict[str, Any]:
        emu.set_notification_url(body.get("url"))
        return {"notification_url": emu.config.notification_url}

    def seed(body: dict[str, Any], request: Request) -> dict[str, Any]:
        emu.set_count(str(body["sku"]), str(body["location_id"]), str(body["quantity"]))
        return {"quantity": emu.quantity(str(body["sku"]), str(body["location_id"]))}

    def receive(body: dict[str, Any], request: Request) -> dict[str, Any]:
        emu.receive_stock(str(body["location_id"]), str(body["sku"]), str(body["quantity"]))
        return {"quantity": emu.quantity(str(body["sku"]), str(body["location_id"]))}

    def stock_take(body: dict[str, Any], request: Request) -> dict[str, Any]:
        emu.physical_count(str(body["location_id"]), str(body["sku"]), str(body["quantity"]))
        return {"quantity": emu.quantity(str(body["sku"]), str(body["location_id"]))}

    def sale(body: dict[str, Any], request: Request) -> dict[str, Any]:
        lines = [(str(line["sku"]), str(line["quantity"])) for line in body["lines"]]
        return {"order": emu.pos_sale(body["location_id"], lines)}

    def online_order(body: dict[str, Any], request: Request) -> dict[str, Any]:
        lines = [(str(line["sku"]), str(line["quantity"])) for line in body["lines"]]
        recipient = body["recipient"]
        if not isinstance(recipient, dict):
            raise ValueError("recipient must be a FulfillmentRecipient object")
        kind = str(body.get("fulfillment_type", "SHIPMENT"))
        reference = body.get("reference_id")
        order = emu.online_order(
            str(body["location_id"]),
            lines,
            recipient,
            fulfillment_type=kind,
            reference_id=str(reference) if reference else None,
        )
        return {"order": order}

    actions: list[tuple[str, str, _Action]] = [
        ("GET", "/_emulator/state", lambda body, req: _snapshot(emu)),
        ("GET", "/_emulator/calls", lambda body, req: dict(emu.calls)),
        ("GET", "/_emulator/changes", lambda body, req: describe(emu.state.changes)),
        (
            "GET",
            "/_emulator/quantity",
            lambda body, req: {"quantity": emu.quantity(req.query_params["sku"], req.query_params["location_id"])},
        ),
        (
            "GET",
            "/_emulator/listing",
            lambda body, req: dict(
                zip(
                    ("sku", "title", "price", "currency"),
                    (req.query_params["sku"], *listing(emu.state, req.query_params["sku"])),
                    strict=True,
                )
            ),
        ),
        ("GET", "/_emulator/webhooks", lambda body, req: [_delivery(r) for r in emu.webhooks.deliveries]),
        ("GET", "/_emulator/events", lambda body, req: emu.events),
        ("POST", "/_emulator/locations", lambda body, req: {"id": emu.add_location(str(body["name"]))}),
        (
            "POST",
            "/_emulator/variations",
            lambda body, req: {
                "id": emu.add_variation(
                    str(body["sku"]), str(body["name"]), int(body["price_cents"]), str(body.get("currency", "USD"))
                )
            },
        ),
        ("POST", "/_emulator/counts", seed),
        ("POST", "/_emulator/pos-sale", sale),
        ("POST", "/_emulator/orders", online_order),
        ("POST", "/_emulator/receive", receive),
        ("POST", "/_emulator/physical-count", stock_take),
        (
            "POST",
            "/_emulator/orders/{order_id}/state",
            lambda body, req: {"order": emu.set_order_state(req.path_params["order_id"], str(body["state"]))},
        ),
        (
            "POST",
            "/_emulator/orders/{order_id}/fulfillment-state",
            lambda body, req: {"order": emu.set_fulfillment_state(req.path_params["order_id"], str(body["state"]))},
        ),
        ("POST", "/_emulator/webhook-url", notification_url),
        ("POST", "/_emulator/redeliver", redeliver),
        ("POST", "/_emulator/knobs", lambda body, req: _knobs(emu, body)),
        ("POST", "/_emulator/drain", drain),
    ]
    return [Route(path, _wrap(action), methods=[method]) for method, path, action in actions]
