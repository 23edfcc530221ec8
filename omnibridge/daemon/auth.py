"""Bearer-token authentication and role checks for the daemon's HTTP routes.

The daemon puts its store in every HTTP request's scope (:func:`with_store`); the functions here find the
caller's token there. A token is sent as ``Authorization: Bearer obt_…`` (see :mod:`omnibridge.access.tokens`).

**Guarding a route** — wrap its endpoint with :func:`requires`::

    from omnibridge.access import Role
    from omnibridge.daemon.auth import actor_of, requires

    @requires(Role.OPERATOR)
    async def accept(request: Request) -> Response:
        actor = actor_of(request)  # who to name in the audit log
        ...

The guard answers **401** (with ``WWW-Authenticate: Bearer``) when the request carries no token or one that is
malformed, unknown, revoked or expired, and **403** when the token's role is below ``role``; the endpoint runs only
for a token whose role is ``role`` or above (``viewer`` < ``operator`` < ``admin``). Both answers are JSON
``{"error": "..."}``, one line, naming what was expected; nothing about the token is echoed back.

**Optional detail for a public route** — :func:`is_operator` says whether the request carries a valid token of
the operator role or above (``/readyz`` shows its detailed view only then); it never raises.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from omnibridge.access import Actor, Role, tokens
from omnibridge.access.tokens import ApiToken
from omnibridge.errors import OmnibridgeError
from omnibridge.store import Store

STORE_KEY = "omnibridge.store"
"""The ASGI scope key that holds the daemon's :class:`~omnibridge.store.Store`."""
_PRINCIPAL_KEY = "omnibridge.principal"
_NO_TOKEN = object()

Endpoint = Callable[[Request], Awaitable[Response]]


def with_store(app: ASGIApp, store: Store) -> ASGIApp:
    """``app`` with ``store`` in every request's scope, for :func:`requires` and :func:`is_operator`."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[STORE_KEY] = store
        await app(scope, receive, send)

    return wrapped


def bearer(request: Request) -> str | None:
    """The bearer token the request carries, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _check(request: Request) -> ApiToken | None:
    cached = request.scope.get(_PRINCIPAL_KEY, _NO_TOKEN)
    if cached is not _NO_TOKEN:
        return cached if isinstance(cached, ApiToken) else None
    store = request.scope.get(STORE_KEY)
    presented = bearer(request)
    found = tokens.authenticate(store, presented) if isinstance(store, Store) and presented else None
    request.scope[_PRINCIPAL_KEY] = found
    return found


async def authenticate(request: Request) -> ApiToken | None:
    """The valid token the request carries (looked up once per request), or None."""
    if _PRINCIPAL_KEY in request.scope:
        return _check(request)
    return await run_in_threadpool(_check, request)


def token_of(request: Request) -> ApiToken:
    """The token a :func:`requires`-guarded endpoint was called with."""
    found = request.scope.get(_PRINCIPAL_KEY)
    if not isinstance(found, ApiToken):
        raise RuntimeError("token_of() outside a route guarded by requires()")
    return found


def actor_of(request: Request) -> Actor:
    """Who a :func:`requires`-guarded request acts as, for the audit log."""
    return token_of(request).actor


def unauthorized(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=401, headers={"WWW-Authenticate": 'Bearer realm="omnibridge"'})


async def refusal(request: Request, role: Role) -> Response | None:
    """The 401 or 403 answer for a request that may not do what ``role`` may, or None when it may."""
    try:
        found = await authenticate(request)
    except OmnibridgeError as exc:  # the store cannot be read: nobody can be authenticated now
        return JSONResponse({"error": f"cannot check the API token now: {exc}"}, status_code=503)
    if found is None:
        what = "a valid API token" if bearer(request) else "an API token"
        return unauthorized(
            f"this needs {what} of the {role.value} role or above: send 'Authorization: Bearer <token>' "
            "(see 'omnibridge tokens create')"
        )
    if not found.role.allows(role):
        return JSONResponse(
            {"error": f"this needs the {role.value} role or above; token {found.id} has the {found.role.value} role"},
            status_code=403,
        )
    return None


def requires(role: Role) -> Callable[[Endpoint], Endpoint]:
    """A guard for an async Starlette endpoint: 401 without a valid token, 403 below ``role`` (see the module
    docstring)."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            refused = await refusal(request, role)
            return refused if refused is not None else await endpoint(request)

        guarded.required_role = role  # type: ignore[attr-defined]
        return guarded

    return decorate


def is_operator(request: Request) -> bool:
    """Whether the request carries a valid token of the operator role or above; False otherwise, and when the
    token store cannot be read (never raises). Synchronous: one indexed read, cached for the request."""
    try:
        found = _check(request)
    except Exception:  # the store is down: no detail for anyone
        return False
    return found is not None and found.role.allows(Role.OPERATOR)
