"""The propagation benchmark in the every-vendor world: its JSON shape, every sale counted once, figures
consistent (never a check on how long anything took)."""

from __future__ import annotations

from typing import Any

import pytest

from bench import propagation
from bench._worlds import WORLDS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return propagation.run(quick=True)


def test_one_run_per_rate_with_the_issues_keys(report: dict[str, Any]) -> None:
    runs = report["runs"]
    assert [run["rate"] for run in runs] == list(propagation.RATES)
    for run in runs:
        assert run["error"] is None
        assert {"rate", "made", "seen", "refusals", "channels"} <= set(run)
        assert set(run["channels"]) == set(WORLDS["every"])
        for figures in run["channels"].values():
            assert {"p50_ms", "p99_ms", "max_ms", "floor_p99_ms"} <= set(figures)
            assert figures["floor_formula"].endswith(f"= {figures['floor_p99_ms']:.0f} ms")


def test_every_sale_is_counted_once(report: dict[str, Any]) -> None:
    for run in report["runs"]:
        assert run["made"] == int(run["rate"] * propagation.QUICK_SECONDS)
        assert 0 <= run["seen"] <= run["made"]
        assert sum(f["sales"] for f in run["pairs"].values()) == sum(f["sales"] for f in run["channels"].values())
        assert run["refusals"] == sum(run["refusals_by_channel"].values()) >= 0


def test_the_figures_are_consistent(report: dict[str, Any]) -> None:
    for run in report["runs"]:
        for figures in [*run["channels"].values(), *run["pairs"].values(), run["all"]]:
            if figures["p50_ms"] is None:
                assert figures["p99_ms"] is figures["max_ms"] is None
            else:
                assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    assert any("floor" in note for note in report["notes"])
    assert any("0 refusals" in note for note in report["notes"])
