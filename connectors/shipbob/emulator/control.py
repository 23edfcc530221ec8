"""HTTP control API of the ShipBob emulator under ``/_emulator/`` (no auth; JSON in, JSON out).

Mirrors the Python API of :class:`~connectors.shipbob.emulator.ShipBobEmulator` so the demo and a person with curl
can drive a running emulator. A bad request is 400 ``{"error": "..."}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.shipbob.emulator.state import ApiError

if TYPE_CHECKING:
    from connectors.shipbob.emulator.app import ShipBobEmulator

__all__ = ["control_routes"]

_Action = Callable[[dict[str, Any], Request], Awaitable[Any] | Any]


def _snapshot(emu: ShipBobEmulator) -> dict[str, Any]:
    state = emu.state
    return {
        "channel_id": emu.config.channel_id,
        "fulfillment_centers": [centre.body() for centre in state.centres.values()],
        "inventory": [
            {
                "sku": product.reference_id,
                "fulfillment_center_id": centre_id,
                "on_hand": on_hand,
                "committed": state.committed(product.reference_id, centre_id),
                "fulfillable": state.fulfillable(product.reference_id, centre_id),
            }
            for product in state.products.values()
            for centre_id, on_hand in sorted(product.on_hand.items())
        ],
        "orders": [
            {
                "id": order["id"],
                "reference_id": order["reference_id"],
                "status": order["status"],
                "location_id": order["shipments"][0]["location"]["id"] if order["shipments"] else None,
                "shipments": [
                    {
                        "id": s["id"],
                        "status": s["status"],
                        "tracking_number": (s.get("tracking") or {}).get("tracking_number"),
                    }
                    for s in order["shipments"]
                ],
            }
            for order in state.orders.values()
        ],
        "returns": list(emu.returns.returns.values()),
        "webhooks": list(state.webhooks.values()),
        "webhook_url": emu.config.webhook_url,
        "calls": dict(emu.calls),
        "api_requests": emu.answered,
        "refused_requests": emu.refused,
        "spec_problems": list(emu.problems),
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
        except (KeyError, ValueError, TypeError, ApiError) as exc:
            return JSONResponse({"error": str(exc).strip("'\"")}, status_code=400)
        return JSONResponse(result)

    return endpoint


def control_routes(emu: ShipBobEmulator) -> list[BaseRoute]:
    """The ``/_emulator/`` routes bound to ``emu``."""

    async def drain(body: dict[str, Any], request: Request) -> dict[str, Any]:
        await emu.webhooks.drain(timeout=float(body.get("timeout", 30.0)))
        return {"deliveries": len(emu.webhooks.deliveries)}

    def inventory(body: dict[str, Any], request: Request) -> dict[str, Any]:
        sku, centre, on_hand = str(body["sku"]), int(body["fulfillment_center_id"]), int(body["on_hand"])
        emu.set_stock(sku, centre, on_hand)
        return {"sku": sku, "fulfillment_center_id": centre, "fulfillable": emu.state.fulfillable(sku, centre)}

    def ship(body: dict[str, Any], request: Request) -> dict[str, Any]:
        shipment = emu.ship(request.path_params["order"], str(body.get("carrier", "USPS")))
        return {"shipment_id": shipment["id"], "tracking": shipment["tracking"]}

    def cancel(body: dict[str, Any], request: Request) -> dict[str, Any]:
        answer = emu.cancel(request.path_params["order"])
        return {"order_id": answer["order_id"], "status": answer["order"]["status"]}

    def webhook_url(body: dict[str, Any], request: Request) -> dict[str, Any]:
        emu.set_webhook_url(body.get("url"))
        return {"webhook_url": emu.config.webhook_url}

    def fail_next(body: dict[str, Any], request: Request) -> dict[str, Any]:
        emu.fail_next(int(body["status"]), int(body.get("count", 1)))
        return {"queued": list(emu.fail_queue)}

    def lose_next(body: dict[str, Any], request: Request) -> dict[str, Any]:
        emu.lose_next_response(int(body.get("count", 1)))
        return {"lose_next": emu.lose_next}

    def latency(body: dict[str, Any], request: Request) -> dict[str, Any]:
        low, high = float(body.get("min_ms", 0)), float(body.get("max_ms", body.get("min_ms", 0)))
        if low < 0 or high < low:
            raise ValueError("expected 0 <= min_ms <= max_ms")
        emu.knobs.latency_ms = (low, high)
        return {"latency_ms": [low, high]}

    def deliveries(body: dict[str, Any], request: Request) -> list[dict[str, Any]]:
        return [
            {
                "delivery_id": r.delivery_id,
                "topic": r.topic,
                "url": r.url,
                "duplicate": r.duplicate,
                "delivered": r.delivered,
                "attempts": [{"number": a.number, "status": a.status, "error": a.error} for a in r.attempts],
            }
            for r in emu.webhooks.deliveries
        ]

    def add_return(body: dict[str, Any], request: Request) -> dict[str, Any]:
        items = body.get("items")
        return emu.returns.seed(
            body["order"],
            None if items is None else [(str(sku), int(qty), str(action)) for sku, qty, action in items],
            centre_id=None if body.get("fulfillment_center_id") is None else int(body["fulfillment_center_id"]),
            tracking_number=body.get("tracking_number"),
        )

    def process_return(body: dict[str, Any], request: Request) -> dict[str, Any]:
        taken = body.get("taken")
        actions = None if taken is None else {str(k): [(str(a), int(q)) for a, q in v] for k, v in taken.items()}
        return emu.returns.process(int(request.path_params["id"]), actions)

    actions: list[tuple[str, str, _Action]] = [
        ("GET", "/_emulator/state", lambda body, req: _snapshot(emu)),
        ("GET", "/_emulator/webhooks", deliveries),
        ("POST", "/_emulator/inventory", inventory),
        ("POST", "/_emulator/orders/{order:path}/ship", ship),
        ("POST", "/_emulator/orders/{order:path}/cancel", cancel),
        ("POST", "/_emulator/webhook-url", webhook_url),
        ("POST", "/_emulator/fail-next", fail_next),
        ("POST", "/_emulator/lose-next", lose_next),
        ("POST", "/_emulator/latency", latency),
        ("POST", "/_emulator/drain", drain),
        ("POST", "/_emulator/returns", add_return),
        ("POST", "/_emulator/returns/{id}/arrive", lambda body, req: emu.returns.arrive(int(req.path_params["id"]))),
        ("POST", "/_emulator/returns/{id}/process", process_return),
    ]
    return [Route(path, _wrap(action), methods=[method]) for method, path, action in actions]
