"""The demo end to end, in-process: every sales channel agrees with the ledger, every scene does what it should,
and every request the connectors sent speaks the vendors' official contracts (Shopify's GraphQL schema for the
targeted version, Square's OpenAPI spec, Amazon's SP-API models and listings feed schema)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.amazon.spec_check import LWA_PATH, find_operation, validate_feed_document, validate_recorded
from connectors.shopify.emulator import validate_document
from connectors.square.emulator import validate_request
from omnibridge.access import audit
from omnibridge.demo.run import DemoReport, run_demo
from omnibridge.demo.settings import SHOPIFY_SECRET, SHOPIFY_TOKEN
from omnibridge.demo.world import DemoSettings
from omnibridge.sdk.emulator import RECORD_ENV, read_recorded
from omnibridge.store import open_store

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SKUS = 60
AMAZON_OPERATIONS = {"getOrderItems", "createFeedDocument", "createFeed", "getFeed", "getFeedDocument"}
"""Besides these: getOrders or getOrder, a listings read, the LWA token request and the document upload."""


@pytest.fixture
async def demo_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[DemoReport, Path, list[str]]:
    recorded = tmp_path / "requests.jsonl"
    monkeypatch.setenv(RECORD_ENV, str(recorded))
    lines: list[str] = []
    report = await run_demo(tmp_path / "work", lines.append, DemoSettings())
    return report, recorded, lines


def check_events(result: dict[str, Any]) -> None:
    kinds = [event["kind"] for event in result["events"]]
    assert kinds == [
        "in_store_sale",
        "online_order",
        "web_fulfilment",
        "return",
        "store_count",
        "stock_receipt",
        "duplicate_webhook",
        "throttled_burst",
        "amazon_order",
        "shipment",
        "clover_sale",
        "erp_file_drop",
        "erp_bad_file",
    ]
    events = {event["kind"]: event for event in result["events"]}
    # the web order shipped through a Shopify fulfillment leaves nothing committed; the count that follows moves
    # the web store by exactly the shelf's difference; and the ledger agrees with itself at the end
    shipped = events["web_fulfilment"]
    assert shipped["outcome"] == "propagated"
    assert shipped["committed"][1] == shipped["committed"][0] - shipped["shipped_units"]
    assert shipped["available"][0] == shipped["available"][1]
    assert events["store_count"]["outcome"] == "propagated"
    assert result["ledger_consistent"], result["inconsistencies"]
    for event in result["events"]:
        if event["channels"]:
            assert event["outcome"] == "propagated", event
            assert all(channel["ms"] is not None for channel in event["channels"])
    assert events["duplicate_webhook"]["outcome"] == "ignored as duplicate"
    assert result["inbox"]["duplicates"] >= 1
    burst = events["throttled_burst"]
    # How many requests Square refuses during the rush depends on timing (the engine reads only what changed, so it
    # may be none); what must hold is that the scene reports what the emulators counted, and that it converged.
    assert burst["square_rate_limited_responses"] <= result["api_calls"]["pos"]["rate_limited"]
    assert burst["shopify_throttled_responses"] <= result["api_calls"]["web"]["throttled"]
    assert {c["channel"] for c in events["amazon_order"]["channels"]} == {"web", "amazon"}
    assert {(c["channel"], c["location"]) for c in events["clover_sale"]["channels"]} == {
        ("web", "golden"),
        ("clover", "golden"),
    }
    counted = events["erp_file_drop"]
    assert counted["movements_applied"] == 3
    assert {(c["channel"], c["sku"], c["expected"]) for c in counted["channels"]} >= {
        ("web", "STOVE-SOLO", 31),
        ("amazon", "STOVE-SOLO", 31),
    }
    bad = events["erp_bad_file"]
    assert bad["outcome"] == "rejected, nothing applied"
    assert bad["moved_to"] == "failed/stock-den-0002.csv"
    assert any("row 2, field 'quantity'" in line and "'twelve'" in line for line in bad["errors"])
    assert any("row 3, field 'location'" in line and "'DENVER'" in line for line in bad["errors"])


def check_shipment(result: dict[str, Any]) -> None:
    shipment = result["shipment"]
    assert shipment["outcome"] == "delivered"
    assert shipment["tracking_code"]
    assert shipment["carrier"]
    assert shipment["cost"] is not None
    assert [step["easypost_status"] for step in shipment["tracking"]] == [
        "pre_transit",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    assert [step["canonical"] for step in shipment["tracking"]] == [
        "pending",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    assert [event["status"] for event in shipment["tracking_history"]][-1] == "delivered"
    assert result["carrier_inbox"]["parcels"]["dead"] == 0


def check_amazon(result: dict[str, Any], recorded: Path) -> None:
    [feed] = result["amazon_feeds"]
    assert (feed["feed_type"], feed["processing_status"], feed["messages"]) == ("JSON_LISTINGS_FEED", "DONE", SKUS)
    assert (feed["messages_accepted"], feed["messages_invalid"]) == (SKUS, 0)
    assert result["first_sync"]["amazon"]["pushed"]["applied"] == SKUS
    calls = result["api_calls"]["amazon"]
    assert calls["createFeed"] == 1
    assert calls["uploadFeedDocument"] == 1

    rows = read_recorded(recorded, "amazon")
    assert validate_recorded(rows) == []
    seen = {op.operation_id for row in rows if (op := find_operation(row["method"], row["path"])) is not None}
    assert seen >= AMAZON_OPERATIONS, AMAZON_OPERATIONS - seen
    assert seen & {"getOrders", "getOrder"}
    assert seen & {"getListingsItem", "searchListingsItems"}
    assert any(row["method"] == "POST" and row["path"] == LWA_PATH for row in rows)
    uploads = [row for row in rows if row["method"] == "PUT" and row["path"].startswith("/_s3/")]
    assert len(uploads) == 1
    for upload in uploads:
        assert validate_feed_document(upload["body"]) == []
        assert len(upload["body"]["messages"]) == SKUS


def check_shopify_and_square(recorded: Path) -> None:
    shopify = read_recorded(recorded, "shopify")
    square = read_recorded(recorded, "square")
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


async def test_demo_ends_with_every_channel_agreeing_and_traffic_valid(
    demo_run: tuple[DemoReport, Path, list[str]],
) -> None:
    report, recorded, lines = demo_run
    result = report.as_dict()
    assert result["channels_agree"], result["mismatches"]
    act = result["fulfilment"] or {}
    assert result["ok"], (
        [(e["kind"], e["outcome"]) for e in result["events"]],
        [(e["kind"], e["outcome"]) for e in act.get("events", [])],
        act.get("traffic", {}).get("problems"),
        act.get("inconsistencies"),
        [(e["kind"], e["outcome"]) for e in (result.get("collect") or {}).get("events", [])],
        (result.get("collect") or {}).get("ok"),
    )
    assert result["catalog_skus"] == SKUS
    assert result["channels_checked"] == ["web", "pos", "amazon", "clover"]
    assert result["levels_checked"] == SKUS * (4 + 2 + 1 + 1)
    assert any("first sync" in line for line in lines)
    assert any(line.startswith("amazon feed JSON_LISTINGS_FEED") for line in lines)
    check_events(result)
    check_shipment(result)
    check_amazon(result, recorded)
    check_shopify_and_square(recorded)
    assert read_recorded(recorded, "clover")
    assert read_recorded(recorded, "easypost")
    check_no_personal_data_in_clear(recorded.parent / "work")

    # the second act, in its own world: every scene passed and its traffic conformed (tests/demo/test_fulfilment_day)
    act = result["fulfilment"]
    assert act["ok"], [event["outcome"] for event in act["events"]]
    assert act["traffic"]["problems"] == []
    assert any(line.startswith("nearest_store") for line in lines)


CUSTOMER_CANARIES = (b"Lovelace", b"customer@example.com", b"1 Market St", b"Jordan Rivera", b"1200 Pearl St")
"""The demo's customers as the Shopify and Amazon emulators give them (names, email, street)."""


def check_no_personal_data_in_clear(workdir: Path) -> None:
    """Every database file the demo left (each world's store, its WAL) holds none of the customers' names, emails
    or streets in clear, nor a channel secret; the audit chain of each store verifies."""
    stores = sorted(workdir.rglob("*.db"))
    assert stores, f"no store under {workdir}"
    for database in stores:
        for path in (database, database.with_name(database.name + "-wal")):
            if path.exists():
                content = path.read_bytes()
                found = [canary for canary in CUSTOMER_CANARIES if canary in content]
                assert found == [], f"{path} holds {found} in clear"
                assert SHOPIFY_TOKEN.encode() not in content
                assert SHOPIFY_SECRET.encode() not in content
        with open_store(f"sqlite:///{database}") as store:
            assert audit.verify(store).intact
