"""Personal data and webhook bodies are sealed at rest; the inbox keeps no credential headers (every backend)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import command

from omnibridge.models import Address, Money, Order, OrderLine, OrderStatus, Shipment, ShipmentLine
from omnibridge.sdk.webhooks import WebhookDelivery
from omnibridge.store import Store, open_store
from omnibridge.store.migrate import alembic_config
from omnibridge.store.tables import INBOX, ORDERS, SHIPMENTS

WHEN = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CANARY = Address(
    name="Zebulon Canaryfield",
    line1="77 Canary Lane",
    city="Springfield",
    postal_code="99999",
    country="US",
    phone="+15550199777",
)
SECRET_HEADERS = {
    "Authorization": "Bearer tok-canary-1",
    "Cookie": "session=canary-cookie",
    "Set-Cookie": "a=canary-set",
    "Proxy-Authorization": "Basic canary-proxy",
    "X-Clover-Auth": "canary-clover-code",
    "X-Forwarded-For": "203.0.113.77",
    "X-Acme-Token": "canary-acme-token",
}
KEPT_HEADERS = {
    "X-Shopify-Hmac-Sha256": "c2lnbmF0dXJl",
    "X-Shopify-Topic": "orders/create",
    "X-Shopify-Webhook-Id": "w-1",
    "Content-Type": "application/json",
}


def order(ship_to: Address | None = CANARY) -> Order:
    return Order(
        id="o-1",
        channel="web",
        external_id="1001",
        status=OrderStatus.ACCEPTED,
        lines=[OrderLine(line_id="l1", sku="SKU-1", quantity=1)],
        ship_to=ship_to,
        total=Money(amount=Decimal("10.00"), currency="USD"),
        placed_at=WHEN,
        updated_at=WHEN,
    )


def raw_dump(store: Store) -> str:
    """Every column of the tables holding personal data, as the database has them."""
    with store.engine.connect() as conn:
        rows = [
            *conn.execute(sa.select(ORDERS)).all(),
            *conn.execute(sa.select(SHIPMENTS)).all(),
            *conn.execute(sa.select(INBOX)).all(),
        ]
    return "\n".join(repr(tuple(row)) for row in rows)


def test_addresses_are_sealed_and_read_back_in_clear(store: Store) -> None:
    saved = store.save_order(order())
    store.save_shipment(
        Shipment(
            id="s-1",
            order_id=saved.id,
            from_location_id="wh",
            carrier="usps",
            ship_to=CANARY,
            lines=[ShipmentLine(sku="SKU-1", quantity=1)],
            created_at=WHEN,
        )
    )
    dump = raw_dump(store)
    for canary in ("Zebulon", "Canary Lane", "99999", "15550199777"):
        assert canary not in dump
    assert "enc:v1:" in dump
    assert store.get_order("o-1") is not None
    assert store.get_order("o-1").ship_to == CANARY  # type: ignore[union-attr]
    assert store.find_order("web", "1001").ship_to == CANARY  # type: ignore[union-attr]
    assert store.get_shipment("s-1").ship_to == CANARY  # type: ignore[union-attr]


def test_webhook_bodies_are_sealed_and_credential_headers_never_stored(store: Store) -> None:
    body = b'{"email": "zebulon@canary.example"}'
    delivery = WebhookDelivery("w-1", "e-1", "orders/create", body, {**SECRET_HEADERS, **KEPT_HEADERS}, WHEN)
    entry_id = store.add_delivery("web", delivery)
    assert entry_id is not None
    dump = raw_dump(store)
    assert "zebulon@canary" not in dump
    for value in SECRET_HEADERS.values():
        assert value not in dump
    entry = store.inbox_entry(entry_id)
    assert entry is not None
    assert entry.delivery.raw_body == body
    assert dict(entry.delivery.headers.items()) == KEPT_HEADERS


def test_rows_stored_before_encryption_are_read_as_they_are(store: Store) -> None:
    store.save_order(order())
    with store.engine.begin() as conn:
        conn.execute(sa.update(ORDERS).values(ship_to=CANARY.model_dump(mode="json")))
    assert store.get_order("o-1").ship_to == CANARY  # type: ignore[union-attr]


def test_migration_0012_drops_credential_headers_of_stored_deliveries(store_url: str) -> None:
    engine = sa.create_engine(store_url)
    try:
        with engine.begin() as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "0011")
            conn.execute(
                sa.insert(INBOX).values(
                    channel="clover",
                    dedupe_key="d-1",
                    delivery_id="d-1",
                    topic="x",
                    raw_body=b"{}",
                    headers={**SECRET_HEADERS, **KEPT_HEADERS},
                    received_at=WHEN,
                    status="done",
                    attempts=1,
                )
            )
    finally:
        engine.dispose()
    with open_store(store_url) as store:
        entry = store.inbox(channel="clover")[0]
        assert dict(entry.delivery.headers.items()) == KEPT_HEADERS
