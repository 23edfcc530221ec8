"""Orders API of the Square emulator: CreateOrder, SearchOrders, BatchRetrieveOrders and RetrieveOrder."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.square.emulator import pickups
from connectors.square.emulator.common import invalid, page, time_field
from connectors.square.emulator.inventory import IdempotencyCache
from connectors.square.emulator.state import MerchantState, format_quantity, format_time, parse_time

__all__ = ["MAX_LOCATIONS", "batch_retrieve", "create", "fulfillment", "retrieve", "search"]

MAX_LOCATIONS = 10
_MAX_LIMIT = 1000
_MAX_BATCH = 100
_TIME_FIELDS = {"created_at": "CREATED_AT", "updated_at": "UPDATED_AT", "closed_at": "CLOSED_AT"}
_CLOSED_STATES = {"COMPLETED", "CANCELED"}
_DETAILS = {"SHIPMENT": "shipment_details", "DELIVERY": "delivery_details"}


def _locations(state: MerchantState, body: dict[str, Any]) -> set[str]:
    location_ids = body.get("location_ids") or []
    if not location_ids:
        raise invalid("MISSING_REQUIRED_PARAMETER", "At least one location_id is required.", "location_ids")
    if len(location_ids) > MAX_LOCATIONS:
        raise invalid("ARRAY_LENGTH_TOO_LONG", f"At most {MAX_LOCATIONS} location_ids.", "location_ids")
    for index, location_id in enumerate(location_ids):
        if location_id not in state.locations:
            raise invalid("INVALID_VALUE", f"Location {location_id} not found.", f"location_ids[{index}]")
    return set(location_ids)


def _time_filter(query: dict[str, Any], now: datetime) -> tuple[str, datetime, datetime] | None:
    date_filter = (query.get("filter") or {}).get("date_time_filter") or {}
    used = [name for name in _TIME_FIELDS if date_filter.get(name) is not None]
    if not used:
        return None
    if len(used) > 1:
        raise invalid("INVALID_VALUE", "Filter on one time range at a time.", "query.filter.date_time_filter")
    name = used[0]
    where = f"query.filter.date_time_filter.{name}"
    start = time_field(date_filter[name].get("start_at"), f"{where}.start_at") or datetime.min.replace(tzinfo=UTC)
    end = time_field(date_filter[name].get("end_at"), f"{where}.end_at") or now
    if end < start:
        raise invalid("INVALID_TIME_RANGE", "end_at is before start_at.", where)
    return name, start, end


def search(state: MerchantState, body: dict[str, Any]) -> dict[str, Any]:
    """SearchOrders. Enforces Square's rules: 1 to 10 known locations, limit ≤ 1000 (default 500), one time range,
    ``sort_field`` equal to the filtered timestamp (else 400 ``INVALID_VALUE`` on ``query.sort.sort_field``),
    ``CLOSED_AT`` only with a state filter of closed states; cursors bound to the original query.
    """
    locations = _locations(state, body)
    limit = body.get("limit")
    if limit is not None and limit < 1:
        raise invalid("VALUE_TOO_LOW", "limit must be at least 1.", "limit")
    if limit is not None and limit > _MAX_LIMIT:
        raise invalid("VALUE_TOO_HIGH", f"limit must be at most {_MAX_LIMIT}.", "limit")
    query = body.get("query") or {}
    sort = query.get("sort") or {}
    sort_field = str(sort.get("sort_field") or "CREATED_AT")
    descending = (sort.get("sort_order") or "DESC") == "DESC"
    time_range = _time_filter(query, state.now())
    if time_range is not None and _TIME_FIELDS[time_range[0]] != sort_field:
        raise invalid(
            "INVALID_VALUE",
            f"sort_field {sort_field} must match the date_time_filter field {_TIME_FIELDS[time_range[0]]}.",
            "query.sort.sort_field",
        )
    filters = query.get("filter") or {}
    states = set((filters.get("state_filter") or {}).get("states") or [])
    if sort_field == "CLOSED_AT" and (not states or not states <= _CLOSED_STATES):
        raise invalid(
            "INVALID_VALUE", "Sorting by CLOSED_AT needs a state_filter of closed states.", "query.filter.state_filter"
        )
    sources = set((filters.get("source_filter") or {}).get("source_names") or [])
    key = sort_field.lower()
    found = []
    for order in state.orders.values():
        if order["location_id"] not in locations or (states and order["state"] not in states):
            continue
        if sources and order.get("source", {}).get("name") not in sources:
            continue
        if key not in order:
            continue
        if time_range is not None and not time_range[1] <= parse_time(order[time_range[0]]) <= time_range[2]:
            continue
        found.append(order)
    found.sort(key=lambda o: (parse_time(o[key]), o["id"]), reverse=descending)
    chunk, cursor = page(found, body, default_limit=500, max_limit=_MAX_LIMIT)
    out: dict[str, Any]
    if body.get("return_entries"):
        out = {
            "order_entries": [
                {"order_id": o["id"], "version": o["version"], "location_id": o["location_id"]} for o in chunk
            ]
        }
    else:
        out = {"orders": chunk}
    if cursor:
        out["cursor"] = cursor
    return out


def batch_retrieve(state: MerchantState, body: dict[str, Any]) -> dict[str, Any]:
    """BatchRetrieveOrders: up to 100 ids; unknown ids (or ids at another ``location_id``) are left out."""
    order_ids = body["order_ids"]
    if len(order_ids) > _MAX_BATCH:
        raise invalid("ARRAY_LENGTH_TOO_LONG", f"At most {_MAX_BATCH} order_ids.", "order_ids")
    location_id = body.get("location_id")
    orders = [
        state.orders[i]
        for i in order_ids
        if i in state.orders and (location_id is None or state.orders[i]["location_id"] == location_id)
    ]
    return {"orders": orders}


def retrieve(state: MerchantState, order_id: str) -> dict[str, Any]:
    """RetrieveOrder; 404 ``NOT_FOUND`` for an unknown id."""
    order = state.orders.get(order_id)
    if order is None:
        raise invalid("NOT_FOUND", f"Order {order_id} not found.", "order_id", status=404)
    return {"order": order}


def fulfillment(kind: str, recipient: dict[str, Any], placed_at: datetime, state: str = "PROPOSED") -> dict[str, Any]:
    """A SHIPMENT or DELIVERY ``Fulfillment`` to ``recipient`` (a ``FulfillmentRecipient``), without its uid."""
    if kind not in _DETAILS:
        raise ValueError(f"fulfillment type must be SHIPMENT or DELIVERY, got {kind!r}")
    details: dict[str, Any] = {"recipient": dict(recipient), "placed_at": format_time(placed_at)}
    if kind == "DELIVERY":
        details["schedule_type"] = "ASAP"
    return {"type": kind, "state": state, _DETAILS[kind]: details}


def _quantity(raw: Any, where: str) -> Decimal:
    try:
        quantity = Decimal(str(raw))
    except InvalidOperation:
        raise invalid("INVALID_VALUE", f"Quantity {raw!r} is not a decimal number.", where) from None
    if not quantity.is_finite() or quantity <= 0:
        raise invalid("INVALID_VALUE", f"Quantity {raw!r} must be positive.", where)
    return quantity


def _check_fulfillments(sent: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    out = []
    for index, raw in enumerate(sent):
        kind = raw.get("type")
        where = f"order.fulfillments[{index}]"
        if kind is None:
            raise invalid("MISSING_REQUIRED_PARAMETER", "type is required.", f"{where}.type")
        out_fulfillment = copy.deepcopy(raw)
        out_fulfillment.pop("uid", None)
        out_fulfillment.setdefault("state", "PROPOSED")
        if kind in _DETAILS:
            details = out_fulfillment.setdefault(_DETAILS[kind], {})
            if not isinstance(details.get("recipient"), dict):
                field = f"{where}.{_DETAILS[kind]}.recipient"
                raise invalid("MISSING_REQUIRED_PARAMETER", "A recipient is required.", field)
            details.setdefault("placed_at", format_time(now))
        elif kind == "PICKUP":
            sent_details = out_fulfillment.get("pickup_details") or {}
            out_fulfillment["pickup_details"] = pickups.details(sent_details, f"{where}.pickup_details", now)
        out.append(out_fulfillment)
    return out


def create(state: MerchantState, cache: IdempotencyCache, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """CreateOrder: an OPEN order at a known location, catalog lines priced from the catalog (``catalog_object_id``
    and ``quantity``) or custom lines (``name``, ``quantity``, ``base_price_money``), fulfillments kept (a SHIPMENT
    or DELIVERY one needs a recipient). The ``idempotency_key`` replays the first response for the same body and
    is 400 ``IDEMPOTENCY_KEY_REUSED`` for another. Returns the response and whether an order was created.
    """
    key = body.get("idempotency_key")
    fingerprint = IdempotencyCache.fingerprint(body)
    if key is not None and key in cache.entries:
        previous, response = cache.entries[key]
        if previous != fingerprint:
            raise invalid(
                "IDEMPOTENCY_KEY_REUSED",
                "The idempotency key was already used with a different request body.",
                "idempotency_key",
            )
        return copy.deepcopy(response), False
    sent = body.get("order") or {}
    location_id = sent.get("location_id")
    if location_id not in state.locations:
        raise invalid("NOT_FOUND", f"Location {location_id} not found.", "order.location_id", status=404)
    lines: list[tuple[str, Decimal]] = []
    custom: list[dict[str, Any]] = []
    for index, line in enumerate(sent.get("line_items") or []):
        where = f"order.line_items[{index}]"
        quantity = _quantity(line.get("quantity"), f"{where}.quantity")
        variation_id = line.get("catalog_object_id")
        if variation_id is not None:
            if state.catalog.get(variation_id, {}).get("type") != "ITEM_VARIATION":
                detail = f"Item variation with catalog object ID `{variation_id}` not found."
                raise invalid("NOT_FOUND", detail, f"{where}.catalog_object_id", status=404)
            lines.append((variation_id, quantity))
        elif isinstance(line.get("name"), str) and isinstance(line.get("base_price_money"), dict):
            custom.append(
                {
                    "name": line["name"],
                    "quantity": format_quantity(quantity),
                    "base_price_money": dict(line["base_price_money"]),
                }
            )
        else:
            detail = "A line item needs a catalog_object_id, or a name and base_price_money."
            raise invalid("MISSING_REQUIRED_PARAMETER", detail, f"{where}.catalog_object_id")
    names = {name: str(sent[name]) for name in ("reference_id", "ticket_name") if isinstance(sent.get(name), str)}
    source = (sent.get("source") or {}).get("name") or "omnibridge emulator"
    order = state.new_order(
        str(location_id),
        lines,
        str(source),
        fulfillments=_check_fulfillments(sent.get("fulfillments") or [], state.now()),
        custom_lines=custom,
        names=names,
    )
    response = {"order": order}
    if key is not None:
        cache.entries[key] = (fingerprint, copy.deepcopy(response))
    return copy.deepcopy(response), True
