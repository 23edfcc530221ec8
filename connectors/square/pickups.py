"""Square PICKUP fulfillments: pure mapping to :class:`PickupDetails` and :class:`PickupEvent`. No I/O.

A ``PICKUP`` fulfillment carries ``pickup_details`` (``pickup_at`` the window's start, ``pickup_window_duration``
and ``prep_time_duration`` as RFC 3339 durations, ``expires_at``, ``schedule_type``, ``is_curbside_pickup`` with
``curbside_pickup_details{curbside_details, buyer_arrived_at}``). The store is the order's ``location_id``; an ASAP
pickup without ``pickup_at`` is due at ``placed_at`` plus ``prep_time_duration``.

Square states → omnibridge: PROPOSED/RESERVED → RESERVED, PREPARED → READY, COMPLETED → COLLECTED, CANCELED →
CANCELLED (EXPIRED when Square stamped ``expired_at``), FAILED → REJECTED; a curbside buyer who arrived
(``buyer_arrived_at``) on a fulfillment not finished yet → ARRIVED.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from omnibridge.sdk.pickup import PickupDetails, PickupEvent, PickupState

__all__ = [
    "format_duration",
    "parse_duration",
    "pickup_details",
    "pickup_events",
    "pickup_fulfillment",
    "square_state",
    "state_of",
]

_STATES = {
    "PROPOSED": PickupState.RESERVED,
    "RESERVED": PickupState.RESERVED,
    "PREPARED": PickupState.READY,
    "COMPLETED": PickupState.COLLECTED,
    "CANCELED": PickupState.CANCELLED,
    "FAILED": PickupState.REJECTED,
}
_SQUARE = {
    PickupState.RESERVED: "RESERVED",
    PickupState.READY: "PREPARED",
    PickupState.COLLECTED: "COMPLETED",
    PickupState.CANCELLED: "CANCELED",
    PickupState.EXPIRED: "CANCELED",
    PickupState.REJECTED: "CANCELED",
}
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def _time(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parse_duration(raw: Any) -> timedelta | None:
    """An RFC 3339 / ISO 8601 duration (``P1DT2H30M``, ``PT15M``) as a timedelta; None if missing or malformed."""
    match = _DURATION.match(raw.strip()) if isinstance(raw, str) else None
    if match is None or raw.strip() in ("P", "PT"):
        return None
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def format_duration(minutes: int) -> str:
    """Whole minutes as the duration Square takes (``PT1H30M``; ``PT0M`` for zero)."""
    hours, rest = divmod(max(0, minutes), 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{rest}M" if rest or not hours else "")


def square_state(state: PickupState) -> str | None:
    """The Square fulfillment state that shows ``state`` (None: Square cannot be told it, e.g. ARRIVED)."""
    return _SQUARE.get(state)


def pickup_fulfillment(order: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The order's first PICKUP fulfillment not CANCELED or FAILED, else its first PICKUP fulfillment."""
    raw = order.get("fulfillments")
    found = [f for f in raw if isinstance(f, Mapping) and f.get("type") == "PICKUP"] if isinstance(raw, list) else []
    live = [f for f in found if f.get("state") not in ("CANCELED", "FAILED")]
    chosen = live or found
    return chosen[0] if chosen else None


def _details(fulfillment: Mapping[str, Any]) -> Mapping[str, Any]:
    details = fulfillment.get("pickup_details")
    return details if isinstance(details, Mapping) else {}


def _arrived_at(details: Mapping[str, Any]) -> datetime | None:
    curbside = details.get("curbside_pickup_details")
    return _time(curbside.get("buyer_arrived_at")) if isinstance(curbside, Mapping) else None


def state_of(fulfillment: Mapping[str, Any]) -> PickupState:
    """omnibridge's state for a PICKUP fulfillment (see the module docstring)."""
    details = _details(fulfillment)
    state = _STATES.get(str(fulfillment.get("state")), PickupState.RESERVED)
    if state is PickupState.CANCELLED and details.get("expired_at"):
        return PickupState.EXPIRED
    if state in (PickupState.RESERVED, PickupState.READY) and _arrived_at(details) is not None:
        return PickupState.ARRIVED
    return state


