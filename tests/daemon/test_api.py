"""The admin API on every backend: bearer tokens with roles (401 without or with a bad token, 403 below the
route's role), the routes the CLI offers, and the audit records they leave, naming the token."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from omnibridge.access import Actor, Role, audit, tokens
from omnibridge.daemon.api import api_app
from omnibridge.daemon.auth import with_store
from omnibridge.models import Order, OrderLine, OrderStatus
from omnibridge.sdk.webhooks import WebhookDelivery
from omnibridge.store import InboxStatus, Incident, Store

pytestmark = pytest.mark.anyio
PLACED = datetime(2026, 11, 30, 9, tzinfo=UTC)
CLI_USER = Actor("user", "alice")


@dataclass
class Api:
    client: httpx.AsyncClient
    store: Store
    tokens: dict[Role, str]
    requeued: list[int]

    def auth(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
async def api(store: Store) -> AsyncIterator[Api]:
    made = {role: tokens.create(store, role, f"{role.value} token", CLI_USER)[1] for role in Role}
    requeued: list[int] = []
    app = with_store(api_app(store, on_requeued=lambda: requeued.append(1)), store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon") as client:
        yield Api(client, store, made, requeued)


def dead(store: Store, name: str) -> int:
    delivery = WebhookDelivery(name, name, "orders/create", json.dumps({"id": name}).encode(), {}, PLACED)
    entry_id = store.add_delivery("web", delivery)
    assert entry_id is not None
    store.finish_delivery(entry_id, InboxStatus.DEAD, f"{name}: unknown SKU")
    return entry_id


async def test_no_token_a_malformed_one_and_a_revoked_one_are_401(api: Api) -> None:
    bare = await api.client.get("/api/incidents")
    assert bare.status_code == 401
    assert bare.headers["www-authenticate"] == 'Bearer realm="omnibridge"'
    assert bare.json()["error"].startswith("this needs an API token of the viewer role or above")
    forged = await api.client.get("/api/incidents", headers={"Authorization": "Bearer obt_123456789abc_" + "x" * 43})
    assert forged.status_code == 401
    assert "a valid API token" in forged.json()["error"]
    basic = await api.client.get("/api/incidents", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401
    viewer = tokens.authenticate(api.store, api.tokens[Role.VIEWER])
    assert viewer is not None
    tokens.revoke(api.store, viewer.id, CLI_USER)
    revoked = await api.client.get("/api/incidents", headers=api.auth(Role.VIEWER))
    assert revoked.status_code == 401
    assert api.tokens[Role.VIEWER] not in revoked.text


async def test_a_viewer_reads_but_may_not_act(api: Api) -> None:
    entry_id = dead(api.store, "d-1")
    listed = await api.client.get("/api/deadletters", headers=api.auth(Role.VIEWER))
    assert listed.status_code == 200
    assert [(row["id"], row["error"]) for row in listed.json()["dead_letters"]] == [(entry_id, "d-1: unknown SKU")]
    refused = await api.client.post(
        "/api/deadletters/discard", json={"ids": [entry_id], "reason": "test"}, headers=api.auth(Role.VIEWER)
    )
    assert refused.status_code == 403
    viewer = tokens.authenticate(api.store, api.tokens[Role.VIEWER])
    assert viewer is not None
    assert refused.json() == {"error": f"this needs the operator role or above; token {viewer.id} has the viewer role"}
    assert api.store.inbox_entry(entry_id).status is InboxStatus.DEAD  # type: ignore[union-attr]
    assert audit.records(api.store, action="deadletter.") == []


async def test_an_operator_discards_and_replays_and_the_audit_log_names_the_token(api: Api) -> None:
    first, second = dead(api.store, "d-1"), dead(api.store, "d-2")
    operator = tokens.authenticate(api.store, api.tokens[Role.OPERATOR])
    assert operator is not None
    discarded = await api.client.post(
        "/api/deadletters/discard",
        json={"ids": [first, 999], "reason": "a test notification"},
        headers=api.auth(Role.OPERATOR),
    )
    assert discarded.status_code == 200
    assert discarded.json() == {"discarded": [first], "refused": [{"id": 999, "reason": "no such inbox entry"}]}
    replayed = await api.client.post("/api/deadletters/replay", json={"all": True}, headers=api.auth(Role.OPERATOR))
    assert replayed.status_code == 200
    assert replayed.json()["requeued"] == [second]
    assert api.requeued == [1]
    assert api.store.inbox_entry(second).status is InboxStatus.PENDING  # type: ignore[union-attr]
    found = audit.records(api.store, action="deadletter.")
    assert [(r.action, r.subject, r.actor) for r in found] == [
        ("deadletter.discard", f"inbox:{first}", f"token:{operator.id} (operator token)"),
        ("deadletter.replay", f"inbox:{second}", f"token:{operator.id} (operator token)"),
    ]


async def test_bad_bodies_are_one_line_400s(api: Api) -> None:
    headers = api.auth(Role.OPERATOR)
    no_reason = await api.client.post("/api/deadletters/discard", json={"ids": [1]}, headers=headers)
    assert (no_reason.status_code, no_reason.json()["error"].split(":")[0]) == (400, "'reason'")
    both = await api.client.post("/api/deadletters/replay", json={"all": True, "ids": [1]}, headers=headers)
    assert both.status_code == 400
    not_json = await api.client.post("/api/deadletters/replay", content=b"{nope", headers=headers)
    assert not_json.json() == {"error": "the body is not JSON: expected a JSON object"}
    huge = await api.client.post("/api/deadletters/replay", content=b" " * 70_000, headers=headers)
    assert huge.status_code == 413
    nowhere = await api.client.get("/api/nothing-here", headers=headers)
    assert nowhere.status_code == 404
    assert "no API route GET /api/nothing-here" in nowhere.json()["error"]


async def test_an_operator_resolves_an_incident_once(api: Api) -> None:
    api.store.add_incident(Incident("drift", "alert", "web shows 9 of A at wh", "d-1", "web", "A", "wh"))
    [incident] = api.store.incidents()
    url = f"/api/incidents/{incident.id}/resolve"
    by_viewer = await api.client.post(url, json={"note": "x"}, headers=api.auth(Role.VIEWER))
    assert by_viewer.status_code == 403
    done = await api.client.post(url, json={"note": "counted: 9 is right"}, headers=api.auth(Role.OPERATOR))
    assert done.status_code == 200
    assert done.json()["resolution"] == "counted: 9 is right"
    again = await api.client.post(url, json={"note": "again"}, headers=api.auth(Role.OPERATOR))
    assert again.status_code == 409
    assert "already resolved" in again.json()["error"]
    missing = await api.client.post("/api/incidents/999/resolve", json={"note": "x"}, headers=api.auth(Role.ADMIN))
    assert missing.status_code == 404
    open_ones = await api.client.get("/api/incidents?state=open", headers=api.auth(Role.VIEWER))
    resolved = await api.client.get("/api/incidents?state=resolved", headers=api.auth(Role.VIEWER))
    assert open_ones.json()["incidents"] == []
    assert [i["resolved_by"] for i in resolved.json()["incidents"]] == [done.json()["resolved_by"]]
    assert resolved.json()["counts"] == {"drift": 1}


async def test_orders_are_listed_and_shown(api: Api) -> None:
    api.store.save_order(
        Order(
            id="web:5501",
            channel="web",
            external_id="5501",
            number="#2001",
            status=OrderStatus.ACCEPTED,
            lines=[OrderLine(line_id="l1", sku="TENT-2P", quantity=2, location_id="wh")],
            placed_at=PLACED,
            updated_at=PLACED,
        )
    )
    listed = await api.client.get("/api/orders?channel=web&since=2026-11-01", headers=api.auth(Role.VIEWER))
    assert [o["id"] for o in listed.json()["orders"]] == ["web:5501"]
    shown = await api.client.get("/api/orders/web:2001", headers=api.auth(Role.VIEWER))
    assert shown.status_code == 200
    assert shown.json()["order"]["number"] == "#2001"
    missing = await api.client.get("/api/orders/web:9999", headers=api.auth(Role.VIEWER))
    assert missing.status_code == 404
    assert missing.json()["error"].startswith("no order 'web:9999'")
    bad_since = await api.client.get("/api/orders?since=yesterday", headers=api.auth(Role.VIEWER))
    assert bad_since.status_code == 400
    assert bad_since.json()["error"].startswith("?since='yesterday' is not a date")


async def test_only_an_admin_manages_tokens_and_reads_the_audit_log(api: Api) -> None:
    for path in ("/api/tokens", "/api/audit", "/api/audit/verify"):
        assert (await api.client.get(path, headers=api.auth(Role.OPERATOR))).status_code == 403
    made = await api.client.post(
        "/api/tokens", json={"role": "viewer", "name": "grafana", "expires_days": 90}, headers=api.auth(Role.ADMIN)
    )
    assert made.status_code == 201
    secret = made.json()["token"]
    whoami = await api.client.get("/api/whoami", headers={"Authorization": f"Bearer {secret}"})
    assert whoami.json() == {"id": made.json()["id"], "name": "grafana", "role": "viewer"}
    listed = await api.client.get("/api/tokens", headers=api.auth(Role.ADMIN))
    assert secret not in listed.text
    assert len(listed.json()["tokens"]) == 4
    revoked = await api.client.delete(f"/api/tokens/{made.json()['id']}", headers=api.auth(Role.ADMIN))
    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked"
    assert (await api.client.get("/api/whoami", headers={"Authorization": f"Bearer {secret}"})).status_code == 401
    unknown = await api.client.delete("/api/tokens/000000000000", headers=api.auth(Role.ADMIN))
    assert unknown.status_code == 404
    bad_role = await api.client.post("/api/tokens", json={"role": "root", "name": "x"}, headers=api.auth(Role.ADMIN))
    assert bad_role.status_code == 400
    assert "expected one of: viewer, operator, admin" in bad_role.json()["error"]
    records = await api.client.get("/api/audit?action=token.", headers=api.auth(Role.ADMIN))
    assert [r["action"] for r in records.json()["records"]][-2:] == ["token.create", "token.revoke"]
    assert secret not in records.text
    verified = await api.client.get("/api/audit/verify", headers=api.auth(Role.ADMIN))
    assert verified.json() == {"intact": True, "checked": 5, "broken_id": None, "problem": None}
