"""The daemon's order routing API (``/api/orders/...``) over a real SQLite store: accept, reject (re-routed, the
reservation moved), the routing history, one-line JSON errors, and the routes only served when asked for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from routing_service_support import Network, network

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
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon") as client:
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


async def test_the_api_is_served_only_when_asked_for(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}") as store:
        net = network(store, {("TENT", "nyc"): 2})
        net.place("1001", ("TENT", 1))
        app = daemon_app(SyncEngine(store, [net.web]), DaemonState(("web",)), DaemonMetrics(), on_stored=lambda: None)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon") as client:
            response = await client.post("/api/orders/web:1001/accept", json={"location": "nyc"})
        assert response.status_code == 404
        assert [a.status for a in net.service.assignments("web:1001")] == ["assigned"]
