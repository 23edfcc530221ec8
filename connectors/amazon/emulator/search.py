"""``searchListingsItems`` of the Amazon emulator (Listings Items 2021-08-01): filters, sorting and page tokens.

What the model says and the emulator enforces (400 ``InvalidInput`` naming the parameter otherwise):

* ``identifiers`` (csv, at most 20) needs ``identifiersType`` and the other way round; neither goes with
  ``variationParentSku`` or ``packageHierarchySku``. ``identifiersType`` is one of the model's enum; the emulator
  matches ``SKU`` (exact) and ``ASIN``; the other types (EAN, GTIN...) match nothing, since it stores no product
  identifiers. Variation and package relationships do not exist in the emulator either (those filters match
  nothing), and no listing has issues (``withIssueSeverity`` matches nothing).
* ``pageSize`` 1..20, default 10; ``includedData`` values from the model's enum (default ``summaries``);
  ``sortBy`` ``sku|createdDate|lastUpdatedDate`` (default lastUpdatedDate), ``sortOrder`` ``ASC|DESC`` (default
  DESC); ``createdAfter/Before``, ``lastUpdatedAfter/Before`` (ISO 8601); ``withStatus``/``withoutStatus``
  (BUYABLE, DISCOVERABLE).
* ``numberOfResults`` counts every match; only the first 1,000 can be paged through (Amazon's limit).
  ``pagination.nextToken``/``previousToken`` are opaque, stored server side, and only valid with the same
  filters (another query → 400 "Invalid pageToken").
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from connectors.amazon.emulator.common import format_time, invalid_input, parse_time, query_list
from connectors.amazon.emulator.listings import Listing, listing_status, listing_view

__all__ = ["INCLUDED_DATA", "MAX_IDENTIFIERS", "MAX_PAGE_SIZE", "ListingSearch"]

MAX_IDENTIFIERS = 20
MAX_PAGE_SIZE = 20
DEFAULT_PAGE_SIZE = 10
MAX_PAGEABLE = 1000
INCLUDED_DATA = (
    "summaries",
    "attributes",
    "issues",
    "offers",
    "fulfillmentAvailability",
    "procurement",
    "relationships",
    "productTypes",
)
IDENTIFIER_TYPES = ("ASIN", "EAN", "FNSKU", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC")
_STATUSES = ("BUYABLE", "DISCOVERABLE")
_SORT_FIELDS = ("sku", "createdDate", "lastUpdatedDate")
_DATE_FILTERS = ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore")
Params = Mapping[str, Sequence[str]]


def _one(params: Params, name: str) -> str:
    values = params.get(name) or [""]
    return values[-1]


def _enum(values: Sequence[str], allowed: Sequence[str], name: str) -> None:
    bad = sorted(set(values) - set(allowed))
    if bad:
        raise invalid_input(f"Invalid '{name}' value(s): {', '.join(bad)}; expected {', '.join(allowed)}.", name)


class ListingSearch:
    """Answers ``searchListingsItems`` over the emulator's listings; keeps the page tokens it issued."""

    def __init__(self, listings: Mapping[str, Listing]) -> None:
        self._listings = listings
        self._tokens: dict[str, tuple[tuple[tuple[str, tuple[str, ...]], ...], int]] = {}

    def search(self, params: Params, marketplace_id: str) -> dict[str, Any]:
        """The ``ItemSearchResults`` for ``params`` (query parameters, repeated or csv); :class:`ApiError` 400
        for what the model does not allow."""
        identifiers = query_list(params, "identifiers")
        id_type = _one(params, "identifiersType")
        if len(identifiers) > MAX_IDENTIFIERS:
            raise invalid_input(
                f"'identifiers' accepts at most {MAX_IDENTIFIERS} values, got {len(identifiers)}.", "identifiers"
            )
        if identifiers and not id_type:
            raise invalid_input("'identifiersType' is required when 'identifiers' is provided.", "identifiersType")
        if id_type and not identifiers:
            raise invalid_input("'identifiers' is required when 'identifiersType' is provided.", "identifiers")
        if id_type:
            _enum([id_type], IDENTIFIER_TYPES, "identifiersType")
        parent, package = _one(params, "variationParentSku"), _one(params, "packageHierarchySku")
        if sum(bool(x) for x in (identifiers, parent, package)) > 1:
            raise invalid_input(
                "Use only one of 'identifiers', 'variationParentSku' and 'packageHierarchySku'.", "identifiers"
            )
        included = query_list(params, "includedData")
        _enum(included, INCLUDED_DATA, "includedData")
        with_status, without_status = query_list(params, "withStatus"), query_list(params, "withoutStatus")
        _enum(with_status + without_status, _STATUSES, "withStatus")
        severities = query_list(params, "withIssueSeverity")
        _enum(severities, ("WARNING", "ERROR"), "withIssueSeverity")
        sort_by, order = _one(params, "sortBy") or "lastUpdatedDate", _one(params, "sortOrder") or "DESC"
        _enum([sort_by], _SORT_FIELDS, "sortBy")
        _enum([order], ("ASC", "DESC"), "sortOrder")
        size = self._page_size(params)
        dates = {name: self._date(params, name) for name in _DATE_FILTERS}

        if parent or package or severities:
            matches: list[Listing] = []
        elif identifiers:
            wanted = set(identifiers)
            matches = [
                listing
                for listing in self._listings.values()
                if (listing.sku if id_type == "SKU" else listing.asin if id_type == "ASIN" else None) in wanted
            ]
        else:
            matches = list(self._listings.values())
        matches = [listing for listing in matches if self._keeps(listing, dates, with_status, without_status)]
        matches.sort(key=lambda listing: _sort_key(listing, sort_by), reverse=order == "DESC")

        query_key = tuple(sorted((k, tuple(v)) for k, v in params.items() if k != "pageToken"))
        offset = self._offset(_one(params, "pageToken"), query_key)
        pageable = matches[:MAX_PAGEABLE]
        page = pageable[offset : offset + size]
        pagination: dict[str, str] = {}
        if offset + size < len(pageable):
            pagination["nextToken"] = self._token(query_key, offset + size)
        if offset > 0:
            pagination["previousToken"] = self._token(query_key, max(0, offset - size))
        answer: dict[str, Any] = {
            "numberOfResults": len(matches),
            "items": [listing_view(listing, marketplace_id, included) for listing in page],
        }
        if pagination:
            answer["pagination"] = pagination
        return answer

    @staticmethod
    def _page_size(params: Params) -> int:
        raw = _one(params, "pageSize")
        if not raw:
            return DEFAULT_PAGE_SIZE
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise invalid_input(f"'pageSize' must be between 1 and {MAX_PAGE_SIZE}, got {raw!r}.", "pageSize")
        return size

    @staticmethod
    def _date(params: Params, name: str) -> datetime | None:
        raw = _one(params, name)
        if not raw:
            return None
        try:
            return parse_time(raw)
        except ValueError:
            raise invalid_input(f"Invalid ISO 8601 date-time for '{name}': {raw!r}.", name) from None

    @staticmethod
    def _keeps(
        listing: Listing, dates: Mapping[str, datetime | None], with_status: list[str], without_status: list[str]
    ) -> bool:
        bounds = (
            (dates["createdAfter"], listing.created, False),
            (dates["createdBefore"], listing.created, True),
            (dates["lastUpdatedAfter"], listing.updated, False),
            (dates["lastUpdatedBefore"], listing.updated, True),
        )
        for bound, moment, before in bounds:
            if bound is not None and (moment > bound if before else moment < bound):
                return False
        status = set(listing_status(listing))
        if with_status and not status & set(with_status):
            return False
        return not (without_status and status & set(without_status))

    def _token(self, query_key: tuple[tuple[str, tuple[str, ...]], ...], offset: int) -> str:
        token = secrets.token_urlsafe(24)
        self._tokens[token] = (query_key, offset)
        return token

    def _offset(self, token: str, query_key: tuple[tuple[str, tuple[str, ...]], ...]) -> int:
        if not token:
            return 0
        found = self._tokens.get(token)
        if found is None or found[0] != query_key:
            raise invalid_input("Invalid pageToken (unknown, or issued for other search parameters).", "pageToken")
        return found[1]


def _sort_key(listing: Listing, sort_by: str) -> str:
    if sort_by == "sku":
        return listing.sku
    return format_time(listing.created if sort_by == "createdDate" else listing.updated) + "\x00" + listing.sku
