"""The demo's third act, click-and-collect and returns, played once in its own world: each scene's figures, the
ledger afterwards, and every request the emulators received checked against the vendors' official specs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from omnibridge.demo.collect_day import run_collect_day

Act = tuple[dict[str, Any], dict[str, dict[str, Any]], list[str]]


@pytest.fixture(scope="module")
def act(tmp_path_factory: pytest.TempPathFactory) -> Act:
    lines: list[str] = []
    section = asyncio.run(run_collect_day(tmp_path_factory.mktemp("collect"), lines.append))
    return section, {event["kind"]: event for event in section["events"]}, lines


def test_every_scene_passes_and_every_request_conforms(act: Act) -> None:
    section, events, lines = act
    assert list(events) == ["pickup", "pickup_expired", "curbside", "store_return", "postal_return"]
    assert [kind for kind, event in events.items() if not event["ok"]] == []
    assert section["ok"]
    traffic = section["traffic"]
    assert traffic["problems"] == []
    assert traffic["refused_by_validation"] == 0
    assert {"shopify", "square", "easypost"} <= set(traffic["by_vendor"])
    assert section["inconsistencies"] == []
    assert any(line.startswith("collect check") and " 0 invalid" in line for line in lines)


def test_a_web_pickup_is_booked_at_the_nearest_store_made_ready_and_collected(act: Act) -> None:
    scene = act[1]["pickup"]
    options = scene["options"]
    assert [store["location_id"] for store in options["stores"]] == ["boulder"]
    assert {left["location_id"]: left["rule"] for left in options["left_out"]} == {
        "golden": "no_stock",
        "den-wh": "no_pickup",
        "fort-collins": "too_far",
    }
    assert scene["booked_at"] == "boulder"
    assert scene["same_window_as_offered"]
    position = scene["position"]
    assert position["before"] == {"on_hand": 3, "committed": 0, "available": 3}
    assert position["held"] == {"on_hand": 3, "committed": 1, "available": 2}
    assert position["collected"] == {"on_hand": 2, "committed": 0, "available": 2}
    assert (scene["ready"], scene["collected"]) == ("ready", "collected")
    assert scene["shopify_prepared_for_pickup"]
    assert scene["shopify_fulfillments"] == 1
    assert {t["id"].rsplit(":", 1)[1]: t["status"] for t in scene["tasks"] if t["kind"] == "pickup"} == {
        "ready": "done",
        "collected": "done",
    }


def test_an_uncollected_pickup_is_released_by_expiry_with_an_incident_and_the_channel_told(act: Act) -> None:
    scene = act[1]["pickup_expired"]
    assert scene["released"] == {scene["pickup_id"]: 1}
    assert scene["clock_moved_hours"] > 0
    assert scene["position"]["held"]["available"] == scene["position"]["before"]["available"] - 1
    assert scene["position"]["after"] == scene["position"]["before"]
    (incident,) = scene["incidents"]
    assert incident.startswith("pickup expired:")
    assert scene["shopify_cancelled"]
    assert [t["status"] for t in scene["tasks"] if t["id"].endswith(":expired")] == ["done"]


def test_a_curbside_arrival_on_square_reaches_omnibridge_and_the_handover_completes_it(act: Act) -> None:
    scene = act[1]["curbside"]
    assert scene["curbside"]
    assert scene["status_after_arrival"] == "arrived"
    assert scene["status_after_handover"] == "collected"
    assert scene["square_fulfillment_state"] == "COMPLETED"
    assert scene["position"]["after"]["on_hand"] == scene["position"]["before"]["on_hand"] - 1


def test_a_web_order_returned_at_a_store_counter_is_restocked_there_on_every_channel(act: Act) -> None:
    scene = act[1]["store_return"]
    assert scene["units_shipped"] == 1
    assert scene["state"] == "closed"
    assert scene["position"]["after"]["on_hand"] == scene["position"]["before"]["on_hand"] + 1
    assert scene["square_count"]["after"] == scene["square_count"]["before"] + 1
    assert scene["shopify_available"]["after"] == scene["shopify_available"]["before"] + 1
    # three tents at boulder, one collected in the first scene (taken once, not again when Shopify's
    # fulfillment of it came back); every channel showed that before the return
    assert scene["position"]["before"] == {"on_hand": 2, "committed": 0, "available": 2}
    assert scene["square_count"]["before"] == 2


def test_a_web_return_by_post_has_a_label_restocks_one_unit_and_records_one_damaged(act: Act) -> None:
    scene = act[1]["postal_return"]
    assert scene["label"]["carrier"]
    assert scene["label"]["tracking_number"]
    assert scene["dispositions"] == {"restocked": 1, "damaged": 1}
    assert scene["position"]["after"]["on_hand"] == scene["position"]["before"]["on_hand"] + 1
    assert scene["shopify_returns"] == ["CLOSED"]
    assert {t["id"].rsplit(":", 1)[1]: t["status"] for t in scene["tasks"] if t["kind"] == "return"} == {
        "open": "done",
        "closed": "done",
    }
