"""The action queue's unroutable orders: listed from the routing service, re-routed through it by an operator,
and audited as the signed-in token."""

from __future__ import annotations

import re

import httpx
import pytest
from routing_service_support import network
from sync.fake_channel import receive

from omnibridge.access import Actor, Role, audit, tokens
from omnibridge.console import ConsoleContext, console_app
from omnibridge.store import Store

pytestmark = pytest.mark.anyio


async def test_an_operator_reroutes_a_parked_order_once_stock_arrives(store: Store) -> None:
    net = network(store, {("TENT", "wh"): 1})
    net.place("1001", ("TENT", 3), at="W-WH")
    assert [d.order_id for d in net.service.parked()] == ["web:1001"]
    secret = tokens.create(store, Role.OPERATOR, "Olga", Actor("user", "alice"))[1]
    app = console_app(ConsoleContext(store, routing=net.service))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon") as client:
        await client.post("/console/login", data={"token": secret})
        overview = await client.get("/console/")
        assert re.search(r"Orders waiting for routing</a></td><td>1</td>", overview.text)
        queue = await client.get("/console/actions", params={"source": "unroutable"})
        assert "web:1001" in queue.text
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', queue.text)
        assert found is not None
        receive(store, "TENT", "nyc", 5)
        done = await client.post(
            "/console/actions/unroutable", data={"csrf": found.group(1), "action": "reroute", "id": "web:1001"}
        )
    assert "Re-route: 1 done" in done.text
    assert net.service.parked() == []
    [record] = [r for r in audit.records(store) if r.action == "order.route"]
    assert record.subject == "order:web:1001"
    assert record.actor.startswith("token:")
    assert record.after["outcome"] == "routed"
