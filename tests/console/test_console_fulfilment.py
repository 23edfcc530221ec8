"""The action queue's pickups and returns (issue 14/16): listed with their window, expiry or pending units, acted
on through the same services as the CLI and HTTP API, audited as the signed-in token, counted on the overview."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from pickup_holds_support import SETTINGS, pickup_world
from returns_support import ACTOR, TEE, world
from sync.fake_channel import NOW

from omnibridge.access import Actor, Role, audit, tokens
from omnibridge.console import ConsoleContext, console_app
from omnibridge.console.fulfilment_sources import expiry_note, parse_decision, parse_receipt
from omnibridge.pickup.staff import PickupService
from omnibridge.returns.service import Received
from omnibridge.sdk.returns import ReturnState
from omnibridge.store import Store

pytestmark = pytest.mark.anyio


async def _signed_in(client: httpx.AsyncClient, store: Store) -> str:
    secret = tokens.create(store, Role.OPERATOR, "Olga", Actor("user", "alice"))[1]
    await client.post("/console/login", data={"token": secret})
    page = await client.get("/console/actions")
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert found is not None
    return found.group(1)


async def test_pickups_are_listed_with_window_and_expiry_and_marked_ready_collected_or_rejected(
    store_url: str,
) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 5}) as w:
        for ref in ("1001", "1002", "1003"):
            w.place(ref, ("TENT", 1))
        staff = PickupService(w.store, SETTINGS, w.service)
        app = console_app(ConsoleContext(w.store, routing=w.service, pickups=staff))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon") as client:
            csrf = await _signed_in(client, w.store)
            overview = await client.get("/console/")
            assert re.search(r"Pickups waiting at stores</a></td><td>3</td>", overview.text)
            queue = await client.get("/console/actions", params={"source": "pickups"})
            assert "web:1001#1 at nyc: window 2026-11-23 13:00-14:00 UTC, 1 x TENT" in queue.text
            for action, pickup_id in (("ready", "web:1001#1"), ("collected", "web:1002#1")):
                done = await client.post(
                    "/console/actions/pickups", data={"csrf": csrf, "action": action, "id": pickup_id}
                )
                assert ": 1 done" in done.text
            refused = await client.post(
                "/console/actions/pickups",
                data={"csrf": csrf, "action": "reject", "id": "web:1003#1", "reason": "shelf empty"},
            )
            assert "Reject: 1 done" in refused.text
            again = await client.post(
                "/console/actions/pickups", data={"csrf": csrf, "action": "ready", "id": "web:1002#1"}
            )
            assert "web:1002#1 refused: pickup web:1002#1 is collected" in again.text
        statuses = {p.id: p.status for p in staff.list()}
        assert statuses == {"web:1001#1": "ready", "web:1002#1": "collected", "web:1003#1": "rejected"}
        actions = sorted((r.action, r.subject) for r in audit.records(w.store, action="pickup."))
        assert actions == [
            ("pickup.collected", "web:1002#1"),
            ("pickup.ready", "web:1001#1"),
            ("pickup.reject", "web:1003#1"),
        ]
        assert all(r.actor.startswith("token:") for r in audit.records(w.store, action="pickup."))


def test_expiring_and_expired_pickups_are_flagged() -> None:
    assert expiry_note("ready", NOW + timedelta(minutes=30), NOW) == "ready; EXPIRES WITHIN THE HOUR"
    assert expiry_note("reserved", NOW - timedelta(minutes=1), NOW) == "reserved; EXPIRED (hold ended, release pending)"
    assert expiry_note("reserved", NOW + timedelta(hours=3), NOW) == "reserved"


def test_a_return_receipt_and_decision_are_typed_in_the_reason_box() -> None:
    assert parse_receipt("restock 2 damaged 1 at soho") == (Received(restock=2, damaged=1), "soho")
    assert parse_decision("TEE-M damaged 1") == ("TEE-M", 0, 1)
    with pytest.raises(ValueError, match="expected counts then a location"):
        parse_receipt("two please")


async def test_returns_awaiting_disposition_are_received_and_decided_from_the_queue(store: Store) -> None:
    w = world(store)
    rid = w.service.create("web:1001", [(TEE, 2)], reason="too small", by_post=True, actor=ACTOR).id
    app = console_app(ConsoleContext(store, returns=w.service))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon") as client:
        csrf = await _signed_in(client, store)
        overview = await client.get("/console/")
        assert re.search(r"Returns awaiting disposition</a></td><td>1</td>", overview.text)
        queue = await client.get("/console/actions", params={"source": "returns"})
        assert f"{rid} (web:1001) at wh: 2 to receive, 0 held for inspection (TEE-M)" in queue.text
        bad = await client.post(
            "/console/actions/returns", data={"csrf": csrf, "action": "receive", "id": rid, "reason": "all of it"}
        )
        assert "expected counts then a location" in bad.text
        received = await client.post(
            "/console/actions/returns",
            data={"csrf": csrf, "action": "receive", "id": rid, "reason": "restock 1 inspect 1 at wh"},
        )
        assert "1 done" in received.text
        decided = await client.post(
            "/console/actions/returns", data={"csrf": csrf, "action": "decide", "id": rid, "reason": "TEE-M damaged 1"}
        )
        assert "1 done" in decided.text
    rma = w.service.get(rid)
    assert rma.state is ReturnState.CLOSED
    assert (rma.lines[0].restocked, rma.lines[0].damaged) == (1, 1)
    assert w.on_hand(TEE, "wh") == 9
    actions = [r.action for r in audit.records(store, subject=rid)]
    assert actions == ["return.create", "return.receive", "return.decide"]
    assert audit.records(store, subject=rid)[-1].actor.startswith("token:")
