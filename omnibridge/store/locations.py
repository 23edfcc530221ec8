"""Locations that hold stock."""

from __future__ import annotations

from sqlmodel import Session, col, select

from omnibridge.models import Address, GeoPoint, Location, LocationCapability, LocationType
from omnibridge.store.sql import dump, upsert
from omnibridge.store.tables import LOCATIONS, LocationRow


def upsert_location(session: Session, location: Location) -> None:
    upsert(
        session,
        LOCATIONS,
        {
            "id": location.id,
            "name": location.name,
            "type": location.type.value,
            "address": dump(location.address),
            "coordinates": dump(location.coordinates),
            "capabilities": sorted(capability.value for capability in location.capabilities),
            "pickup_hours": dict(location.pickup_hours),
            "active": location.active,
        },
        key=["id"],
    )


def get_location(session: Session, location_id: str) -> Location | None:
    row = session.get(LocationRow, location_id)
    return None if row is None else _location(row)


def list_locations(session: Session) -> list[Location]:
    return [_location(row) for row in session.exec(select(LocationRow).order_by(col(LocationRow.id))).all()]


def _location(row: LocationRow) -> Location:
    return Location(
        id=row.id,
        name=row.name,
        type=LocationType(row.type),
        address=None if row.address is None else Address.model_validate(row.address),
        coordinates=None if row.coordinates is None else GeoPoint.model_validate(row.coordinates),
        capabilities={LocationCapability(value) for value in row.capabilities},
        pickup_hours=row.pickup_hours,
        active=row.active,
    )
