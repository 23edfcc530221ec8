"""ShipBob return orders (``GET /1.0/return``) as :class:`ReturnEvent`: what was asked and what ShipBob did.

A ``ReturnOrder`` comes back to one fulfilment centre; each ``inventory`` item has the action requested
(``action_requested.action``: Default, Restock, Quarantine, Dispose) and, once processed, the actions taken
(``action_taken[{action, action_reason, quantity_processed}]``). Mapping (:func:`return_event`):

* ``ref`` = the return's id; ``order_ref`` = the ``reference_id`` of the original shipment's order (omnibridge's
  fulfilment reference, read with ``GET /1.0/shipment/{original_shipment_id}``), else ``store_order_id``; only
  returns of shipments of orders created through ``shipbob_channel_id`` are reported;
  ``location_ref`` = the fulfilment centre id (as :meth:`list_locations` names it); ``tracking_number``.
* ``state`` from ``status``: AwaitingArrival → OPEN, Arrived and Processing → RECEIVED, Completed → CLOSED,
  Cancelled → CANCELLED. ``occurred_at`` = ``completed_date``, else ``insert_date``.
* one line per action taken: Restock → RESTOCK at the centre, Quarantine → INSPECT, Dispose → DAMAGED
  (``return_line_ref`` ``<return id>:<inventory id>:<action>``, ``reason`` = ``action_reason``); units not yet
  processed are one line without disposition (``<return id>:<inventory id>``), or MISSING once the return is
  Completed. ``sku`` is the product ``reference_id`` the inventory id belongs to (from the shipment's products).

:class:`ReturnsReader` pulls them with a bookmark part ``{"since", "open"}``: returns inserted since the last pull
(``StartDate``) plus the ones still open (``IDs``, 50 a call); a return is reported when it is new or its status
or actions changed (``open`` keeps a fingerprint per open return, ``done`` the finished ones a ``StartDate``
query can still list), so each change is reported once. ShipBob's 1.0
webhooks have no return topic, so returns are polled.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.shipbob.mapper import parse_time
from omnibridge.sdk import MapMessage, MapResult, ok, skip
from omnibridge.sdk.returns import Disposition, ReturnEvent, ReturnLineEvent, ReturnState

__all__ = ["DISPOSITIONS", "STATES", "ReturnsReader", "fingerprint", "return_event"]

STATES: Mapping[str, ReturnState] = {
    "AwaitingArrival": ReturnState.OPEN,
    "Arrived": ReturnState.RECEIVED,
    "Processing": ReturnState.RECEIVED,
    "Completed": ReturnState.CLOSED,
    "Cancelled": ReturnState.CANCELLED,
}
DISPOSITIONS: Mapping[str, Disposition] = {
    "Restock": Disposition.RESTOCK,
    "Quarantine": Disposition.INSPECT,
    "Dispose": Disposition.DAMAGED,
}
FINAL = frozenset({"Completed", "Cancelled"})
_IDS_CHUNK = 50

Pages = Callable[[str, str, Mapping[str, Any]], Awaitable[list[dict[str, Any]]]]
Shipment = Callable[[int], Awaitable[Mapping[str, Any] | None]]


def _time(value: Any) -> datetime | None:
    return parse_time(value)


def fingerprint(ret: Mapping[str, Any]) -> str:
    """What a change of the return is seen by: its status, tracking and every item's actions taken."""
    items = [(i.get("id"), i.get("action_taken")) for i in ret.get("inventory") or [] if isinstance(i, Mapping)]
    raw = json.dumps([ret.get("status"), ret.get("tracking_number"), items], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def skus_of(shipment: Mapping[str, Any] | None) -> dict[int, str]:
    """Inventory id → product ``reference_id`` (the SKU) from a ``Shipment``'s products."""
    found: dict[int, str] = {}
    for product in (shipment or {}).get("products") or []:
        sku = product.get("reference_id") or product.get("sku") if isinstance(product, Mapping) else None
        for item in (product.get("inventory_items") or []) if isinstance(product, Mapping) else []:
            if isinstance(item, Mapping) and isinstance(item.get("id"), int) and isinstance(sku, str):
                found[item["id"]] = sku
    return found


def return_event(ret: Mapping[str, Any], shipment: Mapping[str, Any] | None) -> MapResult[ReturnEvent]:
    """One ``ReturnOrder`` (with the ``Shipment`` it returns, when known) as a :class:`ReturnEvent`."""
    return_id = ret.get("id")
    if not isinstance(return_id, int):
        return skip("a return without id", field_path="id")
    record = f"return {return_id}"
    status = ret.get("status")
    state = STATES.get(status) if isinstance(status, str) else None
    if state is None:
        reason = f"return status {status!r} is not one of {', '.join(STATES)}"
        return skip(reason, field_path="status", record_id=record)
    centre = ret.get("fulfillment_center")
    centre_id = centre.get("id") if isinstance(centre, Mapping) else None
    location = str(centre_id) if isinstance(centre_id, int) else None
    occurred = _time(ret.get("completed_date")) or _time(ret.get("insert_date"))
    if occurred is None:
        return skip("a return without insert_date", field_path="insert_date", record_id=record)
    order_ref = (shipment or {}).get("reference_id") or ret.get("store_order_id")
    if not isinstance(order_ref, str) or not order_ref:
        order_ref = f"shipment:{ret.get('original_shipment_id')}"
    skus = skus_of(shipment)
    lines: list[ReturnLineEvent] = []
    for item in ret.get("inventory") or []:
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), int):
            return skip("a return item without id", field_path="inventory", record_id=record)
        inventory_id: int = item["id"]
        sku = skus.get(inventory_id)
        quantity_expected = item.get("quantity")
        expected = quantity_expected if isinstance(quantity_expected, int) else 0
        processed = 0
        for taken in item.get("action_taken") or []:
            action = taken.get("action") if isinstance(taken, Mapping) else None
            quantity = taken.get("quantity_processed") if isinstance(taken, Mapping) else None
            if not isinstance(quantity, int) or quantity < 1:
                continue
            processed += quantity
            disposition = DISPOSITIONS.get(str(action))
            lines.append(
                ReturnLineEvent(
                    f"{return_id}:{inventory_id}:{action}",
                    None,
                    sku,
                    quantity,
                    reason=str(taken.get("action_reason") or ""),
                    disposition=disposition,
                    location_ref=location if disposition is not None else None,
                )
            )
        if expected > processed and status != "Cancelled":
            missing = status == "Completed"
            lines.append(
                ReturnLineEvent(
                    f"{return_id}:{inventory_id}",
                    None,
                    sku,
                    expected - processed,
                    disposition=Disposition.MISSING if missing else None,
                )
            )
    event = ReturnEvent(
        ref=str(return_id),
        order_ref=order_ref,
        state=state,
        occurred_at=occurred,
        lines=tuple(lines),
        location_ref=location,
        tracking_number=ret.get("tracking_number") if isinstance(ret.get("tracking_number"), str) else None,
    )
    return ok(event)


