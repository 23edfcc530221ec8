"""The canonical model validates what it promises and its reference page is current."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from omnibridge.models import (
    Address,
    ChannelBinding,
    GeoPoint,
    InventoryPosition,
    Location,
    LocationCapability,
    Money,
    MovementKind,
    Order,
    OrderLine,
    OrderStatus,
    StockMovement,
)
from omnibridge.models.reference import render_reference

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def movement(kind: MovementKind, quantity: int, **extra: object) -> StockMovement:
    fields: dict[str, object] = {
        "idempotency_key": "k1",
        "source": "manual",
        "kind": kind,
        "sku": "SKU-1",
        "location_id": "wh",
        "quantity": quantity,
        "occurred_at": NOW,
    }
    fields.update(extra)
    return StockMovement.model_validate(fields)


def test_reference_page_is_current() -> None:
    page = Path(__file__).parents[2] / "docs" / "model.md"
    assert page.read_text() == render_reference(), (
        "docs/model.md is out of date: python -m omnibridge.models.reference > docs/model.md"
    )


def test_available_is_on_hand_less_committed_reserved_and_safety_stock() -> None:
    position = InventoryPosition(sku="A", location_id="wh", on_hand=10, committed=3, reserved=2, safety_stock=1)
    assert position.available == 4
    assert position.model_dump()["available"] == 4


@pytest.mark.parametrize(
    ("kind", "quantity", "message"),
    [
        (MovementKind.SALE, 0, "needs a positive quantity"),
        (MovementKind.RECEIPT, -3, "needs a positive quantity"),
        (MovementKind.ADJUSTMENT, 0, "non-zero"),
        (MovementKind.COUNT, -1, "cannot be negative"),
    ],
)
def test_movement_quantity_rules(kind: MovementKind, quantity: int, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        movement(kind, quantity)


def test_signed_adjustment_and_zero_count_are_valid() -> None:
    assert movement(MovementKind.ADJUSTMENT, -4).quantity == -4
    assert movement(MovementKind.COUNT, 0).quantity == 0


def test_movement_time_must_carry_a_timezone() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        movement(MovementKind.SALE, 1, occurred_at=datetime(2026, 1, 1, 12, 0))


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        movement(MovementKind.SALE, 1, colour="red")


def test_pickup_hours_are_checked() -> None:
    store = Location(
        id="st-1",
        name="Downtown",
        type="store",
        capabilities={LocationCapability.PICKUP},
        pickup_hours={"mon": "09:00-18:00", "sun": "closed"},
    )
    assert store.pickup_hours["sun"] == "closed"
    with pytest.raises(ValidationError, match="HH:MM-HH:MM"):
        Location(id="st-2", name="x", type="store", pickup_hours={"mon": "9am-5pm"})
    with pytest.raises(ValidationError, match="unknown weekday"):
        Location(id="st-3", name="x", type="store", pickup_hours={"monday": "09:00-17:00"})


def test_codes_are_validated() -> None:
    with pytest.raises(ValidationError):
        Money(amount=Decimal("1.00"), currency="usd")
    with pytest.raises(ValidationError):
        Address(country="USA")


def test_distance_between_two_stores() -> None:
    new_york = GeoPoint(lat=40.7128, lon=-74.0060)
    boston = GeoPoint(lat=42.3601, lon=-71.0589)
    assert 300 < new_york.distance_km(boston) < 310
    assert new_york.distance_km(new_york) == 0


def test_order_needs_lines_and_tracks_open_quantity() -> None:
    line = OrderLine(line_id="1", sku="A", quantity=5, cancelled_quantity=1, fulfilled_quantity=2)
    assert line.open_quantity == 2
    with pytest.raises(ValidationError):
        Order(
            id="o1",
            channel="web",
            external_id="1001",
            status=OrderStatus.ACCEPTED,
            lines=[],
            placed_at=NOW,
            updated_at=NOW,
        )


def test_binding_requires_ids() -> None:
    with pytest.raises(ValidationError):
        ChannelBinding(channel="web", record="variant", external_id="", internal_id="SKU-1")
