"""The daemon's order routing API, for store staff's tools and the fulfilment dispatcher.

* ``POST /api/orders/{order}/accept`` with ``{"location": "nyc"}``: staff take the order's assignment there;
  200 ``{"assignment": {...}}``.
* ``POST /api/orders/{order}/reject`` with ``{"location": "nyc", "reason": "shelf empty"}``: the location refuses
  it; the order is re-routed (its reservation moves) or parked; 200 ``{"order", "decision": {...}}``.
* ``GET /api/orders/{order}/routing``: every decision, assignment and task of the order (what
  ``omnibridge explain order`` shows).

``{order}`` names an order as the CLI does (``web:1001``, ``web:%231001``, omnibridge's id). Errors are JSON
``{"error": "<one line>"}``: 400 a malformed body, 404 no such order, 409 nothing to accept or reject there.

There is no access control yet (issue 15 adds it): the daemon serves these routes only when started with
``omnibridge run --order-api``, and it listens on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnibridge.cli.order_names import OrderNameError, find_named_order
from omnibridge.routing.model import RoutingDecision
from omnibridge.routing.service import RoutingError, RoutingService

API_PREFIX = "/api/"


class _BadRequest(Exception):
    pass


def decision_body(decision: RoutingDecision) -> dict[str, Any]:
    """A decision as JSON: outcome, reason, chosen locations, every verdict and the allocations."""
    return {
        "outcome": decision.outcome.value,
        "strategy": decision.strategy,
        "reason": decision.reason,
        "locations": list(decision.locations),
        "verdicts": [
            {
                "location_id": v.location_id,
                "kind": v.kind.value,
                "rank": v.rank,
                "rule": v.rule,
                "reason": v.reason,
                "distance_km": v.distance_km,
            }
            for v in decision.verdicts
        ],
        "allocations": [
            {"line_id": a.line_id, "sku": a.sku, "location_id": a.location_id, "quantity": a.quantity}
            for a in decision.allocations
        ],
        "unallocated": dict(decision.unallocated),
    }


async def _body(request: Request, *, need_reason: bool) -> tuple[str, str]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        raise _BadRequest('the body is not JSON: expected {"location": "<location id>"}') from None
    if not isinstance(data, dict):
        raise _BadRequest('the body must be a JSON object such as {"location": "nyc"}')
    location = data.get("location")
    reason = data.get("reason", "")
    if not isinstance(location, str) or not location.strip():
        raise _BadRequest('\'location\' is missing: expected the location id, e.g. {"location": "nyc"}')
    if not isinstance(reason, str) or (need_reason and not reason.strip()):
        raise _BadRequest("'reason' is missing: expected why the location cannot ship it, as text")
    return location.strip(), reason


def order_api(service: RoutingService) -> Starlette:
    """The routes above over ``service`` (store calls run in a worker thread, off the event loop)."""
    store = service.store

    def known_location(location: str) -> None:
        if location not in {loc.id for loc in service.locations}:
            raise _BadRequest(f"location {location!r} is not a location of the profile")

    def accept(name: str, location: str) -> dict[str, Any]:
        known_location(location)
        order = find_named_order(store, name)
        return {"assignment": service.accept(order.id, location).to_json()}

    def reject(name: str, location: str, reason: str) -> dict[str, Any]:
        known_location(location)
        order = find_named_order(store, name)
        return {
            "order": order.id,
            "rejected_at": location,
            "decision": decision_body(service.reject(order.id, location, reason)),
        }

    def routing(name: str) -> dict[str, Any]:
        order = find_named_order(store, name)
        return {
            "order": order.id,
            "decisions": [record.to_json() for record in service.decisions(order.id)],
            "assignments": [assignment.to_json() for assignment in service.assignments(order.id)],
            "tasks": service.tasks(order.id),
        }

    async def answer(call: Callable[[], dict[str, Any]]) -> JSONResponse:
        try:
            return JSONResponse(json.loads(json.dumps(await run_in_threadpool(call), default=str)))
        except _BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except OrderNameError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        except RoutingError as exc:
            status = 404 if str(exc).startswith("no order") else 409
            return JSONResponse({"error": str(exc)}, status_code=status)

    async def accept_endpoint(request: Request) -> JSONResponse:
        try:
            location, _ = await _body(request, need_reason=False)
        except _BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return await answer(lambda: accept(request.path_params["order"], location))

    async def reject_endpoint(request: Request) -> JSONResponse:
        try:
            location, reason = await _body(request, need_reason=True)
        except _BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return await answer(lambda: reject(request.path_params["order"], location, reason))

    async def routing_endpoint(request: Request) -> JSONResponse:
        return await answer(lambda: routing(request.path_params["order"]))

    return Starlette(
        routes=[
            Route("/api/orders/{order:path}/accept", accept_endpoint, methods=["POST"]),
            Route("/api/orders/{order:path}/reject", reject_endpoint, methods=["POST"]),
            Route("/api/orders/{order:path}/routing", routing_endpoint, methods=["GET"]),
        ]
    )
