"""Amazon emulator, notifications: ORDER_CHANGE / FEED_PROCESSING_FINISHED bodies, forwarder signature, retries,
duplicates and the queue kept for the control API."""

from __future__ import annotations

import json

import jsonschema  # type: ignore[import-untyped]

from connectors.amazon.spec_check import load_spec
from omnibridge.sdk import hmac_sha256_base64

from .test_emulator_support import (
    FORWARDER_SECRET,
    MARKETPLACE,
    SKU,
    feed_message,
    listing_path,
    make_seller,
    patch_body,
    run,
)


def test_order_changes_are_signed_order_change_notifications_matching_the_schema() -> None:
    seller = make_seller()
    control = seller.emu.control
    order_id = control.create_order(SKU, 2)
    seller.clock.advance(60)
    control.cancel_order(order_id)
    run(control.drain)

    schema = jsonschema.Draft7Validator(load_spec("OrderChangeNotification.json"))
    received = [
        (h, raw) for h, raw in seller.receiver.received if json.loads(raw)["NotificationType"] == "ORDER_CHANGE"
    ]
    assert len(received) == 2
    statuses = []
    for headers, raw in received:
        assert headers["x-omnibridge-forwarder-signature"] == hmac_sha256_base64(FORWARDER_SECRET, raw)
        body = json.loads(raw)
        schema.validate(body)
        assert headers["x-omnibridge-notification-id"] == body["NotificationMetadata"]["NotificationId"]
        change = body["Payload"]["OrderChangeNotification"]
        assert change["AmazonOrderId"] == order_id
        assert change["Summary"]["OrderItems"][0]["SellerSKU"] == SKU
        statuses.append(change["Summary"]["OrderStatus"])
    assert statuses == ["Unshipped", "Canceled"]
    assert [n["NotificationType"] for n in control.notifications()] == [
        "ORDER_CHANGE",
        "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
    ] * 2


def test_feed_processing_finished_is_published_when_a_feed_ends() -> None:
    seller = make_seller(rate_scale=1000.0)

    async def flow() -> str:
        async with seller.client() as client:
            document = (
                await client.post("/feeds/2021-06-30/documents", json={"contentType": "application/json"})
            ).json()
            body = {"header": {"sellerId": seller.emu.config.seller_id, "version": "2.0"}}
            body["messages"] = [feed_message(1, SKU, 1)]  # type: ignore[assignment]
            await client.put(document["url"], json=body, headers={"content-type": "application/json"})
            feed = await client.post(
                "/feeds/2021-06-30/feeds",
                json={
                    "feedType": "JSON_LISTINGS_FEED",
                    "marketplaceIds": [seller.emu.config.marketplace_id],
                    "inputFeedDocumentId": document["feedDocumentId"],
                },
            )
            seller.clock.advance(1)
            await seller.emu.control.drain()
            return str(feed.json()["feedId"])

    feed_id = run(flow)
    [(headers, raw)] = seller.receiver.received
    body = json.loads(raw)
    jsonschema.Draft7Validator(load_spec("FeedProcessingFinishedNotification.json")).validate(body)
    finished = body["payload"]["feedProcessingFinishedNotification"]
    assert (finished["feedId"], finished["processingStatus"], finished["feedType"]) == (
        feed_id,
        "DONE",
        "JSON_LISTINGS_FEED",
    )
    assert finished["resultFeedDocumentId"]
    assert headers["x-omnibridge-forwarder-signature"] == hmac_sha256_base64(FORWARDER_SECRET, raw)


def test_failed_deliveries_are_retried_and_duplicates_keep_the_notification_id() -> None:
    seller = make_seller(mfn_quantity_notifications=False)
    seller.receiver.statuses = [500, 503]
    seller.emu.webhooks.knobs.duplicate_next = 1
    seller.emu.control.create_order(SKU, 1)
    run(seller.emu.control.drain)

    received = seller.receiver.received
    assert len(received) == 4  # two failed attempts, the retry that succeeded, the duplicate
    ids = {json.loads(raw)["NotificationMetadata"]["NotificationId"] for _, raw in received}
    assert len(ids) == 1
    assert all(d.delivered for d in seller.emu.webhooks.deliveries)


def test_without_a_url_notifications_are_only_queued() -> None:
    seller = make_seller(notification_url=None)
    seller.emu.control.create_order(SKU, 1)
    run(seller.emu.control.drain)
    assert seller.receiver.received == []
    assert len(seller.emu.control.notifications()) == 2  # ORDER_CHANGE, LISTINGS_ITEM_MFN_QUANTITY_CHANGE


def test_buyer_orders_send_mfn_quantity_changes_matching_the_schema() -> None:
    seller = make_seller()
    control = seller.emu.control
    control.seed_listing("STOVE", quantity=4)
    order_id = control.create_order(lines=[(SKU, 2), ("STOVE", 1)])
    seller.clock.advance(30)
    control.cancel_order(order_id)
    run(control.drain)

    schema = jsonschema.Draft7Validator(load_spec("ListingsItemMfnQuantityChange.json"))
    changes: list[tuple[str, int, str]] = []
    kinds = []
    for headers, raw in seller.receiver.received:
        assert headers["x-omnibridge-forwarder-signature"] == hmac_sha256_base64(FORWARDER_SECRET, raw)
        body = json.loads(raw)
        kinds.append(body["NotificationType"])
        if body["NotificationType"] != "LISTINGS_ITEM_MFN_QUANTITY_CHANGE":
            continue
        schema.validate(body)
        assert headers["x-omnibridge-notification-id"] == body["NotificationMetadata"]["NotificationId"]
        payload = body["Payload"]
        assert (payload["SellerId"], payload["FulfillmentChannelCode"]) == (seller.emu.config.seller_id, "DEFAULT")
        changes.append((payload["Sku"], payload["Quantity"], body["EventTime"]))
    assert kinds == ["ORDER_CHANGE", *["LISTINGS_ITEM_MFN_QUANTITY_CHANGE"] * 2] * 2
    placed, cancelled = seller.iso(-30).replace("Z", ".000Z"), seller.iso().replace("Z", ".000Z")
    assert changes == [(SKU, 8, placed), ("STOVE", 3, placed), (SKU, 10, cancelled), ("STOVE", 4, cancelled)]


def test_seller_writes_and_switched_off_emulators_send_no_quantity_change() -> None:
    seller = make_seller()

    async def patch() -> int:
        async with seller.client() as client:
            response = await client.patch(listing_path(), params={"marketplaceIds": MARKETPLACE}, json=patch_body(3))
            return response.status_code

    assert run(patch) == 200
    assert seller.emu.control.listing_quantity(SKU) == 3
    assert seller.emu.control.notifications() == []

    quiet = make_seller(mfn_quantity_notifications=False)
    quiet.emu.control.create_order(SKU, 1)
    assert [n["NotificationType"] for n in quiet.emu.control.notifications()] == ["ORDER_CHANGE"]