class ReturnsReader:
    """Return orders since a bookmark part (see the module docstring); ``pages`` lists an endpoint (following
    ``next-page``), ``shipment`` reads one shipment of omnibridge's orders (None when ShipBob has none or it belongs to
    another integration's order: such returns are not reported)."""

    def __init__(self, pages: Pages, shipment: Shipment, *, lookback_days: int) -> None:
        self._pages, self._shipment, self._lookback = pages, shipment, lookback_days
        self._shipments: dict[int, Mapping[str, Any] | None] = {}

    async def pull(self, state: Any, started: datetime) -> tuple[list[ReturnEvent], dict[str, Any], list[MapMessage]]:
        """Events, the next bookmark part and messages for returns that could not be mapped."""
        part = state if isinstance(state, dict) else {}
        since = parse_time(part.get("since")) or started - timedelta(days=self._lookback)
        known: dict[str, str] = dict(part.get("open") or {})
        done: dict[str, list[str]] = {k: list(v) for k, v in (part.get("done") or {}).items()}
        found = await self._pages("return", "pull_returns", {"StartDate": _stamp(since), "SortOrder": "Oldest"})
        seen = {str(r.get("id")) for r in found}
        still = [rid for rid in known if rid not in seen and rid.isdigit()]
        for start in range(0, len(still), _IDS_CHUNK):
            ids = ",".join(still[start : start + _IDS_CHUNK])
            found += await self._pages("return", "pull_returns", {"IDs": ids})
        events: list[ReturnEvent] = []
        messages: list[MapMessage] = []
        for ret in found:
            rid, print_ = str(ret.get("id")), fingerprint(ret)
            if known.get(rid) == print_ or (rid in done and done[rid][0] == print_):
                continue
            shipment = await self._shipment_of(ret.get("original_shipment_id"))
            if shipment is None:
                continue  # not a shipment of omnibridge's orders (another integration's), or none ShipBob knows
            result = return_event(ret, shipment)
            messages.extend(result.messages)
            if result.value is not None:
                events.append(result.value)
            if ret.get("status") in FINAL:
                known.pop(rid, None)
                done[rid] = [print_, str(ret.get("insert_date") or "")]
            else:
                known[rid] = print_
        until = max(since, started)
        # a finished return stays in ``done`` while a StartDate query can still list it
        done = {rid: v for rid, v in done.items() if (parse_time(v[1]) or until) >= until}
        return events, {"since": _stamp(until), "open": dict(sorted(known.items())), "done": done}, messages

    async def _shipment_of(self, shipment_id: Any) -> Mapping[str, Any] | None:
        if not isinstance(shipment_id, int):
            return None
        if shipment_id not in self._shipments:
            self._shipments[shipment_id] = await self._shipment(shipment_id)
        return self._shipments[shipment_id]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
