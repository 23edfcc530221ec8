"""The daemon's returns API: what ``omnibridge returns`` does, over HTTP, through the same service and audit.

==========================================  ========  =========================================================
route                                       role      what
==========================================  ========  =========================================================
``GET /api/returns``                        viewer    ``?status=&channel=``: returns, newest first
``GET /api/returns/{id}``                   viewer    one return with every unit's disposition
``POST /api/returns``                       operator  ``{"order": "web:1001", "lines": [{"sku": "TEE-M",
                                                      "quantity": 1}], "reason": "too small", "by_post": true}``
                                                      or ``"at_store": "soho"``; 201 with the return
``POST /api/returns/{id}/receive``          operator  ``{"at": "soho", "restock": 1, "damaged": 0, "inspect": 0,
                                                      "missing": 0, "sku": null}``
``POST /api/returns/{id}/decide``           operator  ``{"sku": "TEE-M", "restock": 1}`` or ``{"damaged": 1}``
==========================================  ========  =========================================================

Errors are JSON ``{"error": "<one line>"}``: 400 a malformed body or request, 404 no such return or order, 409 a
refused change (more units than the line can take back, nothing left to receive, a closed return). Each change
is written to the audit log naming the token.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omnibridge.access import Role
from omnibridge.daemon.auth import actor_of, requires
from omnibridge.returns.model import ReturnError
from omnibridge.returns.service import Received, ReturnService
from omnibridge.store import Store

PREFIX = "/api/returns"


def is_returns_path(path: str) -> bool:
    """Whether ``path`` is one of this module's routes."""
    return path == PREFIX or path.startswith(PREFIX + "/")


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        raise ReturnError("the body is not JSON: expected a JSON object", 400) from None
    if not isinstance(data, dict):
        raise ReturnError("the body must be a JSON object", 400)
    return data


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ReturnError(f"{key!r} must be a whole number of units, 0 or more (got {value!r})", 400)
    return value


def _str(data: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ReturnError(f"{key!r} is missing: expected text", 400)
    return value.strip()


def _lines(data: dict[str, Any]) -> list[tuple[str, int]]:
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines:
        raise ReturnError('\'lines\' is missing: expected [{"sku": "TEE-M", "quantity": 1}]', 400)
    parsed: list[tuple[str, int]] = []
    for line in lines:
        if not isinstance(line, dict):
            raise ReturnError('each of \'lines\' must be {"sku": ..., "quantity": ...}', 400)
        parsed.append((str(_str(line, "sku")), _int(line, "quantity")))
    return parsed


def returns_api(store: Store, channels: Collection[str], locations: Callable[[], Collection[str]]) -> Starlette:
    """The routes above over ``store``; ``channels`` are the sales channels a restock is pushed to, ``locations``
    gives the profile's location ids (read per request: a reloaded profile may add one)."""

    def service() -> ReturnService:
        return ReturnService(store, locations=locations(), channels=channels)

    async def answer(call: Callable[[], Any], status: int = 200) -> JSONResponse:
        try:
            return JSONResponse(await run_in_threadpool(call), status_code=status)
        except ReturnError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)

    async def parsed(request: Request) -> dict[str, Any] | JSONResponse:
        try:
            return await _body(request)
        except ReturnError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)

    @requires(Role.VIEWER)
    async def list_endpoint(request: Request) -> Response:
        status, channel = request.query_params.get("status"), request.query_params.get("channel")
        return await answer(
            lambda: {"returns": [rma.to_json() for rma in service().list_returns(status=status, channel=channel)]}
        )

    @requires(Role.VIEWER)
    async def show_endpoint(request: Request) -> Response:
        return await answer(lambda: service().get(request.path_params["id"]).to_json())

    @requires(Role.OPERATOR)
    async def create_endpoint(request: Request) -> Response:
        data = await parsed(request)
        if isinstance(data, JSONResponse):
            return data
        actor = actor_of(request)

        def create() -> dict[str, Any]:
            rma = service().create(
                str(_str(data, "order")),
                _lines(data),
                reason=str(_str(data, "reason")),
                at_store=_str(data, "at_store", required=False),
                by_post=data.get("by_post") is True,
                actor=actor,
            )
            return rma.to_json()

        return await answer(create, 201)

    @requires(Role.OPERATOR)
    async def receive_endpoint(request: Request) -> Response:
        data = await parsed(request)
        if isinstance(data, JSONResponse):
            return data
        actor = actor_of(request)

        def receive() -> dict[str, Any]:
            units = Received(*(_int(data, key) for key in ("restock", "damaged", "inspect", "missing")))
            at, sku = str(_str(data, "at")), _str(data, "sku", required=False)
            return service().receive(request.path_params["id"], at, units, sku=sku, actor=actor).to_json()

        return await answer(receive)

    @requires(Role.OPERATOR)
    async def decide_endpoint(request: Request) -> Response:
        data = await parsed(request)
        if isinstance(data, JSONResponse):
            return data
        actor = actor_of(request)

        def decide() -> dict[str, Any]:
            restock, damaged = _int(data, "restock"), _int(data, "damaged")
            rid, sku = request.path_params["id"], str(_str(data, "sku"))
            return service().decide(rid, sku, restock=restock, damaged=damaged, actor=actor).to_json()

        return await answer(decide)

    return Starlette(
        routes=[
            Route(PREFIX, list_endpoint, methods=["GET"]),
            Route(PREFIX, create_endpoint, methods=["POST"]),
            Route(PREFIX + "/{id:path}/receive", receive_endpoint, methods=["POST"]),
            Route(PREFIX + "/{id:path}/decide", decide_endpoint, methods=["POST"]),
            Route(PREFIX + "/{id:path}", show_endpoint, methods=["GET"]),
        ]
    )
