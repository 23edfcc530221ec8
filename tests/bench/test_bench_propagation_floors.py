"""The propagation floors, from settings constructed here (pure functions, no world, no clock)."""

from __future__ import annotations

import pytest

from bench._floors import WritePath, channel_floor, cycle_s, uniform_p99_ms
from bench._propagation_run import percentile
from bench._worlds import WORLDS, Knobs, assign_positions, floors
from omnibridge.demo.world import AMAZON, CLOVER, POS, WEB

DELAY = (0.1, 0.3)
KNOBS = Knobs(
    webhook_delay_s={WEB: DELAY, POS: DELAY, AMAZON: DELAY, CLOVER: DELAY},
    latency_ms={WEB: (50.0, 150.0), POS: (50.0, 150.0), AMAZON: (50.0, 150.0), CLOVER: (50.0, 150.0)},
    shopify_restore_per_s=50.0,
    shopify_mutation_cost=10.0,
    square_requests_per_s=10.0,
    amazon_patch_per_s=5.0,
    amazon_listing_delay_s=5.0,
    amazon_feed_processing_s=10.0,
    clover_requests_per_s=16.0,
)


def test_uniform_p99() -> None:
    assert uniform_p99_ms((100.0, 300.0)) == pytest.approx(298.0)
    assert uniform_p99_ms((50.0, 50.0)) == 50.0


def test_no_cycle_while_the_limit_carries_the_changes() -> None:
    assert cycle_s(16.0, 16.0, 60) == 0.0
    assert cycle_s(5.0, 16.0, 60) == 0.0


def test_the_cycle_solves_the_fixed_point() -> None:
    c = cycle_s(32.0, 16.0, 60)
    assert 16.0 * c == pytest.approx(60 * (1 - 2.718281828459045 ** (-32.0 * c / 60)), rel=1e-6)
    # far beyond the limit every item has a change pending each cycle: the cycle tends to N / mu
    assert cycle_s(10_000.0, 16.0, 60) == pytest.approx(60 / 16, rel=1e-3)


def test_a_floor_is_notification_write_and_processing_with_its_formula() -> None:
    floor = channel_floor(
        "amazon",
        notify_p99_ms={"web": 298.0, "pos": 100.0},
        write_p99_ms=149.0,
        paths=[WritePath("patch", 1, 5000.0, 5.0, "5/s")],
        changes_per_s=2.0,
        items=30,
    )
    assert floor.p99_ms == 298.0 + 149.0 + 5000.0
    assert floor.formula.startswith("notify(web) 298 ms + 1 x write 149 ms + processing 5000 ms + no queueing")
    assert floor.formula.endswith("= 5447 ms")


def test_the_fastest_write_path_sets_the_floor_and_queueing_counts() -> None:
    patch = WritePath("patch", 1, 5000.0, 5.0, "5/s")
    feed = WritePath("feed", 3, 15000.0, None, "one feed")
    slow = channel_floor(
        "amazon", notify_p99_ms={"web": 298.0}, write_p99_ms=149.0, paths=[patch, feed], changes_per_s=1000.0, items=300
    )
    queue_ms = 0.99 * cycle_s(1000.0, 5.0, 300) * 1000
    assert queue_ms > 15000.0 + 2 * 149.0  # patches would queue for a minute: the feed is faster
    assert slow.p99_ms == pytest.approx(298.0 + 3 * 149.0 + 15000.0)
    assert "[feed]" in slow.formula
    fast = channel_floor(
        "amazon", notify_p99_ms={"web": 298.0}, write_p99_ms=149.0, paths=[patch, feed], changes_per_s=10.0, items=30
    )
    assert fast.p99_ms == pytest.approx(298.0 + 149.0 + 5000.0 + 0.99 * cycle_s(10.0, 5.0, 30) * 1000, abs=0.1)
    assert "queue 0.99 x C" in fast.formula
    assert "[patch]" in fast.formula


def test_clover_queues_when_its_16_requests_cannot_carry_the_changes() -> None:
    floor = channel_floor(
        "clover",
        notify_p99_ms={"web": 298.0},
        write_p99_ms=149.0,
        paths=[WritePath("item_stock", 1, 0.0, 16.0, "16 requests/s")],
        changes_per_s=40.0,
        items=60,
    )
    assert floor.p99_ms == pytest.approx(447.0 + 0.99 * cycle_s(40.0, 16.0, 60) * 1000, abs=0.1)
    assert "40 changes/s over 60 items > 16 items/s" in floor.formula


