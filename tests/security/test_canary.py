"""Canary: a Shopify order with a made-up customer goes through the engine (a signed webhook, the emulator), is
shipped and exported; then the whole database (the SQLite file and its WAL, or every row of every PostgreSQL
table), the logs and every exported file are searched for the customer's name, email, phone and street and for
the configured secrets. None may be there in clear."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from demo_emulators import DemoEmulators, served_demo_emulators
from pydantic import BaseModel, SecretStr
from typer.testing import CliRunner

from connectors.shopify.emulator.state import ShippingAddress
from omnibridge.cli.app import app
from omnibridge.config import LoadedProfile, load_profile
from omnibridge.demo import world
from omnibridge.models import Address, Order, OrderLine, OrderStatus
from omnibridge.sdk.webhooks import WebhookDelivery
from omnibridge.store import Store, open_store
from omnibridge.store.tables import metadata
from omnibridge.sync import SyncEngine

SKU = "TENT-2P-GRN"
NAME = ("Zebulon", "Quillfeather")
EMAIL = "zebulon.quillfeather@canary.example"
PHONE = "+13035550199"
STREET = "77 Canarywood Lane"
CANARIES = [*NAME, EMAIL, PHONE, "3035550199", STREET, "Canarywood"]
REQUEST_SECRETS = ["Bearer canary-bearer-0042", "canary-cookie-0042"]


def secrets_of(loaded: LoadedProfile) -> list[str]:
    """Every credential the profile configures (the SecretStr fields of each channel's settings)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    for channel in loaded.channels:
        walk(channel.settings)
    return [secret for secret in found if len(secret) >= 8]


def leaks(haystack: bytes, needles: list[str]) -> list[str]:
    lowered = haystack.lower()
    return [needle for needle in needles if needle.lower().encode() in lowered]


def signed_order_webhook(shop: DemoEmulators) -> tuple[bytes, dict[str, str]]:
    """Shopify's orders/create for a checkout by the canary customer, with an email and a customer, signed."""
    placed = shop.shopify.place_order(
        [(SKU, 1)],
        shop.web_locations["den-wh"],
        ShippingAddress(
            first_name=NAME[0],
            last_name=NAME[1],
            address1=STREET,
            city="Denver",
            province_code="CO",
            zip="80202",
            country_code="US",
            phone=PHONE,
        ),
    )
    shop.shopify.state.order(int(placed["id"])).email = EMAIL
    record = next(d for d in reversed(shop.shopify.webhooks.deliveries) if d.topic == "orders/create")
    body = json.loads(record.body)
    body["email"] = EMAIL
    body["customer"] = {"id": 424242, "email": EMAIL, "phone": PHONE, "first_name": NAME[0], "last_name": NAME[1]}
    raw = json.dumps(body).encode()
    digest = hmac.new(world.SHOPIFY_SECRET.encode(), raw, hashlib.sha256).digest()
    headers = {
        **record.headers,
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "Authorization": REQUEST_SECRETS[0],
        "Cookie": f"sid={REQUEST_SECRETS[1]}",
    }
    return raw, headers


def cli(shop: DemoEmulators, *args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--profile", str(shop.profile)])
    assert result.exit_code == 0, result.output
    return result.stderr if result.stderr_bytes is not None else ""


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[DemoEmulators]:
    with served_demo_emulators(tmp_path) as served:
        with open_store(load_profile(served.profile).store_url) as store:
            world.seed_ledger(store, golden=True)
        yield served


def test_no_canary_or_secret_in_the_sqlite_store_logs_or_exports(
    shop: DemoEmulators, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    loaded = load_profile(shop.profile)
    raw, headers = signed_order_webhook(shop)

    async def through_the_engine() -> None:
        with open_store(loaded.store_url) as store:
            engine = SyncEngine.for_profile(store, loaded)
            try:
                receipt = engine.receive("web", raw, headers, "http://127.0.0.1/webhooks/web")
                assert receipt.http_status == 200, receipt.message
                assert await engine.process_pending() >= 1
            finally:
                await engine.aclose()
            [order] = [o for o in store.list_orders(channel="web") if o.number == "#1001"]
            assert order.ship_to is not None
            assert order.ship_to.line1 == STREET  # the store gives it back in clear

    asyncio.run(through_the_engine())
    cli_logs = cli(shop, "shipments", "ship", "web:1001", "--from", "den-wh", "--weight-oz", "40", "--json")
    cli_logs += cli(shop, "files", "export", "--json")

    database = Path(sa.make_url(loaded.store_url).database or "")
    stored = b"".join(
        path.read_bytes() for path in database.parent.iterdir() if path.name.startswith(database.name + "-")
    )
    stored += database.read_bytes()
    assert b"enc:v1:" in stored
    needles = [*CANARIES, *REQUEST_SECRETS, *secrets_of(loaded)]
    assert leaks(stored, needles) == []

    captured = capsys.readouterr()
    logs = (captured.out + captured.err + caplog.text + cli_logs).encode()
    assert leaks(logs, needles) == []

    exported = [
        path
        for path in tmp_path.rglob("*")
        if path.is_file() and ("outbox" in path.parts or path.suffix in (".csv", ".json"))
    ]
    assert any(path.name.startswith("orders-") for path in exported)
    for path in exported:
        assert leaks(path.read_bytes(), needles) == [], path


def test_no_canary_in_any_table_of_the_store(store: Store) -> None:
    """Every backend: the rows of every table, as the database holds them, after an order, a shipment and a
    webhook delivery with the canary's data."""
    when = datetime(2026, 12, 6, tzinfo=UTC)
    home = Address(name=" ".join(NAME), line1=STREET, city="Denver", country="US", phone=PHONE)
    store.save_order(
        Order(
            id="web:1",
            channel="web",
            external_id="1",
            status=OrderStatus.ACCEPTED,
            lines=[OrderLine(line_id="l1", sku=SKU, quantity=1)],
            ship_to=home,
            placed_at=when,
            updated_at=when,
        )
    )
    body = json.dumps({"email": EMAIL, "shipping_address": {"address1": STREET, "phone": PHONE}}).encode()
    headers = {"Authorization": REQUEST_SECRETS[0], "Cookie": REQUEST_SECRETS[1], "X-Shopify-Topic": "orders/create"}
    store.add_delivery("web", WebhookDelivery("d-1", "e-1", "orders/create", body, headers, when))
    dump: list[str] = []
    with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            dump.extend(repr(tuple(row)) for row in conn.execute(sa.select(table)))
    assert leaks("\n".join(dump).encode(), [*CANARIES, *REQUEST_SECRETS]) == []
