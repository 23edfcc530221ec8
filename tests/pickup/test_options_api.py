"""``GET /api/pickup-options`` on the daemon's API, on every backend: a viewer token is enough, bad parameters
are 400 naming the parameter and what was expected, an unknown SKU is 404, the answer is the decision's JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from pickup_support import LOCATIONS
from sync.fake_channel import receive

from omnibridge.access import Actor, Role, tokens
from omnibridge.daemon.api import api_app
from omnibridge.daemon.app import daemon_app
from omnibridge.daemon.auth import with_store
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.models import Product, Variant
from omnibridge.pickup.desk import PickupDesk
from omnibridge.pickup.rules import PickupRules
from omnibridge.routing import RoutingRules
from omnibridge.store import Store
from omnibridge.sync import SyncEngine

pytestmark = pytest.mark.anyio
ROUTE = "/api/pickup-options"


@dataclass
class Api:
    client: httpx.AsyncClient
    viewer: dict[str, str]


@pytest.fixture
async def api(store: Store) -> AsyncIterator[Api]:
    store.upsert_product(Product(id="P", title="Tent", variants=[Variant(sku="TENT", product_id="P")]))
    receive(store, "TENT", "soho", 3)
    secret = tokens.create(store, Role.VIEWER, "storefront", Actor("user", "alice"))[1]
    desk = PickupDesk(store, LOCATIONS, RoutingRules(timezone="America/New_York"), PickupRules(horizon_days=6))
    app = with_store(api_app(store, pickup=desk), store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon") as client:
        yield Api(client, {"Authorization": f"Bearer {secret}"})


async def test_a_viewer_token_gets_the_stores_and_their_windows(api: Api) -> None:
    answer = await api.client.get(
        ROUTE, params={"sku": "TENT", "qty": "2", "near": "40.7128,-74.006"}, headers=api.viewer
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["sku"], body["quantity"], body["fallback"]) == ("TENT", 2, "first_window")
    assert [store["location_id"] for store in body["stores"]] == ["soho"]
    assert {left["location_id"]: left["rule"] for left in body["left_out"]}["bk"] == "no_stock"
    curbside = await api.client.get(
        ROUTE, params={"sku": "TENT", "near": "40.7128,-74.006", "curbside": "true"}, headers=api.viewer
    )
    assert curbside.json()["curbside"] is True


async def test_a_postcode_is_placed_at_its_centroid(api: Api) -> None:
    answer = await api.client.get(ROUTE, params={"sku": "TENT", "near": "10013"}, headers=api.viewer)
    assert answer.status_code == 200
    assert answer.json()["stores"][0]["location_id"] == "soho"


async def test_no_token_is_401(api: Api) -> None:
    answer = await api.client.get(ROUTE, params={"sku": "TENT", "near": "10013"})
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"near": "10013"}, "?sku= is missing: expected the master SKU"),
        ({"sku": "TENT"}, "?near= is missing: expected 'lat,lon' in decimal degrees (40.71,-74.01) or a US ZIP code"),
        ({"sku": "TENT", "near": "10013", "qty": "two"}, "?qty='two': expected a whole number of units, 1 or more"),
        ({"sku": "TENT", "near": "10013", "qty": "0"}, "?qty=0: expected a whole number of units, 1 or more"),
        ({"sku": "TENT", "near": "mars"}, "?near=mars: 'mars' is not a place: expected 'lat,lon'"),
        ({"sku": "TENT", "near": "91,0"}, "?near=91,0: '91,0' is outside the globe"),
        ({"sku": "TENT", "near": "10013", "curbside": "maybe"}, "?curbside='maybe': expected true or false"),
        ({"sku": "TENT", "near": "10013", "quantity": "2"}, "?quantity= is not a parameter: expected sku, qty"),
    ],
)
async def test_bad_parameters_are_400_naming_the_parameter_and_what_was_expected(
    api: Api, params: dict[str, str], error: str
) -> None:
    answer = await api.client.get(ROUTE, params=params, headers=api.viewer)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(error)


async def test_an_unknown_sku_is_404(api: Api) -> None:
    answer = await api.client.get(ROUTE, params={"sku": "NOPE", "near": "10013"}, headers=api.viewer)
    assert answer.status_code == 404
    assert answer.json() == {"error": "unknown SKU 'NOPE': it is not in the catalog"}


async def test_without_a_pickup_desk_the_route_says_so(store: Store) -> None:
    secret = tokens.create(store, Role.VIEWER, "storefront", Actor("user", "alice"))[1]
    app = with_store(api_app(store), store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon") as client:
        answer = await client.get(ROUTE, params={"sku": "TENT"}, headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 404
    assert "pickup options are not served here" in answer.json()["error"]


async def test_the_daemons_app_serves_it(store: Store) -> None:
    store.upsert_product(Product(id="P", title="Tent", variants=[Variant(sku="TENT", product_id="P")]))
    receive(store, "TENT", "bk", 1)
    secret = tokens.create(store, Role.VIEWER, "storefront", Actor("user", "alice"))[1]
    desk = PickupDesk(store, LOCATIONS, RoutingRules(timezone="America/New_York"), PickupRules(horizon_days=6))
    app = daemon_app(SyncEngine(store, []), DaemonState(()), DaemonMetrics(), on_stored=lambda: None, pickup=desk)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon") as client:
        answer = await client.get(
            ROUTE, params={"sku": "TENT", "near": "10013"}, headers={"Authorization": f"Bearer {secret}"}
        )
    assert answer.status_code == 200
    assert [found["location_id"] for found in answer.json()["stores"]] == ["bk"]