def pickup_details(order: Mapping[str, Any]) -> PickupDetails | None:
    """:class:`PickupDetails` of the order's PICKUP fulfillment; None when it has none."""
    fulfillment = pickup_fulfillment(order)
    if fulfillment is None:
        return None
    details = _details(fulfillment)
    window = parse_duration(details.get("pickup_window_duration"))
    location = order.get("location_id")
    pickup_at = _time(details.get("pickup_at"))
    prep = parse_duration(details.get("prep_time_duration"))
    placed = _time(details.get("placed_at"))
    if pickup_at is None and details.get("schedule_type") == "ASAP" and placed is not None:
        pickup_at = placed + (prep or timedelta(0))  # Square: an ASAP pickup is due placed_at + prep time
    return PickupDetails(
        location_ref=location if isinstance(location, str) else None,
        pickup_at=pickup_at,
        window_minutes=int(window.total_seconds() // 60) if window is not None else None,
        curbside=details.get("is_curbside_pickup") is True,
        expires_at=_time(details.get("expires_at")),
        state=state_of(fulfillment),
    )


def _occurred_at(fulfillment: Mapping[str, Any], state: PickupState, fallback: datetime) -> datetime:
    details = _details(fulfillment)
    stamp = {
        PickupState.READY: "ready_at",
        PickupState.COLLECTED: "picked_up_at",
        PickupState.CANCELLED: "canceled_at",
        PickupState.EXPIRED: "expired_at",
        PickupState.REJECTED: "rejected_at",
    }.get(state)
    moment = _arrived_at(details) if state is PickupState.ARRIVED else _time(details.get(stamp)) if stamp else None
    return moment or fallback


def pickup_events(order: Mapping[str, Any]) -> list[PickupEvent]:
    """A :class:`PickupEvent` for each PICKUP fulfillment of the order past RESERVED (the order event itself
    carries a reservation). ``ref`` = ``<order id>:<fulfillment uid>:<state>``, so the same state seen again (a
    webhook and a later read-back, a redelivery) is the same event."""
    order_id = order.get("id")
    fallback = _time(order.get("updated_at")) or _time(order.get("created_at"))
    raw = order.get("fulfillments")
    if not isinstance(order_id, str) or fallback is None or not isinstance(raw, list):
        return []
    location = order.get("location_id") if isinstance(order.get("location_id"), str) else None
    events = []
    for fulfillment in raw:
        if not isinstance(fulfillment, Mapping) or fulfillment.get("type") != "PICKUP":
            continue
        state = state_of(fulfillment)
        if state is PickupState.RESERVED:
            continue
        details = _details(fulfillment)
        curbside = details.get("curbside_pickup_details")
        note = curbside.get("curbside_details") if isinstance(curbside, Mapping) else None
        reason = details.get("cancel_reason")
        events.append(
            PickupEvent(
                ref=f"{order_id}:{fulfillment.get('uid')}:{state.value}",
                order_ref=order_id,
                state=state,
                occurred_at=_occurred_at(fulfillment, state, fallback),
                location_ref=location,
                curbside=details.get("is_curbside_pickup") is True,
                reason=reason if isinstance(reason, str) else "",
                note=note if isinstance(note, str) and state is PickupState.ARRIVED else "",
            )
        )
    return events


def webhook_pickup_events(payload: Mapping[str, Any], order: Mapping[str, Any]) -> list[PickupEvent]:
    """The PICKUP states an ``order.fulfillment.updated`` notification names (``fulfillment_update[].new_state``),
    read against the order fetched since: a notification handled late still reports the state it announced,
    not only where the order stands now. Stamps come from the order when it is still in that state."""
    data = payload.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    summary = obj.get("order_fulfillment_updated") if isinstance(obj, Mapping) else None
    if not isinstance(summary, Mapping) or not isinstance(order.get("id"), str):
        return []
    occurred_at = _time(summary.get("updated_at")) or _time(order.get("updated_at"))
    by_uid = {
        f.get("uid"): f for f in order.get("fulfillments") or [] if isinstance(f, Mapping) and f.get("type") == "PICKUP"
    }
    events = []
    for change in summary.get("fulfillment_update") or []:
        found = by_uid.get(change.get("fulfillment_uid")) if isinstance(change, Mapping) else None
        new_state = change.get("new_state") if isinstance(change, Mapping) else None
        if found is None or occurred_at is None or new_state == found.get("state") or new_state not in _STATES:
            continue  # the order read now says as much (pickup_events reports it with its stamps)
        state = _STATES[str(new_state)]
        if state is PickupState.RESERVED:
            continue
        events.append(
            PickupEvent(
                ref=f"{order['id']}:{found.get('uid')}:{state.value}",
                order_ref=str(order["id"]),
                state=state,
                occurred_at=occurred_at,
                location_ref=order.get("location_id") if isinstance(order.get("location_id"), str) else None,
                curbside=_details(found).get("is_curbside_pickup") is True,
            )
        )
    return events
