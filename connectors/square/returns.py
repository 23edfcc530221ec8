"""Square returns and refunds: pure mapping to :class:`ReturnEvent` and :class:`RefundEvent`. No I/O.

Square has no "return" object of its own: an itemized return (made at the till, or with the Orders API) is a
separate **return order** at a location whose ``returns[]`` (``OrderReturn``) names the ``source_order_id`` and
the ``return_line_items[]`` (``source_line_item_uid``, ``catalog_object_id``, ``quantity`` as a decimal string);
the money goes back in its ``refunds[]``. A refund made without items (``POST /v2/refunds``, "the Refunds API
doesn't support itemized refunds") is money only and shows in the refunds of the order it refunds.

* A return order → one :class:`ReturnEvent` per ``returns[]`` entry: handed in at the store (``at_store=True``,
  ``location_ref`` the return order's location), every line the till put back on sale disposition RESTOCK at
  that store, so returns-core restocks there once. Square's return order does not say whether the units went
  back on sale: the POS records a restock as an inventory ADJUSTMENT to IN_STOCK naming the return's refund
  (``refund_id``), so the client reads those (``restocked``: units per ``catalog_object_id``). A line not
  restocked there has no disposition (staff decide in omnibridge) and its return is RECEIVED, else CLOSED.
  ``ref`` is the return order's id (``<id>:<return uid>`` when it returns several orders). No
  :class:`RefundEvent` is made for it: the units a ReturnEvent covers are never restocked twice.
* A refund on an ordinary order (not REJECTED or FAILED) → a :class:`RefundEvent` with no lines: money only,
  nothing restocked (``ref`` the refund id, the same in ``Order.refunds[]`` and in a ``refund.*`` webhook).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.square.mapper import format_time
from connectors.square.mapper import parse_time as _time
from omnibridge.sdk import MapMessage, warning
from omnibridge.sdk.channel import RefundEvent
from omnibridge.sdk.returns import Disposition, ReturnEvent, ReturnLineEvent, ReturnState

__all__ = [
    "is_return_order",
    "refund_events",
    "refund_ids",
    "restock_changes_body",
    "restocked_units",
    "return_events",
    "return_variation_ids",
]

_DEAD_REFUNDS = frozenset({"REJECTED", "FAILED"})


def _list(raw: Any) -> list[Mapping[str, Any]]:
    return [item for item in raw if isinstance(item, Mapping)] if isinstance(raw, list) else []


def is_return_order(order: Mapping[str, Any]) -> bool:
    """True when the order is a return order (it has ``returns[]``)."""
    return bool(_list(order.get("returns")))


def return_variation_ids(order: Mapping[str, Any]) -> list[str]:
    """The ``catalog_object_id`` of every return line of a return order."""
    return [
        str(line["catalog_object_id"])
        for entry in _list(order.get("returns"))
        for line in _list(entry.get("return_line_items"))
        if isinstance(line.get("catalog_object_id"), str)
    ]


def _refunded(order: Mapping[str, Any]) -> tuple[str | None, str | None]:
    total, currency = 0, None
    found = False
    for refund in _list(order.get("refunds")):
        money = refund.get("amount_money")
        if refund.get("status") in _DEAD_REFUNDS or not isinstance(money, Mapping):
            continue
        if isinstance(money.get("amount"), int):
            total += int(money["amount"])
            currency = money.get("currency") if isinstance(money.get("currency"), str) else currency
            found = True
    return (str(total), currency) if found else (None, None)


def _quantity(raw: Any) -> int | None:
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        return None
    return int(value) if value.is_finite() and value == value.to_integral_value() and value > 0 else None


def refund_ids(order: Mapping[str, Any]) -> set[str]:
    """The ids of the refunds on an order (for a return order: the refunds of its returned units)."""
    return {str(r["id"]) for r in _list(order.get("refunds")) if isinstance(r.get("id"), str)}


def restock_changes_body(
    variations: Sequence[str], location: str, since: datetime, cursor: str | None = None
) -> dict[str, Any]:
    """``POST /v2/inventory/changes/batch-retrieve``: the ADJUSTMENTs of ``variations`` at ``location`` recorded
    from 5 minutes before ``since`` (the return order's ``created_at``) on."""
    body: dict[str, Any] = {
        "catalog_object_ids": sorted(set(variations)),
        "location_ids": [location],
        "types": ["ADJUSTMENT"],
        "updated_after": format_time(since - timedelta(minutes=5)),
        "limit": 1000,
    }
    if cursor:
        body["cursor"] = cursor
    return body


def restocked_units(changes: Iterable[Any], refunds: set[str], location: str | None) -> dict[str, int]:
    """Units put back IN_STOCK at ``location`` per ``catalog_object_id`` by ADJUSTMENTs naming one of
    ``refunds`` in ``refund_id``."""
    units: dict[str, int] = {}
    for change in changes:
        detail = change.get("adjustment") if isinstance(change, Mapping) else None
        if not isinstance(detail, Mapping) or detail.get("refund_id") not in refunds:
            continue
        if detail.get("to_state") != "IN_STOCK" or detail.get("location_id") != location:
            continue
        variation, quantity = detail.get("catalog_object_id"), _quantity(detail.get("quantity"))
        if isinstance(variation, str) and quantity is not None:
            units[variation] = units.get(variation, 0) + quantity
    return units


def return_events(
    order: Mapping[str, Any], sku_by_id: Mapping[str, str], restocked: Mapping[str, int] | None = None
) -> tuple[list[ReturnEvent], list[MapMessage]]:
    """The :class:`ReturnEvent` of a return order (see the module docstring) and warnings for lines left out.
    ``restocked``: units the till put back per variation (None: unknown, every line RESTOCK)."""
    left = dict(restocked) if restocked is not None else None
    order_id = order.get("id")
    occurred_at = _time(order.get("created_at")) or _time(order.get("updated_at"))
    entries = _list(order.get("returns"))
    if not isinstance(order_id, str) or occurred_at is None or not entries:
        return [], []
    location = order.get("location_id") if isinstance(order.get("location_id"), str) else None
    refund, currency = _refunded(order)
    events: list[ReturnEvent] = []
    messages: list[MapMessage] = []
    for index, entry in enumerate(entries):
        source = entry.get("source_order_id")
        if not isinstance(source, str) or not source:
            messages.append(
                warning("return without source_order_id", field_path=f"returns.{index}", record_id=order_id)
            )
            continue
        lines = []
        for number, line in enumerate(_list(entry.get("return_line_items"))):
            path = f"returns.{index}.return_line_items.{number}"
            quantity = _quantity(line.get("quantity"))
            if quantity is None or not isinstance(line.get("uid"), str):
                detail = f"return line quantity {line.get('quantity')!r} is not a positive whole number (or no uid)"
                messages.append(warning(detail, field_path=path, record_id=order_id))
                continue
            variation = line.get("catalog_object_id")
            source_line = line.get("source_line_item_uid")
            disposition: Disposition | None = Disposition.RESTOCK
            if left is not None:
                back = left.get(variation, 0) if isinstance(variation, str) else 0
                disposition = Disposition.RESTOCK if back >= quantity else None
                if disposition is Disposition.RESTOCK and isinstance(variation, str):
                    left[variation] = back - quantity
            lines.append(
                ReturnLineEvent(
                    return_line_ref=str(line["uid"]),
                    line_ref=source_line if isinstance(source_line, str) else None,
                    sku=sku_by_id.get(variation) if isinstance(variation, str) else None,
                    quantity=quantity,
                    disposition=disposition,
                    location_ref=location if disposition is not None else None,
                )
            )
        ref = order_id if len(entries) == 1 else f"{order_id}:{entry.get('uid') or index}"
        events.append(
            ReturnEvent(
                ref=ref,
                order_ref=source,
                state=ReturnState.CLOSED if all(ln.disposition for ln in lines) else ReturnState.RECEIVED,
                occurred_at=occurred_at,
                lines=tuple(lines),
                at_store=True,
                location_ref=location,
                refund=refund if len(entries) == 1 else None,
                currency=currency if len(entries) == 1 else None,
            )
        )
    return events, messages


def refund_events(order: Mapping[str, Any]) -> list[RefundEvent]:
    """Money-only :class:`RefundEvent` for the refunds of an ordinary order (none for a return order)."""
    order_id = order.get("id")
    if not isinstance(order_id, str) or is_return_order(order):
        return []
    fallback = _time(order.get("updated_at"))
    events = []
    for refund in _list(order.get("refunds")):
        refund_id = refund.get("id")
        occurred_at = _time(refund.get("created_at")) or fallback
        if not isinstance(refund_id, str) or refund.get("status") in _DEAD_REFUNDS or occurred_at is None:
            continue
        events.append(RefundEvent(ref=refund_id, order_ref=order_id, occurred_at=occurred_at, lines=()))
    return events
