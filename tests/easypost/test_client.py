"""The EasyPost connector against its emulator: rates, once-only labels, lost answers, errors, tracking, webhooks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.easypost import connector as spec
from connectors.easypost import mapper
from connectors.easypost.conformance import sample_request
from connectors.easypost.settings import EasyPostSettings
from connectors.easypost.webhooks import SIGNATURE_HEADER, sign, signature_key
from omnibridge.errors import WebhookError
from omnibridge.sdk import FatalConnectorError, HttpFatalError, HttpRetriableError, hmac_sha256_hex
from omnibridge.sdk.carrier import CarrierConnector, Parcel, ShipmentRequest

from .support import SECRET, Rig, make_rig


@pytest.fixture
def rig() -> Rig:
    return make_rig()


def test_the_connector_is_a_carrier_connector_built_by_the_spec() -> None:
    built = spec.factory(EasyPostSettings(api_key="EZTKx")) if spec.factory else None
    assert isinstance(built, CarrierConnector)
    assert str(EasyPostSettings(api_key="EZTKx").base_url) == "https://api.easypost.com/v2"


def test_settings_name_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="carrier account ids"):
        EasyPostSettings(api_key="EZTKx", carrier_accounts=["usps"])
    with pytest.raises(ValueError, match="api_key must not be blank"):
        EasyPostSettings(api_key=" ")


@pytest.mark.anyio
async def test_quote_returns_rates_cheapest_first_and_buys_nothing(rig: Rig) -> None:
    quote = await rig.connector.quote(sample_request())
    amounts = [rate.amount for rate in quote.rates]
    assert amounts == sorted(amounts)
    assert {rate.carrier for rate in quote.rates} == {"USPS", "UPS", "FedEx", "DHLExpress"}
    assert quote.rates[0].carrier_account_id is not None
    assert rig.emu.labels_bought(quote.shipment_ref) == 0
    sent = rig.emu.state.shipments[quote.shipment_ref]
    assert sent["reference"] == "conformance-shipment"
    assert sent["parcel"]["weight"] == 21.5  # ounces, as EasyPost wants


@pytest.mark.anyio
async def test_buy_label_returns_the_label_and_a_second_buy_returns_the_same_label(rig: Rig) -> None:
    quote = await rig.connector.quote(sample_request())
    label = await rig.connector.buy_label(quote.shipment_ref, quote.rates[0].rate_id)
    assert label.amount == quote.rates[0].amount
    assert label.label_url.startswith("https://")
    assert label.tracker_ref is not None
    again = await rig.connector.buy_label(quote.shipment_ref, quote.rates[1].rate_id)  # 422 POSTAGE.EXISTS
    assert again == label
    assert rig.emu.labels_bought(quote.shipment_ref) == 1


@pytest.mark.anyio
async def test_a_lost_buy_response_is_resolved_by_reading_the_shipment_not_by_buying_again(rig: Rig) -> None:
    quote = await rig.connector.quote(sample_request())
    rig.emu.lose_next_response()
    label = await rig.connector.buy_label(quote.shipment_ref, quote.rates[0].rate_id)
    assert rig.emu.labels_bought(quote.shipment_ref) == 1
    assert rig.emu.calls["POST /v2/shipments/{id}/buy"] == 1
    assert rig.emu.calls["GET /v2/shipments/{id}"] == 1
    assert label.tracking_code == rig.emu.state.shipments[quote.shipment_ref]["tracking_code"]


@pytest.mark.anyio
async def test_a_buy_that_failed_before_being_applied_is_bought_after_checking(rig: Rig) -> None:
    quote = await rig.connector.quote(sample_request())
    rig.emu.fail_next(503)  # refused before anything was applied
    label = await rig.connector.buy_label(quote.shipment_ref, quote.rates[0].rate_id)
    assert rig.emu.labels_bought(quote.shipment_ref) == 1
    assert rig.emu.calls["GET /v2/shipments/{id}"] == 1  # looked before buying again
    assert label.shipment_ref == quote.shipment_ref


@pytest.mark.anyio
async def test_a_buy_failing_every_time_is_retriable_and_buys_nothing(rig: Rig) -> None:
    quote = await rig.connector.quote(sample_request())
    rig.emu.fail_next(503, count=10)  # the buy and every look at the shipment fail
    with pytest.raises(HttpRetriableError):
        await rig.connector.buy_label(quote.shipment_ref, quote.rates[0].rate_id)
    assert rig.emu.labels_bought(quote.shipment_ref) == 0


@pytest.mark.anyio
async def test_easypost_errors_are_fatal_and_name_the_field(rig: Rig) -> None:
    request = sample_request()
    bad = ShipmentRequest(request.reference, request.from_address, request.to_address, Parcel(Decimal(0)))
    with pytest.raises(HttpFatalError) as caught:
        await rig.connector.quote(bad)
    assert caught.value.status_code == 422
    assert "shipment.parcel.weight" in str(caught.value)
    for status in (401, 402, 404):
        rig.emu.fail_next(status)
        with pytest.raises(FatalConnectorError, match=f"HTTP {status}"):
            await rig.connector.quote(request)


@pytest.mark.anyio
async def test_throttling_and_server_errors_are_retried(rig: Rig) -> None:
    rig.emu.fail_next(429)
    rig.emu.fail_next(502)
    quote = await rig.connector.quote(sample_request())
    assert quote.rates
    assert rig.emu.calls["POST /v2/shipments"] == 3


@pytest.mark.anyio
async def test_track_creates_the_tracker_once_then_reads_it(rig: Rig) -> None:
    updates = await rig.connector.track("EZ3000000003", "USPS")
    assert [u.carrier_status for u in updates] == ["pre_transit", "in_transit", "out_for_delivery"]
    assert all(u.occurred_at.tzinfo is not None for u in updates)
    rig.emu.advance_tracking("EZ3000000003")
    later = await rig.connector.track("EZ3000000003", "USPS")
    assert [u.carrier_status for u in later][-1] == "delivered"
    assert later[:3] == updates  # same refs: a poll repeats what it saw
    assert rig.emu.calls["POST /v2/trackers"] == 1
    assert rig.emu.calls["GET /v2/trackers/{id}"] == 1


@pytest.mark.anyio
async def test_tracker_updated_webhooks_verify_and_carry_the_updates(rig: Rig) -> None:
    await rig.connector.track("EZ1000000001", "USPS")
    rig.emu.advance_tracking("EZ1000000001")
    await rig.emu.webhooks.drain()
    headers, body = rig.sink.received[-1]
    delivery = rig.connector.verify_webhook(body, headers, "https://ignored.example")
    event = json.loads(body)
    assert delivery.delivery_id == delivery.event_id == event["id"]
    assert delivery.topic == "tracker.updated"
    updates = await rig.connector.webhook_events(delivery)
    assert [u.carrier_status for u in updates] == ["pre_transit", "in_transit"]
    polled = await rig.connector.track("EZ1000000001", "USPS")
    assert [u.ref for u in polled] == [u.ref for u in updates]  # webhook and poll dedupe on the same refs


@pytest.mark.anyio
async def test_forged_or_unsigned_webhooks_are_refused(rig: Rig) -> None:
    await rig.connector.track("EZ1000000001", "USPS")
    await rig.emu.webhooks.drain()
    headers, body = rig.sink.received[-1]
    with pytest.raises(WebhookError, match="does not match"):
        rig.connector.verify_webhook(body.replace(b"EZ1000000001", b"EZ1000000002"), headers, "")
    with pytest.raises(WebhookError, match="no X-Hmac-Signature"):
        rig.connector.verify_webhook(body, {"content-type": "application/json"}, "")
    forged = {SIGNATURE_HEADER: "hmac-sha256-hex=" + hmac_sha256_hex("other", body)}
    with pytest.raises(WebhookError, match="does not match"):
        rig.connector.verify_webhook(body, forged, "")
    bare = {SIGNATURE_HEADER: hmac_sha256_hex(SECRET, body)}  # right digest, missing scheme prefix
    with pytest.raises(WebhookError):
        rig.connector.verify_webhook(body, bare, "")


def test_the_signature_key_is_the_nfkd_normalised_secret() -> None:
    composed = "caf\u00e9\u2163"  # é and the Roman numeral Ⅳ: NFKD gives e + combining accent and "IV"
    assert signature_key(composed) == "cafe\u0301IV".encode()
    body = b'{"object":"Event"}'
    assert sign(composed, body) == sign("cafe\u0301IV", body)
    assert sign(composed, body).startswith("hmac-sha256-hex=")


@pytest.mark.anyio
async def test_a_webhook_without_a_configured_secret_cannot_be_verified() -> None:
    rig = make_rig()
    connector = type(rig.connector)(EasyPostSettings(api_key="EZTKx"))
    with pytest.raises(WebhookError, match="webhook_secret is not configured"):
        connector.verify_webhook(b"{}", {SIGNATURE_HEADER: "hmac-sha256-hex=00"}, "")
    await connector.aclose()


def test_error_messages_name_code_message_and_fields() -> None:
    body = {
        "error": {
            "code": "ADDRESS.VERIFY.FAILURE",
            "message": "Address not found",
            "errors": [{"field": "street1", "message": "House number is missing", "suggestion": None}, "plain"],
        }
    }
    assert mapper.error_message(422, body) == (
        "HTTP 422 ADDRESS.VERIFY.FAILURE: Address not found [street1: House number is missing; plain]"
    )
    assert mapper.error_message(500, "not json") == "HTTP 500"
    assert mapper.error_code({"code": "SHIPMENT.POSTAGE.EXISTS"}) == "SHIPMENT.POSTAGE.EXISTS"


def test_mapper_basics() -> None:
    assert mapper.canonical_carrier("DHLExpress") == "dhl_express"
    assert mapper.canonical_carrier("FedEx") == "fedex"
    assert mapper.parse_time("2025-05-09T20:39:17.000Z") == datetime(2025, 5, 9, 20, 39, 17, tzinfo=UTC)
    with pytest.raises(mapper.MappingError, match=r"shipment\.rates"):
        mapper.parse_quote({"id": "shp_1"})
    with pytest.raises(mapper.MappingError, match=r"tracking_details\[0\]\.datetime"):
        mapper.parse_tracker({"tracking_code": "X", "carrier": "USPS", "tracking_details": [{"status": "x"}]})
