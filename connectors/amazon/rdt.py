"""Restricted Data Tokens (Tokens API 2021-03-01): how SP-API hands out buyer addresses.

Orders answers carry the buyer's name, street and phone only when ``x-amz-access-token`` is a Restricted Data
Token (RDT) for that request; with the plain LWA token ``ShippingAddress`` holds only city, region, postal code
and country. :class:`RestrictedTokens` asks ``createRestrictedDataToken`` (with the LWA token) for an RDT per
restricted resource — ``GET /orders/v0/orders`` with ``dataElements: ["shippingAddress"]`` covers every page of
getOrders, ``GET /orders/v0/orders/{orderId}`` one getOrder — and caches it until shortly before it expires
(an hour). An application without the Restricted role gets a 403 from the Tokens API: the connector then carries
on with the LWA token (orders without a street address) and says so once.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from omnibridge.sdk import Clock, FatalConnectorError, get_logger

if TYPE_CHECKING:
    from connectors.amazon.client import AmazonApi

__all__ = ["RDT_PATH", "RestrictedTokens"]

RDT_PATH = "/tokens/2021-03-01/restrictedDataToken"
_MARGIN_S = 120.0
_log = get_logger(__name__)


class RestrictedTokens:
    """RDTs for shipping addresses, one per ``(method, path)``, cached; None when Amazon refuses them."""

    def __init__(self, api: AmazonApi, *, clock: Clock = time.monotonic) -> None:
        self._api = api
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}
        self.refused: str | None = None
        """Why Amazon refused an RDT (the application lacks the Restricted role), once it has."""

    async def shipping_address(self, path: str) -> str | None:
        """An RDT opening ``GET path`` with its ``shippingAddress``, or None if this application cannot have one."""
        key = ("GET", path)
        cached = self._cache.get(key)
        if cached is not None and self._clock() < cached[1] - _MARGIN_S:
            return cached[0]
        if self.refused is not None:
            return None
        body = {"restrictedResources": [{"method": "GET", "path": path, "dataElements": ["shippingAddress"]}]}
        try:
            _, answer = await self._api.call("createRestrictedDataToken", "POST", RDT_PATH, json=body)
        except FatalConnectorError as exc:  # no Restricted role, or a permanent refusal: carry on without PII
            self.refused = str(exc)
            _log.warning("amazon.rdt_refused", reason=self.refused)
            return None
        token = answer.get("restrictedDataToken") if isinstance(answer, dict) else None
        lifetime = answer.get("expiresIn", 3600) if isinstance(answer, dict) else 3600
        if not isinstance(token, str) or not token or not isinstance(lifetime, int | float):
            self.refused = "createRestrictedDataToken answered without restrictedDataToken"
            return None
        self._cache[key] = (token, self._clock() + float(lifetime))
        return token
