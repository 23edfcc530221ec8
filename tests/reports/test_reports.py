"""Every report against figures worked out by hand from :mod:`.figures` (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from support import TickingClock

from omnibridge.reports import REPORTS, Grouping, run_report
from omnibridge.store import Store

from .figures import LATER, PERIOD, build, hours


@pytest.fixture
def built(store: Store, clock: TickingClock) -> Store:
    build(store)
    clock.now = LATER
    return store


def rows(store: Store, name: str, by: Grouping | None = None) -> list[tuple[object, ...]]:
    return list(run_report(store, name, PERIOD, by).rows)


def test_every_report_is_registered_in_order() -> None:
    assert list(REPORTS) == [
        "order-accuracy",
        "time-to-ship",
        "delivery-speed",
        "sync-lag",
        "stock-outs",
        "sell-through",
        "returns",
    ]


def test_order_accuracy(built: Store) -> None:
    # web: 1 shipped in full, 2 oversold and cancelled, 3 still open; web:9 is before the period
    assert rows(built, "order-accuracy") == [
        ("pos", 1, 0, 1, 0, 0, 1.0, 0.0, 0.0),
        ("web", 3, 1, 1, 1, 1, 0.5, 0.3333, 0.3333),
    ]
    assert rows(built, "order-accuracy", Grouping.SKU) == [
        ("A", 2, 0, 1, 1, 1, 0.5, 0.5, 0.5),
        ("B", 2, 1, 1, 0, 0, 1.0, 0.0, 0.0),
    ]
    table = run_report(built, "order-accuracy", PERIOD, Grouping.LOCATION)
    assert [(r[0], r[1]) for r in table.rows] == [("store", 1), ("wh", 3)]
    assert table.series[0].points == (("store", 1.0), ("wh", 0.5))


def test_time_to_ship(built: Store) -> None:
    # s1: label 4 h after web:1, first scan at 10 h; s2: label 2 h after web:3, scanned 8 h after it
    assert rows(built, "time-to-ship") == [("web", 2, 3.0, 4.0, 2, 9.0, 10.0)]
    assert rows(built, "time-to-ship", Grouping.LOCATION) == [
        ("store", 1, 2.0, 2.0, 1, 8.0, 8.0),
        ("wh", 1, 4.0, 4.0, 1, 10.0, 10.0),
    ]


def test_delivery_speed(built: Store) -> None:
    # s1 first scanned at 10 h, delivered at 58 h: 2 days; s2 not delivered yet; s9 scanned before the period
    assert rows(built, "delivery-speed") == [("web", 2, 1, 0.5, 2.0, 2.0, 2.0)]


def test_sync_lag(built: Store) -> None:
    assert rows(built, "sync-lag") == [
        ("pos", 2, 1, 0, 1, 1.0, 1.0, 0.0),
        ("web", 3, 2, 1, 0, 3.0, 4.0, 0.3333),
    ]
    assert rows(built, "sync-lag", Grouping.SKU) == [
        ("A", 3, 3, 0, 0, 2.333, 4.0, 0.0),
        ("B", 2, 0, 1, 1, None, None, 0.5),
    ]


def test_stock_outs_and_lost_sales(built: Store) -> None:
    # A at wh: all 5 committed at 12 h, 3 received at 36 h (24 h out); B sold out at 144 h (24 h to the end)
    assert rows(built, "stock-outs") == [("A", 1, 1, 24.0, 1, 1), ("B", 1, 1, 24.0, 0, 0)]
    assert rows(built, "stock-outs", Grouping.LOCATION) == [("wh", 2, 2, 48.0, 1, 1)]


def test_stock_outs_stop_counting_at_now(built: Store, clock: TickingClock) -> None:
    clock.now = hours(150)  # B has been out for 6 h, the week is not over
    assert rows(built, "stock-outs")[1] == ("B", 1, 1, 6.0, 0, 0)


def test_sell_through(built: Store) -> None:
    # A: 2 sold, 3 received, 6 left; B: 2 sold, none left
    assert rows(built, "sell-through", Grouping.SKU) == [("A", 2, 3, 6, 0.25), ("B", 2, 0, 0, 1.0)]
    assert rows(built, "sell-through", Grouping.LOCATION) == [("wh", 4, 3, 6, 0.4)]
    # per channel: its units sold over all the stock there was (4 sold + 6 left)
    assert rows(built, "sell-through") == [("pos", 2, 0, None, 0.2), ("web", 2, 0, None, 0.2)]


def test_returns(built: Store) -> None:
    # r3 was rejected and r4 raised before the period: neither counts
    assert rows(built, "returns") == [
        ("pos", 3, 1, 0.3333, "(none given): 1"),
        ("web", 2, 1, 0.5, "too small: 1"),
    ]
    table = run_report(built, "returns", PERIOD, Grouping.SKU)
    assert table.rows == (("A", 2, 1, 0.5, "too small: 1"), ("B", 3, 1, 0.3333, "(none given): 1"))
    assert table.series[0].points == (("(none given)", 1.0), ("too small", 1.0))


def test_an_empty_store_gives_empty_tables(store: Store) -> None:
    for name in REPORTS:
        assert run_report(store, name, PERIOD).rows == ()


def test_a_grouping_a_report_does_not_support_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="cannot be grouped by sku; it supports: channel, location"):
        run_report(store, "time-to-ship", PERIOD, Grouping.SKU)
