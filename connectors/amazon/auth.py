"""Login with Amazon (LWA): the access token every SP-API call carries in ``x-amz-access-token``.

The seller's ``refresh_token`` is exchanged for an access token (``grant_type=refresh_token``) that lives about an
hour. :class:`LwaTokenProvider` caches it and exchanges again ``refresh_margin`` seconds before it expires; callers
arriving while an exchange runs wait for that one exchange (single flight). LWA refusing the credentials
(``{"error":"invalid_grant",...}``) is a :class:`FatalConnectorError` naming the LWA error code: retrying cannot help
until the merchant re-authorizes the application.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from pydantic import SecretStr

from omnibridge.sdk import Clock, ConnectorHttpClient, FatalConnectorError, register_secret

CONNECTOR_ID = "amazon"
_LWA_ERRORS = frozenset({400, 401, 403})


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An LWA access token and the monotonic instant it expires."""

    value: str
    expires_at: float


class LwaTokenProvider:
    """Access tokens for one seller authorization, cached and refreshed before they expire.

    ``http`` is a client for the LWA host (its base URL is not used: ``token_url`` is absolute). ``clock`` is
    monotonic seconds (injectable for tests). ``exchanges`` counts token exchanges made (an operations figure).
    """

    def __init__(
        self,
        http: ConnectorHttpClient,
        *,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        refresh_token: SecretStr,
        refresh_margin: float = 60.0,
        clock: Clock = time.monotonic,
        scope: str | None = None,
    ) -> None:
        self._http = http
        self._token_url = token_url
        self._form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token.get_secret_value(),
            "client_id": client_id,
            "client_secret": client_secret.get_secret_value(),
        }
        if scope is not None:  # a grantless token (createDestination...): client_credentials for that scope
            self._form = {
                "grant_type": "client_credentials",
                "scope": scope,
                "client_id": client_id,
                "client_secret": client_secret.get_secret_value(),
            }
        register_secret(refresh_token.get_secret_value())
        register_secret(self._form["client_secret"])
        self._margin = refresh_margin
        self._clock = clock
        self._token: AccessToken | None = None
        self._lock = asyncio.Lock()
        self.exchanges = 0

    def _fresh(self, token: AccessToken | None) -> bool:
        return token is not None and self._clock() < token.expires_at - self._margin

    async def token(self) -> str:
        """A live access token: the cached one, or a new one if it expires within the margin."""
        if self._fresh(self._token):
            assert self._token is not None
            return self._token.value
        async with self._lock:
            if not self._fresh(self._token):  # another caller may have exchanged while we waited
                self._token = await self._exchange()
            assert self._token is not None
            return self._token.value

    def invalidate(self, value: str) -> None:
        """Forget ``value`` (SP-API refused it); the next :meth:`token` exchanges again. A token already replaced
        by a newer one is left alone, so concurrent refusals cause one exchange, not one each."""
        if self._token is not None and self._token.value == value:
            self._token = None

    async def _exchange(self) -> AccessToken:
        started = self._clock()
        response = await self._http.post(
            self._token_url,
            op="lwa_token",
            data=self._form,
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
            idempotent=True,  # a refresh-token grant can be repeated: it only issues another access token
            expected_statuses=_LWA_ERRORS,
        )
        self.exchanges += 1
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            description = body.get("error_description") if isinstance(body, dict) else None
            detail = f"{error}: {description}" if error and description else str(error or "unreadable answer")
            hint = (
                " (the refresh token was revoked, expired or belongs to another application: re-authorize the app "
                "in Seller Central and update refresh_token)"
                if error == "invalid_grant"
                else " (check client_id and client_secret)"
                if error in ("invalid_client", "unauthorized_client")
                else ""
            )
            raise FatalConnectorError(
                f"Login with Amazon refused the token exchange, HTTP {response.status_code} {detail}{hint}",
                connector=CONNECTOR_ID,
                op="lwa_token",
            )
        value = body.get("access_token")
        lifetime = body.get("expires_in", 3600)
        if not isinstance(value, str) or not value or not isinstance(lifetime, int | float):
            raise FatalConnectorError(
                "Login with Amazon answered without access_token/expires_in", connector=CONNECTOR_ID, op="lwa_token"
            )
        register_secret(value)
        return AccessToken(value, started + float(lifetime))
