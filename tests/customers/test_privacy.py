"""Data-subject requests: export everything held about a customer; erase it everywhere in the store and on the
channels that can erase, while the customer's orders still count."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from itertools import count

import anyio
import pytest
import sqlalchemy as sa

from omnibridge.customers.consent import ConsentHub
from omnibridge.customers.directory import CustomerDirectory, ObservedIdentity
from omnibridge.customers.privacy import PrivacyService
from omnibridge.errors import RetriableConnectorError
from omnibridge.models import (
    Address,
    FulfilmentMethod,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentLine,
)
from omnibridge.sdk.privacy import PrivacyResult
from omnibridge.sdk.webhooks import WebhookDelivery
from omnibridge.store import Store
from omnibridge.store.tables import StoreModel

PLACED = datetime(2026, 3, 1, 12, tzinfo=UTC)
CANARIES = (
    "Ada.Canary@Example.com",
    "ada.canary@example.com",
    "4155550199",
    "Canaryfield",
    "Ada Canary",
    "77 Canary Row",
)
ADDRESS = Address(
    name="Ada Canary",
    line1="77 Canary Row",
    city="Canaryfield",
    region="CA",
    postal_code="94000",
    country="US",
    phone="+1 415 555 0199",
)


class RecordingEraser:
    def __init__(self, answer: PrivacyResult) -> None:
        self.answer = answer
        self.erased: list[str] = []

    async def erase_customer(self, customer_ref: str) -> PrivacyResult:
        self.erased.append(customer_ref)
        return self.answer


def seed(store: Store) -> str:
    ids = count(1)
    people = CustomerDirectory(store, new_id=lambda: f"cus-{next(ids)}")
    customer = people.resolve(
        ObservedIdentity(
            "shopify",
            "gid://shopify/Customer/501",
            email="Ada.Canary@Example.com",
            first_name="Ada",
            last_name="Canary",
        )
    )
    people.resolve(
        ObservedIdentity("square", "SQ-77", email="ada.canary@example.com", phone="(415) 555-0199", region="US")
    )
    people.resolve(ObservedIdentity("amazon", "AMZ-9", phone="+14155550199"))
    anyio.run(lambda: ConsentHub(store).decide(customer, "email_marketing", True, source="shopify", decided_at=PLACED))
    order = Order(
        id="ord-1",
        channel="shopify",
        external_id="gid://shopify/Order/1001",
        number="#1001",
        status=OrderStatus.FULFILLED,
        fulfilment_method=FulfilmentMethod.SHIP,
        lines=[OrderLine(line_id="l1", sku="TEE-M", quantity=2)],
        ship_to=ADDRESS,
        customer_id=customer,
        total=Money(amount=Decimal("40.00"), currency="USD"),
        placed_at=PLACED,
        updated_at=PLACED,
    )
    store.save_order(order)
    store.save_shipment(
        Shipment(
            id="shp-1",
            order_id="ord-1",
            from_location_id="wh-1",
            carrier="usps",
            ship_to=ADDRESS,
            lines=[ShipmentLine(order_line_id="l1", sku="TEE-M", quantity=2)],
            created_at=PLACED,
        )
    )
    about = json.dumps(
        {"id": 1001, "email": "ada.canary@example.com", "shipping_address": {"address1": "77 Canary Row"}}
    )
    other = json.dumps({"id": 2002, "email": "someone@else.example", "customer": {"id": 5010}})
    for n, body in enumerate((about, other)):
        delivery = WebhookDelivery(f"d{n}", None, "orders/create", body.encode(), {}, PLACED)
        store.add_delivery("shopify", delivery)
    return customer


def dump(store: Store) -> str:
    with store.engine.connect() as connection:
        return "\n".join(
            repr(tuple(row))
            for table in StoreModel.metadata.sorted_tables
            for row in connection.execute(sa.select(table))
        ).lower()


def test_export_holds_identities_consents_orders_with_addresses_and_shipments(store: Store) -> None:
    customer = seed(store)
    exported = PrivacyService(store).export(customer)
    json.dumps(exported)  # JSON-ready
    assert exported["customer"]["email"] == "ada.canary@example.com"  # the latest seen identity's
    assert [i["channel"] for i in exported["identities"]] == ["shopify", "square", "amazon"]
    assert exported["identities"][1]["phone"] == "(415) 555-0199"
    assert [(c["purpose"], c["granted"]) for c in exported["consent"]] == [("email_marketing", True)]
    assert exported["orders"][0]["ship_to"]["line1"] == "77 Canary Row"
    assert exported["shipments"][0]["ship_to"]["name"] == "Ada Canary"


def test_erase_leaves_no_trace_in_the_store_and_orders_still_count(store: Store) -> None:
    customer = seed(store)
    shopify = RecordingEraser(PrivacyResult(True))
    square = RecordingEraser(PrivacyResult(False, "customer has a card on file"))
    report = anyio.run(lambda: PrivacyService(store, {"shopify": shopify, "square": square}).erase(customer))
    assert shopify.erased == ["gid://shopify/Customer/501"]
    assert square.erased == ["SQ-77"]
    assert report.not_erased == [
        {"where": "square:SQ-77", "reason": "customer has a card on file"},
        {"where": "amazon:AMZ-9", "reason": "this channel's connector cannot erase customers: erase it there"},
    ]
    assert not report.complete
    text = dump(store)
    for canary in CANARIES:
        assert canary.lower() not in text, canary
    assert "gid://shopify/customer/501" not in text
    bodies = {entry.delivery.delivery_id: entry.delivery.raw_body for entry in store.inbox()}
    assert bodies["d0"] == b'{"redacted":true}'
    assert b"someone@else.example" in bodies["d1"]  # another customer's delivery is kept
    order = store.get_order("ord-1")
    assert order is not None
    assert order.lines[0].quantity == 2
    assert order.total == Money(amount=Decimal("40.00"), currency="USD")
    assert order.ship_to == Address(country="US")
    shipment = store.get_shipment("shp-1")
    assert shipment is not None
    assert shipment.ship_to == Address(country="US")
    erased = CustomerDirectory(store).require(customer)
    assert erased.redacted_at is not None
    assert erased.email is None
    assert erased.identities == []


class DownEraser:
    async def erase_customer(self, customer_ref: str) -> PrivacyResult:
        raise RetriableConnectorError("503", connector="square", op="erase")


def test_a_channel_that_is_down_stops_the_erasure_or_is_listed_when_skipped(store: Store) -> None:
    customer = seed(store)
    service = PrivacyService(store, {"shopify": RecordingEraser(PrivacyResult(True)), "square": DownEraser()})
    with pytest.raises(RetriableConnectorError):
        anyio.run(lambda: service.erase(customer, retry_later=True))
    assert CustomerDirectory(store).require(customer).email is not None  # nothing erased: run it again later
    report = anyio.run(lambda: service.erase(customer))
    assert {"where": "square:SQ-77", "reason": "the channel is unavailable: try again later"} in report.not_erased
    assert CustomerDirectory(store).require(customer).email is None
