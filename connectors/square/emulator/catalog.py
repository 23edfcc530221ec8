"""Catalog API of the Square emulator: SearchCatalogObjects (attribute queries), RetrieveCatalogObject,
BatchRetrieveCatalogObjects and UpsertCatalogObject (item names and variation prices, version-checked)."""

from __future__ import annotations

import copy
from typing import Any

from connectors.square.emulator.common import invalid, page, time_field
from connectors.square.emulator.inventory import IdempotencyCache
from connectors.square.emulator.state import MerchantState, format_time, parse_time
from omnibridge.sdk.money import from_minor_units

__all__ = ["batch_retrieve", "listing", "retrieve", "search", "upsert"]

_SEARCHABLE = ("sku", "name", "item_id", "upc")


def _attribute(obj: dict[str, Any], name: str) -> str | None:
    data = obj.get("item_variation_data") or obj.get("item_data") or {}
    value = data.get(name)
    return None if value is None else str(value)


def search(state: MerchantState, body: dict[str, Any]) -> dict[str, Any]:
    """SearchCatalogObjects with ``object_types`` and an ``exact_query``/``set_query``/``prefix_query``.

    Attribute matching is case-insensitive (Square matches SKUs that way); an ``exact_query`` value also matches
    partially, as Square documents it (``"sma"`` finds ``"Small"``), so a client wanting one SKU filters the
    answer itself. Other query kinds are 400 ``INVALID_VALUE``: this emulator only needs lookups by attribute.
    """
    types = set(body.get("object_types") or ["ITEM"])
    begin = time_field(body.get("begin_time"), "begin_time")
    query = body.get("query") or {}
    exact, values, prefix = query.get("exact_query"), query.get("set_query"), query.get("prefix_query")
    others = [k for k, v in query.items() if v is not None and k not in ("exact_query", "set_query", "prefix_query")]
    if others:
        raise invalid("INVALID_VALUE", f"The emulator does not support {others[0]}.", f"query.{others[0]}")
    attribute: str | None = None
    wanted: set[str] = set()
    starts = contains = ""
    for kind, part in (("exact_query", exact), ("set_query", values), ("prefix_query", prefix)):
        if part is None:
            continue
        attribute = str(part["attribute_name"])
        if attribute not in _SEARCHABLE:
            raise invalid("INVALID_VALUE", f"Unsupported attribute {attribute!r}.", f"query.{kind}.attribute_name")
        if kind == "exact_query":
            contains = str(part["attribute_value"]).lower()
        elif kind == "set_query":
            wanted = {str(v).lower() for v in part["attribute_values"]}
        else:
            starts = str(part["attribute_prefix"]).lower()
    found: list[dict[str, Any]] = []
    for obj in state.catalog.values():
        if obj["type"] not in types or obj.get("is_deleted"):
            continue
        if begin is not None and parse_time(obj["updated_at"]) <= begin:
            continue
        if attribute is not None:
            value = (_attribute(obj, attribute) or "").lower()
            if (wanted and value not in wanted) or (starts and not value.startswith(starts)) or contains not in value:
                continue
        found.append(obj)
    chunk, cursor = page(found, body, default_limit=100, max_limit=1000)
    out: dict[str, Any] = {"objects": chunk}
    if cursor:
        out["cursor"] = cursor
    return out


