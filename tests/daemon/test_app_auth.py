"""The daemon's whole app with access control: /api behind tokens, /metrics open or behind a token, webhooks
signature-authenticated only, and is_operator for public routes' detailed views."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from omnibridge.access import Actor, Role, tokens
from omnibridge.daemon.app import daemon_app
from omnibridge.daemon.auth import is_operator, with_store
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.models import Location, LocationType
from omnibridge.store import Store, open_store
from omnibridge.sync import SyncEngine

from .fakes import TOKEN, FakeConnector, runtime

pytestmark = pytest.mark.anyio
Client = Callable[..., httpx.AsyncClient]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}")
    opened.upsert_location(Location(id="wh", name="Warehouse", type=LocationType.WAREHOUSE))
    return opened


def build(store: Store, *, metrics_token: bool) -> ASGIApp:
    engine = SyncEngine(store, [runtime("web", FakeConnector(["W1"]), {"W1": "wh"}, webhooks=True)])
    state = DaemonState(tuple(engine.channels))
    return daemon_app(engine, state, DaemonMetrics(), on_stored=lambda: None, metrics_token=metrics_token)


@pytest.fixture
async def client(store: Store) -> AsyncIterator[Client]:
    opened: list[httpx.AsyncClient] = []

    def make(app: ASGIApp) -> httpx.AsyncClient:
        made = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon")
        opened.append(made)
        return made

    yield make
    for made in opened:
        await made.aclose()
    store.close()


async def test_the_daemon_serves_the_api_behind_tokens(store: Store, client: Client) -> None:
    http = client(build(store, metrics_token=False))
    _, secret = tokens.create(store, Role.VIEWER, "grafana", Actor("user", "alice"))
    assert (await http.get("/api/incidents")).status_code == 401
    answer = await http.get("/api/incidents", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200
    assert answer.json() == {"counts": {}, "incidents": []}


async def test_metrics_stay_open_by_default(store: Store, client: Client) -> None:
    http = client(build(store, metrics_token=False))
    assert (await http.get("/metrics")).status_code == 200


async def test_metrics_can_require_a_viewer_token(store: Store, client: Client) -> None:
    http = client(build(store, metrics_token=True))
    _, secret = tokens.create(store, Role.VIEWER, "prometheus", Actor("user", "alice"))
    refused = await http.get("/metrics")
    assert refused.status_code == 401
    assert "omnibridge_up" not in refused.text
    scraped = await http.get("/metrics", headers={"Authorization": f"Bearer {secret}"})
    assert scraped.status_code == 200
    assert "omnibridge_up 1" in scraped.text


async def test_webhooks_need_their_signature_and_no_token(store: Store, client: Client) -> None:
    http = client(build(store, metrics_token=True))
    signed = await http.post("/webhooks/web", content=b'{"delivery": "d1"}', headers={"x-token": TOKEN})
    assert signed.status_code == 200
    _, secret = tokens.create(store, Role.ADMIN, "ops", Actor("user", "alice"))
    token_only = await http.post(
        "/webhooks/web", content=b'{"delivery": "d2"}', headers={"Authorization": f"Bearer {secret}"}
    )
    assert token_only.status_code == 401


async def test_is_operator_tells_an_operator_from_everyone_else(store: Store, client: Client) -> None:
    async def detail(request: Request) -> JSONResponse:
        return JSONResponse({"operator": is_operator(request)})

    http = client(with_store(Starlette(routes=[Route("/readyz", detail)]), store))
    made = {role: tokens.create(store, role, role.value, Actor("user", "alice"))[1] for role in Role}

    async def seen(headers: dict[str, str]) -> bool:
        return bool((await http.get("/readyz", headers=headers)).json()["operator"])

    assert not await seen({})
    assert not await seen({"Authorization": "Bearer obt_000000000000_" + "x" * 43})
    assert not await seen({"Authorization": f"Bearer {made[Role.VIEWER]}"})
    assert await seen({"Authorization": f"Bearer {made[Role.OPERATOR]}"})
    assert await seen({"Authorization": f"Bearer {made[Role.ADMIN]}"})


async def test_is_operator_is_false_without_a_token_store() -> None:
    async def detail(request: Request) -> JSONResponse:
        return JSONResponse({"operator": is_operator(request)})

    app = Starlette(routes=[Route("/readyz", detail)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon") as http:
        answer = await http.get("/readyz", headers={"Authorization": "Bearer obt_000000000000_" + "x" * 43})
    assert answer.json() == {"operator": False}


async def test_requires_guards_a_route_added_elsewhere(store: Store, client: Client) -> None:
    from omnibridge.daemon.auth import actor_of, requires

    @requires(Role.OPERATOR)
    async def accept(request: Request) -> JSONResponse:
        return JSONResponse({"by": str(actor_of(request)), "order": request.path_params["order_id"]})

    http = client(
        with_store(Starlette(routes=[Route("/api/orders/{order_id}/accept", accept, methods=["POST"])]), store)
    )
    made = {role: tokens.create(store, role, role.value, Actor("user", "alice")) for role in Role}
    url = "/api/orders/web:1001/accept"
    assert (await http.post(url)).status_code == 401
    assert (await http.post(url, headers={"Authorization": f"Bearer {made[Role.VIEWER][1]}"})).status_code == 403
    done = await http.post(url, headers={"Authorization": f"Bearer {made[Role.OPERATOR][1]}"})
    assert done.json() == {"by": f"token:{made[Role.OPERATOR][0].id} (operator)", "order": "web:1001"}
