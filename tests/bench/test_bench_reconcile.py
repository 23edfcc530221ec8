"""The ``reconcile`` benchmark runs (quick size) and its figures are consistent; never timed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench import reconcile
from bench.__main__ import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return reconcile.run(quick=True)


def test_both_methods_find_exactly_the_planted_diffs(result: dict[str, Any]) -> None:
    assert result["skus"] == 5_000
    assert result["levels"] == 5_000 * 3 * 4
    assert result["agree"] is True
    sqlite = [row for row in result["rows"] if row["backend"] == "sqlite"]
    assert [row["method"] for row in sqlite] == ["diff_channels", "sql"]
    for row in sqlite:
        assert row["diffs"] == row["planted"] == result["diffs"]
    # ~5% planted, seeded: a few thousand of 60,000
    assert 0.04 * result["levels"] < result["diffs"] < 0.06 * result["levels"]


def test_figures_are_reported_at_the_top_level(result: dict[str, Any]) -> None:
    rows = {row["method"]: row for row in result["rows"] if row["backend"] == "sqlite"}
    assert result["seconds"] == rows["diff_channels"]["seconds"] > 0
    assert result["sql_seconds"] == rows["sql"]["seconds"] > 0
    assert result["peak_rss_mb"] == rows["diff_channels"]["peak_rss_mb"]
    assert rows["diff_channels"]["peak_rss_mb"] >= rows["diff_channels"]["rss_before_mb"] > 0
    assert rows["sql"]["vs_sql"] == 1.0
    assert result["title"]
    assert result["notes"]


def test_cli_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reconcile", "--quick", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["benchmark"] == "reconcile"
    assert printed["agree"] is True
