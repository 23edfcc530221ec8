"""The pickup HTTP API (``/api/pickups``, viewer to read, operator to act, audited naming the token; 409 naming
the state) and the dispatcher's ``pickup`` tasks (a channel that shows pickups is told, a cancellation in place
of an expiry it cannot show; one that cannot is skipped)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from pickup_holds_support import CHANNEL_MAP, SETTINGS, PickupWorld, pickup_world
from sync.fake_channel import NOW, FakeChannel, runtime

from omnibridge.access import Actor, Role, audit, tokens
from omnibridge.daemon.app import daemon_app
from omnibridge.daemon.pickup_api import pickup_api
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.fulfilment.dispatcher import Dispatcher
from omnibridge.pickup.expiry import expire_due
from omnibridge.pickup.staff import PickupService
from omnibridge.sdk.pickup import PickupState, PickupUpdate, PickupUpdateResult
from omnibridge.sync import SyncEngine

pytestmark = pytest.mark.anyio


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, PickupWorld]]:
    with pickup_world(f"sqlite:///{tmp_path / 'omnibridge.db'}", {("TENT", "nyc"): 3}) as world:
        world.place("1001", ("TENT", 2))
        engine = SyncEngine(world.store, [world.web], placer=world.service)
        pickups = pickup_api(PickupService(world.store, SETTINGS, world.service))
        app = daemon_app(engine, DaemonState(("web",)), DaemonMetrics(), on_stored=lambda: None, pickups=pickups)
        _, operator = tokens.create(world.store, Role.OPERATOR, "store staff app", Actor("user", "alice"))
        headers = {"Authorization": f"Bearer {operator}"}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://daemon", headers=headers
        ) as client:
            yield client, world


async def test_staff_list_ready_and_collect_over_http_audited_by_token(
    api: tuple[httpx.AsyncClient, PickupWorld],
) -> None:
    client, world = api
    _, viewer = tokens.create(world.store, Role.VIEWER, "dashboard", Actor("user", "alice"))
    as_viewer = {"Authorization": f"Bearer {viewer}"}
    listed = await client.get("/api/pickups?at=nyc&status=reserved", headers=as_viewer)
    assert listed.status_code == 200, listed.text
    assert [p["id"] for p in listed.json()["pickups"]] == ["web:1001#1"]
    refused = await client.post("/api/pickups/web:1001%231/ready", headers=as_viewer)
    assert refused.status_code == 403
    ready = await client.post("/api/pickups/web:1001%231/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["message"] == "pickup web:1001#1 at nyc: reserved -> ready"
    collected = await client.post("/api/pickups/web:1001%231/collected")
    assert collected.json()["units"] == 2
    assert world.store.position("TENT", "nyc").on_hand == 1
    entries = audit.records(world.store, action="pickup.")
    assert [e.action for e in entries] == ["pickup.ready", "pickup.collected"]
    assert all("store staff app" in str(e.actor) for e in entries)


async def test_http_errors_are_one_line_json(api: tuple[httpx.AsyncClient, PickupWorld]) -> None:
    client, world = api
    world.clock.now = NOW + timedelta(days=3)
    expire_due(world.store, SETTINGS)
    conflict = await client.post("/api/pickups/web:1001%231/collected")
    assert conflict.status_code == 409
    assert conflict.json() == {
        "error": "pickup web:1001#1 is expired: it cannot become collected (expected it arrived or ready or reserved)"
    }
    missing = await client.post("/api/pickups/web:404%231/ready")
    assert missing.status_code == 404
    no_reason = await client.post("/api/pickups/web:1001%231/reject", json={})
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["error"]
    bad_status = await client.get("/api/pickups?status=lost")
    assert bad_status.status_code == 400


class PickupChannel(FakeChannel):
    """A channel that shows pickups (only ``states``) and records what it was told."""

    def __init__(self, locations: Sequence[str], states: frozenset[PickupState]) -> None:
        super().__init__(locations)
        self.pickup_states = states
        self.updates: list[PickupUpdate] = []

    async def update_pickup(self, update: PickupUpdate) -> PickupUpdateResult:
        self.updates.append(update)
        return PickupUpdateResult(accepted=True)


async def test_the_dispatcher_tells_a_pickup_channel_and_skips_one_that_cannot_show_pickups(tmp_path: Path) -> None:
    with pickup_world(f"sqlite:///{tmp_path / 'omnibridge.db'}", {("TENT", "nyc"): 3}) as world:
        world.place("1001", ("TENT", 1))
        world.clock.now = NOW + timedelta(days=3)
        expire_due(world.store, SETTINGS)
        channel = PickupChannel(list(CHANNEL_MAP), frozenset({PickupState.RESERVED, PickupState.CANCELLED}))
        web = runtime("web", channel, CHANNEL_MAP)
        web.location_ids.update(CHANNEL_MAP)
        report = await Dispatcher(world.store, {"web": web}).run_once()
        assert report.ok
        assert [(u.reference, u.state, u.location_ref) for u in channel.updates] == [
            ("web:1001#1:reserved", PickupState.RESERVED, "W-NYC"),
            ("web:1001#1:expired", PickupState.CANCELLED, "W-NYC"),  # it cannot show an expiry
        ]
        reserved = channel.updates[0]
        assert reserved.pickup_at == NOW + timedelta(hours=1)
        assert (reserved.window_minutes, reserved.prep_minutes) == (60, 30)
        world.place("1002", ("TENT", 1))
        plain = runtime("web", FakeChannel(list(CHANNEL_MAP)), CHANNEL_MAP)
        skipped = await Dispatcher(world.store, {"web": plain}).run_once()
        assert [(o.task_id, o.outcome) for o in skipped.outcomes if o.kind == "pickup"] == [
            ("pickup:web:1002#1:reserved", "done")
        ]
        assert len(channel.updates) == 2
