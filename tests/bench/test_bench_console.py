"""The ``console`` benchmark runs (quick size) through the real app and reports its keys; never timed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench import console
from bench.__main__ import BENCHMARKS, main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return console.run(quick=True)


def test_it_loads_a_month_of_history_for_six_channels(result: dict[str, Any]) -> None:
    loaded = result["rows_loaded"]
    assert loaded["variants"] == 5_000
    assert loaded["channel_levels"] == 5_000 * 3 * 6
    assert loaded["push_outbox"] == 200 * 6 * 30


def test_it_reports_the_pages_and_the_baseline(result: dict[str, Any]) -> None:
    assert [row["page"] for row in result["rows"]] == ["overview", "sku_page", "baseline", "overview_under_load"]
    assert result["overview_p99_ms"] == result["rows"][0]["p99_ms"]
    assert result["sku_page_p99_ms"] == result["rows"][1]["p99_ms"]
    assert result["goal_met"] == (result["overview_p99_ms"] < 300)
    json.dumps(result)


def test_it_is_a_bench_command() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["nope"])
    assert exited.value.code == 2
    assert BENCHMARKS["console"] == "bench.console"


def test_the_overview_answers_correctly_under_write_load(result: dict[str, Any]) -> None:
    assert result["load_writes"] > 0
    assert result["under_load_correct"] is True
    assert result["overview_under_load_p99_ms"] == result["rows"][3]["p99_ms"]
    assert result["rows"][3]["requests"] >= 20
