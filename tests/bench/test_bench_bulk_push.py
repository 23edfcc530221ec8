"""The ``bulk_push`` benchmark runs (quick size) and its figures are consistent; never timed."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bench import bulk_push

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return bulk_push.run(quick=True)


def test_every_sku_is_pushed_and_shown(result: dict[str, Any]) -> None:
    assert result["skus"] == 2_500
    assert result["applied"] == result["emulator_shows_target"] == 2_500


def test_calls_are_counted_against_the_minimum(result: dict[str, Any]) -> None:
    assert result["minimum_calls"] == math.ceil(2_500 / 250)
    assert result["api_calls"] >= result["minimum_calls"]
    assert result["calls_vs_minimum"] == round(result["api_calls"] / result["minimum_calls"], 3)
    assert result["cost_per_call"] == 10  # inventorySetQuantities: Shopify's mutation cost
    assert result["throttled_responses"] >= 0
    assert result["other_calls"] >= 0


def test_quick_push_fits_in_a_full_bucket(result: dict[str, Any]) -> None:
    # 10 calls x 10 points < 1,000: no restore time is needed, so there is no bucket minimum to compare with.
    assert result["minimum_seconds"] == 0
    assert result["seconds_vs_minimum"] is None
    assert result["seconds"] > 0


def test_read_is_measured_separately(result: dict[str, Any]) -> None:
    assert result["read_skus"] == bulk_push.READ_SAMPLE
    assert result["read_calls"] >= math.ceil(bulk_push.READ_SAMPLE / 250)
    assert result["read_points_per_sku"] > 0
    assert result["full_read_bucket_seconds"] > 0
    assert len(result["rows"]) == 1
    assert "read_skus" not in result["rows"][0]
