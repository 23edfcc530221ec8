"""The demo end to end, in-process: the channels agree, and every request the connectors sent speaks the
vendors' official contracts (Shopify's GraphQL schema for the targeted version, Square's OpenAPI spec)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.shopify.emulator import validate_document
from connectors.square.emulator import validate_request
from omnibridge.demo.run import DemoReport, run_demo
from omnibridge.demo.world import DemoSettings
from omnibridge.sdk.emulator import RECORD_ENV, read_recorded

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture
async def demo_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[DemoReport, Path, list[str]]:
    recorded = tmp_path / "requests.jsonl"
    monkeypatch.setenv(RECORD_ENV, str(recorded))
    lines: list[str] = []
    report = await run_demo(tmp_path / "work", lines.append, DemoSettings())
    return report, recorded, lines


async def test_demo_ends_with_every_channel_agreeing_and_traffic_valid(
    demo_run: tuple[DemoReport, Path, list[str]],
) -> None:
    report, recorded, lines = demo_run
    result = report.as_dict()
    assert result["channels_agree"], result["mismatches"]
    assert result["ok"]
    assert result["catalog_skus"] >= 50
    kinds = [event["kind"] for event in result["events"]]
    assert kinds == [
        "in_store_sale",
        "online_order",
        "return",
        "stock_receipt",
        "duplicate_webhook",
        "throttled_burst",
    ]
    for event in result["events"]:
        if event["kind"] != "duplicate_webhook":
            assert event["outcome"] == "propagated"
            assert all(channel["ms"] is not None for channel in event["channels"])
    assert result["events"][4]["outcome"] == "ignored as duplicate"
    assert result["inbox"]["duplicates"] >= 1
    burst = result["events"][5]
    assert burst["shopify_throttled_responses"] + burst["square_rate_limited_responses"] > 0
    assert any("first sync" in line for line in lines)

    shopify = read_recorded(recorded, "shopify")
    square = read_recorded(recorded, "square")
    assert shopify
    assert square
    graphql = [row for row in shopify if row["path"].endswith("/graphql.json")]
    assert graphql
    for row in graphql:
        version = row["path"].split("/")[3]
        body = row["body"]
        problems = validate_document(version, body["query"], body.get("variables") or {})
        assert problems == [], (body["query"], problems)
    api = [row for row in square if row["path"].startswith("/v2/")]
    assert api
    for row in api:
        problems = validate_request(row["method"], row["path"], row["body"])
        assert problems == [], (row["method"], row["path"], problems)
