"""The admin API: ``/api/...`` on the daemon's port, JSON in and out, every route behind a bearer token.

Each route does what the matching CLI command does, through the same code (and the same audit records, naming
the token as the actor). Roles (:class:`~omnibridge.access.Role`): *viewer* reads, *operator* also acts,
*admin* also manages tokens and reads the audit log.

========================================  ========  ==========================================================
route                                     role      what
========================================  ========  ==========================================================
``GET /api/whoami``                       viewer    the calling token: id, name, role
``GET /api/incidents``                    viewer    ``?kind=&sku=&state=open|resolved|all&limit=``, with counts
``POST /api/incidents/{id}/resolve``      operator  ``{"note": "what was done"}``
``GET /api/deadletters``                  viewer    ``?channel=&all=true`` (``all``: discarded ones too)
``POST /api/deadletters/replay``          operator  ``{"ids": [41, 42]}`` or ``{"all": true}``: requeued for the
                                                    daemon's worker, which applies them at once
``POST /api/deadletters/discard``         operator  ``{"ids": [43], "reason": "why"}``
``GET /api/orders``                       viewer    ``?channel=&status=&since=7d&limit=``
``GET /api/orders/{order}``               viewer    one order as ``orders show --json`` (``web:1001``, ...)
``GET /api/tokens``                       admin     every token (never a secret)
``POST /api/tokens``                      admin     ``{"role": "viewer", "name": "grafana", "expires_days": 90}``
                                                    answers 201 with the token, shown this once
``DELETE /api/tokens/{id}``               admin     revoke
``GET /api/audit``                        admin     ``?action=&after=&limit=``
``GET /api/audit/verify``                 admin     the chain's check, as ``omnibridge audit verify --json``
``GET /api/pickup-options``               viewer    ``?sku=&qty=&near=lat,lon|postcode&curbside=``: the pickup
                                                    decision (:mod:`omnibridge.daemon.pickup_options_api`)
========================================  ========  ==========================================================

Errors are JSON ``{"error": "<one line>"}``: 400 a bad request, 401/403 (see :mod:`omnibridge.daemon.auth`), 404
nothing by that id, 409 a refused change, 413 a body over 64 KiB, 503 the store is unavailable.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from structlog.stdlib import BoundLogger

from omnibridge.access import Role, audit, tokens
from omnibridge.cli.deadletters import entry_row
from omnibridge.cli.incidents import KINDS, STATES, incident_dict
from omnibridge.cli.order_names import OrderNameError, find_named_order
from omnibridge.cli.orders import order_details, parse_since
from omnibridge.daemon.auth import actor_of, requires, token_of
from omnibridge.daemon.pickup_options_api import PickupQueryError
from omnibridge.daemon.pickup_options_api import answer as pickup_answer
from omnibridge.errors import OmnibridgeError, StoreError
from omnibridge.logs import get_logger
from omnibridge.models import OrderStatus
from omnibridge.pickup.desk import PickupDesk
from omnibridge.store import Store
from omnibridge.store.deadletters import ALL, dead_letters, discard, requeue
from omnibridge.store.incident_actions import IncidentNotFound, resolve_incident

MAX_BODY = 64 * 1024


def log() -> BoundLogger:
    return get_logger("omnibridge.api")


class ApiError(Exception):
    """An answer other than 200: ``status`` and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def body(request: Request) -> dict[str, Any]:
    """The request's JSON object (at most :data:`MAX_BODY` bytes)."""
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > MAX_BODY:
            raise ApiError(413, f"the body is over {MAX_BODY} bytes")
    try:
        parsed = json.loads(data or b"{}")
    except ValueError:
        raise ApiError(400, "the body is not JSON: expected a JSON object") from None
    if not isinstance(parsed, dict):
        raise ApiError(400, "the body is not a JSON object")
    return parsed


def _ids(data: dict[str, Any]) -> list[int]:
    ids = data.get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ApiError(400, "'ids': expected a non-empty list of inbox ids (integers)")
    return ids


def _int(request: Request, name: str, default: int, *, low: int = 1) -> int:
    value = request.query_params.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ApiError(400, f"?{name}={value!r}: expected a whole number") from None
    if number < low:
        raise ApiError(400, f"?{name}={number}: expected {low} or more")
    return number


