"""Shipments with their tracking history, and returns."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from omnibridge.errors import ConflictError
from omnibridge.models import (
    Address,
    Money,
    Return,
    ReturnLine,
    ReturnStatus,
    Shipment,
    ShipmentLine,
    TrackingEvent,
    TrackingStatus,
)
from omnibridge.store.sealed import open_json, seal_json
from omnibridge.store.sql import dump, dump_all, insert_ignore, upsert
from omnibridge.store.tables import RETURNS, SHIPMENTS, TRACKING_EVENTS, ReturnRow, ShipmentRow, TrackingEventRow

SHIP_TO = "shipments.ship_to"
"""The encryption context of a shipment's address (see :mod:`omnibridge.store.sealed`)."""


def save_shipment(session: Session, shipment: Shipment) -> None:
    """Insert or update ``shipment`` by id. Tracking history is append-only: events in
    ``shipment.tracking_history`` are added if new (same ``occurred_at`` and carrier status = same event),
    events already stored are kept. ``status`` is stored as given."""
    upsert(
        session,
        SHIPMENTS,
        {
            "id": shipment.id,
            "order_id": shipment.order_id,
            "from_location_id": shipment.from_location_id,
            "carrier": shipment.carrier,
            "service": shipment.service,
            "tracking_number": shipment.tracking_number,
            "label_url": shipment.label_url,
            "cost": dump(shipment.cost),
            "ship_to": seal_json(session, dump(shipment.ship_to), SHIP_TO),
            "lines": dump_all(shipment.lines),
            "status": shipment.status.value,
            "created_at": shipment.created_at,
        },
        key=["id"],
    )
    for event in shipment.tracking_history:
        _insert_event(session, shipment.id, event)


def add_tracking_event(session: Session, shipment_id: str, event: TrackingEvent) -> Shipment:
    """Append ``event`` (a repeat of a stored event is ignored) and set the shipment's status to that of its
    latest event by ``occurred_at`` — carriers deliver scans out of order. Returns the updated shipment.
    Raises :class:`ConflictError` for an unknown shipment."""
    if session.get(ShipmentRow, shipment_id) is None:
        raise ConflictError(f"unknown shipment {shipment_id!r}: save the shipment before tracking it")
    _insert_event(session, shipment_id, event)
    latest = (
        sa.select(TRACKING_EVENTS.c.status)
        .where(TRACKING_EVENTS.c.shipment_id == shipment_id)
        .order_by(TRACKING_EVENTS.c.occurred_at.desc(), TRACKING_EVENTS.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    session.execute(sa.update(SHIPMENTS).where(SHIPMENTS.c.id == shipment_id).values(status=latest))
    session.expire_all()
    stored = get_shipment(session, shipment_id)
    assert stored is not None
    return stored


def get_shipment(session: Session, shipment_id: str) -> Shipment | None:
    row = session.get(ShipmentRow, shipment_id)
    if row is None:
        return None
    ship_to = open_json(session, row.ship_to, SHIP_TO)
    events = session.exec(
        select(TrackingEventRow)
        .where(TrackingEventRow.shipment_id == shipment_id)
        .order_by(col(TrackingEventRow.occurred_at), col(TrackingEventRow.id))
    ).all()
    return Shipment(
        id=row.id,
        order_id=row.order_id,
        from_location_id=row.from_location_id,
        carrier=row.carrier,
        service=row.service,
        tracking_number=row.tracking_number,
        label_url=row.label_url,
        cost=None if row.cost is None else Money.model_validate(row.cost),
        ship_to=None if ship_to is None else Address.model_validate(ship_to),
        lines=[ShipmentLine.model_validate(line) for line in row.lines],
        status=TrackingStatus(row.status),
        tracking_history=[
            TrackingEvent(
                status=TrackingStatus(event.status),
                carrier_status=event.carrier_status,
                occurred_at=event.occurred_at,
                message=event.message,
                location=event.location,
            )
            for event in events
        ],
        created_at=row.created_at,
    )


def shipments_of_order(session: Session, order_id: str) -> list[Shipment]:
    """The shipments of ``order_id``, oldest first."""
    ids = session.exec(
        select(ShipmentRow.id).where(ShipmentRow.order_id == order_id).order_by(col(ShipmentRow.created_at))
    ).all()
    return [shipment for shipment in (get_shipment(session, sid) for sid in ids) if shipment is not None]


def _insert_event(session: Session, shipment_id: str, event: TrackingEvent) -> None:
    insert_ignore(
        session,
        TRACKING_EVENTS,
        {
            "shipment_id": shipment_id,
            "status": event.status.value,
            "carrier_status": event.carrier_status,
            "occurred_at": event.occurred_at,
            "message": event.message,
            "location": event.location,
        },
    )


def save_return(session: Session, ret: Return) -> None:
    """Insert or update ``ret`` by id."""
    upsert(
        session,
        RETURNS,
        {
            "id": ret.id,
            "order_id": ret.order_id,
            "channel": ret.channel,
            "external_id": ret.external_id,
            "location_id": ret.location_id,
            "status": ret.status.value,
            "lines": dump_all(ret.lines),
            "refund": dump(ret.refund),
            "created_at": ret.created_at,
        },
        key=["id"],
    )


def get_return(session: Session, return_id: str) -> Return | None:
    row = session.get(ReturnRow, return_id)
    if row is None:
        return None
    return Return(
        id=row.id,
        order_id=row.order_id,
        channel=row.channel,
        external_id=row.external_id,
        location_id=row.location_id,
        status=ReturnStatus(row.status),
        lines=[ReturnLine.model_validate(line) for line in row.lines],
        refund=None if row.refund is None else Money.model_validate(row.refund),
        created_at=row.created_at,
    )
