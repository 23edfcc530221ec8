"""ShipBob webhooks: Standard Webhooks signatures verified (forged, replayed or unsigned deliveries refused) and
the emulator's signed deliveries turned into fulfilment events."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.shipbob.client import ShipBobConnector
from connectors.shipbob.emulator import ShipBobEmulator, ShipBobEmulatorConfig
from connectors.shipbob.webhooks import sign, signature_headers, verify_delivery
from omnibridge.errors import WebhookError
from omnibridge.sdk.channel import FulfilmentEvent, FulfilmentStatus, FulfilmentStatusEvent

from .conftest import request

pytestmark = pytest.mark.anyio

SECRET = "whsec_" + base64.b64encode(b"a-test-secret-of-32-bytes-length").decode()
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BODY = json.dumps({"id": 7, "order_id": 3, "reference_id": "submit:a-1", "status": "Completed"}).encode()


def _headers(stamp: int | None = None, topic: str = "order_shipped") -> dict[str, str]:
    return signature_headers(SECRET, "msg_1", int(NOW.timestamp()) if stamp is None else stamp, BODY, topic)


def test_the_signature_is_hmac_sha256_of_id_timestamp_body_with_the_decoded_secret() -> None:
    import hashlib
    import hmac

    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, b"msg_1.1764590400." + BODY, hashlib.sha256).digest()).decode()
    assert sign(SECRET, "msg_1", 1764590400, BODY) == f"v1,{expected}"


def test_a_signed_delivery_is_accepted_with_its_id_and_topic() -> None:
    delivery = verify_delivery(SECRET, BODY, _headers(), NOW)
    assert (delivery.delivery_id, delivery.topic, delivery.event_id) == ("msg_1", "order_shipped", "order_shipped:7")


def test_one_of_several_signatures_may_match() -> None:
    headers = _headers()
    headers["webhook-signature"] = "v1,bm90LXRoaXMtb25l " + headers["webhook-signature"]
    assert verify_delivery(SECRET, BODY, headers, NOW).delivery_id == "msg_1"


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (BODY.replace(b"a-1", b"a-2"), _headers(), "does not match"),
        (BODY, {**_headers(), "webhook-id": "msg_2"}, "does not match"),
        (BODY, {k: v for k, v in _headers().items() if k != "webhook-signature"}, "no webhook-signature"),
        (BODY, _headers(stamp=int(NOW.timestamp()) - 3600), "more than 300 s"),
        (BODY, _headers(topic="inventory_updated"), "unknown webhook topic"),
    ],
)
def test_forged_replayed_or_unknown_deliveries_are_refused(body: bytes, headers: dict[str, str], reason: str) -> None:
    with pytest.raises(WebhookError, match=reason):
        verify_delivery(SECRET, body, headers, NOW)


def test_without_a_secret_every_delivery_is_refused() -> None:
    with pytest.raises(WebhookError, match="not configured"):
        verify_delivery(None, BODY, _headers(), NOW)


async def test_the_emulator_delivers_a_signed_order_shipped_the_connector_accepts(
    client: ShipBobConnector, emulator: ShipBobEmulator
) -> None:
    await client.submit_fulfilment(request())
    emulator.ship("submit:a-1")
    emulator.cancel(emulator.state.create_order(_other_order(), emulator.config.channel_id)["id"])
    events = []
    for record in emulator.webhooks.deliveries:
        delivery = client.verify_webhook(record.body, record.headers, "https://omnibridge.example/webhooks/shipbob")
        events.extend(await client.webhook_events(delivery))
    shipped = [e for e in events if isinstance(e, FulfilmentEvent)]
    cancelled = [e for e in events if isinstance(e, FulfilmentStatusEvent)]
    assert [(e.order_ref, e.lines[0].line_ref, e.lines[0].quantity) for e in shipped] == [
        ("submit:a-1", "shopify:1001:L1", 2)
    ]
    assert shipped[0].tracking_number
    assert [(e.reference, e.status) for e in cancelled] == [("submit:a-9", FulfilmentStatus.CANCELLED)]
    pulled = await client.pull_events(None)
    assert {e.ref for e in shipped + cancelled} == {
        e.ref for e in pulled.events if isinstance(e, FulfilmentEvent | FulfilmentStatusEvent)
    }  # the same refs however they arrive


async def test_webhooks_reach_the_subscribed_url_signed() -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    async def hook(req: Request) -> Response:
        received.append((dict(req.headers), await req.body()))
        return Response(status_code=200)

    receiver = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    emu = ShipBobEmulator(ShipBobEmulatorConfig(), webhook_transport=httpx.ASGITransport(app=receiver))
    emu.set_stock("SKU-1", 6, 5)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emu.app), base_url="http://sb") as http:
        auth = {"Authorization": f"Bearer {emu.config.token}"}
        created = await http.post(
            "/1.0/webhook", json={"topic": "order_shipped", "subscription_url": "http://r/hook"}, headers=auth
        )
        assert created.status_code == 201
    order = emu.state.create_order(_other_order(), emu.config.channel_id)
    emu.ship(order["id"])
    await emu.webhooks.drain(timeout=5)
    [(headers, body)] = received
    assert headers["x-webhook-topic"] == "order_shipped"
    delivery = verify_delivery(emu.config.webhook_secret, body, headers, datetime.now(UTC))
    assert json.loads(delivery.raw_body)["tracking"]["tracking_number"]


def _other_order() -> dict[str, object]:
    return {
        "reference_id": "submit:a-9",
        "shipping_method": "Standard",
        "recipient": {"name": "X", "address": {"type": "MarkFor", "address1": "a", "city": "b", "country": "US"}},
        "products": [{"reference_id": "SKU-1", "quantity": 1}],
    }


async def test_the_freshness_window_is_the_channel_setting_and_a_stale_delivery_is_refused(
    emulator: ShipBobEmulator,
) -> None:
    from connectors.shipbob.emulator.inprocess import connect

    stamp = int(emulator.clock().timestamp()) - 400  # captured 400 s ago and sent again now
    for tolerance, accepted in ((300, False), (600, True)):
        connector = connect(emulator, webhook_tolerance_seconds=tolerance)
        assert connector.settings.webhook_secret is not None
        secret = connector.settings.webhook_secret.get_secret_value()
        headers = signature_headers(secret, "msg_9", stamp, BODY, "order_shipped")
        if accepted:
            assert connector.verify_webhook(BODY, headers, "https://x.example/hook").delivery_id == "msg_9"
        else:
            with pytest.raises(WebhookError, match="more than 300 s from now"):
                connector.verify_webhook(BODY, headers, "https://x.example/hook")
        await connector.aclose()