def _parents(state: MerchantState, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ITEMs the variations among ``objects`` belong to, not already in ``objects``."""
    parents = {o["item_variation_data"]["item_id"] for o in objects if o["type"] == "ITEM_VARIATION"} - {
        o["id"] for o in objects
    }
    return [state.catalog[i] for i in sorted(parents) if i in state.catalog]


def retrieve(state: MerchantState, object_id: str, include_related: bool) -> dict[str, Any]:
    """RetrieveCatalogObject (``GET /v2/catalog/object/{object_id}``): one object, 404 ``NOT_FOUND`` if unknown
    or deleted. With ``include_related_objects`` a variation brings its parent ITEM in ``related_objects``."""
    obj = state.catalog.get(object_id)
    if obj is None or obj.get("is_deleted"):
        raise invalid("NOT_FOUND", f"Object with id {object_id} not found.", "object_id", status=404)
    out: dict[str, Any] = {"object": obj}
    if include_related:
        out["related_objects"] = _parents(state, [obj])
    return out


def batch_retrieve(state: MerchantState, body: dict[str, Any]) -> dict[str, Any]:
    """BatchRetrieveCatalogObjects: the known objects among ``object_ids`` (unknown ids are left out).

    With ``include_related_objects`` a variation brings its parent ITEM in ``related_objects``.
    """
    objects = [state.catalog[i] for i in body["object_ids"] if i in state.catalog]
    out: dict[str, Any] = {"objects": objects}
    if body.get("include_related_objects"):
        out["related_objects"] = _parents(state, objects)
    return out


def listing(state: MerchantState, sku: str) -> tuple[str, str, str]:
    """``(item name, price as a decimal string, currency)`` of the live variation carrying ``sku``.

    Raises ``KeyError`` for an unknown SKU and ``ValueError`` for a variation without a fixed price.
    """
    variation = state.catalog[state.variation_for_sku(sku)]
    money = variation["item_variation_data"].get("price_money")
    if not isinstance(money, dict) or money.get("amount") is None:
        raise ValueError(f"SKU {sku!r} has no fixed price")
    currency = str(money["currency"])
    amount = from_minor_units(int(money["amount"]), currency)
    return state.item_name(variation["id"]), str(amount), currency


_VERSION_MISMATCH = "Object version does not match latest database version."


def _seller_currency(state: MerchantState) -> str:
    first = next(iter(state.locations.values()), None)
    return str(first["currency"]) if first else "USD"


def _check_version(current: dict[str, Any], sent: dict[str, Any], field: str) -> None:
    # An update without ``version`` is not checked (last write wins); a stale one is refused.
    if sent.get("version") is not None and sent["version"] != current["version"]:
        raise invalid("VERSION_MISMATCH", _VERSION_MISMATCH, field)


def _check_variation(
    state: MerchantState, item_id: str, sent: dict[str, Any], field: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    current = state.catalog.get(str(sent.get("id")))
    if current is None or current.get("is_deleted") or current["type"] != "ITEM_VARIATION":
        raise invalid("NOT_FOUND", f"Item variation {sent.get('id')} not found.", f"{field}.id", status=404)
    _check_version(current, sent, f"{field}.version")
    data = sent.get("item_variation_data")
    if not isinstance(data, dict):
        raise invalid("MISSING_REQUIRED_PARAMETER", "item_variation_data is required.", f"{field}.item_variation_data")
    if data.get("item_id") != item_id:
        raise invalid(
            "INVALID_VALUE", "A variation cannot move to another item.", f"{field}.item_variation_data.item_id"
        )
    money = data.get("price_money")
    if isinstance(money, dict):
        where = f"{field}.item_variation_data.price_money"
        if money.get("amount") is None or int(money["amount"]) < 0:
            raise invalid("INVALID_VALUE", "price_money.amount must be 0 or more.", f"{where}.amount")
        currency = _seller_currency(state)
        if money.get("currency") != currency:
            detail = f"price_money.currency must be the seller's currency {currency}."
            raise invalid("INVALID_VALUE", detail, f"{where}.currency")
    sku = data.get("sku")
    owner = state.sku_index.get(str(sku).lower()) if sku else None
    if owner is not None and owner != current["id"]:
        raise invalid("INVALID_VALUE", f"SKU {sku!r} is already used by another variation.", f"{field}.sku")
    return current, data


def _set_variation(state: MerchantState, current: dict[str, Any], data: dict[str, Any], stamp: dict[str, Any]) -> None:
    old_sku = current["item_variation_data"].get("sku")
    current["item_variation_data"] = copy.deepcopy(data)
    current.update(stamp)
    new_sku = data.get("sku")
    if old_sku and old_sku != new_sku:
        state.sku_index.pop(str(old_sku).lower(), None)
    if new_sku:
        state.sku_index[str(new_sku).lower()] = current["id"]


def upsert(state: MerchantState, cache: IdempotencyCache, body: dict[str, Any]) -> dict[str, Any]:
    """UpsertCatalogObject for existing ITEMs and ITEM_VARIATIONs (creating objects is left to the control API).

    Square takes whole objects, never sparse ones: the sent ``item_data``/``item_variation_data`` replaces the
    stored one, and variations an ITEM update leaves out of ``item_data.variations`` are deleted. A ``version``
    that is not the stored one is 400 ``VERSION_MISMATCH`` (checked for the object and each embedded variation);
    an unknown id is 404 ``NOT_FOUND``; prices must be ≥ 0 in the seller's currency. Every object written gets a
    new ``version`` and ``updated_at``. The idempotency key replays the first response for the same body and is
    400 ``IDEMPOTENCY_KEY_REUSED`` for another body.
    """
    key = str(body["idempotency_key"])
    fingerprint = IdempotencyCache.fingerprint(body)
    if key in cache.entries:
        previous, response = cache.entries[key]
        if previous != fingerprint:
            raise invalid(
                "IDEMPOTENCY_KEY_REUSED",
                "The idempotency key was already used with a different request body.",
                "idempotency_key",
            )
        return copy.deepcopy(response)
    sent = body["object"]
    object_id = str(sent["id"])
    if object_id.startswith("#"):
        raise invalid("INVALID_VALUE", "The emulator does not create catalog objects over the API.", "object.id")
    if sent.get("is_deleted"):
        raise invalid("INVALID_VALUE", "is_deleted must not be true in an upsert.", "object.is_deleted")
    current = state.catalog.get(object_id)
    if current is None or current.get("is_deleted"):
        raise invalid("NOT_FOUND", f"Catalog object {object_id} not found.", "object.id", status=404)
    if sent.get("type") != current["type"] or current["type"] not in ("ITEM", "ITEM_VARIATION"):
        raise invalid("INVALID_VALUE", f"Object {object_id} is a {current['type']}.", "object.type")
    _check_version(current, sent, "object.version")
    state.catalog_version += 1
    stamp = {"version": state.catalog_version, "updated_at": format_time(state.now())}
    if current["type"] == "ITEM_VARIATION":
        item_id = str(current["item_variation_data"]["item_id"])
        variation, data = _check_variation(state, item_id, sent, "object")
        _set_variation(state, variation, data, stamp)
        result = variation
    else:
        data = sent.get("item_data")
        if not isinstance(data, dict) or not str(data.get("name") or "").strip():
            raise invalid("INVALID_VALUE", "An item needs a name.", "object.item_data.name")
        checked = [
            _check_variation(state, object_id, v, f"object.item_data.variations[{i}]")
            for i, v in enumerate(data.get("variations") or [])
        ]
        kept = {variation["id"] for variation, _ in checked}
        for old in current["item_data"].get("variations") or []:
            if old["id"] not in kept:
                old.update(stamp, is_deleted=True)
                state.sku_index.pop(str(old["item_variation_data"].get("sku") or "").lower(), None)
        for variation, variation_data in checked:
            _set_variation(state, variation, variation_data, stamp)
        current["item_data"] = {**copy.deepcopy(data), "variations": [variation for variation, _ in checked]}
        current.update(stamp)
        result = current
    response = {"catalog_object": copy.deepcopy(result), "id_mappings": []}
    cache.entries[key] = (fingerprint, copy.deepcopy(response))
    return response
