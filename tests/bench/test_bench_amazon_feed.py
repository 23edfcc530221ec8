"""The ``amazon_feed`` benchmark runs (quick size) and its figures are consistent; never timed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench import amazon_feed

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return amazon_feed.run(quick=True)


def test_every_sku_is_applied_and_shown_without_throttling(result: dict[str, Any]) -> None:
    assert result["skus"] == 500
    assert result["applied"] == result["emulator_shows_target"] == 500
    assert result["throttled_responses"] == 0
    assert result["patch_sample_throttled"] == 0


def test_one_feed_carries_the_whole_change(result: dict[str, Any]) -> None:
    calls = result["calls_by_operation"]
    assert result["feeds"] == 1
    for operation in ("createFeedDocument", "uploadFeedDocument", "createFeed", "getFeedDocument"):
        assert calls[operation] == 1, operation
    assert calls["downloadFeedDocument"] == 1
    assert calls["getFeed"] >= 1
    assert result["other_calls"] == {}
    assert result["minimum_calls"] == 6
    assert result["total_calls"] == sum(calls.values())
    assert result["calls_vs_minimum"] == round(result["total_calls"] / 6, 3)


def test_baseline_is_one_patch_per_sku_at_five_per_second(result: dict[str, Any]) -> None:
    assert result["baseline_patch_calls"] == 500
    assert result["baseline_patch_seconds"] == (500 - 5) / 5
    assert result["minimum_seconds"] == amazon_feed.FEED_PROCESSING_S
    assert result["seconds"] > 0
    assert result["patch_sample_calls"] == amazon_feed.PATCH_SAMPLE
    assert result["patch_sample_model_seconds"] == (amazon_feed.PATCH_SAMPLE - 5) / 5


def test_report_has_table_rows_and_is_json(result: dict[str, Any]) -> None:
    operations = [row["operation"] for row in result["rows"]]
    assert operations[:6] == list(amazon_feed.FEED_OPERATIONS)
    assert operations[-2:] == ["total (feed)", "patchListingsItem per SKU (baseline)"]
    assert {tuple(row) for row in result["rows"]} == {("operation", "calls", "minimum_calls", "rate_per_s", "burst")}
    json.dumps(result)
