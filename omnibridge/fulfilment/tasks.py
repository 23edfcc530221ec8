"""The fulfilment tasks the fulfilment side itself enqueues: confirm a shipment on the order's channel, and
re-route an order a provider refused. Each is built here and enqueued in the caller's unit of work.

Payloads (what the dispatcher reads, :mod:`omnibridge.fulfilment.dispatcher`):

* ``confirm:<shipment id>`` on the order's channel: ``order_ref`` (the channel's order id), ``shipment_id``,
  ``location_id`` (omnibridge's: mapped to the channel's ref when the call is made), ``lines`` (``line_ref`` as
  the channel knows the line, ``quantity``), ``carrier`` (common name: ``UPS``, ``USPS``, ``FedEx``,
  ``DHL Express``), ``service``, ``tracking_number``, ``tracking_url``, ``shipped_at`` (ISO 8601);
* ``reroute:<assignment id>`` (or ``reroute:<refused task id>@<location>``): ``location_id`` and ``reason``;
  the dispatcher calls the routing service's ``reject`` (a re-route without that location).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from omnibridge.models import Order
from omnibridge.store.fulfilment_tasks import CONFIRM, FulfilmentTask

REROUTE = "reroute"

_CARRIER_NAMES = {"usps": "USPS", "ups": "UPS", "fedex": "FedEx", "dhl_express": "DHL Express", "dhl": "DHL Express"}
_TRACKING_URLS = {
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "UPS": "https://www.ups.com/track?tracknum={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
    "DHL Express": "https://www.dhl.com/en/express/tracking.html?AWB={}",
}


def carrier_name(carrier: str | None) -> str | None:
    """The common name channels know a carrier by (``dhl_express`` -> ``DHL Express``); unknown ones unchanged."""
    if not carrier:
        return None
    return _CARRIER_NAMES.get(carrier.strip().lower().replace(" ", "_"), carrier)


def tracking_url(carrier: str | None, tracking_number: str | None) -> str | None:
    """The carrier's public tracking page for ``tracking_number`` (None for a carrier without a known page)."""
    template = _TRACKING_URLS.get(carrier_name(carrier) or "")
    return template.format(tracking_number) if template and tracking_number else None


def confirm_task(
    order: Order,
    shipment_id: str,
    location_id: str,
    lines: Sequence[tuple[str, int]],
    shipped_at: datetime,
    *,
    carrier: str | None = None,
    service: str | None = None,
    tracking_number: str | None = None,
    url: str | None = None,
    in_ledger: bool = False,
) -> FulfilmentTask:
    """``confirm:<shipment_id>``: tell ``order``'s channel that ``lines`` (``(channel line ref, units)``) left
    ``location_id``. ``in_ledger``: the ledger already shipped these units (a provider's shipment), so the
    channel's own notification of the fulfilment this creates is an echo, not a second shipment
    (:func:`is_confirmation_echo`)."""
    name = carrier_name(carrier)
    return FulfilmentTask(
        id=f"confirm:{shipment_id}",
        kind=CONFIRM,
        order_id=order.id,
        channel=order.channel,
        payload={
            "order_ref": order.external_id,
            "shipment_id": shipment_id,
            "location_id": location_id,
            "lines": [{"line_ref": ref, "quantity": quantity} for ref, quantity in lines if quantity > 0],
            "carrier": name,
            "service": service,
            "tracking_number": tracking_number,
            "tracking_url": url or tracking_url(name, tracking_number),
            "shipped_at": shipped_at.isoformat(),
            "in_ledger": in_ledger,
        },
    )


def is_confirmation_echo(tasks: Sequence[Mapping[str, Any]], fulfilment_ref: str, tracking_number: str | None) -> bool:
    """Whether a channel's fulfilment ``fulfilment_ref`` is the one omnibridge's own confirmation of a shipment
    the ledger already holds created (``tasks``: the order's fulfilment tasks with their results): the same
    tracking number as such a confirmation (in flight or done, so an echo that overtakes the confirmation's
    answer is still recognised), or the fulfilment id the channel answered it with."""
    for task in tasks:
        payload = task.get("payload") or {}
        if task.get("kind") != CONFIRM or not payload.get("in_ledger") or task.get("status") == "cancelled":
            continue
        if tracking_number and payload.get("tracking_number") == tracking_number:
            return True
        result = task.get("result") or {}
        if fulfilment_ref in str(result.get("channel_ref") or "").split(","):
            return True
    return False


def is_collection_echo(tasks: Sequence[Mapping[str, Any]], tracking_number: str | None) -> bool:
    """Whether a channel's fulfilment of a pickup order is the one omnibridge's own "collected" update created
    (``tasks``: the order's fulfilment tasks): a ``pickup`` task to ``collected``, in flight or done, and a
    fulfilment without a tracking number (a handover at the counter has none). The ledger already took the units
    out when staff marked it collected."""
    if tracking_number:
        return False
    return any(
        task.get("kind") == "pickup"
        and (task.get("payload") or {}).get("state") == "collected"
        and task.get("status") != "cancelled"
        for task in tasks
    )


def reroute_task(key: str, order_id: str, location_id: str, channel: str, reason: str) -> FulfilmentTask:
    """``reroute:<key>``: re-route ``order_id`` without ``location_id``, which refused it for ``reason``
    (``channel``: where the refusal came from; ``key``: the refused assignment's id, or the refused task's id and
    location, so a repeated refusal enqueues nothing new)."""
    return FulfilmentTask(
        id=f"{REROUTE}:{key}",
        kind=REROUTE,
        order_id=order_id,
        channel=channel,
        payload={"location_id": location_id, "reason": reason},
    )
