"""HTTP control API of the EasyPost emulator under ``/_emulator/`` (no auth; JSON in, JSON out).

Mirrors the Python API of :class:`~connectors.easypost.emulator.EasyPostEmulator` so the demo and a person with
curl can drive a running emulator (see the package docstring). A bad request is 400 ``{"error": "..."}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from connectors.easypost.emulator.app import EasyPostEmulator

__all__ = ["control_routes"]

_Action = Callable[[dict[str, Any], Request], Awaitable[Any] | Any]


def _snapshot(emu: EasyPostEmulator) -> dict[str, Any]:
    state = emu.state
    return {
        "carrier_accounts": dict(state.accounts),
        "shipments": [
            {
                "id": s["id"],
                "reference": s["reference"],
                "tracking_code": s["tracking_code"],
                "status": s["status"],
                "labels_bought": state.labels_bought[s["id"]],
            }
            for s in state.shipments.values()
        ],
        "trackers": [
            {"id": t["id"], "tracking_code": t["tracking_code"], "carrier": t["carrier"], "status": t["status"]}
            for t in state.trackers.values()
        ],
        "calls": dict(emu.calls),
        "api_requests": emu.answered,
        "refused_requests": emu.refused,
        "webhook_url": emu.config.webhook_url,
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


def control_routes(emu: EasyPostEmulator) -> list[BaseRoute]:
    """The ``/_emulator/`` routes bound to ``emu``."""

    async def drain(body: dict[str, Any], request: Request) -> dict[str, Any]:
        await emu.webhooks.drain(timeout=float(body.get("timeout", 30.0)))
        return {"deliveries": len(emu.webhooks.deliveries)}

    def advance(body: dict[str, Any], request: Request) -> dict[str, Any]:
        return {"status": emu.advance_tracking(str(body["tracking_code"]))}

    def webhook_url(body: dict[str, Any], request: Request) -> dict[str, Any]:
        emu.set_webhook_url(body.get("url"))
        return {"webhook_url": emu.config.webhook_url}

    def fail_next(body: dict[str, Any], request: Request) -> dict[str, Any]:
        emu.fail_next(int(body["status"]), int(body.get("count", 1)))
        return {"queued": list(emu.fail_queue)}

    def lose_next(body: dict[str, Any], request: Request) -> dict[str, Any]:
        emu.lose_next_response(int(body.get("count", 1)))
        return {"lose_next": emu.lose_next}

    def deliveries(body: dict[str, Any], request: Request) -> list[dict[str, Any]]:
        return [
            {
                "event_id": r.event_id,
                "type": r.topic,
                "url": r.url,
                "duplicate": r.duplicate,
                "delivered": r.delivered,
                "gave_up": r.gave_up,
                "attempts": [{"number": a.number, "status": a.status, "error": a.error} for a in r.attempts],
            }
            for r in emu.webhooks.deliveries
        ]

    actions: list[tuple[str, str, _Action]] = [
        ("GET", "/_emulator/state", lambda body, req: _snapshot(emu)),
        ("GET", "/_emulator/events", lambda body, req: emu.events),
        ("GET", "/_emulator/webhooks", deliveries),
        (
            "GET",
            "/_emulator/labels-bought",
            lambda body, req: {"labels_bought": emu.labels_bought(req.query_params["shipment_id"])},
        ),
        ("POST", "/_emulator/advance", advance),
        ("POST", "/_emulator/webhook-url", webhook_url),
        ("POST", "/_emulator/fail-next", fail_next),
        ("POST", "/_emulator/lose-next", lose_next),
        ("POST", "/_emulator/drain", drain),
    ]
    return [Route(path, _wrap(action), methods=[method]) for method, path, action in actions]
