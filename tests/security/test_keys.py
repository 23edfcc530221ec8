"""`omnibridge keys status|rotate`: re-encryption in resumable batches, readable by a process that started
before the rotation (every backend)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from omnibridge.access import audit
from omnibridge.cli.app import app
from omnibridge.customers.directory import CustomerDirectory, ObservedIdentity
from omnibridge.models import Address, Money, Order, OrderLine, OrderStatus
from omnibridge.sdk.webhooks import WebhookDelivery
from omnibridge.security.crypto import key_id, read_key_file
from omnibridge.store import Store, open_store
from omnibridge.store.reseal import CLEAR, census, reseal
from omnibridge.store.sealed import keyring_for_url, use_keyring
from omnibridge.store.tables import CUSTOMERS, ORDERS

WHEN = datetime(2026, 12, 6, tzinfo=UTC)
HOME = Address(name="Zebulon Canaryfield", line1="77 Canary Lane", country="US")


@pytest.fixture
def keyed_store(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, Path]]:
    """A store whose keys are in a key file of this test (never the shared default one)."""
    key_file = tmp_path / "keys" / "data-keys"
    monkeypatch.delenv("OMNIBRIDGE_DATA_KEYS", raising=False)
    monkeypatch.setenv("OMNIBRIDGE_KEY_FILE", str(key_file))
    use_keyring(store_url, None)
    with open_store(store_url) as store:
        keyring_for_url(store_url)  # generates the key file
        yield store, key_file
    use_keyring(store_url, None)


def order(number: int) -> Order:
    return Order(
        id=f"o-{number}",
        channel="web",
        external_id=str(number),
        status=OrderStatus.ACCEPTED,
        lines=[OrderLine(line_id="l1", sku="SKU-1", quantity=1)],
        ship_to=HOME,
        total=Money(amount=Decimal(1), currency="USD"),
        placed_at=WHEN,
        updated_at=WHEN,
    )


def fill(store: Store) -> None:
    for number in range(5):
        store.save_order(order(number))
    store.save_order(order(9).model_copy(update={"ship_to": None}))  # nothing to seal, nothing counted
    store.add_delivery("web", WebhookDelivery("d-1", None, "orders/create", b'{"a": 1}', {}, WHEN))
    CustomerDirectory(store, new_id=lambda: "cus-1").resolve(
        ObservedIdentity("web", "7", email="ada@example.com", first_name="Ada")
    )
    with store.engine.begin() as conn:  # rows stored before encryption was switched on
        conn.execute(sa.update(ORDERS).where(ORDERS.c.id == "o-4").values(ship_to=HOME.model_dump(mode="json")))
        conn.execute(sa.update(CUSTOMERS).where(CUSTOMERS.c.id == "cus-1").values(last_name="King"))


NO_CUSTOMER_DATA = {
    "customers.phone": 0,
    "customers.default_address": 0,
    "privacy_requests.subject": 0,
}


def test_rotate_adds_a_key_and_reencrypts_everything_in_batches(
    keyed_store: tuple[Store, Path], store_url: str
) -> None:
    store, key_file = keyed_store
    fill(store)
    old = read_key_file(key_file).active
    runner = CliRunner()
    status = runner.invoke(app, ["keys", "status", "--json", "--url", store_url])
    assert status.exit_code == 0, status.output
    assert json.loads(status.output)["values"]["orders.ship_to"] == {old: 4, CLEAR: 1}

    rotated = runner.invoke(app, ["keys", "rotate", "--json", "--batch", "2", "--url", store_url])
    assert rotated.exit_code == 0, rotated.output
    result = json.loads(rotated.output)
    new = result["active"]
    assert new != old
    assert result["added"] == new
    assert result["reencrypted"] == {
        "orders.ship_to": 5,
        "shipments.ship_to": 0,
        "webhook_inbox.raw_body": 1,
        "customers.email": 1,
        "customers.first_name": 1,
        "customers.last_name": 1,
        "customer_identities.details": 1,
        **NO_CUSTOMER_DATA,
    }
    assert set(read_key_file(key_file).data) == {old, new}
    assert census(store.engine) == {
        "orders.ship_to": {new: 5},
        "shipments.ship_to": {},
        "webhook_inbox.raw_body": {new: 1},
        "customers.email": {new: 1},
        "customers.first_name": {new: 1},
        "customers.last_name": {new: 1},
        "customer_identities.details": {new: 1},
        **{name: {} for name in NO_CUSTOMER_DATA},
    }
    assert [store.get_order(f"o-{n}").ship_to for n in range(5)] == [HOME] * 5  # type: ignore[union-attr]
    customer = CustomerDirectory(store).require("cus-1")
    assert (customer.email, customer.first_name, customer.last_name) == ("ada@example.com", "Ada", "King")
    assert CustomerDirectory(store).identity_details("cus-1")[0]["email"] == "ada@example.com"

    again = runner.invoke(app, ["keys", "rotate", "--reencrypt-only", "--json", "--url", store_url])
    assert set(json.loads(again.output)["reencrypted"].values()) == {0}
    rotations = audit.records(store, action="keys.rotate")
    assert [(r.after["added"], r.after["reencrypted"]) for r in rotations] == [
        (new, sum(result["reencrypted"].values())),
        (None, 0),
    ]
    assert str(rotations[0].actor).startswith("user:")


def test_an_interrupted_rotation_resumes_where_it_stopped(keyed_store: tuple[Store, Path], store_url: str) -> None:
    store, _ = keyed_store
    fill(store)
    from omnibridge.security.crypto import with_new_active_key

    newer = with_new_active_key(keyring_for_url(store_url))

    def crash(column: str, scanned: int, resealed: int) -> None:
        if column == "orders.ship_to" and scanned == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reseal(store.engine, newer, batch=2, progress=crash)
    assert census(store.engine)["orders.ship_to"][newer.active] == 2  # the first batch is committed
    report = reseal(store.engine, newer, batch=2)
    assert report.resealed["orders.ship_to"] == 3
    assert census(store.engine)["orders.ship_to"] == {newer.active: 5}


def test_a_running_process_reads_values_sealed_with_a_key_added_by_another(
    keyed_store: tuple[Store, Path], store_url: str
) -> None:
    store, key_file = keyed_store
    fill(store)
    before = keyring_for_url(store_url).active
    env = {**os.environ, "OMNIBRIDGE_KEY_FILE": str(key_file)}
    done = subprocess.run(
        [sys.executable, "-m", "omnibridge", "keys", "rotate", "--url", store_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(ORDERS.c.ship_to).where(ORDERS.c.id == "o-0")).scalar_one()
    assert key_id(stored) != before
    assert store.get_order("o-0").ship_to == HOME  # type: ignore[union-attr]


def test_keys_from_the_environment_are_not_rotated_in_place(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    key = "A" * 43
    monkeypatch.setenv("OMNIBRIDGE_DATA_KEYS", f"k1:{key}")
    monkeypatch.setenv("OMNIBRIDGE_INDEX_KEY", key)
    use_keyring(store_url, None)
    try:
        with open_store(store_url) as store:
            store.save_order(order(1))
        result = CliRunner().invoke(app, ["keys", "rotate", "--url", store_url])
        assert result.exit_code == 1
        assert "put the new key first there" in result.output
        status = CliRunner().invoke(app, ["keys", "status", "--url", store_url])
        assert "keys from environment (OMNIBRIDGE_DATA_KEYS); active key k1" in status.output
    finally:
        use_keyring(store_url, None)
