"""The ``return`` fulfilment task: carry a return omnibridge created or closed out to the order's channel.

:func:`return_task` is enqueued in the unit of work that creates the return (``state`` open: the channel creates
it approved) or closes it (``state`` closed: the channel records every line's disposition and the refund). The
dispatcher (:mod:`omnibridge.fulfilment.dispatcher`) runs it through :func:`write_back`:

* the channel's connector is not a :class:`~omnibridge.sdk.returns.ReturnWriter`: done, ``skipped``;
* accepted: done, with the channel's id of the return (stored on the return by the dispatcher);
* refused: ``refused`` with an incident (``return_refused``);
* closing a return the channel has no id for yet (its open task has not run): retried later, like a 429.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlmodel import Session

from omnibridge.errors import RetriableConnectorError
from omnibridge.returns import repository
from omnibridge.returns.model import ReturnError, Rma
from omnibridge.sdk.returns import Disposition, ReturnLineEvent, ReturnRequest, ReturnState, ReturnWriter
from omnibridge.store import Incident, Store, propagation
from omnibridge.store.fulfilment_tasks import RETURN, FulfilmentTask
from omnibridge.sync.runtime import ChannelRuntime


def return_task(rma: Rma, state: ReturnState) -> FulfilmentTask:
    """The task that makes the order's channel hold ``rma`` in ``state`` (id ``return:<return id>:<state>``)."""
    return FulfilmentTask(
        id=f"return:{rma.id}:{state.value}",
        kind=RETURN,
        order_id=rma.order_id,
        channel=rma.channel,
        payload={"return_id": rma.id, "state": state.value},
    )


@dataclass(frozen=True)
class WriteBack:
    """What the channel said: ``status`` ``done`` or ``refused``; ``channel_return_ref`` to store on the return."""

    status: str
    result: dict[str, Any] = field(default_factory=dict)
    detail: str = ""
    channel_return_ref: str | None = None


def request_for(rma: Rma, state: ReturnState, channel: ChannelRuntime) -> ReturnRequest:
    """The :class:`ReturnRequest` for ``rma`` on its channel: one line per order line (open), or per order line
    and disposition (closed), in the channel's words (its line refs and location refs)."""
    order_ref = rma.order_id.removeprefix(f"{rma.channel}:")
    prefix = f"{rma.channel}:order:{order_ref}:"
    refs = {profile_id: ref for ref, profile_id in channel.location_ids.items()}
    lines: list[ReturnLineEvent] = []
    for line in rma.lines:
        line_ref = line.order_line_id.removeprefix(prefix)
        sku = channel.channel_skus([line.sku])[0]
        return_line_ref = line.channel_line_ref or line.id
        if state is not ReturnState.CLOSED:
            lines.append(ReturnLineEvent(return_line_ref, line_ref, sku, line.quantity, line.reason or ""))
            continue
        for disposition in (Disposition.RESTOCK, Disposition.DAMAGED, Disposition.MISSING):
            units = line.count(disposition)
            if units:
                where = refs.get(line.location_id) if disposition is Disposition.RESTOCK and line.location_id else None
                lines.append(
                    ReturnLineEvent(return_line_ref, line_ref, sku, units, line.reason or "", disposition, where)
                )
    refund = rma.refund or {}
    return ReturnRequest(
        reference=rma.id,
        order_ref=order_ref,
        state=state,
        lines=tuple(lines),
        channel_return_ref=rma.external_id,
        tracking_number=rma.tracking_number,
        carrier=rma.carrier,
        label_url=rma.label_url,
        refund=None if refund.get("amount") is None else str(refund["amount"]),
        currency=refund.get("currency"),
    )


async def write_back(store: Store, channel: ChannelRuntime, task: FulfilmentTask) -> WriteBack:
    """Run the ``return`` task ``task`` on ``channel`` (see the module docstring). Raises :class:`ReturnError`
    for a task naming no recorded return, :class:`RetriableConnectorError` to try again later."""
    if not isinstance(channel.connector, ReturnWriter):
        return WriteBack("done", {"skipped": f"channel {channel.id} cannot write returns"})
    return_id = str(task.payload.get("return_id") or "")
    with store.unit_of_work() as uow:
        rma = repository.get(uow.session, return_id)
    if rma is None:
        raise ReturnError(f"task {task.id}: return {return_id!r} is not recorded")
    state = ReturnState(str(task.payload.get("state") or ReturnState.OPEN.value))
    if state is ReturnState.CLOSED and rma.external_id is None:
        raise RetriableConnectorError(
            f"return {rma.id} has no {channel.id} id yet (its creation there has not been confirmed)",
            connector=channel.id,
            op="write_return",
        )
    if not channel.location_ids:
        await channel.resolve_locations()
    answer = await channel.connector.write_return(request_for(rma, state, channel))
    if answer.accepted:
        result = {"channel_return_ref": answer.channel_return_ref, "duplicate": answer.duplicate}
        return WriteBack("done", result, channel_return_ref=answer.channel_return_ref)
    reason = answer.message or f"refused by {channel.id}"
    return WriteBack(
        "refused", {"message": answer.message}, f"{channel.id} refused return {rma.id} ({state.value}): {reason}"
    )


def remember_channel_ref(session: Session, return_id: str, channel_return_ref: str | None, now: datetime) -> None:
    """Store the channel's id of the return (in the dispatcher's unit of work), unless it has one already; an
    incident when another return holds that id already (nothing changed)."""
    if not channel_return_ref:
        return
    rma = repository.get(session, return_id, lock=True)
    if rma is None or rma.external_id is not None:
        return
    other = repository.id_of_external(session, rma.channel, channel_return_ref)
    if other is not None:  # the channel's webhook of it arrived first and was recorded as a return of its own
        propagation.add_incident(
            session,
            Incident(
                kind="fulfilment",
                decision="return_duplicate",
                summary=f"return {rma.id} is {rma.channel}'s {channel_return_ref}, already recorded as {other}: "
                "receive it as one of them and cancel the other",
                dedupe_key=f"return_duplicate:{rma.id}:{other}",
                channel=rma.channel,
                order_id=rma.order_id,
            ),
            now,
        )
        return
    repository.save(session, replace(rma, external_id=channel_return_ref))
