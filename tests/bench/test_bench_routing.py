"""The routing benchmark: figures, not timings, are asserted (a test never judges wall time)."""

from __future__ import annotations

import random

import pytest

from bench import routing
from omnibridge.routing import route
from omnibridge.routing.distance import Haversine
from omnibridge.routing.eligibility import check


def test_a_small_run_reports_quality_against_the_optimum_and_the_baseline() -> None:
    router, baseline = routing.measure(10, 40)
    assert (router["router"], baseline["router"]) == ("router", "naive baseline")
    for row in (router, baseline):
        assert row["orders"] == row["routed"] + row["partial"] + row["unroutable"] == 40
        assert row["exact_instances"] > 0
        assert 1.0 <= row["packages_vs_optimum"] <= row["worst_packages_vs_optimum"]
        assert 1.0 <= row["distance_vs_optimum"] <= row["worst_distance_vs_optimum"]
        assert row["route_per_s"] > 0
        assert row["route_p99_ms"] > 0
    assert router["exact_instances"] == baseline["exact_instances"]
    assert router["distance_vs_optimum"] <= baseline["distance_vs_optimum"]


def test_the_json_names_the_figures_the_issue_asks_for(monkeypatch: pytest.MonkeyPatch) -> None:
    measure = routing.measure
    monkeypatch.setattr(routing, "measure", lambda stores, count: measure(stores, 20))
    result = routing.run(quick=True)
    for key in ("packages_vs_optimum", "distance_vs_optimum", "worst_packages_vs_optimum", "route_per_s"):
        assert isinstance(result[key], float)
    assert [row["stores"] for row in result["rows"]] == [10, 10, 50, 50]


def test_the_optimum_and_the_naive_baseline_on_a_seeded_order() -> None:
    rng = random.Random(1)
    states = routing.network(10, rng)
    request = next(r for r in routing.orders(50, rng) if len(r.lines) >= 3)
    candidates = check(request, states, routing.RULES, Haversine()).candidates
    best = routing.optimum(request, candidates)
    assert best is not None
    by_id = {s.location.id: s.location for s in states}
    naive = routing.naive(request, candidates)
    assert routing.figures(request, naive, by_id) >= best
    decision = route(request, states, routing.RULES)
    router = {a.line_id: a.location_id for a in decision.allocations}
    assert routing.figures(request, router, by_id) == best
