"""Which headers of a webhook delivery the inbox keeps.

The inbox keeps a delivery's headers so it can be re-verified and replayed (the signature, its timestamp, the
delivery and event ids, the topic, the content type). It never keeps credentials or what identifies the person
or machine that sent it: ``Authorization``, ``Proxy-Authorization``, cookies, Clover's static
``X-Clover-Auth`` code, API keys and tokens, and client addresses (``X-Forwarded-For``...). The names are
dropped by a deny-list that also matches any header whose name says it carries a credential, so a connector's
own secret header (``X-Acme-Token``) is dropped too; a signature is kept because it is a digest of the body,
not a secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

DROPPED = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-clover-auth",
        "x-api-key",
        "forwarded",
        "x-forwarded-for",
        "x-real-ip",
        "cf-connecting-ip",
        "true-client-ip",
    }
)
"""Header names (lower case) never stored."""

_CREDENTIAL = re.compile(r"auth|cookie|token|secret|password|passwd|api[-_]?key|session|credential", re.IGNORECASE)


def kept(name: str) -> bool:
    """True when a header called ``name`` may be stored."""
    return name.lower() not in DROPPED and _CREDENTIAL.search(name) is None


def stored_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers of ``headers`` the inbox keeps, names as received."""
    return {name: value for name, value in headers.items() if kept(name)}