def test_every_position_is_sold_by_exactly_one_channel_showing_it() -> None:
    assigned = assign_positions("every", seed=5)
    positions = [p for ps in assigned.values() for p in ps]
    assert len(positions) == len(set(positions)) == 60 * 4  # 60 SKUs at four locations
    for channel, ps in assigned.items():
        assert all(location in WORLDS["every"][channel] for _, location in ps)


def test_world_floors_use_each_channels_limits() -> None:
    assigned = {
        WEB: [("A", "den-wh"), ("B", "boulder")],
        POS: [("C", "boulder")],
        AMAZON: [("D", "den-wh")],
        CLOVER: [("E", "golden")],
    }
    result = floors("every", 100.0, assigned, KNOBS)
    assert set(result) == {WEB, POS, AMAZON}  # nobody but Clover sells at Golden
    # web is shown by Amazon (A at den-wh) and POS (B at boulder): 25 sales/s each, half of them its den-wh one
    assert "12.5 changes/s over 1 items > 5 items/s" in result[AMAZON].formula
    assert result[POS].p99_ms == pytest.approx(298.0 + 149.0)
    # Shopify shows POS, Amazon and Clover sales... but only where it shows the location (all of them here)
    assert "75 changes/s" in result[WEB].formula


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 99) == 99.0
    assert percentile(values, 50) == 50.0
    assert percentile([7.0], 99) == 7.0


def _figures(p99: float | None, floor: float, *, sales: int = 10, seen: int = 10) -> dict[str, object]:
    return {"p50_ms": p99, "p99_ms": p99, "max_ms": p99, "floor_p99_ms": floor, "sales": sales, "seen": seen}


def test_goals_are_judged_against_the_issue_and_each_floor() -> None:
    from bench.propagation import goals

    run = {
        "rate": 100,
        "made": 40,
        "seen": 39,
        "refusals": 0,
        "error": None,
        "channels": {
            WEB: _figures(900.0, 447.0),
            POS: _figures(1200.0, 900.0),
            AMAZON: _figures(8000.0, 5447.0, seen=9),
        },
    }
    lines = goals(run)
    assert "100/s every sale seen: NOT met (39 of 40)" in lines
    assert "100/s 0 refusals: met (0)" in lines
    assert "100/s p99 to web <= 1000 ms: met (900.0)" in lines
    assert "100/s p99 to pos <= 1000 ms: NOT met (1200.0)" in lines
    assert "100/s p99 to web <= 1.5 x floor 447 ms: NOT met (900.0 ms, 2.01x)" in lines
    assert "100/s p99 to pos <= 1.5 x floor 900 ms: met (1200.0 ms, 1.33x)" in lines
    # a channel that did not show every sale misses its goal whatever the p99 of those it showed
    assert "100/s p99 to amazon <= 1.5 x floor 5447 ms: NOT met (8000.0 ms, 1.47x)" in lines


def test_world_is_refused_for_other_benchmarks(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.__main__ import main

    with pytest.raises(SystemExit):
        main(["ledger", "--world", "two"])
    assert "--world applies to the propagation benchmark only" in capsys.readouterr().err


def test_engine_is_refused_for_other_benchmarks(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.__main__ import main

    with pytest.raises(SystemExit):
        main(["ledger", "--engine", "inline"])
    assert "--engine applies to the propagation benchmark only" in capsys.readouterr().err


def test_the_watchdog_emits_the_figures_so_far_marked_stopped() -> None:
    import threading

    from bench._propagation_run import _watchdog

    emitted: list[dict[str, object]] = []
    fired = threading.Event()

    def emit(row: dict[str, object]) -> None:
        emitted.append(row)
        fired.set()

    assert _watchdog(0.01, lambda: {"made": 3, "stopped": None}, None) is None
    timer = _watchdog(0.01, lambda: {"made": 3, "stopped": None}, emit)
    assert timer is not None
    assert fired.wait(10)
    assert emitted[0]["made"] == 3
    assert str(emitted[0]["stopped"]).startswith("stopped 0.01 s after the first sale")
