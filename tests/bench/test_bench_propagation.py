"""The propagation benchmark on the demo's emulators: every sale is seen on the other channel and the figures
are consistent (never a check on how long anything took)."""

from __future__ import annotations

from typing import Any

import pytest

from bench import propagation

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return propagation.run(quick=True)


def test_report_has_a_row_and_the_metrics_per_rate(report: dict[str, Any]) -> None:
    assert report["benchmark"] == "propagation"
    assert [row["rate_per_s"] for row in report["rows"]] == list(propagation.RATES)
    assert set(report["rates"]) == {str(rate) for rate in propagation.RATES}
    for metrics in report["rates"].values():
        assert set(metrics) == {"p50_ms", "p99_ms", "max_ms", "sales", "throttled_requests"}
    assert any("p99 <= 1000 ms" in note for note in report["notes"])


def test_every_sale_is_counted_once(report: dict[str, Any]) -> None:
    for row in report["rows"]:
        assert row["sales"] == int(row["rate_per_s"] * propagation.QUICK_SECONDS)
        assert row["seen"] + row["timed_out"] == row["sales"]
        assert row["error"] is None


def test_the_figures_are_consistent(report: dict[str, Any]) -> None:
    for row in report["rows"]:
        if row["seen"]:
            assert 0 < row["p50_ms"] <= row["p99_ms"] <= row["max_ms"]
        else:
            assert row["p50_ms"] is row["p99_ms"] is row["max_ms"] is None
        assert row["throttled_requests"] >= 0
        assert row["api_calls"] > 0
        assert report["rates"][str(row["rate_per_s"])]["p99_ms"] == row["p99_ms"]


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert propagation.percentile(values, 99) == 99.0
    assert propagation.percentile(values, 50) == 50.0
    assert propagation.percentile([7.0], 99) == 7.0
