"""Listings of the Amazon emulator: the stored attributes, JSON-patch application and the Listings Items views.

A listing keeps Amazon's attribute shape (``{name: [value objects]}``). The attributes the emulator interprets:

* ``fulfillment_availability``: ``[{"fulfillment_channel_code": "DEFAULT", "quantity": n}]`` (DEFAULT = MFN).
* ``purchasable_offer``: ``[{"marketplace_id", "currency", "audience", "our_price": [{"schedule":
  [{"value_with_tax": 19.99}]}]}]``.
* ``item_name``: ``[{"value": "Trail tent", "language_tag": "en_US", "marketplace_id": ...}]``.

Other top-level attributes are stored as given. Patch problems become Listings ``Issue`` objects (severity
ERROR), never exceptions.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.amazon.emulator.common import format_time

__all__ = ["Listing", "apply_patches", "incomplete_issue", "issue", "listing_status", "listing_view"]

_OPS = ("add", "replace", "merge", "delete")
_SELECTORS = {
    "fulfillment_availability": ("fulfillment_channel_code",),
    "purchasable_offer": ("marketplace_id", "currency", "audience"),
    "item_name": ("marketplace_id", "language_tag"),
}


@dataclass
class Listing:
    """One seller SKU. ``attributes`` use Amazon's attribute shape; ``asin`` is made up but stable."""

    sku: str
    product_type: str
    asin: str
    created: datetime
    updated: datetime
    attributes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def quantity(self) -> int | None:
        """The DEFAULT (merchant-fulfilled) quantity, None when no fulfillment_availability is set."""
        for entry in self.attributes.get("fulfillment_availability", []):
            if entry.get("fulfillment_channel_code") == "DEFAULT" and isinstance(entry.get("quantity"), int):
                return int(entry["quantity"])
        return None

    @property
    def title(self) -> str | None:
        names = self.attributes.get("item_name", [])
        value = names[0].get("value") if names else None
        return value if isinstance(value, str) else None

    @property
    def price(self) -> str | None:
        """``our_price`` of the first offer as a decimal string (``"19.99"``)."""
        for offer in self.attributes.get("purchasable_offer", []):
            for price in offer.get("our_price", []):
                for entry in price.get("schedule", []):
                    value = entry.get("value_with_tax")
                    if isinstance(value, int | float | str) and not isinstance(value, bool):
                        return _decimal_text(value)
        return None

    def set_quantity(self, quantity: int) -> None:
        entries = self.attributes.setdefault("fulfillment_availability", [])
        for entry in entries:
            if entry.get("fulfillment_channel_code") == "DEFAULT":
                entry["quantity"] = quantity
                return
        entries.append({"fulfillment_channel_code": "DEFAULT", "quantity": quantity})


def _decimal_text(value: int | float | str) -> str:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return str(number.quantize(Decimal("0.01"))) if number == number.quantize(Decimal("0.01")) else str(number)


def issue(code: str, message: str, attribute: str | None = None, severity: str = "ERROR") -> dict[str, Any]:
    """A Listings ``Issue`` object."""
    found: dict[str, Any] = {"code": code, "message": message, "severity": severity}
    if attribute:
        found["attributeNames"] = [attribute]
    found["categories"] = ["INVALID_ATTRIBUTE"] if attribute else []
    return found


def incomplete_issue() -> dict[str, Any]:
    """The issue Amazon documents for a listing that lacks required attributes (listings feed processing report
    example, code 18448), as it answers a patch that created no complete listing."""
    missing = ["condition_type", "item_name", "purchasable_offer"]
    return {
        "code": "18448",
        "message": "Attributes tagged as relevant_attributes are incomplete. Provide values for the following "
        f"attribute(s): {', '.join(missing)}",
        "severity": "WARNING",
        "attributeNames": missing,
        "categories": ["MISSING_ATTRIBUTE"],
    }


def _check_value(name: str, value: Any) -> str | None:
    """Why ``value`` is not a valid value list for attribute ``name`` (None when it is)."""
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        return f"'{name}' needs a non-empty array of objects as value."
    for entry in value:
        if name == "fulfillment_availability":
            if not isinstance(entry.get("fulfillment_channel_code"), str):
                return "'fulfillment_availability' entries need 'fulfillment_channel_code' (e.g. \"DEFAULT\")."
            quantity = entry.get("quantity")
            if quantity is not None and (not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0):
                return f"'fulfillment_availability.quantity' must be an integer >= 0, got {quantity!r}."
        elif name == "purchasable_offer":
            for price in entry.get("our_price", []):
                for slot in price.get("schedule", []) if isinstance(price, dict) else []:
                    amount = slot.get("value_with_tax") if isinstance(slot, dict) else None
                    if not isinstance(amount, int | float) or isinstance(amount, bool) or amount < 0:
                        field = "purchasable_offer.our_price.schedule.value_with_tax"
                        return f"'{field}' must be a number >= 0, got {amount!r}."
        elif name == "item_name" and (not isinstance(entry.get("value"), str) or not entry["value"].strip()):
            return "'item_name' entries need a non-empty string 'value'."
    return None


