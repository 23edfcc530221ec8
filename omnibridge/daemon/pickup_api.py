"""The daemon's pickup API, for store staff's tools (the same service as ``omnibridge pickups``).

* ``GET /api/pickups?at=<store>&status=<state>``: the pickups, by window; 200 ``{"pickups": [...]}``.
* ``POST /api/pickups/{id}/ready``: staff prepared it; ``.../collected``: the customer took it (the units leave
  the store's stock once); ``.../reject`` with ``{"reason": "shelf empty"}``: the store cannot fill it (the hold
  is released and the pickup fallback asked; never shipped). 200 ``{"pickup": {...}, "before", "changed",
  "units", "fallback", "message"}``.

``{id}`` is the pickup's id (``web:1001#1``; the ``#`` is sent as ``%23``). Errors are JSON ``{"error": "<one
line>"}``: 400 a malformed body or filter, 404 no such pickup, 409 the pickup's state does not allow the action
(the message names the state it is in). Viewer tokens read, operator tokens act; every action is written to the
audit log naming the token.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omnibridge.access import Role
from omnibridge.daemon.auth import actor_of, requires
from omnibridge.pickup.lifecycle import PickupConflict, PickupError, PickupNotFound
from omnibridge.pickup.staff import PickupService, pickup_json

_ACTIONS = frozenset({"ready", "collected", "reject"})


def is_pickup_path(path: str) -> bool:
    """Whether ``path`` is one of this module's routes."""
    if path in ("/api/pickups", "/api/pickups/"):
        return True
    head, _, action = path.rpartition("/")
    return head.startswith("/api/pickups/") and len(head) > len("/api/pickups/") and action in _ACTIONS


def pickup_api(service: PickupService) -> Starlette:
    """The routes above over ``service`` (store calls run in a worker thread, off the event loop)."""

    async def answer(call: Callable[[], dict[str, Any]]) -> JSONResponse:
        try:
            return JSONResponse(json.loads(json.dumps(await run_in_threadpool(call), default=str)))
        except PickupNotFound as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        except PickupConflict as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        except PickupError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    @requires(Role.VIEWER)
    async def list_endpoint(request: Request) -> Response:
        at = request.query_params.get("at") or None
        status = request.query_params.get("status") or None
        return await answer(lambda: {"pickups": [pickup_json(p) for p in service.list(at=at, status=status)]})

    def acted(action: str, call: Callable[[], Any]) -> dict[str, Any]:
        result = call()
        return {**result.to_json(), "message": result.message(action)}

    @requires(Role.OPERATOR)
    async def ready_endpoint(request: Request) -> Response:
        pickup_id, actor = request.path_params["pickup"], actor_of(request)
        return await answer(lambda: acted("ready", lambda: service.ready(pickup_id, actor=actor)))

    @requires(Role.OPERATOR)
    async def collected_endpoint(request: Request) -> Response:
        pickup_id, actor = request.path_params["pickup"], actor_of(request)
        return await answer(lambda: acted("collected", lambda: service.collected(pickup_id, actor=actor)))

    @requires(Role.OPERATOR)
    async def reject_endpoint(request: Request) -> Response:
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            data = None
        reason = data.get("reason") if isinstance(data, dict) else None
        if not isinstance(reason, str) or not reason.strip():
            message = 'the body must name why the store cannot fill it, e.g. {"reason": "shelf empty"}'
            return JSONResponse({"error": message}, status_code=400)
        pickup_id, actor = request.path_params["pickup"], actor_of(request)
        return await answer(lambda: acted("reject", lambda: service.reject(pickup_id, reason, actor=actor)))

    return Starlette(
        routes=[
            Route("/api/pickups", list_endpoint, methods=["GET"]),
            Route("/api/pickups/{pickup:path}/ready", ready_endpoint, methods=["POST"]),
            Route("/api/pickups/{pickup:path}/collected", collected_endpoint, methods=["POST"]),
            Route("/api/pickups/{pickup:path}/reject", reject_endpoint, methods=["POST"]),
        ]
    )
