"""Telling a pickup's channel how it stands: ``pickup`` fulfilment tasks.

Every state change omnibridge makes (a hold booked, made ready, collected, refused by the store, expired) writes
a task ``pickup:<pickup id>:<state>`` in the same unit of work (:mod:`omnibridge.store.fulfilment_tasks`), so a
crash between the change and the vendor call loses nothing and a repeat never sends twice. Its payload is a
:class:`~omnibridge.sdk.pickup.PickupUpdate` (``location_id`` is omnibridge's: the dispatcher maps it to the
channel's ref). A channel that cannot show a state is not told it; one that cannot show a refusal or an expiry
but can show a cancellation is told that (:func:`~omnibridge.pickup.settings.shown_state`). Changes the channel
itself reported (a :class:`~omnibridge.sdk.pickup.PickupEvent`) write no task: the channel knows already.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from omnibridge.fulfilment.requests import TaskError, location_ref
from omnibridge.pickup.settings import PickupSettings, shown_state
from omnibridge.sdk.pickup import PickupState, PickupStatusWriter, PickupUpdate
from omnibridge.store.fulfilment_tasks import FulfilmentTask
from omnibridge.store.tables import PickupRow
from omnibridge.store.unit_of_work import UnitOfWork
from omnibridge.sync.runtime import ChannelRuntime

PICKUP = "pickup"
"""The fulfilment task kind."""


def tell_channel(
    uow: UnitOfWork, pickup: PickupRow, order_ref: str, state: PickupState, settings: PickupSettings
) -> bool:
    """Enqueue ``pickup:<id>:<state>`` for the pickup's channel, if it can show ``state`` (or a cancellation in
    its place); False when nothing was enqueued."""
    shown = settings.shows(pickup.channel, state)
    if shown is None:
        return False
    task = FulfilmentTask(
        id=f"{PICKUP}:{pickup.id}:{state.value}",
        kind=PICKUP,
        order_id=pickup.order_id,
        channel=pickup.channel,
        payload={
            "reference": f"{pickup.id}:{state.value}",
            "order_ref": order_ref,
            "state": shown.value,
            "location_id": pickup.location_id,
            "line_refs": [str(line.get("line_ref", "")) for line in pickup.lines if line.get("line_ref")],
            "pickup_at": pickup.window_start.isoformat(),
            "window_minutes": int((pickup.window_end - pickup.window_start).total_seconds() // 60),
            "prep_minutes": int(settings.prep(pickup.location_id).total_seconds() // 60),
            "expires_at": pickup.expires_at.isoformat(),
            "curbside": pickup.curbside,
            "reason": pickup.reason or "",
        },
    )
    return uow.enqueue_task(task)


def update_of(channel: ChannelRuntime, payload: Mapping[str, Any], task_id: str) -> PickupUpdate:
    """The :class:`PickupUpdate` a ``pickup`` task's payload asks for, in ``channel``'s refs."""
    try:
        state = PickupState(str(payload["state"]))
        location_id = str(payload["location_id"])
        return PickupUpdate(
            reference=str(payload["reference"]),
            order_ref=str(payload["order_ref"]),
            state=state,
            location_ref=location_ref(channel, location_id),
            line_refs=tuple(str(ref) for ref in payload.get("line_refs") or ()),
            pickup_at=_when(payload.get("pickup_at")),
            window_minutes=payload.get("window_minutes"),
            prep_minutes=payload.get("prep_minutes"),
            expires_at=_when(payload.get("expires_at")),
            curbside=bool(payload.get("curbside")),
            reason=str(payload.get("reason") or ""),
        )
    except (KeyError, ValueError) as exc:
        raise TaskError(f"task {task_id}: its payload is not a pickup update ({exc})") from None


def writer_of(channel: ChannelRuntime) -> PickupStatusWriter | None:
    """The channel's connector as a :class:`PickupStatusWriter`, or None when it cannot show pickups."""
    connector = channel.connector
    return connector if isinstance(connector, PickupStatusWriter) else None


def state_to_send(writer: PickupStatusWriter, update: PickupUpdate) -> PickupState | None:
    """What the writer is told for ``update.state`` (None: nothing, it cannot show it)."""
    return shown_state(frozenset(writer.pickup_states), update.state)


def _when(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None
