"""The act's hands: carry a routing decision's tasks out with the connectors, and bring a provider's shipment
back to the order it came from.

This is a stand-in for the fulfilment dispatcher (``omnibridge.fulfilment``, being built on its own branch):
each pending ``assign`` or ``submit`` task of an order is done once, with its id as the vendor's idempotency
key, through the same connector protocols (:mod:`omnibridge.sdk.fulfilment`), and marked ``done`` (or
``refused`` with the vendor's reason). When the dispatcher lands, the act calls it instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from omnibridge.demo.fulfilment_world import SHIPBOB_CENTRE, SUPPLIER, SUPPLIER_CODE, THREE_PL, FulfilmentWorld
from omnibridge.models import Order
from omnibridge.sdk.channel import FulfilmentEvent, ShipTo
from omnibridge.sdk.fulfilment import (
    ConfirmationResult,
    ConfirmedLine,
    FulfilmentLine,
    FulfilmentProvider,
    FulfilmentRequest,
    LineAssigner,
    LineAssignment,
    ShipmentConfirmation,
    ShipmentConfirmer,
)
from omnibridge.store.fulfilment_tasks import ASSIGN, DONE, PENDING, REFUSED, SUBMIT
from omnibridge.store.tables import FULFILMENT_TASKS
from omnibridge.sync.lines import LineBook, LineFact
from omnibridge.sync.outcome import ApplyOutcome

__all__ = ["confirm", "provider_shipped", "run_tasks"]


def _finish(world: FulfilmentWorld, task_id: str, status: str, result: dict[str, Any]) -> None:
    with world.store.unit_of_work() as uow:
        uow.session.execute(
            update(FULFILMENT_TASKS)
            .where(FULFILMENT_TASKS.c.id == task_id)
            .values(status=status, result=result, attempts=FULFILMENT_TASKS.c.attempts + 1, updated_at=uow.now())
        )


def _ship_to(order: Order) -> ShipTo | None:
    a = order.ship_to
    if a is None:
        return None
    return ShipTo(
        country=a.country,
        name=a.name,
        line1=a.line1,
        line2=a.line2,
        city=a.city,
        region=a.region,
        postal_code=a.postal_code,
        phone=a.phone,
    )


def _provider(world: FulfilmentWorld, channel: str) -> tuple[FulfilmentProvider, str]:
    if channel == THREE_PL:
        return world.shipbob_connector, str(SHIPBOB_CENTRE)
    connector = world.engine.channels[SUPPLIER].connector
    assert isinstance(connector, FulfilmentProvider)
    return connector, SUPPLIER_CODE


async def run_tasks(world: FulfilmentWorld, order_id: str) -> list[dict[str, Any]]:
    """Do the order's pending ``assign`` and ``submit`` tasks; returns what each did (id, kind, status, result)."""
    done: list[dict[str, Any]] = []
    order = world.store.get_order(order_id)
    assert order is not None, order_id
    for task in world.routing.tasks(order_id):
        if task["status"] != PENDING:
            continue
        payload = task["payload"]
        result: dict[str, Any]
        if task["kind"] == ASSIGN:
            connector = world.engine.channels[task["channel"]].connector
            if not isinstance(connector, LineAssigner):
                _finish(world, task["id"], DONE, {"skipped": "the channel assigns no lines"})
                continue
            plan = [
                LineAssignment(line["line_ref"], line["quantity"], world.shopify_location[line["location_id"]])
                for line in payload["lines"]
                if line["location_id"] in world.shopify_location
            ]
            answer = await connector.assign_lines(payload["order_ref"], plan)
            result = {"accepted": answer.accepted, "duplicate": answer.duplicate, "message": answer.message}
            status = DONE if answer.accepted else REFUSED
        elif task["kind"] == SUBMIT:
            provider, location_ref = _provider(world, task["channel"])
            request = FulfilmentRequest(
                reference=task["id"],
                order_name=order.number or order.external_id,
                location_ref=location_ref,
                lines=tuple(
                    FulfilmentLine(line["line_id"], line["sku"], line["quantity"]) for line in payload["lines"]
                ),
                ship_to=_ship_to(order),
                placed_at=order.placed_at or datetime.now(UTC),
            )
            submission = await provider.submit_fulfilment(request)
            result = {
                "accepted": submission.accepted,
                "provider_ref": submission.provider_ref,
                "duplicate": submission.duplicate,
                "message": submission.message,
            }
            status = DONE if submission.accepted else REFUSED
            if submission.accepted:
                with world.store.unit_of_work() as uow:
                    world.routing.mark_submitted(uow, payload["assignment_id"], order_id)
        else:
            continue
        _finish(world, task["id"], status, result)
        done.append({"id": task["id"], "kind": task["kind"], "channel": task["channel"], "status": status, **result})
    return done


def provider_shipped(world: FulfilmentWorld, order_id: str, location_id: str, event: FulfilmentEvent) -> int:
    """A provider's shipment (its lines name omnibridge's line ids) ships the order's lines at ``location_id`` in
    the ledger, once per fulfilment line; returns the units shipped."""
    order = world.store.get_order(order_id)
    assert order is not None, order_id
    shipped = 0
    with world.store.unit_of_work() as uow:
        book = LineBook(uow, ApplyOutcome())
        for line in event.lines:
            record = uow.line(line.line_ref)
            if record is None:
                continue
            fact = LineFact(
                order.channel,
                order.external_id,
                record.line_ref,
                record.sku,
                line.quantity,
                location_id,
                event.occurred_at,
            )
            book.shipped(fact, event.ref)
            shipped += line.quantity
        world.routing.order_shipped(uow, order_id, location_id)
    return shipped


async def confirm(
    world: FulfilmentWorld,
    order: Order,
    lines: Sequence[tuple[str, int]],
    *,
    reference: str,
    location_ref: str | None,
    carrier: str | None,
    tracking_number: str | None,
    tracking_url: str | None = None,
) -> ConfirmationResult:
    """Tell the order's channel that ``lines`` ((channel line ref, units)) left, with carrier and tracking."""
    connector = world.engine.channels[order.channel].connector
    assert isinstance(connector, ShipmentConfirmer), order.channel
    return await connector.confirm_shipment(
        ShipmentConfirmation(
            reference=reference,
            order_ref=order.external_id,
            lines=tuple(ConfirmedLine(ref, quantity) for ref, quantity in lines),
            shipped_at=datetime.now(UTC),
            location_ref=location_ref,
            carrier=carrier,
            tracking_number=tracking_number,
            tracking_url=tracking_url,
        )
    )
