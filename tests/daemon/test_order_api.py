"""The daemon's order routing API (``/api/orders/...``) over a real SQLite store: accept, reject (re-routed, the
reservation moved), the routing history, one-line JSON errors, the routes served only when the profile routes,
behind tokens (operator to act, viewer to read), and each action in the audit log naming the token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from routing_service_support import Network, network

from omnibridge.access import Actor, Role, audit, tokens
from omnibridge.daemon.app import daemon_app
from omnibridge.daemon.order_api import order_api
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.store import open_store
from omnibridge.sync import SyncEngine

pytestmark = pytest.mark.anyio


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Network]]:
    with open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}") as store:
        net = network(store, {("TENT", "nyc"): 2, ("TENT", "chi"): 2})
        net.place("1001", ("TENT", 2))
        engine = SyncEngine(store, [net.web], placer=net.service)
        app = daemon_app(
            engine, DaemonState(("web",)), DaemonMetrics(), on_stored=lambda: None, orders=order_api(net.service)
        )
        _, operator = tokens.create(store, Role.OPERATOR, "store staff app", Actor("user", "alice"))
        headers = {"Authorization": f"Bearer {operator}"}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://daemon", headers=headers
        ) as client:
            yield client, net


async def test_reject_reroutes_and_moves_the_reservation(api: tuple[httpx.AsyncClient, Network]) -> None:
    client, net = api
    response = await client.post("/api/orders/web:1001/reject", json={"location": "nyc", "reason": "shelf empty"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["order"], body["decision"]["outcome"], body["decision"]["locations"]) == (
        "web:1001",
        "routed",
        ["chi"],
    )
    assert net.committed("TENT") == {"chi": 2}
    accepted = await client.post("/api/orders/web:%231001/accept", json={"location": "chi"})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["assignment"]["status"] == "accepted"
    history = (await client.get("/api/orders/web:1001/routing")).json()
    assert [d["trigger"] for d in history["decisions"]] == ["placed", "rejected at nyc: shelf empty"]
    assert [(a["location_id"], a["status"]) for a in history["assignments"]] == [
        ("nyc", "rejected"),
        ("chi", "accepted"),
    ]
    assert {t["id"]: t["status"] for t in history["tasks"]} == {
        "assign:web:1001#1": "cancelled",
        "assign:web:1001#2": "pending",
    }


async def test_errors_are_json_with_one_line_and_the_right_status(api: tuple[httpx.AsyncClient, Network]) -> None:
    client, _ = api
    cases = [
        (await client.post("/api/orders/web:1001/accept", content=b"not json"), 400, "the body is not JSON"),
        (await client.post("/api/orders/web:1001/accept", json={}), 400, "'location' is missing"),
        (await client.post("/api/orders/web:1001/reject", json={"location": "nyc"}), 400, "'reason' is missing"),
        (await client.post("/api/orders/web:1001/accept", json={"location": "mars"}), 400, "not a location"),
        (await client.post("/api/orders/web:9/accept", json={"location": "nyc"}), 404, "no order 'web:9'"),
        (await client.post("/api/orders/web:1001/accept", json={"location": "chi"}), 409, "no open assignment"),
        (await client.get("/api/orders/web:9/routing"), 404, "no order"),
    ]
    for response, status, message in cases:
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert message in error
        assert "\n" not in error


async def test_acting_needs_an_operator_token_and_is_audited(api: tuple[httpx.AsyncClient, Network]) -> None:
    client, net = api
    _, viewer = tokens.create(net.service.store, Role.VIEWER, "dashboard", Actor("user", "alice"))
    anonymous = await client.post(
        "/api/orders/web:1001/reject", json={"location": "nyc", "reason": "x"}, headers={"Authorization": ""}
    )
    assert anonymous.status_code == 401
    as_viewer = {"Authorization": f"Bearer {viewer}"}
    refused = await client.post(
        "/api/orders/web:1001/reject", json={"location": "nyc", "reason": "x"}, headers=as_viewer
    )
    assert refused.status_code == 403
    assert (await client.get("/api/orders/web:1001/routing", headers=as_viewer)).status_code == 200
    assert net.committed("TENT") == {"nyc": 2}
    response = await client.post("/api/orders/web:1001/reject", json={"location": "nyc", "reason": "shelf empty"})
    assert response.status_code == 200, response.text
    [entry] = audit.records(net.service.store, action="order.reject")
    assert (entry.subject, entry.before["reason"]) == ("web:1001", "shelf empty")
    assert "store staff app" in str(entry.actor)
    assert audit.verify(net.service.store).intact


async def test_the_api_is_served_only_when_the_profile_routes(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}") as store:
        net = network(store, {("TENT", "nyc"): 2})
        net.place("1001", ("TENT", 1))
        app = daemon_app(SyncEngine(store, [net.web]), DaemonState(("web",)), DaemonMetrics(), on_stored=lambda: None)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon") as client:
            response = await client.post("/api/orders/web:1001/accept", json={"location": "nyc"})
        assert response.status_code in (404, 405)
        assert [a.status for a in net.service.assignments("web:1001")] == ["assigned"]
