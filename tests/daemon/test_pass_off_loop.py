"""A worker pass applies deliveries off the event loop: a webhook POST is answered while the pass is still
applying a batch (asserted on the order of events, never on time)."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from omnibridge.daemon.app import daemon_app
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.models import Location, LocationType
from omnibridge.store import InboxStatus, open_store
from omnibridge.sync import SyncEngine

from .fakes import TOKEN, FakeConnector, runtime

pytestmark = pytest.mark.anyio

GUARD_S = 5.0
"""How long the held apply waits for the webhook's answer before it gives up (a guard, not an assertion)."""


async def test_a_webhook_is_answered_while_a_pass_applies_a_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}") as store:
        store.upsert_location(Location(id="wh", name="Warehouse", type=LocationType.WAREHOUSE))
        engine = SyncEngine(store, [runtime("web", FakeConnector(["W1"]), {"W1": "wh"}, webhooks=True)])
        await engine.resolve_locations()
        headers = {"x-token": TOKEN}
        for n in range(20):  # the batch the pass applies
            body = json.dumps({"delivery": f"batch-{n}"}).encode()
            assert engine.receive("web", body, headers, "http://daemon/webhooks/web").status == "stored"
        events: list[str] = []
        started, answered = threading.Event(), threading.Event()
        original = engine._apply_delivery

        def held_apply(*args: Any) -> Any:
            if not started.is_set():  # the first delivery of the batch is held until the webhook was answered
                events.append("apply:start")
                started.set()
                answered.wait(GUARD_S)
                events.append("apply:end")
            return original(*args)

        monkeypatch.setattr(engine, "_apply_delivery", held_apply)
        app = daemon_app(engine, DaemonState(tuple(engine.channels)), DaemonMetrics(), on_stored=lambda: None)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon") as client:
            batch = asyncio.get_running_loop().create_task(engine.process_pending())
            while not started.is_set():
                await asyncio.sleep(0.01)
            response = await client.post("/webhooks/web", content=json.dumps({"delivery": "new"}), headers=headers)
            events.append("answered")
            answered.set()
            assert await batch == 20
        assert response.status_code == 200
        assert events == ["apply:start", "answered", "apply:end"]
        assert {entry.delivery.delivery_id for entry in store.inbox(status=InboxStatus.PENDING)} == {"new"}
        await engine.aclose()
