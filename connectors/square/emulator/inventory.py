"""Inventory API of the Square emulator: BatchChangeInventory and the two batch-retrieve endpoints.

Bodies reaching these functions have already passed the OpenAPI schema check; what is checked here is what the
schema cannot say (ids that exist, decimal quantities, the 24 h ``occurred_at`` window, the 100-change limit,
idempotency). A batch is all or nothing: on any error nothing is applied.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.square.emulator.common import invalid, page, time_field
from connectors.square.emulator.state import UNTRACKED_STATES, ChangeRecord, MerchantState, format_time, parse_time

__all__ = [
    "MAX_CHANGES",
    "BatchOutcome",
    "IdempotencyCache",
    "batch_change",
    "retrieve_changes",
    "retrieve_counts",
]

MAX_CHANGES = 100
_MAX_AGE = timedelta(hours=24)
_PAYLOAD_KEYS = {"PHYSICAL_COUNT": "physical_count", "ADJUSTMENT": "adjustment"}


@dataclass
class BatchOutcome:
    """What one BatchChangeInventory did: the response body and the changes it applied (none on a replay)."""

    response: dict[str, Any]
    applied: list[ChangeRecord] = field(default_factory=list)
    replayed: bool = False


@dataclass
class IdempotencyCache:
    """Successful responses by idempotency key, with a fingerprint of the body that produced them."""

    entries: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    @staticmethod
    def fingerprint(body: dict[str, Any]) -> str:
        return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _quantity(value: Any, field_name: str, *, positive: bool) -> Decimal:
    if value is None:
        raise invalid("MISSING_REQUIRED_PARAMETER", "quantity is required.", field_name)
    try:
        quantity = Decimal(str(value))
    except InvalidOperation:
        raise invalid("INVALID_VALUE", f"Quantity {value!r} is not a decimal number.", field_name) from None
    exponent = quantity.as_tuple().exponent
    if not quantity.is_finite() or (isinstance(exponent, int) and exponent < -5):
        raise invalid("INVALID_VALUE", f"Quantity {value!r} has more than 5 decimal places.", field_name)
    if quantity < 0 or (positive and quantity == 0):
        raise invalid("INVALID_VALUE", f"Quantity {value!r} must be {'positive' if positive else '>= 0'}.", field_name)
    return quantity


def _required(payload: dict[str, Any], name: str, prefix: str) -> Any:
    value = payload.get(name)
    if value is None or value == "":
        raise invalid("MISSING_REQUIRED_PARAMETER", f"{name} is required.", f"{prefix}.{name}")
    return value


def _check_change(
    state: MerchantState, index: int, change: dict[str, Any], now: datetime
) -> tuple[str, dict[str, Any]]:
    change_type = change.get("type")
    if change_type is None:
        raise invalid("MISSING_REQUIRED_PARAMETER", "type is required.", f"changes[{index}].type")
    if change_type not in _PAYLOAD_KEYS:
        raise invalid("INVALID_VALUE", f"Change type {change_type} is not supported here.", f"changes[{index}].type")
    key = _PAYLOAD_KEYS[change_type]
    prefix = f"changes[{index}].{key}"
    payload = change.get(key)
    if not isinstance(payload, dict):
        raise invalid("MISSING_REQUIRED_PARAMETER", f"{key} is required for type {change_type}.", prefix)
    object_id = _required(payload, "catalog_object_id", prefix)
    if state.catalog.get(object_id, {}).get("type") != "ITEM_VARIATION":
        detail = f"Catalog object {object_id} is not an item variation."
        raise invalid("INVALID_VALUE", detail, f"{prefix}.catalog_object_id")
    location_id = _required(payload, "location_id", prefix)
    if location_id not in state.locations:
        raise invalid("INVALID_VALUE", f"Location {location_id} not found.", f"{prefix}.location_id")
    if change_type == "PHYSICAL_COUNT":
        _required(payload, "state", prefix)
        _quantity(payload.get("quantity"), f"{prefix}.quantity", positive=False)
    else:
        if _required(payload, "from_state", prefix) == _required(payload, "to_state", prefix):
            raise invalid("INVALID_VALUE", "from_state and to_state must differ.", f"{prefix}.to_state")
        _quantity(payload.get("quantity"), f"{prefix}.quantity", positive=True)
    occurred = time_field(_required(payload, "occurred_at", prefix), f"{prefix}.occurred_at")
    assert occurred is not None
    if occurred > now:
        raise invalid("INVALID_TIME", "occurred_at must not be in the future.", f"{prefix}.occurred_at")
    if occurred < now - _MAX_AGE:
        raise invalid("INVALID_TIME", "occurred_at must be within the last 24 hours.", f"{prefix}.occurred_at")
    return change_type, payload


def batch_change(state: MerchantState, cache: IdempotencyCache, body: dict[str, Any]) -> BatchOutcome:
    """Apply a BatchChangeInventory body atomically; replay or reject a reused idempotency key.

    With ``ignore_unchanged_counts`` (default true) a PHYSICAL_COUNT equal to the current count is not recorded.
    """
    key = str(body["idempotency_key"])
    fingerprint = IdempotencyCache.fingerprint(body)
    if key in cache.entries:
        previous_fingerprint, response = cache.entries[key]
        if previous_fingerprint != fingerprint:
            raise invalid(
                "IDEMPOTENCY_KEY_REUSED",
                "The idempotency key was already used with a different request body.",
                "idempotency_key",
            )
        return BatchOutcome(response=copy.deepcopy(response), replayed=True)
    changes = body.get("changes") or []
    if len(changes) > MAX_CHANGES:
        raise invalid("ARRAY_LENGTH_TOO_LONG", f"At most {MAX_CHANGES} changes per request.", "changes")
    now = state.now()
    checked = [_check_change(state, i, change, now) for i, change in enumerate(changes)]
    ignore_unchanged = body.get("ignore_unchanged_counts", True) is not False
    applied: list[ChangeRecord] = []
    touched: list[tuple[str, str, str]] = []
    for change_type, payload in checked:
        occurred = parse_time(str(payload["occurred_at"]))
        names = [payload["state"]] if change_type == "PHYSICAL_COUNT" else [payload["from_state"], payload["to_state"]]
        touched.extend((str(payload["catalog_object_id"]), str(payload["location_id"]), str(n)) for n in names)
        if change_type == "PHYSICAL_COUNT" and ignore_unchanged:
            current = state.count(payload["catalog_object_id"], payload["location_id"], payload["state"])
            if current is not None and current[0] == Decimal(str(payload["quantity"])):
                continue
        applied.append(state.record_change(change_type, payload, occurred))
    counts = [
        c
        for key_ in dict.fromkeys(touched)
        if key_[2] not in UNTRACKED_STATES and (c := state.count_json(*key_)) is not None
    ]
    result: dict[str, Any] = {"counts": counts, "changes": [record.to_json() for record in applied]}
    cache.entries[key] = (fingerprint, copy.deepcopy(result))
    return BatchOutcome(response=result, applied=applied)


def _id_filter(body: dict[str, Any], name: str) -> set[str] | None:
    values = body.get(name)
    return set(values) if values else None


def retrieve_counts(state: MerchantState, body: dict[str, Any]) -> dict[str, Any]:
    """BatchRetrieveInventoryCounts: filters, newest ``calculated_at`` first, cursor pages (limit ≤ 1000)."""
    objects, locations = _id_filter(body, "catalog_object_ids"), _id_filter(body, "location_ids")
    states = _id_filter(body, "states")
    after = time_field(body.get("updated_after"), "updated_after")
    counts = [
        c
        for c in state.all_counts()
        if (objects is None or c["catalog_object_id"] in objects)
        and (locations is None or c["location_id"] in locations)
        and (states is None or c["state"] in states)
        and (after is None or parse_time(c["calculated_at"]) > after)
    ]
    chunk, cursor = page(counts, body, default_limit=1000, max_limit=1000)
    out: dict[str, Any] = {"counts": chunk}
    if cursor:
        out["cursor"] = cursor
    return out


def retrieve_changes(state: MerchantState, body: dict[str, Any]) -> dict[str, Any]:
    """BatchRetrieveInventoryChanges: filters on type, state, ids and created time; oldest ``occurred_at`` first."""
    objects, locations = _id_filter(body, "catalog_object_ids"), _id_filter(body, "location_ids")
    types = _id_filter(body, "types") or {"PHYSICAL_COUNT", "ADJUSTMENT"}
    states = _id_filter(body, "states")
    after = time_field(body.get("updated_after"), "updated_after")
    before = time_field(body.get("updated_before"), "updated_before")
    if after is not None and before is not None and before <= after:
        raise invalid("INVALID_TIME_RANGE", "updated_before must be after updated_after.", "updated_before")
    records = [
        r
        for r in sorted(state.changes, key=lambda r: (r.occurred_at, r.seq))
        if r.type in types
        and (objects is None or r.catalog_object_id in objects)
        and (locations is None or r.location_id in locations)
        and (states is None or r.type != "ADJUSTMENT" or bool(states.intersection(r.states())))
        and (after is None or r.created_at > after)
        and (before is None or r.created_at < before)
    ]
    chunk, cursor = page(records, body, default_limit=1000, max_limit=1000)
    out: dict[str, Any] = {"changes": [r.to_json() for r in chunk]}
    if cursor:
        out["cursor"] = cursor
    return out


def describe(records: list[ChangeRecord]) -> list[dict[str, Any]]:
    """Changes as JSON with their server times, for the control API."""
    return [dict(r.to_json(), created_at=format_time(r.created_at)) for r in records]