def _matches(entry: dict[str, Any], other: dict[str, Any], name: str) -> bool:
    keys = [k for k in _SELECTORS.get(name, ()) if k in other]
    return all(entry.get(k) == other.get(k) for k in keys)


def apply_patches(listing: Listing, patches: list[Any]) -> list[dict[str, Any]]:
    """Apply JSON-patch ``patches`` to ``listing`` (all or nothing); returns the ERROR issues (empty = applied).

    ``add``/``replace`` set the attribute; ``merge`` updates entries that match on the attribute's selectors
    (``fulfillment_channel_code`` for fulfillment_availability; ``marketplace_id``/``currency``/``audience`` for
    purchasable_offer) and keeps fields the patch omits; ``delete`` removes matching entries (all without value).
    """
    work = copy.deepcopy(listing.attributes)
    problems: list[dict[str, Any]] = []
    for index, patch in enumerate(patches):
        if not isinstance(patch, dict):
            problems.append(issue("4000001", f"patches[{index}] must be an object."))
            continue
        op, path = patch.get("op"), patch.get("path")
        if op not in _OPS:
            problems.append(issue("4000001", f"patches[{index}].op {op!r} is not one of add, replace, merge, delete."))
            continue
        parts = path.split("/") if isinstance(path, str) else []
        if len(parts) != 3 or parts[0] != "" or parts[1] != "attributes" or not parts[2]:
            problems.append(
                issue("4000001", f"patches[{index}].path {path!r} must be a top-level attribute: /attributes/<name>.")
            )
            continue
        name = parts[2]
        value = patch.get("value")
        if op == "delete":
            if value is None:
                work.pop(name, None)
            elif isinstance(value, list):
                work[name] = [e for e in work.get(name, []) if not any(_matches(e, v, name) for v in value)]
            continue
        reason = _check_value(name, value)
        if reason is not None:
            problems.append(issue("90001", reason, name))
            continue
        entries: list[dict[str, Any]] = [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
        if op in ("add", "replace"):
            work[name] = copy.deepcopy(entries)
            continue
        merged = work.setdefault(name, [])
        for entry in entries:
            target = next((e for e in merged if _matches(e, entry, name)), None)
            if target is None:
                merged.append(copy.deepcopy(entry))
            else:
                target.update(copy.deepcopy(entry))
    if not problems:
        listing.attributes = work
    return problems


def listing_status(listing: Listing) -> list[str]:
    """The summary ``status``: BUYABLE while there is merchant-fulfilled stock, always DISCOVERABLE."""
    return ["BUYABLE", "DISCOVERABLE"] if (listing.quantity or 0) > 0 else ["DISCOVERABLE"]


def listing_view(listing: Listing, marketplace_id: str, included: list[str]) -> dict[str, Any]:
    """The ``Item`` of getListingsItem (and of each searchListingsItems result) with the ``includedData``
    sections asked for (default ``summaries``)."""
    view: dict[str, Any] = {"sku": listing.sku}
    sections = included or ["summaries"]
    if "summaries" in sections:
        summary: dict[str, Any] = {
            "marketplaceId": marketplace_id,
            "asin": listing.asin,
            "productType": listing.product_type,
            "conditionType": "new_new",
            "status": listing_status(listing),
            "createdDate": format_time(listing.created),
            "lastUpdatedDate": format_time(listing.updated),
        }
        if listing.title is not None:
            summary["itemName"] = listing.title
        view["summaries"] = [summary]
    if "attributes" in sections:
        view["attributes"] = copy.deepcopy(listing.attributes)
    if "issues" in sections:
        view["issues"] = []
    if "offers" in sections:
        offers = []
        price = listing.price
        if price is not None:
            currency = next(
                (str(o["currency"]) for o in listing.attributes.get("purchasable_offer", []) if "currency" in o),
                "USD",
            )
            offers.append(
                {
                    "marketplaceId": marketplace_id,
                    "offerType": "B2C",
                    "price": {"currencyCode": currency, "amount": price},
                    "audience": {"value": "ALL", "displayName": "Sell on Amazon"},
                }
            )
        view["offers"] = offers
    if "fulfillmentAvailability" in sections:
        view["fulfillmentAvailability"] = [
            {"fulfillmentChannelCode": e["fulfillment_channel_code"], "quantity": int(e.get("quantity", 0))}
            for e in listing.attributes.get("fulfillment_availability", [])
            if isinstance(e.get("fulfillment_channel_code"), str)
        ]
    if "productTypes" in sections:
        view["productTypes"] = [{"marketplaceId": marketplace_id, "productType": listing.product_type}]
    if "relationships" in sections:
        # The emulator models no variation families: every listing stands alone.
        view["relationships"] = [{"marketplaceId": marketplace_id, "relationships": []}]
    # ``procurement`` is vendor-only; Amazon sends none for a seller's listing.
    return view
