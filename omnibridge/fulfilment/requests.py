"""Fulfilment task payloads turned into the vendor requests of :mod:`omnibridge.sdk.fulfilment`, with omnibridge's
location ids mapped to the channel's location refs and master SKUs to the channel's SKUs.

Payloads read here:

* ``assign`` (enqueued by routing): ``order_ref``, ``lines``: ``[{line_ref | line_id, quantity, location_id}]``
  (``line_id``: the line record id, whose line ref is used), optional ``exclude``: location ids; a line held
  where the channel has no location (a 3PL, a supplier) is left out of the call;
* ``submit`` (enqueued by routing): ``assignment_id``, ``location_id``, ``lines``:
  ``[{line_id, sku, quantity}]``, optional ``shipping_method``;
* ``confirm``: see :mod:`omnibridge.fulfilment.tasks`.

Anything missing or unmappable raises :class:`TaskError`, which names what is wrong: an operator fixes the
profile (``mappings.location_map``) and retries the task.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from omnibridge.errors import OmnibridgeError
from omnibridge.models import Address, Order
from omnibridge.sdk.channel import ShipTo
from omnibridge.sdk.fulfilment import (
    ConfirmedLine,
    FulfilmentLine,
    FulfilmentRequest,
    LineAssignment,
    ShipmentConfirmation,
)
from omnibridge.store import Store
from omnibridge.sync.runtime import ChannelRuntime


class TaskError(OmnibridgeError):
    """A task that cannot be carried out as it stands (bad payload, unmapped location, unknown channel): retrying
    will not help until an operator fixes the cause."""


def location_ref(channel: ChannelRuntime, location_id: str, *, required: bool = True) -> str | None:
    """The channel's ref of omnibridge location ``location_id`` (reverse of its resolved ``location_map``)."""
    refs = sorted(ref for ref, target in channel.location_ids.items() if target == location_id)
    if refs:
        return refs[0]
    if required:
        raise TaskError(
            f"location {location_id!r} has no location on channel {channel.id!r}: expected an entry "
            f"'<channel location id or name>: {location_id}' in its mappings.location_map"
        )
    return None


def channel_sku(channel: ChannelRuntime, sku: str) -> str:
    return channel.channel_skus([sku])[0]


def _field(payload: Mapping[str, Any], name: str, task_id: str) -> Any:
    value = payload.get(name)
    if value in (None, "", []):
        raise TaskError(f"task {task_id}: its payload has no {name!r}")
    return value


def _lines(payload: Mapping[str, Any], task_id: str) -> list[Mapping[str, Any]]:
    lines = _field(payload, "lines", task_id)
    if not isinstance(lines, list) or not all(isinstance(line, Mapping) for line in lines):
        raise TaskError(f"task {task_id}: 'lines' is not a list of objects")
    return lines


@dataclass(frozen=True, slots=True)
class Assignments:
    """An ``assign`` task as the channel's call: ``lines`` at the channel's location refs; ``left_out``: lines
    held where the channel has no location (a 3PL, a supplier: they ship them), as ``(line ref, location id)``."""

    order_ref: str
    lines: list[LineAssignment]
    excluded: list[str]
    left_out: list[tuple[str, str]]


def assignments(store: Store, channel: ChannelRuntime, payload: Mapping[str, Any], task_id: str) -> Assignments:
    """The channel's view of an ``assign`` task (lines without a location, on hold, are left out too)."""
    order_ref = str(_field(payload, "order_ref", task_id))
    result = Assignments(order_ref, [], [], [])
    for line in _lines(payload, task_id):
        line_ref = line.get("line_ref")
        if not line_ref and line.get("line_id"):
            record = store.order_line(str(line["line_id"]))
            line_ref = record.line_ref if record is not None else None
        if not line_ref:
            raise TaskError(f"task {task_id}: a line names no known order line ({dict(line)})")
        location_id = line.get("location_id")
        quantity = int(line.get("quantity", 0))
        if not location_id or quantity <= 0:
            continue
        ref = location_ref(channel, str(location_id), required=False)
        if ref is None:
            result.left_out.append((str(line_ref), str(location_id)))
            continue
        result.lines.append(LineAssignment(str(line_ref), quantity, ref))
    result.excluded.extend(
        ref
        for location_id in payload.get("exclude") or []
        if (ref := location_ref(channel, str(location_id), required=False)) is not None
    )
    return result


def _ship_to(address: Address | None) -> ShipTo | None:
    if address is None:
        return None
    point = address.coordinates
    return ShipTo(
        country=address.country,
        name=address.name,
        line1=address.line1,
        line2=address.line2,
        city=address.city,
        region=address.region,
        postal_code=address.postal_code,
        phone=address.phone,
        latitude=point.lat if point else None,
        longitude=point.lon if point else None,
    )


def fulfilment_request(
    order: Order, channel: ChannelRuntime, payload: Mapping[str, Any], task_id: str
) -> tuple[str, FulfilmentRequest]:
    """The assignment id and the provider request of a ``submit`` task."""
    assignment_id = str(_field(payload, "assignment_id", task_id))
    location_id = str(_field(payload, "location_id", task_id))
    lines = tuple(
        FulfilmentLine(
            line_ref=str(_field(line, "line_id", task_id)),
            sku=channel_sku(channel, str(_field(line, "sku", task_id))),
            quantity=int(line.get("quantity", 0)),
            name=str(line.get("name") or ""),
        )
        for line in _lines(payload, task_id)
    )
    ref = location_ref(channel, location_id)
    assert ref is not None
    request = FulfilmentRequest(
        reference=assignment_id,
        order_name=order.number or order.external_id,
        location_ref=ref,
        lines=lines,
        ship_to=_ship_to(order.ship_to),
        placed_at=order.placed_at,
        shipping_method=str(payload.get("shipping_method") or "Standard"),
    )
    return location_id, request


def confirmation(channel: ChannelRuntime, payload: Mapping[str, Any], task_id: str) -> ShipmentConfirmation:
    """The shipment confirmation of a ``confirm`` task (a location the channel does not know is left out: the
    channel then uses the order's own)."""
    location_id = payload.get("location_id")
    try:
        shipped_at = datetime.fromisoformat(str(_field(payload, "shipped_at", task_id)))
    except ValueError:
        raise TaskError(f"task {task_id}: 'shipped_at' is not an ISO 8601 time") from None
    return ShipmentConfirmation(
        reference=str(_field(payload, "shipment_id", task_id)),
        order_ref=str(_field(payload, "order_ref", task_id)),
        lines=tuple(
            ConfirmedLine(str(_field(line, "line_ref", task_id)), int(line.get("quantity", 0)))
            for line in _lines(payload, task_id)
        ),
        shipped_at=shipped_at,
        location_ref=location_ref(channel, str(location_id), required=False) if location_id else None,
        carrier=payload.get("carrier"),
        service=payload.get("service"),
        tracking_number=payload.get("tracking_number"),
        tracking_url=payload.get("tracking_url"),
    )
