"""PICKUP fulfillments in the Square emulator: ``pickup_details`` as Square serves and checks them.

* A PICKUP fulfillment carries ``pickup_details`` (``recipient``, ``schedule_type`` SCHEDULED or ASAP,
  ``pickup_at``, ``pickup_window_duration``, ``prep_time_duration``, ``expires_at``, ``note``,
  ``is_curbside_pickup`` and ``curbside_pickup_details{curbside_details, buyer_arrived_at}``).
* ``expires_at`` more than 7 days ahead is 400 ``INVALID_VALUE`` (Square: "at most 7 days"); a malformed time
  is 400 ``INVALID_TIME``, a malformed duration 400 ``INVALID_VALUE``; ``pickup_details`` on another type of
  fulfillment is 400 ``INVALID_VALUE``.
* The lifecycle stamps are Square's own (sent values are ignored): ``placed_at`` on creation, ``accepted_at`` at
  RESERVED, ``ready_at`` at PREPARED, ``picked_up_at`` at COMPLETED, ``canceled_at`` at CANCELED, ``rejected_at``
  at FAILED.
* :func:`till_change` is staff changing the fulfillment at the Square POS (or the buyer saying they arrived):
  the order's version moves but no ``order.fulfillment.updated`` fires (that webhook is for UpdateOrder only).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from connectors.square.emulator.common import invalid, time_field
from connectors.square.emulator.state import format_time

__all__ = ["MAX_EXPIRY", "details", "merge", "stamp", "till_change"]

MAX_EXPIRY = timedelta(days=7)
_DURATION = re.compile(r"^P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
_STAMPS = {
    "RESERVED": "accepted_at",
    "PREPARED": "ready_at",
    "COMPLETED": "picked_up_at",
    "CANCELED": "canceled_at",
    "FAILED": "rejected_at",
}
_READ_ONLY = frozenset(
    {"placed_at", "accepted_at", "rejected_at", "ready_at", "expired_at", "picked_up_at", "canceled_at"}
)
_RANK = {"PROPOSED": 0, "RESERVED": 1, "PREPARED": 2, "COMPLETED": 3}
_FINISHED = frozenset({"COMPLETED", "CANCELED", "FAILED"})


def _check(sent: dict[str, Any], where: str, now: datetime) -> None:
    for name in ("pickup_at", "expires_at"):
        time_field(sent.get(name), f"{where}.{name}")
    expires = time_field(sent.get("expires_at"), f"{where}.expires_at")
    if expires is not None and expires - now > MAX_EXPIRY:
        raise invalid("INVALID_VALUE", "expires_at must be at most 7 days from now.", f"{where}.expires_at")
    for name in ("pickup_window_duration", "prep_time_duration", "auto_complete_duration"):
        value = sent.get(name)
        if value is not None and not _DURATION.match(str(value)):
            raise invalid("INVALID_VALUE", f"{name} {value!r} is not an RFC 3339 duration.", f"{where}.{name}")
    if sent.get("schedule_type") not in (None, "SCHEDULED", "ASAP"):
        raise invalid("INVALID_ENUM_VALUE", "schedule_type is SCHEDULED or ASAP.", f"{where}.schedule_type")


def details(sent: dict[str, Any], where: str, now: datetime) -> dict[str, Any]:
    """The ``pickup_details`` a created PICKUP fulfillment keeps (checked; ``placed_at`` stamped now)."""
    _check(sent, where, now)
    kept = {name: value for name, value in sent.items() if name not in _READ_ONLY}
    kept.setdefault("schedule_type", "SCHEDULED")
    kept["placed_at"] = format_time(now)
    return kept


def merge(fulfillment: dict[str, Any], sent: dict[str, Any], where: str, now: datetime) -> None:
    """Merge the writable ``pickup_details`` of an UpdateOrder into a PICKUP fulfillment."""
    _check(sent, where, now)
    target = fulfillment.setdefault("pickup_details", {})
    for name, value in sent.items():
        if name == "curbside_pickup_details" and isinstance(value, dict):
            target[name] = {**target.get(name, {}), **value}
        elif name not in _READ_ONLY:
            target[name] = value


def stamp(fulfillment: dict[str, Any], state: str, now: datetime) -> None:
    """Square's lifecycle stamp for a PICKUP fulfillment that just moved to ``state``."""
    name = _STAMPS.get(state)
    if name is not None:
        fulfillment.setdefault("pickup_details", {})[name] = format_time(now)


def till_change(
    order: dict[str, Any], uid: str | None, state: str | None, *, arrived: bool, note: str | None, now: datetime
) -> dict[str, Any]:
    """Staff at the till move the order's PICKUP fulfillment (``uid``, else the first) to ``state``; ``arrived``:
    the curbside buyer says they are outside. Raises ``ValueError`` for what the POS would not allow."""
    found = [f for f in order.get("fulfillments") or [] if f.get("type") == "PICKUP"]
    target = next((f for f in found if uid is None or f.get("uid") == uid), None)
    if target is None:
        raise ValueError(f"order {order['id']} has no PICKUP fulfillment {uid or ''}".strip())
    current = str(target.get("state"))
    if state is not None and state != current:
        if current in _FINISHED:
            raise ValueError(f"the fulfillment is {current} and can no longer change")
        if state in _RANK and _RANK[state] < _RANK[current]:
            raise ValueError(f"a fulfillment cannot move back from {current} to {state}")
        target["state"] = state
        stamp(target, state, now)
    if arrived:
        pickup = target.setdefault("pickup_details", {})
        curbside = pickup.setdefault("curbside_pickup_details", {})
        curbside["buyer_arrived_at"] = format_time(now)
        if note:
            curbside["curbside_details"] = note[:250]
    order["version"] = int(order["version"]) + 1
    order["updated_at"] = format_time(now)
    return order