def _handled(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
    """Turns :class:`ApiError` and omnibridge's errors into one-line JSON answers (never a traceback)."""

    async def answer(request: Request) -> Response:
        try:
            return await handler(request)  # type: ignore[no-any-return]
        except ApiError as exc:
            return _error(exc.status, str(exc))
        except StoreError as exc:
            return _error(503, str(exc))
        except OmnibridgeError as exc:
            return _error(409, str(exc))
        except Exception as exc:
            log().exception("api.internal_error", path=request.url.path)
            return _error(500, f"internal error: {type(exc).__name__} (logged as api.internal_error)")

    answer.__name__ = handler.__name__
    return answer


def api_app(
    store: Store, *, on_requeued: Callable[[], None] = lambda: None, pickup: PickupDesk | None = None
) -> Starlette:
    """The ``/api`` routes over ``store`` (see the module docstring); ``on_requeued`` is called after dead letters
    were put back in the queue (the daemon wakes its worker); ``pickup`` answers ``/api/pickup-options`` (without
    one it answers 404). Mount behind :func:`~omnibridge.daemon.auth.with_store`.
    """

    async def whoami(request: Request) -> JSONResponse:
        found = token_of(request)
        return JSONResponse({"id": found.id, "name": found.name, "role": found.role.value})

    async def list_incidents(request: Request) -> JSONResponse:
        kind = request.query_params.get("kind")
        if kind is not None and kind not in KINDS:
            raise ApiError(400, f"?kind={kind!r} is not a kind of incident; expected one of: {', '.join(KINDS)}")
        state = request.query_params.get("state", "all")
        if state not in STATES:
            raise ApiError(400, f"?state={state!r}: expected open, resolved or all")
        limit = _int(request, "limit", 200)
        sku = request.query_params.get("sku")

        def read() -> dict[str, Any]:
            found = store.incidents(kind=kind, sku=sku, limit=limit, resolved=STATES[state])
            return {"counts": store.incident_counts(), "incidents": [incident_dict(i) for i in found]}

        return JSONResponse(await run_in_threadpool(read))

    async def resolve(request: Request) -> JSONResponse:
        note = (await body(request)).get("note")
        if not isinstance(note, str) or not note.strip():
            raise ApiError(400, "'note': say how the incident was resolved (it is kept for audit)")
        incident_id = int(request.path_params["incident_id"])
        try:
            done = await run_in_threadpool(resolve_incident, store, incident_id, note, actor_of(request))
        except IncidentNotFound as exc:
            raise ApiError(404, str(exc)) from None
        return JSONResponse(done)

    async def list_dead_letters(request: Request) -> JSONResponse:
        channel = request.query_params.get("channel")
        show_all = request.query_params.get("all", "false").lower() in ("1", "true", "yes")
        found = await run_in_threadpool(lambda: dead_letters(store, channel=channel, discarded=show_all))
        return JSONResponse({"dead_letters": [entry_row(entry) for entry in found]})

    async def replay(request: Request) -> JSONResponse:
        data = await body(request)
        everything = data.get("all") is True
        if everything == ("ids" in data):
            raise ApiError(400, "give either 'ids' (a list of inbox ids) or 'all': true")
        wanted: list[int] | Literal["all"] = ALL if everything else _ids(data)
        result = await run_in_threadpool(lambda: requeue(store, wanted, actor=actor_of(request)))
        if result.requeued:
            on_requeued()
        return JSONResponse(
            {
                "requeued": result.requeued,
                "refused": [{"id": entry_id, "reason": why} for entry_id, why in result.refused.items()],
                "note": "the daemon's worker applies them now; GET /api/deadletters shows any that die again",
            }
        )

    async def discard_letters(request: Request) -> JSONResponse:
        data = await body(request)
        reason = data.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ApiError(400, "'reason': say why these dead letters will never be applied (it is kept for audit)")
        ids = _ids(data)
        result = await run_in_threadpool(discard, store, ids, reason, actor_of(request))
        refused = [{"id": entry_id, "reason": why} for entry_id, why in result.refused.items()]
        return JSONResponse({"discarded": result.discarded, "refused": refused})

    async def list_orders(request: Request) -> JSONResponse:
        status = request.query_params.get("status")
        statuses = [s.value for s in OrderStatus]
        if status is not None and status not in statuses:
            raise ApiError(400, f"?status={status!r} is not an order status; expected one of: {', '.join(statuses)}")
        since = request.query_params.get("since")
        try:
            after = parse_since(since, store.now()) if since is not None else None
        except OmnibridgeError as exc:
            raise ApiError(400, str(exc).replace("--since ", "?since=")) from None
        limit = _int(request, "limit", 100)
        channel = request.query_params.get("channel")
        found = await run_in_threadpool(store.list_orders, channel, status, after, limit)
        return JSONResponse({"orders": [order.model_dump(mode="json") for order in found]})

    async def show_order(request: Request) -> JSONResponse:
        def read() -> dict[str, Any]:
            return order_details(store, find_named_order(store, request.path_params["order"]))

        try:
            return JSONResponse(await run_in_threadpool(read))
        except OrderNameError as exc:
            raise ApiError(404, str(exc)) from None

    async def list_tokens(_: Request) -> JSONResponse:
        found = await run_in_threadpool(tokens.tokens, store)
        now = store.now()
        return JSONResponse({"tokens": [token.as_dict(now) for token in found]})

    async def create_token(request: Request) -> JSONResponse:
        data = await body(request)
        try:
            role = Role.parse(str(data.get("role", "")))
        except ValueError as exc:
            raise ApiError(400, f"'role': {exc}") from None
        expires = data.get("expires_days")
        if expires is not None and (not isinstance(expires, int) or isinstance(expires, bool)):
            raise ApiError(400, "'expires_days': expected a whole number of days")
        name = data.get("name")
        if not isinstance(name, str):
            raise ApiError(400, "'name': expected the name of who or what uses the token")
        try:
            created, secret = await run_in_threadpool(
                lambda: tokens.create(store, role, name, actor_of(request), expires_days=expires)
            )
        except OmnibridgeError as exc:
            raise ApiError(400, str(exc).replace("--name", "'name'").replace("--expires", "'expires_days'")) from None
        return JSONResponse({**created.as_dict(store.now()), "token": secret}, status_code=201)

    async def revoke_token(request: Request) -> JSONResponse:
        try:
            revoked = await run_in_threadpool(tokens.revoke, store, request.path_params["token_id"], actor_of(request))
        except tokens.UnknownTokenError as exc:
            raise ApiError(404, str(exc)) from None
        return JSONResponse(revoked.as_dict(store.now()))

    async def audit_records(request: Request) -> JSONResponse:
        action = request.query_params.get("action")
        after, limit = _int(request, "after", 0, low=0), _int(request, "limit", 200)
        found = await run_in_threadpool(lambda: audit.records(store, action=action, after_id=after, limit=limit))
        return JSONResponse({"records": [record.as_dict() for record in found]})

    async def audit_verify(_: Request) -> JSONResponse:
        result = await run_in_threadpool(audit.verify, store)
        return JSONResponse(result.as_dict())

    async def pickup_options(request: Request) -> JSONResponse:
        if pickup is None:
            raise ApiError(404, "pickup options are not served here: the daemon runs them for its profile")
        try:
            return JSONResponse(await pickup_answer(pickup, request.query_params))
        except PickupQueryError as exc:
            raise ApiError(exc.status, str(exc)) from None

    viewer, operator, admin = requires(Role.VIEWER), requires(Role.OPERATOR), requires(Role.ADMIN)
    routes = [
        Route("/api/whoami", viewer(_handled(whoami)), methods=["GET"]),
        Route("/api/incidents", viewer(_handled(list_incidents)), methods=["GET"]),
        Route("/api/incidents/{incident_id:int}/resolve", operator(_handled(resolve)), methods=["POST"]),
        Route("/api/deadletters", viewer(_handled(list_dead_letters)), methods=["GET"]),
        Route("/api/deadletters/replay", operator(_handled(replay)), methods=["POST"]),
        Route("/api/deadletters/discard", operator(_handled(discard_letters)), methods=["POST"]),
        Route("/api/orders", viewer(_handled(list_orders)), methods=["GET"]),
        Route("/api/orders/{order}", viewer(_handled(show_order)), methods=["GET"]),
        Route("/api/tokens", admin(_handled(list_tokens)), methods=["GET"]),
        Route("/api/tokens", admin(_handled(create_token)), methods=["POST"]),
        Route("/api/tokens/{token_id}", admin(_handled(revoke_token)), methods=["DELETE"]),
        Route("/api/audit", admin(_handled(audit_records)), methods=["GET"]),
        Route("/api/audit/verify", admin(_handled(audit_verify)), methods=["GET"]),
        Route("/api/pickup-options", viewer(_handled(pickup_options)), methods=["GET"]),
    ]

    async def not_found(request: Request, _exc: Exception) -> Response:
        return _error(404, f"no API route {request.method} {request.url.path} (see docs/operations.md, 'Admin API')")

    async def not_allowed(request: Request, _exc: Exception) -> Response:
        return _error(405, f"{request.method} is not allowed on {request.url.path}")

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})
