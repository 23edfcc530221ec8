"""The demo's fulfilment act, played once in its own world: each scene's outcome, the ledger afterwards, and every
request the emulators received checked against the vendors' official specs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from omnibridge.demo.fulfilment_day import run_fulfilment_day
from omnibridge.demo.fulfilment_validation import validate_traffic
from omnibridge.demo.fulfilment_world import VALUE_THRESHOLD
from omnibridge.sdk.emulator import RequestRecorder

Act = tuple[dict[str, Any], dict[str, dict[str, Any]], list[str]]


@pytest.fixture(scope="module")
def act(tmp_path_factory: pytest.TempPathFactory) -> Act:
    lines: list[str] = []
    section = asyncio.run(run_fulfilment_day(tmp_path_factory.mktemp("fulfilment"), lines.append))
    return section, {event["kind"]: event for event in section["events"]}, lines


def test_every_scene_passes_and_every_request_conforms(act: Act) -> None:
    section, events, lines = act
    assert list(events) == ["nearest_store", "split", "dropship", "three_pl", "store_reject", "labels"]
    assert [kind for kind, event in events.items() if not event["ok"]] == []
    assert section["ok"]
    traffic = section["traffic"]
    assert traffic["problems"] == []
    assert traffic["refused_by_validation"] == 0
    assert {"shopify", "amazon", "shipbob", "easypost"} <= set(traffic["by_vendor"])
    assert section["inconsistencies"] == []
    assert section["parked"] == []
    assert any(line.startswith("fulfilment check") and " 0 invalid" in line for line in lines)


def test_a_web_order_goes_to_the_nearest_store_holding_every_line(act: Act) -> None:
    scene = act[1]["nearest_store"]
    assert scene["reserved_at"] == ["boulder"]
    distances = {c["location"]: c["distance_km"] for c in scene["candidates"]}
    assert distances["boulder"] < distances["golden"] < distances["den-wh"] < distances["fort-collins"]
    # golden is nearer than the warehouse but lacks a line: fewer packages come first
    assert next(c for c in scene["candidates"] if c["location"] == "golden")["rule"] == "fewest_packages"
    assert scene["committed_at_boulder"] == {"TENT-2P-GRN": 1, "STOVE-SOLO": 1}
    assert scene["shopify_fulfillment_orders"] == {"boulder": 2}
    assert [(t["kind"], t["status"]) for t in scene["tasks"]] == [("assign", "done")]
    assert scene["accepted_by_store"] == "accepted"


def test_an_order_no_location_holds_whole_splits_over_the_value_threshold(act: Act) -> None:
    scene = act[1]["split"]
    assert scene["packages"] == ["fort-collins", "golden"]
    assert all(float(value) >= VALUE_THRESHOLD for value in scene["line_values"].values())
    assert scene["shopify_fulfillment_orders"] == {"fort-collins": 1, "golden": 1}


def test_a_supplier_only_sku_is_dropshipped_and_confirmed_with_the_suppliers_tracking(act: Act) -> None:
    scene = act[1]["dropship"]
    assert scene["supplier_stock_from_feed"] == 40
    assert scene["purchase_order"].startswith("po-web_")
    assert scene["supplier_position"]["before"] == {"on_hand": 40, "committed": 1, "available": 39}
    assert scene["supplier_position"]["after"] == {"on_hand": 39, "committed": 0, "available": 39}
    assert scene["tracking_number"] in scene["shopify_tracking"]
    assert scene["shopify_fulfillment"].startswith("gid://shopify/Fulfillment/")


def test_an_order_for_shipbob_stock_becomes_a_shipbob_order_and_ships(act: Act) -> None:
    scene = act[1]["three_pl"]
    assert scene["reference_id"].startswith("web:gid://shopify/Order/")
    assert scene["reference_id"].endswith("@shipbob-cicero#1")
    assert scene["shipbob_order"]
    assert scene["tracking_number"]
    assert scene["shipbob_position"]["after"] == {"on_hand": 11, "committed": 0, "available": 11}
    assert scene["shopify_fulfillment"].startswith("gid://shopify/Fulfillment/")


def test_a_store_rejection_reroutes_and_moves_the_reservation(act: Act) -> None:
    scene = act[1]["store_reject"]
    assert (scene["first"], scene["rerouted_to"]) == (["golden"], ["den-wh"])
    before, after = scene["positions"]["before"], scene["positions"]["after"]
    assert (before["golden"]["committed"], after["golden"]["committed"]) == (1, 0)
    assert (before["den-wh"]["committed"], after["den-wh"]["committed"]) == (0, 1)
    assert before["golden"]["on_hand"] == after["golden"]["on_hand"]
    assert scene["shopify_fulfillment_orders"] == {"den-wh": 1}


def test_labels_are_confirmed_with_tracking_on_shopify_and_amazon(act: Act) -> None:
    scene = act[1]["labels"]
    web, amazon = scene["web"], scene["amazon"]
    assert (web["from"], amazon["from"]) == ("boulder", "den-wh")
    assert web["confirmed"]
    assert amazon["confirmed"]
    assert web["tracking_number"]
    assert amazon["tracking_number"]
    assert web["units_shipped"] == 2
    assert amazon["units_shipped"] == 1
    assert scene["amazon_order_status"] == "Shipped"
    # the units left where they were assigned: the store's accepted assignment and the warehouse's are shipped
    assert web["assignments"] == ["shipped"]
    assert amazon["assignments"] == ["shipped"]
    assert scene["shopify_fulfillments"] == 1


def test_traffic_against_the_specs_names_what_is_wrong(tmp_path: Path) -> None:
    recorded = tmp_path / "requests.jsonl"
    path = "/admin/api/2026-04/graphql.json"
    RequestRecorder("shopify", recorded).record("POST", path, "", {}, b'{"query": "{ shop { nosuchfield } }"}')
    RequestRecorder("shipbob", recorded).record("POST", "/1.0/order", "", {}, b'{"reference_id": 7}')
    result = validate_traffic(recorded, refused_by_validation=1)
    assert result["requests"] == 2
    assert result["by_vendor"] == {"shopify": 1, "shipbob": 1}
    assert any(p.startswith("shopify 2026-04:") and "nosuchfield" in p for p in result["problems"])
    assert any(p.startswith("shipbob POST /1.0/order") for p in result["problems"])
    assert result["refused_by_validation"] == 1
