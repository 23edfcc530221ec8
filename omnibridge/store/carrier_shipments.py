"""The carrier's side of shipments: vendor shipment id, chosen rate, label and tracker, and applied tracking refs.

Functions take a :class:`Session` (run them inside :func:`~omnibridge.store.engine.write_session` /
``read_session``); :mod:`omnibridge.shipping` is the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session, col, select

from omnibridge.store.sql import insert_ignore, upsert
from omnibridge.store.tables import CARRIER_SHIPMENTS, CARRIER_TRACKING_REFS, CarrierShipmentRow

__all__ = [
    "CarrierShipment",
    "CarrierShipmentState",
    "find_by_tracking_code",
    "get_carrier_shipment",
    "insert_carrier_shipment",
    "mark_tracking_ref",
    "move_carrier_shipment",
    "save_carrier_shipment",
]


class CarrierShipmentState(StrEnum):
    """``quoted`` --purchase starts--> ``buying`` --label stored--> ``bought``; a refused purchase (or a person's
    ``shipments resolve --not-bought``) returns ``buying`` to ``quoted``. Stored as text: no migration per state."""

    QUOTED = "quoted"
    """Rated and rate chosen; no label purchase is under way."""
    BUYING = "buying"
    """A label purchase was started (committed before the connector was called) and its outcome is not recorded:
    the label may have been bought."""
    BOUGHT = "bought"
    """The label is bought; ``tracking_code`` is set (``label_url`` too, unless recorded by hand without one)."""


@dataclass(frozen=True, slots=True)
class CarrierShipment:
    """One omnibridge shipment at a carrier connector. ``carrier`` is the vendor's carrier name (``USPS``)."""

    shipment_id: str
    connector: str
    vendor_shipment_id: str
    state: CarrierShipmentState
    updated_at: datetime
    rate_id: str | None = None
    carrier: str | None = None
    tracking_code: str | None = None
    label_url: str | None = None
    tracker_ref: str | None = None


def _values(record: CarrierShipment) -> dict[str, object]:
    return {
        "shipment_id": record.shipment_id,
        "connector": record.connector,
        "vendor_shipment_id": record.vendor_shipment_id,
        "rate_id": record.rate_id,
        "state": record.state.value,
        "carrier": record.carrier,
        "tracking_code": record.tracking_code,
        "label_url": record.label_url,
        "tracker_ref": record.tracker_ref,
        "updated_at": record.updated_at,
    }


def save_carrier_shipment(session: Session, record: CarrierShipment) -> None:
    """Insert or update ``record`` by shipment id (the shipment must exist)."""
    upsert(session, CARRIER_SHIPMENTS, _values(record), key=["shipment_id"])


def move_carrier_shipment(
    session: Session,
    shipment_id: str,
    expected: CarrierShipmentState,
    new: CarrierShipmentState,
    updated_at: datetime,
) -> bool:
    """Compare-and-set: move the shipment from state ``expected`` to ``new``; False (nothing changed) when it is
    not in ``expected`` (another process moved it first) or has no record."""
    table = CARRIER_SHIPMENTS
    result = session.connection().execute(
        sa.update(table)
        .where(table.c.shipment_id == shipment_id, table.c.state == expected.value)
        .values(state=new.value, updated_at=updated_at)
    )
    return result.rowcount == 1


def insert_carrier_shipment(session: Session, record: CarrierShipment) -> bool:
    """Insert ``record`` unless the shipment already has one (a concurrent ``ship``); True if inserted."""
    return insert_ignore(session, CARRIER_SHIPMENTS, _values(record))


def _record(row: CarrierShipmentRow) -> CarrierShipment:
    return CarrierShipment(
        shipment_id=row.shipment_id,
        connector=row.connector,
        vendor_shipment_id=row.vendor_shipment_id,
        state=CarrierShipmentState(row.state),
        updated_at=row.updated_at,
        rate_id=row.rate_id,
        carrier=row.carrier,
        tracking_code=row.tracking_code,
        label_url=row.label_url,
        tracker_ref=row.tracker_ref,
    )


def get_carrier_shipment(session: Session, shipment_id: str) -> CarrierShipment | None:
    row = session.get(CarrierShipmentRow, shipment_id)
    return None if row is None else _record(row)


def find_by_tracking_code(session: Session, connector: str, tracking_code: str) -> CarrierShipment | None:
    """The shipment whose label carries ``tracking_code`` at ``connector`` (the newest if several)."""
    row = session.exec(
        select(CarrierShipmentRow)
        .where(CarrierShipmentRow.connector == connector, CarrierShipmentRow.tracking_code == tracking_code)
        .order_by(col(CarrierShipmentRow.updated_at).desc())
        .limit(1)
    ).first()
    return None if row is None else _record(row)


def mark_tracking_ref(session: Session, connector: str, ref: str, shipment_id: str, applied_at: datetime) -> bool:
    """Record that the tracking update ``ref`` was applied; False when it already was (a repeat)."""
    return insert_ignore(
        session,
        CARRIER_TRACKING_REFS,
        {"connector": connector, "ref": ref, "shipment_id": shipment_id, "applied_at": applied_at},
    )
