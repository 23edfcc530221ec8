"""The pickup decision over plain inputs: who qualifies, each store's first window with a place and the step
that found it, the answer's fallback (first window, later today, a later day, the next store, unavailable), and
a one-line reason for every location left out."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime, timedelta

import pytest
from pickup_support import CUSTOMER, LOCATIONS, MONDAY_0900, NY, SOHO, store

from omnibridge.pickup.options import PickupOptions, PickupRequest, StoreStock, decide
from omnibridge.pickup.rules import PickupRules, StorePickup

RULES = PickupRules(radius_km=50, horizon_days=1, defaults=StorePickup(60, 2, 30))
TEN, ELEVEN = datetime(2026, 12, 7, 15, tzinfo=UTC), datetime(2026, 12, 7, 16, tzinfo=UTC)


def ask(
    stock: dict[str, int] | None = None,
    booked: dict[tuple[str, datetime], int] | None = None,
    *,
    quantity: int = 2,
    rules: PickupRules = RULES,
    curbside: bool = False,
    excluded: frozenset[str] = frozenset(),
    now: datetime = MONDAY_0900,
    safety: int = 0,
) -> PickupOptions:
    units = {location.id: 5 for location in LOCATIONS} | (stock or {})
    stores = [StoreStock(location, units[location.id], safety, NY) for location in LOCATIONS]
    request = PickupRequest("TENT", quantity, CUSTOMER, now, curbside, excluded)
    return decide(request, stores, rules, booked or {})


def reasons(found: PickupOptions) -> dict[str, str]:
    return {left.location_id: left.reason for left in found.left_out}


def test_every_qualifying_store_nearest_first_with_its_first_window_and_why_the_others_are_left_out() -> None:
    found = ask()
    assert [(o.location_id, o.step, o.window.start) for o in found.stores] == [
        ("soho", "first_window", TEN),
        ("bk", "first_window", TEN),
        ("nwk", "first_window", TEN),
    ]
    assert found.fallback == "first_window"
    assert found.stores[0].free == 2
    assert reasons(found) == {
        "phl": "too far: 129.6 km, radius 50 km",
        "wh": "does not offer pickup (capabilities: ships)",
        "nowhere": "has no coordinates: add 'coordinates:' (lat, lon) to measure how far it is",
    }
    assert found.message == "SOHO (1.3 km): Mon 2026-12-07 10:00-11:00 (America/New_York)"


def test_a_full_first_window_falls_back_to_a_later_window_the_same_day() -> None:
    found = ask(booked={("soho", TEN): 2})
    assert (found.stores[0].location_id, found.stores[0].window.start) == ("soho", ELEVEN)
    assert found.fallback == found.stores[0].step == "later_window_today"


def test_a_full_day_falls_back_to_the_next_day() -> None:
    found = ask(booked={("soho", TEN): 2, ("soho", ELEVEN): 3})
    assert found.stores[0].window.start == TEN + timedelta(days=1)
    assert found.fallback == "later_day"


def test_prep_time_moves_the_first_window_and_after_closing_the_first_window_is_tomorrows() -> None:
    found = ask(now=MONDAY_0900 + timedelta(minutes=31))  # 09:31 + 30 min prep: 10:00 is too soon
    assert (found.stores[0].window.start, found.stores[0].step) == (ELEVEN, "first_window")
    evening = ask(now=MONDAY_0900 + timedelta(hours=8))
    assert (evening.stores[0].window.start, evening.stores[0].step) == (TEN + timedelta(days=1), "first_window")


def test_a_store_full_through_the_horizon_falls_back_to_the_next_store_by_distance() -> None:
    full = {("soho", TEN + timedelta(days=d, hours=h)): 2 for d in (0, 1) for h in (0, 1)}
    found = ask(booked=full)
    assert found.stores[0].location_id == "bk"
    assert found.fallback == "next_store"
    assert reasons(found)["soho"] == "full: all 4 windows booked (2 per window, today and tomorrow)"


def test_no_stock_after_the_safety_stock_shows_available_against_asked() -> None:
    found = ask({"soho": 1}, safety=2)
    assert reasons(found)["soho"] == "no stock: 1 available after safety stock 2, 2 asked"
    assert found.fallback == "next_store"


def test_a_store_with_no_window_left_in_the_horizon_is_closed() -> None:
    weekend = SOHO.model_copy(update={"pickup_hours": {"sat": "10:00-12:00"}})
    request = PickupRequest("TENT", 1, CUSTOMER, MONDAY_0900)
    found = decide(request, [StoreStock(weekend, 5, 0, NY)], RULES, {})
    assert found.left_out[0].reason == "closed: no window starts after its 30 min prep time (today and tomorrow)"
    assert found.fallback == "unavailable"


def test_curbside_needs_a_store_that_offers_it_and_excluded_stores_are_left_out() -> None:
    found = ask(curbside=True)
    assert [o.location_id for o in found.stores] == ["soho"]
    assert reasons(found)["bk"] == "does not offer curbside (capabilities: pickup)"
    rejected = ask(excluded=frozenset({"soho"}))
    assert rejected.stores[0].location_id == "bk"
    assert rejected.fallback == "next_store"
    assert reasons(rejected)["soho"].startswith("excluded")


def test_nothing_qualifies_it_is_not_available_and_shipping_is_only_reported_as_the_alternative() -> None:
    empty = {location.id: 0 for location in LOCATIONS}
    found = ask(empty)
    assert (found.stores, found.fallback, found.alternative) == ((), "unavailable", None)
    assert (
        found.message == "not available for pickup: no store within 50 km can hand over 2 x TENT (today and tomorrow)"
    )
    shipping = ask(empty, rules=replace(RULES, ship_if_unavailable=True))
    assert (shipping.stores, shipping.fallback, shipping.alternative) == ((), "unavailable", "ship")
    assert "the policy's alternative is shipping" in shipping.message


def test_an_inactive_store_and_one_without_pickup_hours_are_left_out() -> None:
    request = PickupRequest("TENT", 1, CUSTOMER, MONDAY_0900)
    closed = store("closed", 40.72, -74.0, hours={"mon": "closed"})
    gone = SOHO.model_copy(update={"active": False})
    found = decide(request, [StoreStock(closed, 5, 0, NY), StoreStock(gone, 5, 0, NY)], RULES, {})
    assert reasons(found) == {"closed": "has no pickup_hours", "soho": "inactive"}


def test_a_stores_own_window_length_and_capacity_apply() -> None:
    rules = replace(RULES, stores={"soho": StorePickup(window_minutes=30, capacity_per_window=1, prep_minutes=0)})
    found = ask(booked={("soho", TEN): 1}, rules=rules)
    soho = found.stores[0]
    assert (soho.window.start, soho.window.end - soho.window.start) == (
        TEN + timedelta(minutes=30),
        timedelta(minutes=30),
    )


def test_the_answer_is_frozen_and_its_json_names_stores_windows_and_reasons() -> None:
    found = ask()
    with pytest.raises(FrozenInstanceError):
        found.fallback = "unavailable"  # type: ignore[misc]
    document = json.loads(json.dumps(found.to_json()))
    assert document["fallback"] == "first_window"
    assert document["stores"][0] == {
        "location_id": "soho",
        "name": "SOHO",
        "distance_km": 1.3,
        "window_start": "2026-12-07T15:00:00Z",
        "window_end": "2026-12-07T16:00:00Z",
        "local_window": "Mon 2026-12-07 10:00-11:00 (America/New_York)",
        "step": "first_window",
        "available": 5,
        "free_places": 2,
    }
    assert {"location_id": "phl", "name": "PHL", "rule": "too_far", "reason": "too far: 129.6 km, radius 50 km",
            "distance_km": 129.6} in document["left_out"]  # fmt: skip
