"""The conformance harness drives the real connector (built by ``spec.factory``) against the emulator over HTTP.

The conformance kit runs the full suite from ``tests/conformance/test_clover.py``; this checks the harness's own
hooks so a broken back door is caught here, with a clear failure."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from connectors.clover.client import CloverConnector
from connectors.clover.conformance import AUTH_CODE, CloverHarness
from connectors.clover.settings import CloverSettings
from omnibridge.sdk import WebhookError
from omnibridge.sdk.channel import OrderEvent, PushStatus, StockTarget
from omnibridge.sdk.listings import ListingUpdate


@pytest.mark.anyio
async def test_session_hooks_work_over_http() -> None:
    harness = CloverHarness()
    async with harness.session() as session:
        client = session.connector
        assert isinstance(client, CloverConnector)
        control, sku, loc = session.control, session.sku, session.location_ref
        control.seed_stock(sku, loc, 12)
        assert [lv.available for lv in await client.read_levels([sku])] == [12]

        control.lose_next_response(count=1)
        result = (await client.push_levels([StockTarget(sku, loc, 9)]))[0]
        assert result.status is PushStatus.APPLIED
        assert control.shown_stock(sku, loc) == 9

        order_ref = control.place_order(sku, loc, 2)
        pulled = await client.pull_events(None)
        assert order_ref in [e.ref for e in pulled.events if isinstance(e, OrderEvent)]
        assert control.shown_stock(sku, loc) == 7

        await client.push_listings([ListingUpdate(sku, title="Conformance tee", price=Decimal("12.5"), currency="USD")])
        assert control.listing(sku) == ("Conformance tee", "12.50")

        before = control.api_requests()
        await asyncio.gather(*(client.read_levels([sku]) for _ in range(harness.rate_probe_requests)))
        assert control.api_requests() - before == harness.rate_probe_requests
        assert control.refused_requests() == 0


def test_webhook_vectors_verify_as_declared() -> None:
    harness = CloverHarness()
    settings_client = CloverConnector(
        CloverSettings(merchant_id="CONFMERCHANT1", access_token="t", webhook_auth_code=AUTH_CODE)
    )
    for vector in harness.webhook_vectors():
        if vector.valid:
            assert settings_client.verify_webhook(vector.body, vector.headers, vector.url).delivery_id
        else:
            with pytest.raises(WebhookError):
                settings_client.verify_webhook(vector.body, vector.headers, vector.url)


def test_mapper_fixtures_parse_to_what_they_expect() -> None:
    for fixture in CloverHarness().mapper_fixtures():
        assert fixture.parse(fixture.payload) == fixture.expected, fixture.name
