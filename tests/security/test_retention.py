"""Retention: raw bodies and personal data go after their periods; business facts stay (every backend)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from omnibridge.cli.app import app
from omnibridge.models import Address, Money, Order, OrderLine, OrderStatus, Shipment, ShipmentLine
from omnibridge.sdk.webhooks import WebhookDelivery
from omnibridge.store import InboxStatus, Store, open_store
from omnibridge.store.retention import purge

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
HOME = Address(name="Zebulon Canaryfield", line1="77 Canary Lane", city="Springfield", country="US")


def order(external_id: str, status: OrderStatus, updated: datetime) -> Order:
    return Order(
        id=f"o-{external_id}",
        channel="web",
        external_id=external_id,
        status=status,
        lines=[OrderLine(line_id="l1", sku="SKU-1", quantity=2, unit_price=Money(amount=Decimal(5), currency="USD"))],
        ship_to=HOME,
        total=Money(amount=Decimal("10.00"), currency="USD"),
        placed_at=updated - timedelta(days=1),
        updated_at=updated,
    )


def shipment(order_id: str) -> Shipment:
    return Shipment(
        id=f"s-{order_id}",
        order_id=order_id,
        from_location_id="wh",
        carrier="usps",
        ship_to=HOME,
        lines=[ShipmentLine(sku="SKU-1", quantity=2)],
        created_at=NOW - timedelta(days=100),
    )


def fill(store: Store) -> dict[str, int]:
    store.save_order(order("old-done", OrderStatus.COMPLETED, NOW - timedelta(days=91)))
    store.save_order(order("old-open", OrderStatus.ACCEPTED, NOW - timedelta(days=200)))
    store.save_order(order("new-done", OrderStatus.FULFILLED, NOW - timedelta(days=10)))
    store.save_shipment(shipment("o-old-done"))
    store.save_shipment(shipment("o-new-done"))
    ids = {}
    for name, days, status in (
        ("old-done", 8, InboxStatus.DONE),
        ("new-done", 6, InboxStatus.DONE),
        ("old-dead", 30, InboxStatus.DEAD),
        ("old-pending", 30, None),
    ):
        delivery = WebhookDelivery(
            name,
            None,
            "orders/create",
            f'{{"email": "z@canary.example", "id": "{name}"}}'.encode(),  # distinct bodies (digest dedupe)
            {"X-Topic": "orders/create"},
            NOW - timedelta(days=days),
        )
        entry = store.add_delivery("web", delivery)
        assert entry is not None
        if status is not None:
            store.finish_delivery(entry, status, None if status is InboxStatus.DONE else "bad")
        ids[name] = entry
    return ids


def test_purge_removes_what_is_past_retention_and_keeps_the_business_facts(store: Store) -> None:
    ids = fill(store)
    dry = purge(store.engine, NOW, raw_body_days=7, personal_data_days=90, dry_run=True)
    assert (dry.raw_bodies, dry.order_addresses, dry.shipment_addresses) == (1, 1, 1)
    assert store.get_order("o-old-done").ship_to == HOME  # type: ignore[union-attr]

    report = purge(store.engine, NOW, raw_body_days=7, personal_data_days=90)
    assert (report.raw_bodies, report.order_addresses, report.shipment_addresses) == (1, 1, 1)
    purged = store.get_order("o-old-done")
    assert purged is not None
    assert purged.ship_to is None
    assert purged.total == Money(amount=Decimal("10.00"), currency="USD")
    assert [(line.sku, line.quantity) for line in purged.lines] == [("SKU-1", 2)]
    kept_shipment = store.get_shipment("s-o-old-done")
    assert kept_shipment is not None
    assert kept_shipment.ship_to is None
    assert kept_shipment.lines == [ShipmentLine(sku="SKU-1", quantity=2)]
    assert store.get_order("o-old-open").ship_to == HOME  # type: ignore[union-attr]
    assert store.get_order("o-new-done").ship_to == HOME  # type: ignore[union-attr]
    assert store.get_shipment("s-o-new-done").ship_to == HOME  # type: ignore[union-attr]

    bodies = {name: store.inbox_entry(entry_id).delivery.raw_body for name, entry_id in ids.items()}  # type: ignore[union-attr]
    assert bodies["old-done"] == b""
    assert all(body for name, body in bodies.items() if name != "old-done")
    # The emptied entry still dedupes a late re-delivery of the same event.
    late = WebhookDelivery("old-done", None, "orders/create", b"{}", {}, NOW)
    assert store.add_delivery("web", late) is None

    again = purge(store.engine, NOW, raw_body_days=7, personal_data_days=90)
    assert (again.raw_bodies, again.order_addresses, again.shipment_addresses) == (0, 0, 0)


def test_privacy_purge_command_reads_the_profile_periods(tmp_path: Path) -> None:
    database = tmp_path / "omnibridge.db"
    profile = tmp_path / "omnibridge.yaml"
    profile.write_text(
        "version: 1\n"
        "merchant: {name: Shop, currency: USD, timezone: UTC}\n"
        f"store: {{url: 'sqlite:///{database}'}}\n"
        "locations: [{id: wh, name: Warehouse, type: warehouse}]\n"
        "privacy: {raw_body_days: 7, personal_data_days_after_complete: 0}\n",
        encoding="utf-8",
    )
    with open_store(f"sqlite:///{database}") as store:
        store.save_order(order("done", OrderStatus.COMPLETED, datetime.now(UTC) - timedelta(hours=1)))
    runner = CliRunner()
    dry = runner.invoke(app, ["privacy", "purge", "--dry-run", "--json", "--profile", str(profile)])
    assert dry.exit_code == 0, dry.output
    assert '"order_addresses": 1' in dry.output
    done = runner.invoke(app, ["privacy", "purge", "--profile", str(profile)])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("removed: 0 raw webhook body(ies)")
    with open_store(f"sqlite:///{database}") as store:
        assert store.get_order("o-done").ship_to is None  # type: ignore[union-attr]


def test_the_daemon_purge_job_applies_the_profile_periods(store: Store) -> None:
    import asyncio
    from types import SimpleNamespace
    from typing import cast

    from omnibridge.config.schema import PrivacySection
    from omnibridge.daemon.jobs import JobRunner
    from omnibridge.daemon.schedule import PRIVACY_PURGE, Job
    from omnibridge.daemon.state import DaemonState
    from omnibridge.daemon.telemetry import DaemonMetrics
    from omnibridge.sync import SyncEngine

    store.save_order(order("done", OrderStatus.COMPLETED, datetime.now(UTC) - timedelta(days=3)))
    engine = cast(SyncEngine, SimpleNamespace(store=store, channels={}))
    privacy = PrivacySection(raw_body_days=7, personal_data_days_after_complete=2)
    runner = JobRunner(engine, DaemonState(()), DaemonMetrics(), privacy=privacy)
    assert asyncio.run(runner.run(Job(PRIVACY_PURGE))) == "ok"
    assert store.get_order("o-done").ship_to is None  # type: ignore[union-attr]
