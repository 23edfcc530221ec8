"""The ``ingest`` benchmark runs (quick size) and its figures are consistent; never timed."""

from __future__ import annotations

from typing import Any

import pytest

from bench import ingest
from omnibridge.demo.world import SHOPIFY_SECRET
from omnibridge.sdk import hmac_sha256_base64

RECEIVER, FLOOR, DIRECT, HTTP = "receiver", "floor (1 INSERT)", "engine.receive() direct", "http only (no database)"


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return ingest.run(quick=True)


@pytest.mark.slow
def test_every_acknowledged_delivery_was_stored(result: dict[str, Any]) -> None:
    assert result["all_stored"] is True
    for row in result["rows"]:
        assert row["non_200"] == 0
        if row["endpoint"] in (RECEIVER, FLOOR):
            assert row["stored"] == row["requests"] == 2_000


@pytest.mark.slow
def test_every_endpoint_is_reported(result: dict[str, Any]) -> None:
    sqlite = {row["endpoint"]: row for row in result["rows"] if row["backend"] == "sqlite"}
    assert set(sqlite) == {RECEIVER, FLOOR, DIRECT}
    assert [row["endpoint"] for row in result["rows"] if row["backend"] == "-"] == [HTTP]
    assert result["requests_per_s"] == sqlite[RECEIVER]["requests_per_s"] > 0
    assert result["floor_requests_per_s"] == sqlite[FLOOR]["requests_per_s"] > 0
    assert result["direct_receive_per_s"] == sqlite[DIRECT]["requests_per_s"] > 0
    for row in result["rows"]:
        assert 0 < row["p50_ms"] <= row["p99_ms"] <= row["max_ms"]
        assert row["concurrency"] == (1 if row["endpoint"] == DIRECT else ingest.CONCURRENCY)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert ingest.percentile(values, 50) == 50.0
    assert ingest.percentile(values, 99) == 99.0
    assert ingest.percentile(values, 100) == 100.0
    assert ingest.percentile([], 99) == 0.0


def test_deliveries_are_signed_and_distinct() -> None:
    batch = ingest.deliveries(50)
    assert len({headers["X-Shopify-Event-Id"] for _, headers in batch}) == 50
    for body, headers in batch:
        assert headers["X-Shopify-Hmac-Sha256"] == hmac_sha256_base64(SHOPIFY_SECRET, body)
