"""Console sign-in: an API token typed once, then a signed session cookie and a CSRF token on every form.

The cookie (``omnibridge_console``, HttpOnly, SameSite=Strict, Path=/console) holds the token's public id and when
the session started, signed with HMAC-SHA256 under a key derived from the store's keyring (its blind-index key,
which a data-key rotation keeps: sessions outlive a restart of the daemon and ``omnibridge keys rotate``). The
token's secret is never stored in the cookie: each request looks the token up by id and refuses it once it is
revoked or expired. A session lasts :data:`SESSION_HOURS`.

The CSRF token of a session is an HMAC of the cookie's value under the same key: each POST form carries it in a
hidden ``csrf`` field and the console refuses a POST without the right one.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from omnibridge.access import tokens
from omnibridge.access.tokens import ApiToken
from omnibridge.store import Store
from omnibridge.store.sealed import keyring_for_url

COOKIE = "omnibridge_console"
SESSION_HOURS = 12


def session_key(store: Store) -> bytes:
    """The HMAC key of console sessions: derived from the store's keyring (its blind-index key)."""
    derived = keyring_for_url(store.engine.url).blind_index("omnibridge-console-session", purpose="console.session")
    return hashlib.sha256(derived.encode("utf-8")).digest()


@dataclass(frozen=True, slots=True)
class Signer:
    """Signs and checks session cookies and CSRF tokens with one key."""

    key: bytes

    def _mac(self, text: str) -> str:
        return hmac.new(self.key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def cookie(self, token_id: str, started: datetime) -> str:
        """The cookie value for a session of ``token_id`` started at ``started``."""
        body = f"{token_id}.{int(started.timestamp())}"
        return f"{body}.{self._mac(body)}"

    def token_id(self, cookie: str | None, now: datetime) -> str | None:
        """The token id of a valid, unexpired session cookie; None otherwise."""
        if not cookie or cookie.count(".") != 2:
            return None
        token_id, started, mac = cookie.split(".")
        if not hmac.compare_digest(mac, self._mac(f"{token_id}.{started}")) or not started.isdigit():
            return None
        if now.timestamp() - int(started) > SESSION_HOURS * 3600:
            return None
        return token_id

    def csrf(self, cookie: str) -> str:
        """The CSRF token of the session whose cookie is ``cookie``."""
        return self._mac(f"csrf:{cookie}")

    def csrf_ok(self, cookie: str, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(self.csrf(cookie), presented)


def active_token(store: Store, token_id: str) -> ApiToken | None:
    """The active token with id ``token_id`` (not revoked, not expired), or None."""
    now = store.now()
    for found in tokens.tokens(store):
        if found.id == token_id:
            return found if found.state(now) == "active" else None
    return None
