"""Forged webhook deliveries are the sender's fault: they never make ``/readyz`` answer 503.

A run of rejected deliveries with none accepted since is still reported (what a wrong signing secret looks like),
as a warning an operator sees, not as unreadiness that anyone on the internet could cause.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from omnibridge.daemon.app import daemon_app
from omnibridge.daemon.jobs import JobRunner
from omnibridge.daemon.operators import TOKEN_ENV
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.models import Location, LocationType
from omnibridge.store import Store
from omnibridge.sync import SyncEngine

from .fakes import TOKEN, FakeConnector, runtime

pytestmark = pytest.mark.anyio

OPERATOR = "operator-test-token"
GOOD = {"x-token": TOKEN, "content-type": "application/json"}
FORGED = {"x-token": "an-old-secret", "content-type": "application/json"}


@dataclass
class Served:
    client: httpx.AsyncClient
    state: DaemonState


@pytest.fixture
async def served(store: Store, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Served]:
    monkeypatch.setenv(TOKEN_ENV, OPERATOR)
    store.upsert_location(Location(id="wh", name="Warehouse", type=LocationType.WAREHOUSE))
    engine = SyncEngine(
        store,
        [
            runtime("web", FakeConnector(["W1"]), {"W1": "wh"}, webhooks=True),
            runtime("pos", FakeConnector(["P1"]), {"P1": "wh"}, webhooks=True),
        ],
    )
    state = DaemonState(tuple(engine.channels))
    metrics = DaemonMetrics()
    app = daemon_app(engine, state, metrics, on_stored=lambda: None)
    headers = {"authorization": f"Bearer {OPERATOR}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://d", headers=headers
    ) as client:
        assert await JobRunner(engine, state, metrics).resolve() == "ok"
        yield Served(client, state)


async def post(served: Served, channel: str, delivery_id: str, headers: dict[str, str]) -> int:
    body = json.dumps({"delivery": delivery_id}).encode()
    return (await served.client.post(f"/webhooks/{channel}", content=body, headers=headers)).status_code


async def test_forged_deliveries_never_make_the_daemon_unready(served: Served) -> None:
    limit = served.state.webhook_reject_limit
    for n in range(limit * 3):
        assert await post(served, "pos", f"forged-{n}", FORGED) == 401
    assert await post(served, "nope", "elsewhere", FORGED) == 404

    operator = await served.client.get("/readyz")
    assert operator.status_code == 200
    body = operator.json()
    assert (body["status"], body["channels"], "reasons" in body) == ("ready", {"web": "ok", "pos": "ok"}, False)
    [warning] = body["warnings"]
    assert warning.startswith(f"channel pos: webhooks rejected: the last {limit * 3} deliveries, none accepted since")
    assert "missing or wrong x-token header" in warning
    assert "signing secret" in warning

    public = await served.client.get("/readyz", headers={"authorization": ""})
    assert public.status_code == 200
    assert "warnings" not in public.json()  # it quotes the vendor's error text: operators only
    assert public.json()["channels"] == {"web": "ok", "pos": "ok"}


async def test_one_accepted_delivery_ends_the_warning(served: Served) -> None:
    for n in range(served.state.webhook_reject_limit):
        assert await post(served, "pos", f"forged-{n}", FORGED) == 401
    assert "warnings" in (await served.client.get("/readyz")).json()
    assert await post(served, "pos", "good-1", GOOD) == 200
    after = await served.client.get("/readyz")
    assert (after.status_code, "warnings" in after.json()) == (200, False)


async def test_a_few_rejections_are_no_warning(served: Served) -> None:
    for n in range(served.state.webhook_reject_limit - 1):
        assert await post(served, "pos", f"forged-{n}", FORGED) == 401
    assert "warnings" not in (await served.client.get("/readyz")).json()
