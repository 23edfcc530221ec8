"""Who may see the daemon's operational detail (``/readyz``'s reasons today).

:func:`is_operator` is the one seam: the HTTP endpoints ask it, never a token store directly, so the check can be
pointed at the token store with roles (bearer tokens, ``omnibridge tokens``) without touching them.

An operator is a caller that sends ``Authorization: Bearer <token>`` with either an admin API token of the
operator role or above (``omnibridge tokens create --role operator``, checked against the token store) or the
token in the environment variable :data:`TOKEN_ENV` (``OMNIBRIDGE_OPERATOR_TOKEN``, compared in constant time,
for a monitoring system set up before any token exists). Without either, nobody is an operator: the detail is
never shown.
"""

from __future__ import annotations

import hmac
import os

from starlette.requests import HTTPConnection, Request

from omnibridge.daemon.auth import is_operator as has_operator_token

TOKEN_ENV = "OMNIBRIDGE_OPERATOR_TOKEN"  # noqa: S105 (the name of the variable, not a secret)
_SCHEME = "bearer"


def bearer_token(request: HTTPConnection) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == _SCHEME and token else None


def is_operator(request: HTTPConnection) -> bool:
    """True when ``request`` carries the operator token (see the module docstring); False without a configured
    token, without a bearer token, or with another one."""
    expected = os.environ.get(TOKEN_ENV, "").strip()
    offered = bearer_token(request)
    if offered is None:
        return False
    if expected and hmac.compare_digest(offered.encode("utf-8"), expected.encode("utf-8")):
        return True
    return isinstance(request, Request) and has_operator_token(request)
