"""``/api/returns`` on the daemon's app: create, receive and decide as an operator, read as a viewer, one-line
JSON errors with the right status, each change audited naming the token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from returns_support import TEE, World, world

from omnibridge.access import Actor, Role, audit, tokens
from omnibridge.daemon.app import daemon_app
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.store import open_store
from omnibridge.sync import SyncEngine

pytestmark = pytest.mark.anyio


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, World]]:
    with open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}") as store:
        w = world(store)
        engine = SyncEngine(store, [w.channel])
        app = daemon_app(engine, DaemonState(("web",)), DaemonMetrics(), on_stored=lambda: None)
        _, operator = tokens.create(store, Role.OPERATOR, "counter", Actor("user", "alice"))
        _, viewer = tokens.create(store, Role.VIEWER, "grafana", Actor("user", "alice"))
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(
                transport=transport, base_url="http://daemon", headers={"Authorization": f"Bearer {operator}"}
            ) as acting,
            httpx.AsyncClient(
                transport=transport, base_url="http://daemon", headers={"Authorization": f"Bearer {viewer}"}
            ) as reading,
        ):
            yield acting, reading, w


async def test_create_receive_decide_and_read(api: tuple[httpx.AsyncClient, httpx.AsyncClient, World]) -> None:
    acting, reading, w = api
    body = {"order": "web:1001", "lines": [{"sku": TEE, "quantity": 2}], "reason": "too big", "at_store": "soho"}
    created = await acting.post("/api/returns", json=body)
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    assert (await reading.post("/api/returns", json=body)).status_code == 403
    received = await acting.post(f"/api/returns/{rid}/receive", json={"at": "soho", "restock": 1, "inspect": 1})
    assert received.status_code == 200, received.text
    assert received.json()["status"] == "received"
    decided = await acting.post(f"/api/returns/{rid}/decide", json={"sku": TEE, "damaged": 1})
    assert decided.json()["status"] == "closed"
    assert w.on_hand(TEE, "soho") == 1
    shown = (await reading.get(f"/api/returns/{rid}")).json()
    assert (shown["lines"][0]["restocked"], shown["lines"][0]["damaged"]) == (1, 1)
    listed = (await reading.get("/api/returns", params={"status": "closed"})).json()
    assert [item["id"] for item in listed["returns"]] == [rid]
    records = audit.records(w.store, subject=rid)
    assert [record.action for record in records] == ["return.create", "return.receive", "return.decide"]
    assert all(record.actor.startswith("token:") and "(counter)" in record.actor for record in records)


async def test_errors_are_one_line_json(api: tuple[httpx.AsyncClient, httpx.AsyncClient, World]) -> None:
    acting, reading, _ = api
    cases = [
        (await acting.post("/api/returns", content=b"nope"), 400, "the body is not JSON"),
        (await acting.post("/api/returns", json={"order": "web:1001", "reason": "x"}), 400, "'lines' is missing"),
        (
            await acting.post(
                "/api/returns",
                json={"order": "web:1001", "lines": [{"sku": TEE, "quantity": 3}], "reason": "x", "by_post": True},
            ),
            409,
            "3 to return but 2 can come back",
        ),
        (await acting.post("/api/returns/web:1001:r7/receive", json={"at": "wh", "restock": 1}), 404, "no return"),
        (await acting.post("/api/returns/web:1001:r7/receive", json={"at": "wh", "restock": -1}), 400, "'restock'"),
        (await reading.get("/api/returns/web:1001:r7"), 404, "no return 'web:1001:r7'"),
        (await reading.get("/api/returns", params={"status": "lost"}), 400, "not a return status"),
    ]
    for response, status, message in cases:
        assert response.status_code == status, response.text
        assert message in response.json()["error"]
        assert "\n" not in response.json()["error"]
    unauthorised = await acting.get("/api/returns", headers={"Authorization": "Bearer wrong"})
    assert unauthorised.status_code == 401
