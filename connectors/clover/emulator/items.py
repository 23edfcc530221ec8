"""Item updates of the Clover emulator (``POST /v3/merchants/{mId}/items/{itemId}``): the documented Item fields.

The fields of Clover's Item object (REST API reference, "Update an item"). Writable fields are type-checked and
stored; read-only ones a client echoes back after a GET (``id``, ``modifiedTime``, ``itemStock``...) are
accepted and ignored; a field Clover does not document is 400, so a misspelt field in a client shows up here.
"""

from __future__ import annotations

from typing import Any

from connectors.clover.emulator.api import ApiError

__all__ = ["item_changes"]

_STRINGS = frozenset({"name", "sku", "code", "alternateName", "unitName", "colorCode"})
_CENTS = frozenset({"price", "cost", "priceWithoutVat"})
_FLAGS = frozenset({"hidden", "available", "autoManage", "defaultTaxRates", "isRevenue"})
_PRICE_TYPES = frozenset({"FIXED", "VARIABLE", "PER_UNIT"})
# References to other objects ({"id": ...}) and expandable collections ({"elements": [...]} or a list).
_REFERENCES = frozenset({"itemGroup", "options", "taxRates", "modifierGroups", "categories", "tags", "menuItem"})
_READ_ONLY = frozenset({"id", "modifiedTime", "deleted", "itemStock", "stockCount", "canonical", "href"})


def item_changes(body: Any) -> dict[str, Any]:
    """The changes an item update ``body`` makes; 400 (Clover's ``{"message"}``) naming the first bad field."""
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object")
    changes: dict[str, Any] = {}
    for name, value in body.items():
        if name in _READ_ONLY:
            continue
        if name in _STRINGS:
            if not isinstance(value, str) or (name == "name" and not value.strip()):
                raise ApiError(400, f"Invalid value for {name}: expected a non-empty string")
        elif name in _CENTS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ApiError(400, f"Invalid value for {name}: expected a non-negative integer (cents)")
        elif name in _FLAGS:
            if not isinstance(value, bool):
                raise ApiError(400, f"Invalid value for {name}: expected true or false")
        elif name == "priceType":
            if value not in _PRICE_TYPES:
                raise ApiError(400, f"Invalid value for priceType: expected one of {', '.join(sorted(_PRICE_TYPES))}")
        elif name in _REFERENCES:
            if not isinstance(value, dict | list):
                raise ApiError(400, f"Invalid value for {name}: expected an object or a list")
        else:
            raise ApiError(400, f"Unknown field: {name}")
        changes[name] = value
    return changes
