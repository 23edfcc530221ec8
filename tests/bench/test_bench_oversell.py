"""The oversell benchmark: its report adds up, strict never oversells, and the simulation's rules hold on
hand-made markets where the outcome is known."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import oversell
from bench._exposure import Mode, Outcome, Simulation
from bench._market import Market, Order, build_market
from omnibridge.config.availability import AvailabilityPolicy
from omnibridge.store import open_store

SHARED = AvailabilityPolicy()
STRICT = AvailabilityPolicy.model_validate({"mode": "strict", "channels": {"web": {"share": 0.6}}})


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return oversell.run(quick=True)


def _simulate(tmp_path: Path, market: Market, mode: Mode) -> Outcome:
    with open_store(f"sqlite:///{tmp_path / f'{mode.name}.db'}") as store:
        return Simulation(market, mode, store, seed=1).run()


def _last_unit_market(gap_s: float) -> Market:
    """One unit at the warehouse; the web store and the marketplace each take an order for it, ``gap_s`` apart."""
    return Market(
        seed=0,
        demand_factor=2.0,
        stock={("LOW-0000", "wh"): 1},
        orders=(Order(0, 100.0, "web", "LOW-0000", 1), Order(1, 100.0 + gap_s, "marketplace", "LOW-0000", 1)),
    )


def test_report_has_the_four_runs_and_their_metrics(report: dict[str, Any]) -> None:
    assert report["benchmark"] == "oversell"
    assert [row["run"] for row in report["rows"]] == ["periodic-15min", "periodic-5min", "shared", "strict"]
    assert report["notes"]
    assert report["title"]
    for name, metrics in report["runs"].items():
        assert set(metrics) == {"oversold_units", "lost_sales_units", "orders", "accepted_units"}, name
    assert any(f"seed {oversell.SEED}" in note for note in report["notes"])
    assert any("time compressed" in note for note in report["notes"])


def test_every_run_replays_the_same_orders_and_the_figures_add_up(report: dict[str, Any]) -> None:
    market = build_market(skus=100, seed=oversell.SEED, demand_factor=oversell.DEMAND_FACTOR)
    for row in report["rows"]:
        assert row["orders"] == len(market.orders)
        assert row["accepted_units"] + row["refused_units"] == market.demand_units
        assert 0 <= row["lost_sales_units"] <= row["refused_units"]
        assert 0 <= row["oversold_units"] <= row["accepted_units"]
        assert row["accepted_units"] <= market.stock_units + row["oversold_units"]


def test_strict_never_oversells_and_the_comparison_matches_the_rows(report: dict[str, Any]) -> None:
    runs = report["runs"]
    assert runs["strict"]["oversold_units"] == 0
    baseline = runs["periodic-15min"]["oversold_units"]
    expected = round(100.0 * runs["shared"]["oversold_units"] / baseline, 2) if baseline else None
    assert report["shared_oversold_pct_of_15min"] == expected


def test_every_accepted_unit_is_a_commitment_in_the_ledger(tmp_path: Path) -> None:
    market = build_market(skus=20, seed=3, demand_factor=2.0)
    for mode in oversell.modes():
        outcome = _simulate(tmp_path, market, mode)
        assert outcome.committed_units == outcome.accepted_units, mode.name


def test_a_periodic_sync_oversells_the_last_unit_that_event_driven_propagation_protects(tmp_path: Path) -> None:
    market = _last_unit_market(gap_s=60.0)
    periodic = _simulate(tmp_path, market, Mode("periodic", SHARED, sync_every_s=900.0))
    assert (periodic.accepted_units, periodic.oversold_units, periodic.lost_sales_units) == (2, 1, 0)
    shared = _simulate(tmp_path, market, Mode("shared", SHARED))
    assert (shared.accepted_units, shared.oversold_units, shared.lost_sales_units) == (1, 0, 0)
    assert shared.refused_units == 1


def test_inside_the_propagation_window_shared_oversells_and_strict_does_not(tmp_path: Path) -> None:
    market = _last_unit_market(gap_s=0.05)
    shared = _simulate(tmp_path, market, Mode("shared", SHARED))
    assert shared.oversold_units == 1
    strict = _simulate(tmp_path, market, Mode("strict", STRICT))
    assert strict.oversold_units == 0
    assert strict.accepted_units + strict.refused_units == 2
