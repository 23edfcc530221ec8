"""LWA token exchange, caching, early refresh, single flight, and 403 handling (respx, fake clock)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from pydantic import ValidationError

from connectors.amazon import connector as amazon_spec
from connectors.amazon.client import AmazonConnector
from omnibridge.sdk import Capability, ConnectorKind, FatalConnectorError
from omnibridge.sdk.channel import ChannelConnector
from omnibridge.sdk.listings import ListingWriter

from .test_client_support import ENDPOINT, LWA_URL, SELLER, amazon_error, connector, lwa_route, settings

ITEM_PATH = f"/listings/2021-08-01/items/{SELLER}/SKU-1"
ITEM = {"sku": "SKU-1", "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT", "quantity": 4}]}


@pytest.fixture
def amazon() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=ENDPOINT, assert_all_called=False) as router:
        yield router


def test_spec_declares_marketplace_capabilities() -> None:
    assert amazon_spec.id == "amazon"
    assert amazon_spec.kind is ConnectorKind.MARKETPLACE
    assert amazon_spec.capabilities == {
        Capability.INVENTORY_READ,
        Capability.INVENTORY_WRITE,
        Capability.ORDERS_READ,
        Capability.FULFILLMENT_WRITE,
        Capability.WEBHOOKS,
        Capability.LISTINGS_WRITE,
        Capability.PRICES_WRITE,
    }


@pytest.mark.anyio
async def test_factory_builds_a_channel_connector_and_listing_writer() -> None:
    assert amazon_spec.factory is not None
    client, _ = connector()
    built = amazon_spec.factory(client.settings)
    try:
        assert isinstance(built, AmazonConnector)
        assert isinstance(built, ChannelConnector)
        assert isinstance(built, ListingWriter)
    finally:
        await built.aclose()
        await client.aclose()


@pytest.mark.anyio
async def test_refresh_token_grant_and_token_on_every_call(amazon: respx.MockRouter) -> None:
    lwa = lwa_route(amazon)
    item = amazon.get(ITEM_PATH).respond(json=ITEM)
    client, _ = connector()
    try:
        await client.read_levels(["SKU-1"])
        await client.read_levels(["SKU-1"])
    finally:
        await client.aclose()
    assert lwa.call_count == 1  # cached
    form = parse_qs(lwa.calls.last.request.content.decode())
    assert form == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["Atzr|refresh-token-for-tests"],
        "client_id": ["amzn1.application-oa2-client.test"],
        "client_secret": ["lwa-client-secret"],
    }
    assert lwa.calls.last.request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert [c.request.headers["x-amz-access-token"] for c in item.calls] == ["Atza|1", "Atza|1"]


@pytest.mark.anyio
async def test_token_is_refreshed_a_minute_before_it_expires(amazon: respx.MockRouter) -> None:
    lwa = lwa_route(amazon, lifetime=3600)
    item = amazon.get(ITEM_PATH).respond(json=ITEM)
    client, time = connector()
    try:
        await client.read_levels(["SKU-1"])
        time.t += 3600 - 61  # 61 s left: still used
        await client.read_levels(["SKU-1"])
        time.t += 2  # 59 s left: inside the 60 s margin, exchanged again
        await client.read_levels(["SKU-1"])
    finally:
        await client.aclose()
    assert lwa.call_count == 2
    assert [c.request.headers["x-amz-access-token"] for c in item.calls] == ["Atza|1", "Atza|1", "Atza|2"]


@pytest.mark.anyio
async def test_concurrent_callers_share_one_exchange(amazon: respx.MockRouter) -> None:
    exchanges = 0

    async def slow_lwa(request: httpx.Request) -> httpx.Response:
        nonlocal exchanges
        exchanges += 1
        for _ in range(5):
            await asyncio.sleep(0)  # let the other callers arrive while this exchange runs
        return httpx.Response(200, json={"access_token": "Atza|only", "expires_in": 3600})

    amazon.post(LWA_URL).mock(side_effect=slow_lwa)
    item = amazon.get(url__regex=r"/listings/2021-08-01/items/.*").respond(json=ITEM)
    client, _ = connector()
    try:
        await asyncio.gather(*(client.read_levels([f"SKU-{i}"]) for i in range(8)))
    finally:
        await client.aclose()
    assert exchanges == 1
    assert {c.request.headers["x-amz-access-token"] for c in item.calls} == {"Atza|only"}
    assert item.call_count == 8


@pytest.mark.anyio
async def test_invalid_grant_is_fatal_and_named(amazon: respx.MockRouter) -> None:
    amazon.post(LWA_URL).respond(
        400, json={"error": "invalid_grant", "error_description": "The request has an invalid grant parameter"}
    )
    item = amazon.get(ITEM_PATH).respond(json=ITEM)
    client, _ = connector()
    try:
        with pytest.raises(FatalConnectorError, match="invalid_grant") as caught:
            await client.read_levels(["SKU-1"])
    finally:
        await client.aclose()
    assert "re-authorize" in str(caught.value)
    assert "Atzr|refresh-token-for-tests" not in str(caught.value)
    assert item.call_count == 0


@pytest.mark.anyio
async def test_a_403_refreshes_the_token_once_and_repeats(amazon: respx.MockRouter) -> None:
    lwa = lwa_route(amazon)
    item = amazon.get(ITEM_PATH).mock(
        side_effect=[
            amazon_error(403, "Unauthorized", "Access to requested resource is denied."),
            httpx.Response(200, json=ITEM),
        ]
    )
    client, _ = connector()
    try:
        levels = await client.read_levels(["SKU-1"])
    finally:
        await client.aclose()
    assert [lvl.available for lvl in levels] == [4]
    assert lwa.call_count == 2
    assert [c.request.headers["x-amz-access-token"] for c in item.calls] == ["Atza|1", "Atza|2"]


@pytest.mark.anyio
async def test_a_second_403_is_fatal(amazon: respx.MockRouter) -> None:
    lwa = lwa_route(amazon)
    item = amazon.get(ITEM_PATH).mock(return_value=amazon_error(403, "Unauthorized", "Access denied"))
    client, _ = connector()
    try:
        with pytest.raises(FatalConnectorError, match="403 Unauthorized"):
            await client.read_levels(["SKU-1"])
    finally:
        await client.aclose()
    assert item.call_count == 2
    assert lwa.call_count == 2


def test_settings_keep_credentials_secret_and_name_bad_rate_overrides() -> None:
    configured = settings(rate_limits={"getOrders": {"rate": 0.05, "burst": 20}})
    assert "lwa-client-secret" not in repr(configured)
    assert "Atzr|refresh-token-for-tests" not in repr(configured)
    assert str(configured.lwa_endpoint) == LWA_URL
    assert configured.marketplace_id == "ATVPDKIKX0DER"
    assert configured.feed_threshold == 50
    with pytest.raises(ValidationError, match="unknown operation"):
        settings(rate_limits={"getOrdres": {"rate": 1, "burst": 1}})
    with pytest.raises(ValidationError, match="extra"):
        settings(shop_url="https://example.com")
