"""Tokens API 2021-03-01 of the Amazon emulator: Restricted Data Tokens (RDT) for buyer addresses.

``createRestrictedDataToken`` (called with an LWA token) returns an RDT for up to 50 ``restrictedResources``
(``method`` + ``path``, ``dataElements`` for getOrders/getOrder). Orders answers carry the buyer's full
``ShippingAddress`` (name, street, phone) only when ``x-amz-access-token`` is an RDT that covers the request's
path with ``shippingAddress``; with a plain LWA token Amazon sends only city, region, postal code and country.
A path template (``/orders/v0/orders/{orderId}/address``) covers every order, a literal path one.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connectors.amazon.emulator.common import invalid_input

__all__ = ["PARTIAL_FIELDS", "RDT_LIFETIME_S", "RestrictedGrant", "RestrictedTokens"]

RDT_LIFETIME_S = 3600
PARTIAL_FIELDS = ("City", "StateOrRegion", "PostalCode", "CountryCode", "CountyOrDistrict", "AddressType")
"""The ShippingAddress fields Amazon sends without an RDT."""
_MAX_RESOURCES = 50
_DATA_ELEMENTS = frozenset({"buyerInfo", "shippingAddress", "buyerTaxInformation"})


@dataclass(frozen=True)
class RestrictedGrant:
    """One issued RDT: the ``(method, path pattern, data elements)`` it opens, and when it expires."""

    resources: tuple[tuple[str, re.Pattern[str], frozenset[str]], ...]
    expires: datetime

    def covers(self, method: str, path: str, element: str | None, now: datetime) -> bool:
        if now >= self.expires:
            return False
        for allowed_method, pattern, elements in self.resources:
            if allowed_method == method and pattern.fullmatch(path) and (element is None or element in elements):
                return True
        return False


def _pattern(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^/{}]+\})", path)
    return re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts))


class RestrictedTokens:
    """The RDTs handed out, by token value."""

    def __init__(self) -> None:
        self.grants: dict[str, RestrictedGrant] = {}

    def create(self, body: dict[str, Any], now: datetime) -> dict[str, Any]:
        """createRestrictedDataToken: ``{"restrictedDataToken", "expiresIn"}`` or 400 InvalidInput."""
        resources = body.get("restrictedResources")
        if not isinstance(resources, list) or not resources:
            raise invalid_input("'restrictedResources' must list at least one resource.", "restrictedResources")
        if len(resources) > _MAX_RESOURCES:
            raise invalid_input(f"At most {_MAX_RESOURCES} restrictedResources.", "restrictedResources")
        opened = []
        for index, resource in enumerate(resources):
            where = f"restrictedResources[{index}]"
            if not isinstance(resource, dict):
                raise invalid_input(f"'{where}' must be an object.", where)
            method, path = resource.get("method"), resource.get("path")
            if method not in ("GET", "PUT", "POST", "DELETE"):
                raise invalid_input(f"'{where}.method' must be GET, PUT, POST or DELETE.", f"{where}.method")
            if not isinstance(path, str) or not path.startswith("/"):
                raise invalid_input(f"'{where}.path' must be an absolute path.", f"{where}.path")
            elements = resource.get("dataElements") or []
            if not isinstance(elements, list) or not set(elements) <= _DATA_ELEMENTS:
                allowed = ", ".join(sorted(_DATA_ELEMENTS))
                raise invalid_input(f"'{where}.dataElements' may hold only {allowed}.", f"{where}.dataElements")
            if path.endswith("/address") or path.endswith("/buyerInfo"):
                elements = [*elements, "shippingAddress" if path.endswith("/address") else "buyerInfo"]
            opened.append((method, _pattern(path), frozenset(elements)))
        token = "Atz.sprdt|" + secrets.token_urlsafe(48)
        self.grants[token] = RestrictedGrant(tuple(opened), now + timedelta(seconds=RDT_LIFETIME_S))
        return {"restrictedDataToken": token, "expiresIn": RDT_LIFETIME_S}

    def allows(self, token: str, method: str, path: str, element: str | None, now: datetime) -> bool:
        """Whether ``token`` is a live RDT opening ``method path`` (for data ``element`` when given)."""
        grant = self.grants.get(token)
        return grant is not None and grant.covers(method, path, element, now)

    def is_restricted(self, token: str) -> bool:
        return token in self.grants


def shipping_address(address: dict[str, Any] | None, full: bool) -> dict[str, Any] | None:
    """The ShippingAddress to send: whole with an RDT, else only the fields Amazon sends without one."""
    if address is None:
        return None
    return dict(address) if full else {k: v for k, v in address.items() if k in PARTIAL_FIELDS}
