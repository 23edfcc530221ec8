"""The pure Clover mapper: levels (rounded down), orders with one line per unit, refunds, money and time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.clover import mapper
from omnibridge.sdk import MapLevel
from omnibridge.sdk.channel import OrderEventKind, RestockType

MID = "TESTMERCHANT1"
AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
MODIFIED = 1772463600000  # 2026-03-02T15:00:00Z


def order(**overrides: Any) -> dict[str, Any]:
    lines = [
        {"id": "L1", "item": {"id": "ITEM1"}, "price": 2500, "refunded": False},
        {"id": "L2", "item": {"id": "ITEM1"}, "price": 2500, "refunded": True},
        {"id": "L3", "name": "Custom amount", "price": 100},
    ]
    body: dict[str, Any] = {
        "id": "ORDER1",
        "currency": "USD",
        "total": 5100,
        "paymentState": "PARTIALLY_REFUNDED",
        "state": "locked",
        "createdTime": MODIFIED - 5000,
        "modifiedTime": MODIFIED,
        "lineItems": {"elements": lines},
    }
    return body | overrides


@pytest.mark.parametrize(("quantity", "units"), [(127, 127), (160.5, 160), (0.99, 0), (-0.5, -1), (-3, -3)], ids=str)
def test_levels_are_rounded_down_to_sellable_units(quantity: float, units: int) -> None:
    item = {"id": "ITEM1", "sku": "TEE-1", "itemStock": {"item": {"id": "ITEM1"}, "quantity": quantity}}
    level = mapper.map_item_level(item, MID, AT).value
    assert level is not None
    assert (level.sku, level.location_ref, level.available, level.observed_at) == ("TEE-1", MID, units, AT)


def test_sku_falls_back_to_code_and_a_missing_stock_record_shows_zero_with_a_warning() -> None:
    result = mapper.map_item_level({"id": "ITEM2", "code": "0012345", "sku": " "}, MID, AT)
    assert result.value is not None
    assert (result.value.sku, result.value.available) == ("0012345", 0)
    assert [m.field_path for m in result.messages] == ["itemStock"]


def test_item_without_sku_or_code_is_skipped_with_the_reason() -> None:
    result = mapper.map_item_level({"id": "ITEM3", "name": "Gift card"}, MID, AT)
    assert result.skipped
    assert result.messages[0].level is MapLevel.ERROR
    assert "neither sku nor code" in result.messages[0].message


def test_deprecated_stock_count_is_used_when_quantity_is_absent() -> None:
    assert mapper.stock_quantity({"itemStock": {"stockCount": 4}}) == 4.0
    assert mapper.stock_quantity({"quantity": 2.5, "stockCount": 3}) == 2.5
    assert mapper.stock_quantity({"itemStock": {"quantity": True}}) is None


def test_units_of_one_item_form_one_line_and_refunded_units_become_refunds() -> None:
    result = mapper.map_order(order(), MID, {"ITEM1": "TEE-1"})
    assert result.value is not None
    event, refunds = result.value
    assert event.ref == "ORDER1"
    assert event.kind is OrderEventKind.COMPLETED
    assert event.occurred_at == datetime.fromtimestamp(MODIFIED / 1000, tz=UTC)
    assert [(ln.line_ref, ln.sku, ln.quantity, ln.location_ref, ln.unit_price) for ln in event.lines] == [
        ("L1", "TEE-1", 2, MID, "2500"),
        ("L3", None, 1, MID, "100"),
    ]
    assert (event.currency, event.total, event.status) == ("USD", "5100", "PARTIALLY_REFUNDED")
    assert [(r.ref, r.order_ref, [(ln.line_ref, ln.quantity, ln.restock_type) for ln in r.lines]) for r in refunds] == [
        ("ORDER1:L2", "ORDER1", [("L1", 1, RestockType.NO_RESTOCK)])
    ]
    restocked = mapper.map_order(order(), MID, {"ITEM1": "TEE-1"}, restock_refunds=True).value
    assert restocked is not None
    assert restocked[1][0].lines[0].restock_type is RestockType.RETURN


def test_group_line_ref_depends_neither_on_element_order_nor_on_prices() -> None:
    shuffled = order()
    shuffled["lineItems"]["elements"].reverse()
    result = mapper.map_order(shuffled, MID, {"ITEM1": "TEE-1"}).value
    assert result is not None
    assert sorted(ln.line_ref for ln in result[0].lines) == ["L1", "L3"]
    other_price = order(
        lineItems={
            "elements": [
                {"id": "L5", "item": {"id": "ITEM1"}, "price": 2000},
                {"id": "L4", "item": {"id": "ITEM1"}, "price": 2500},
            ]
        }
    )
    grouped = mapper.map_order(other_price, MID, {"ITEM1": "TEE-1"}).value
    assert grouped is not None
    assert [(ln.line_ref, ln.quantity, ln.unit_price) for ln in grouped[0].lines] == [("L4", 2, "2500")]


def test_unknown_item_keeps_the_line_without_sku_and_warns() -> None:
    result = mapper.map_order(order(), MID, {})
    assert result.value is not None
    assert [ln.sku for ln in result.value[0].lines] == [None, None]
    assert {m.field_path for m in result.messages} == {"lineItems.0.item", "lineItems.1.item"}


def test_unit_quantity_is_thousandths_and_a_fraction_leaves_the_line_out() -> None:
    lines = [
        {"id": "W1", "item": {"id": "ITEM1"}, "price": 800, "unitQty": 3000},
        {"id": "W2", "item": {"id": "ITEM1"}, "price": 800, "unitQty": 1500},
    ]
    result = mapper.map_order(order(lineItems={"elements": lines}), MID, {"ITEM1": "CHEESE"})
    assert result.value is not None
    assert [(ln.line_ref, ln.quantity) for ln in result.value[0].lines] == [("W1", 3)]
    assert "unitQty 1500 is not a whole number" in result.messages[0].message


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"paymentState": "OPEN", "state": "open"}, "not paid"),
        ({"modifiedTime": None, "createdTime": None}, "without modifiedTime"),
        ({"lineItems": {"elements": [{"price": 1}]}}, "line item without an id"),
    ],
)
def test_orders_that_cannot_be_reported_are_skipped_with_the_reason(overrides: dict[str, Any], reason: str) -> None:
    result = mapper.map_order(order(**overrides), MID, {})
    assert result.skipped
    assert reason in result.messages[0].message


def test_completed_means_paid_refunded_or_locked() -> None:
    assert mapper.is_completed({"paymentState": "PAID"})
    assert mapper.is_completed({"paymentState": "REFUNDED"})
    assert mapper.is_completed({"paymentState": "OPEN", "state": "locked"})
    assert not mapper.is_completed({"paymentState": "OPEN", "state": "open"})
    assert not mapper.is_completed("order")


def test_time_conversions() -> None:
    assert mapper.ms_to_datetime(MODIFIED) == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert mapper.ms_to_datetime("1772463600000") is None
    assert mapper.datetime_to_ms(datetime(2026, 3, 2, 15, 0, tzinfo=UTC)) == MODIFIED


def test_merchant_is_the_only_location_and_errors_read_their_message() -> None:
    location = mapper.map_merchant({"id": MID, "name": "Corner shop"}, MID)
    assert (location.external_id, location.name, location.active) == (MID, "Corner shop", True)
    assert mapper.map_merchant({}, MID).name == MID
    assert mapper.clover_message({"message": "Item not found"}) == "Item not found"
    assert mapper.clover_message(["nope"]) == ""


def test_observed_item_is_a_hint_even_without_stock() -> None:
    event = mapper.map_observed_item({"id": "ITEM1", "sku": "TEE-1", "itemStock": {"quantity": 4.5}}, MID, AT).value
    assert event is not None
    assert (event.sku, event.available, event.item_ref) == ("TEE-1", 4, "ITEM1")
    bare = mapper.map_observed_item({"id": "ITEM9"}, MID, AT).value
    assert bare is not None
    assert (bare.sku, bare.available) == (None, None)
