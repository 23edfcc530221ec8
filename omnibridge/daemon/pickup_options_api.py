"""``GET /api/pickup-options?sku=..&qty=..&near=lat,lon|postcode[&curbside=true]``: the pickup decision for a
storefront (viewer role: a storefront backend holds a viewer token), as :meth:`PickupOptions.to_json
<omnibridge.pickup.options.PickupOptions.to_json>`. 400 names the parameter and what was expected, 404 an unknown
SKU; the store is read in a worker thread, off the event loop."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams

from omnibridge.models import GeoPoint
from omnibridge.pickup.desk import PickupDesk, UnknownSkuError
from omnibridge.pickup.near import NEAR_HELP, NearError, parse_near

__all__ = ["PickupQuery", "PickupQueryError", "answer", "parse_query"]

_TRUE, _FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no"})
_KNOWN = frozenset({"sku", "qty", "near", "curbside"})


class PickupQueryError(Exception):
    """A 400 or 404 answer: ``status`` and one line."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


PickupQuery = tuple[str, int, GeoPoint, bool]


def parse_query(params: QueryParams) -> PickupQuery:
    """``(sku, qty, near, curbside)`` from the query string, or :class:`PickupQueryError` (400)."""
    unknown = sorted(set(params) - _KNOWN)
    if unknown:
        raise PickupQueryError(400, f"?{unknown[0]}= is not a parameter: expected sku, qty, near and curbside")
    sku = (params.get("sku") or "").strip()
    if not sku:
        raise PickupQueryError(400, "?sku= is missing: expected the master SKU")
    raw_qty = params.get("qty", "1")
    try:
        qty = int(raw_qty)
    except ValueError:
        raise PickupQueryError(400, f"?qty={raw_qty!r}: expected a whole number of units, 1 or more") from None
    if qty < 1:
        raise PickupQueryError(400, f"?qty={qty}: expected a whole number of units, 1 or more")
    near_text = params.get("near")
    if not near_text:
        raise PickupQueryError(400, f"?near= is missing: expected {NEAR_HELP}")
    try:
        near = parse_near(near_text)
    except NearError as exc:
        raise PickupQueryError(400, f"?near={near_text}: {exc}") from None
    flag = params.get("curbside", "false").lower()
    if flag not in _TRUE | _FALSE:
        raise PickupQueryError(400, f"?curbside={flag!r}: expected true or false")
    return sku, qty, near, flag in _TRUE


async def answer(desk: PickupDesk, params: QueryParams) -> dict[str, Any]:
    """The JSON answer for ``params`` (see the module docstring)."""
    sku, qty, near, curbside = parse_query(params)
    try:
        found = await run_in_threadpool(desk.options, sku, qty, near, curbside=curbside)
    except UnknownSkuError as exc:
        raise PickupQueryError(404, str(exc)) from None
    return found.to_json()
