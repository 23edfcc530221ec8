"""UPS and FedEx through karrio against their emulators: rates, labels, tracking, canonical statuses, errors."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal

import pytest

pytest.importorskip("karrio.mappers.ups", reason="karrio.ups is not installed (./dev setup installs it)")
pytest.importorskip("karrio.mappers.fedex", reason="karrio.fedex is not installed (./dev setup installs it)")
pytest.importorskip("karrio.mappers.usps", reason="karrio.usps is not installed (./dev setup installs it)")
pytest.importorskip("karrio.mappers.mydhl", reason="karrio.mydhl is not installed (./dev setup installs it)")

from connectors.karrio.client import KarrioCarrierConnector
from connectors.karrio.conformance import (
    CLIENT_SECRET,
    DhlExpressHarness,
    FedexHarness,
    KarrioCarrierHarness,
    UpsHarness,
    UspsHarness,
    sample_request,
)
from connectors.karrio.emulators.base import CarrierEmulator
from omnibridge.errors import ConnectorError, FatalConnectorError, RetriableConnectorError, WebhookError
from omnibridge.models.shipments import TrackingStatus
from omnibridge.sdk.carrier import purchase_refused, repeat_purchase_safe
from omnibridge.sdk.emulator import run_server
from omnibridge.shipping.tracking_status import load_tracking_map

HARNESSES = [UpsHarness, FedexHarness, UspsHarness, DhlExpressHarness]
# (services rated for the sample parcel, cheapest service, its currency and days in transit)
CHEAPEST = {
    "ups": (3, "ups_ground", "USD", 4),
    "fedex": (3, "fedex_ground", "USD", 4),
    "usps": (3, "usps_ground_advantage", "USD", 4),
    "dhl_express": (2, "mydhl_express_domestic", "GBP", 1),
}
PENDING, IN_TRANSIT = TrackingStatus.PENDING, TrackingStatus.IN_TRANSIT
OUT, DELIVERED = TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.DELIVERED
# Each emulator's journey mapped through mappings/tracking-status.yaml (DHL has no "label created" checkpoint).
JOURNEY = {
    "ups": [PENDING, IN_TRANSIT, IN_TRANSIT, OUT, DELIVERED],
    "fedex": [PENDING, IN_TRANSIT, IN_TRANSIT, OUT, DELIVERED],
    "usps": [PENDING, IN_TRANSIT, IN_TRANSIT, OUT, DELIVERED],
    "dhl_express": [IN_TRANSIT, IN_TRANSIT, IN_TRANSIT, OUT, DELIVERED],
}


@dataclass
class Live:
    connector: KarrioCarrierConnector
    emulator: CarrierEmulator


@asynccontextmanager
async def live(harness_cls: type[KarrioCarrierHarness], **overrides: object) -> AsyncIterator[Live]:
    harness = harness_cls()
    emulator = harness.emulator_class(
        client_id="conformance-client", client_secret=CLIENT_SECRET, account_number=harness.account_number
    )
    async with run_server(emulator.app) as server:
        settings = harness.make_settings(server.url).model_copy(update=overrides)
        assert harness.spec.factory is not None
        connector = harness.spec.factory(settings)
        assert isinstance(connector, KarrioCarrierConnector)
        try:
            yield Live(connector, emulator)
        finally:
            await connector.aclose()


@pytest.mark.anyio
@pytest.mark.parametrize("harness_cls", HARNESSES, ids=lambda h: h.profile.id)
async def test_quote_rates_every_service_cheapest_first(harness_cls: type[KarrioCarrierHarness]) -> None:
    async with live(harness_cls) as env:
        quote = await env.connector.quote(harness_cls.sample("order-1001"))
    count, service, currency, days = CHEAPEST[harness_cls.profile.id]
    assert len(quote.rates) == count
    amounts = [rate.amount for rate in quote.rates]
    assert amounts == sorted(amounts)
    assert all(amount > 0 for amount in amounts)
    cheapest = quote.rates[0]
    assert cheapest.rate_id == cheapest.service == service
    assert cheapest.currency == currency
    assert cheapest.delivery_days == days
    assert cheapest.carrier == harness_cls.profile.label
    assert env.emulator.calls["ship"] == 0  # quoting buys nothing


@pytest.mark.anyio
async def test_ups_rate_prices_follow_the_billed_weight() -> None:
    # 20 oz is billed as 1.25 lb; UPS Ground in the emulator: 9.50 + 1.10/lb = 10.88, plus 12 % fuel = 1.31.
    async with live(UpsHarness) as env:
        quote = await env.connector.quote(sample_request())
    assert quote.rates[0].amount == Decimal("12.19")


@pytest.mark.anyio
@pytest.mark.parametrize("harness_cls", HARNESSES, ids=lambda h: h.profile.id)
async def test_buy_label_returns_the_pdf_and_the_carrier_charge(harness_cls: type[KarrioCarrierHarness]) -> None:
    async with live(harness_cls) as env:
        quote = await env.connector.quote(harness_cls.sample("order-1002"))
        rate = quote.rates[1]
        label = await env.connector.buy_label(quote.shipment_ref, rate.rate_id)
        again = await env.connector.buy_label(quote.shipment_ref, rate.rate_id)
        parcel = env.emulator.parcels[label.tracking_code]
    assert again == label
    assert env.emulator.labels_by_reference["order-1002"] == 1
    assert label.service == rate.rate_id
    assert label.carrier == harness_cls.profile.label
    assert (label.amount, label.currency) == (parcel.amount, parcel.currency) == (rate.amount, rate.currency)
    prefix = "data:application/pdf;base64,"
    assert label.label_url.startswith(prefix)
    assert base64.b64decode(label.label_url[len(prefix) :]).startswith(b"%PDF")


@pytest.mark.anyio
@pytest.mark.parametrize("harness_cls", HARNESSES, ids=lambda h: h.profile.id)
async def test_label_can_be_bought_by_a_new_connector_from_the_quote_ref(
    harness_cls: type[KarrioCarrierHarness],
) -> None:
    async with live(harness_cls) as env:
        quote = await env.connector.quote(harness_cls.sample("order-1003"))
        harness = harness_cls()
        assert harness.spec.factory is not None
        restarted = harness.spec.factory(env.connector.settings)
        label = await restarted.buy_label(quote.shipment_ref, quote.rates[0].rate_id)
        await restarted.aclose()
    assert env.emulator.parcels[label.tracking_code].reference == "order-1003"


@pytest.mark.anyio
@pytest.mark.parametrize("harness_cls", HARNESSES, ids=lambda h: h.profile.id)
async def test_track_walks_the_journey_with_carrier_codes_and_canonical_statuses(
    harness_cls: type[KarrioCarrierHarness],
) -> None:
    tracking_map = load_tracking_map()
    carrier_id = harness_cls.profile.id
    async with live(harness_cls) as env:
        quote = await env.connector.quote(harness_cls.sample("order-1004"))
        label = await env.connector.buy_label(quote.shipment_ref, quote.rates[0].rate_id)
        seen = [await env.connector.track(label.tracking_code, label.carrier)]
        for _ in range(4):
            env.emulator.advance(label.tracking_code)
            seen.append(await env.connector.track(label.tracking_code, label.carrier))
    assert [len(updates) for updates in seen] == [1, 2, 3, 4, 5]
    final = seen[-1]
    expected_codes = [step.code for step in env.emulator.steps]
    assert [update.carrier_status for update in final] == expected_codes
    assert [update.occurred_at for update in final] == sorted(update.occurred_at for update in final)
    assert len({update.ref for update in final}) == 5
    assert all(update.occurred_at.utcoffset() is not None for update in final)
    assert all(update.tracking_code == label.tracking_code and update.message for update in final)
    assert [tracking_map.canonical(carrier_id, update.carrier_status) for update in final] == JOURNEY[carrier_id]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("harness_cls", "unknown"),
    [
        (UpsHarness, "1ZA1B2C30399999999"),
        (FedexHarness, "794999999999"),
        (UspsHarness, "9400100000000999999999"),
        (DhlExpressHarness, "9999999999"),
    ],
    ids=["ups", "fedex", "usps", "dhl_express"],
)
async def test_track_of_a_number_the_carrier_does_not_know_is_empty(
    harness_cls: type[KarrioCarrierHarness], unknown: str
) -> None:
    async with live(harness_cls) as env:
        assert await env.connector.track(unknown, harness_cls.profile.label) == []


@pytest.mark.anyio
@pytest.mark.parametrize("harness_cls", HARNESSES, ids=lambda h: h.profile.id)
async def test_wrong_credentials_are_fatal(harness_cls: type[KarrioCarrierHarness]) -> None:
    from pydantic import SecretStr

    field = {"fedex": "secret_key", "dhl_express": "password"}.get(harness_cls.profile.id, "client_secret")
    async with live(harness_cls, **{field: SecretStr("wrong")}) as env:
        with pytest.raises(FatalConnectorError, match="credentials refused"):
            await env.connector.quote(harness_cls.sample("order-1007"))


@pytest.mark.anyio
@pytest.mark.parametrize("harness_cls", HARNESSES, ids=lambda h: h.profile.id)
async def test_throttling_is_retried_then_reported_as_retriable(harness_cls: type[KarrioCarrierHarness]) -> None:
    async with live(harness_cls) as env:
        request = harness_cls.sample("order-1008")
        await env.connector.quote(request)  # the token is cached from here on
        env.emulator.fail_next(429, count=2)
        assert (await env.connector.quote(request)).rates
        env.emulator.fail_next(429, count=3)
        with pytest.raises(RetriableConnectorError):
            await env.connector.quote(request)


@pytest.mark.anyio
@pytest.mark.parametrize("harness_cls", HARNESSES, ids=lambda h: h.profile.id)
async def test_a_lost_label_response_is_never_bought_again(harness_cls: type[KarrioCarrierHarness]) -> None:
    async with live(harness_cls) as env:
        quote = await env.connector.quote(harness_cls.sample("order-1005"))
        env.emulator.lose_next_response()
        with pytest.raises(FatalConnectorError, match="may have been bought"):
            await env.connector.buy_label(quote.shipment_ref, quote.rates[0].rate_id)
        with pytest.raises(FatalConnectorError, match="may have succeeded"):
            await env.connector.buy_label(quote.shipment_ref, quote.rates[0].rate_id)
    assert env.emulator.labels_by_reference["order-1005"] == 1


@pytest.mark.anyio
@pytest.mark.parametrize("harness_cls", HARNESSES, ids=lambda h: h.profile.id)
async def test_a_throttled_label_purchase_stays_retriable(harness_cls: type[KarrioCarrierHarness]) -> None:
    async with live(harness_cls) as env:
        quote = await env.connector.quote(harness_cls.sample("order-1006"))
        env.emulator.fail_next(429)
        with pytest.raises(RetriableConnectorError):
            await env.connector.buy_label(quote.shipment_ref, quote.rates[0].rate_id)
        label = await env.connector.buy_label(quote.shipment_ref, quote.rates[0].rate_id)
    assert env.emulator.labels_by_reference["order-1006"] == 1
    assert label.tracking_code


@pytest.mark.anyio
async def test_unreachable_carrier_is_retriable() -> None:
    from omnibridge.sdk.emulator import free_port

    harness = UpsHarness()
    settings = harness.make_settings(f"http://127.0.0.1:{free_port()}").model_copy(update={"max_attempts": 1})
    assert harness.spec.factory is not None
    connector = harness.spec.factory(settings)
    with pytest.raises(RetriableConnectorError, match="unreachable"):
        await connector.quote(sample_request())


@pytest.mark.anyio
async def test_a_foreign_shipment_ref_is_refused_by_name() -> None:
    async with live(FedexHarness) as env:
        with pytest.raises(FatalConnectorError, match="not a karrio quote reference"):
            await env.connector.buy_label("shp_123", "fedex_ground")
        with pytest.raises(FatalConnectorError, match="damaged"):
            await env.connector.buy_label("kr1.not-base64!", "fedex_ground")


def test_webhooks_are_refused() -> None:
    harness = UpsHarness()
    assert harness.spec.factory is not None
    connector = harness.spec.factory(harness.make_settings("http://127.0.0.1:9"))
    with pytest.raises(WebhookError, match="not supported"):
        connector.verify_webhook(b"{}", {}, "https://omnibridge.example/webhooks/ups")


@pytest.mark.anyio
async def test_purchase_errors_say_whether_anything_may_have_been_bought() -> None:
    """What the shipping service relies on: only a purchase the carrier refused (or that was never sent) is
    :func:`purchase_refused`; a lost answer is not, and the connector never declares a repeat safe."""
    async with live(UpsHarness) as env:
        assert repeat_purchase_safe(env.connector) is False
        quote = await env.connector.quote(UpsHarness.sample("order-1009"))
        rate_id = quote.rates[0].rate_id
        outcomes: list[tuple[str, bool]] = []
        scripts: list[tuple[str, Callable[[], None]]] = [
            ("bad request", lambda: env.emulator.fail_next(400)),
            ("throttled", lambda: env.emulator.fail_next(429)),
            ("lost answer", env.emulator.lose_next_response),
            ("refused in this process", lambda: None),
        ]
        for label, script in scripts:
            script()
            with pytest.raises(ConnectorError) as caught:
                await env.connector.buy_label(quote.shipment_ref, rate_id)
            outcomes.append((label, purchase_refused(caught.value)))
        with pytest.raises(FatalConnectorError) as foreign:
            await env.connector.buy_label("shp_123", rate_id)
    assert outcomes == [
        ("bad request", True),
        ("throttled", True),
        ("lost answer", False),
        ("refused in this process", True),  # nothing was sent by that call
    ]
    assert purchase_refused(foreign.value)
    assert env.emulator.labels_by_reference["order-1009"] == 1
