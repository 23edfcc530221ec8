"""Catalog API of the Square emulator: SearchCatalogObjects (sku queries) and BatchRetrieveCatalogObjects."""

from __future__ import annotations

from typing import Any

from connectors.square.emulator.common import invalid, page, time_field
from connectors.square.emulator.state import MerchantState, parse_time

__all__ = ["batch_retrieve", "search"]

_SEARCHABLE = ("sku", "name", "item_id", "upc")


def _attribute(obj: dict[str, Any], name: str) -> str | None:
    data = obj.get("item_variation_data") or obj.get("item_data") or {}
    value = data.get(name)
    return None if value is None else str(value)


def search(state: MerchantState, body: dict[str, Any]) -> dict[str, Any]:
    """SearchCatalogObjects with ``object_types`` and an ``exact_query``/``set_query``/``prefix_query``.

    Attribute matching is case-insensitive (Square matches SKUs that way). Other query kinds are 400
    ``INVALID_VALUE``: this emulator only needs lookups by attribute.
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
    starts = ""
    for kind, part in (("exact_query", exact), ("set_query", values), ("prefix_query", prefix)):
        if part is None:
            continue
        attribute = str(part["attribute_name"])
        if attribute not in _SEARCHABLE:
            raise invalid("INVALID_VALUE", f"Unsupported attribute {attribute!r}.", f"query.{kind}.attribute_name")
        if kind == "exact_query":
            wanted = {str(part["attribute_value"]).lower()}
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
            if (wanted and value not in wanted) or (starts and not value.startswith(starts)):
                continue
        found.append(obj)
    chunk, cursor = page(found, body, default_limit=100, max_limit=1000)
    out: dict[str, Any] = {"objects": chunk}
    if cursor:
        out["cursor"] = cursor
    return out


def batch_retrieve(state: MerchantState, body: dict[str, Any]) -> dict[str, Any]:
    """BatchRetrieveCatalogObjects: the known objects among ``object_ids`` (unknown ids are left out).

    With ``include_related_objects`` a variation brings its parent ITEM in ``related_objects``.
    """
    objects = [state.catalog[i] for i in body["object_ids"] if i in state.catalog]
    out: dict[str, Any] = {"objects": objects}
    if body.get("include_related_objects"):
        parents = {o["item_variation_data"]["item_id"] for o in objects if o["type"] == "ITEM_VARIATION"} - {
            o["id"] for o in objects
        }
        out["related_objects"] = [state.catalog[i] for i in sorted(parents) if i in state.catalog]
    return out
