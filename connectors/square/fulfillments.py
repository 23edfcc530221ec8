"""Pure mapping of a Square order's ``fulfillments[]``: where it ships and whether it was handed over. No I/O.

A ``SHIPMENT`` fulfillment carries ``shipment_details.recipient``, a ``DELIVERY`` one ``delivery_details.recipient``
(``FulfillmentRecipient``: ``display_name``, ``phone_number``, ``address`` with ``address_line_1``/``_2``,
``locality``, ``administrative_district_level_1``, ``postal_code``, ``country``). A ``PICKUP`` fulfillment has no
ship-to: the buyer comes to the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omnibridge.sdk import MapMessage, warning
from omnibridge.sdk.channel import ShipTo

__all__ = ["all_completed", "map_recipient", "ship_to"]

_DETAILS = {"SHIPMENT": "shipment_details", "DELIVERY": "delivery_details"}
_GONE = frozenset({"CANCELED", "FAILED"})


def _fulfillments(order: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = order.get("fulfillments")
    return [f for f in raw if isinstance(f, Mapping)] if isinstance(raw, list) else []


def _text(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return value.strip() or None if isinstance(value, str) else None


def map_recipient(raw: Any) -> ShipTo | None:
    """A ``FulfillmentRecipient`` → :class:`ShipTo`; None without an address or its ``country``.

    The name is ``display_name``, else the address's ``first_name last_name``.
    """
    if not isinstance(raw, Mapping) or not isinstance(raw.get("address"), Mapping):
        return None
    address: Mapping[str, Any] = raw["address"]
    country = _text(address, "country")
    if country is None:
        return None
    parts = [part for part in (_text(address, "first_name"), _text(address, "last_name")) if part]
    return ShipTo(
        country=country,
        name=_text(raw, "display_name") or " ".join(parts) or None,
        line1=_text(address, "address_line_1"),
        line2=_text(address, "address_line_2"),
        city=_text(address, "locality"),
        region=_text(address, "administrative_district_level_1"),
        postal_code=_text(address, "postal_code"),
        phone=_text(raw, "phone_number"),
    )


def ship_to(order: Mapping[str, Any]) -> tuple[ShipTo | None, list[MapMessage]]:
    """The ship-to of the order's first live (not CANCELED or FAILED) SHIPMENT or DELIVERY fulfillment, else of
    its first such fulfillment; None for a counter sale or a pickup. A recipient without a usable address is a
    warning (the order still maps, it just cannot be shipped by omnibridge)."""
    shipped = [(i, f) for i, f in enumerate(_fulfillments(order)) if f.get("type") in _DETAILS]
    shipped.sort(key=lambda pair: pair[1].get("state") in _GONE)
    for index, fulfillment in shipped:
        details = fulfillment.get(_DETAILS[str(fulfillment["type"])])
        recipient = details.get("recipient") if isinstance(details, Mapping) else None
        found = map_recipient(recipient)
        if found is not None:
            return found, []
        path = f"fulfillments.{index}.{_DETAILS[str(fulfillment['type'])]}.recipient.address"
        order_id = order.get("id") if isinstance(order.get("id"), str) else None
        return None, [warning("recipient has no address with a country", field_path=path, record_id=order_id)]
    return None, []


def all_completed(order: Mapping[str, Any]) -> bool:
    """True when the order has fulfillments and every one not CANCELED or FAILED is COMPLETED (at least one).

    Square lets an integration complete the fulfillment and leave the order OPEN; the units have left all the same.
    """
    live = [f for f in _fulfillments(order) if f.get("state") not in _GONE]
    return bool(live) and all(f.get("state") == "COMPLETED" for f in live)
