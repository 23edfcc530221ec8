"""``omnibridge shipments ship|track|show`` against the EasyPost emulator served on a local port."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from support import WriteFile
from typer.testing import CliRunner

from connectors.easypost.emulator import EasyPostEmulator
from omnibridge.cli.app import app
from omnibridge.config import load_profile
from omnibridge.models import Address, Order, OrderLine, OrderStatus
from omnibridge.sdk.emulator import free_port
from omnibridge.store import open_store

runner = CliRunner()
PLACED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def emulator() -> Iterator[tuple[EasyPostEmulator, str]]:
    """The emulator on a local port in a background thread (the CLI runs its own event loop)."""
    emu = EasyPostEmulator()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(emu.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        time.sleep(0.01)
    assert server.started, "the emulator did not start"
    yield emu, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def profile(write: WriteFile, emulator: tuple[EasyPostEmulator, str]) -> Path:
    emu, url = emulator
    write(
        "connectors/easypost.yaml",
        f"""
        connector: easypost
        settings:
          base_url: {url}/v2
          api_key: {emu.config.api_key}
          webhook_secret: {emu.config.webhook_secret}
          max_attempts: 2
          initial_backoff_seconds: 0
        """,
    )
    path = write(
        "omnibridge.yaml",
        """
        version: 1
        merchant: {name: Trail & Co, currency: USD, timezone: America/Denver}
        locations:
          - id: wh
            name: Warehouse
            type: warehouse
            capabilities: [ships]
            address: {line1: 417 Montgomery St, city: San Francisco, region: CA, postal_code: "94104", country: US}
        channels:
          - id: parcels
            connector: easypost
            profile: connectors/easypost.yaml
        """,
    )
    with open_store(load_profile(path).store_url) as store:
        store.save_order(
            Order(
                id="ord-1",
                channel="web",
                external_id="1001",
                status=OrderStatus.ACCEPTED,
                lines=[OrderLine(line_id="l1", sku="TENT-2P", quantity=2, cancelled_quantity=1)],
                ship_to=Address(
                    name="Ada Lovelace",
                    line1="179 N Harbor Dr",
                    city="Redondo Beach",
                    postal_code="90277",
                    country="US",
                ),
                placed_at=PLACED,
                updated_at=PLACED,
            )
        )
    return path


def test_ship_track_and_show_an_order(profile: Path, emulator: tuple[EasyPostEmulator, str]) -> None:
    emu, _ = emulator
    args = ["--profile", str(profile), "--json"]
    shipped = runner.invoke(app, ["shipments", "ship", "ord-1", "--from", "wh", "--weight-oz", "24", *args])
    assert shipped.exit_code == 0, shipped.output
    shipment = json.loads(shipped.stdout)
    assert shipment["lines"] == [{"sku": "TENT-2P", "quantity": 1, "order_line_id": "l1"}]
    code = shipment["tracking_number"]
    assert code
    assert sum(emu.state.labels_bought.values()) == 1

    again = runner.invoke(app, ["shipments", "ship", "ord-1", "--from", "wh", "--weight-oz", "24", *args])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["tracking_number"] == code
    assert sum(emu.state.labels_bought.values()) == 1

    emu.advance_tracking(code)
    emu.advance_tracking(code)
    tracked = runner.invoke(app, ["shipments", "track", shipment["id"], "--profile", str(profile)])
    assert tracked.exit_code == 0, tracked.output
    assert f"tracking {code}" in tracked.output
    assert "status in_transit" in tracked.output
    assert "pending" in tracked.output

    shown = runner.invoke(app, ["shipments", "show", shipment["id"], *args])
    assert [e["status"] for e in json.loads(shown.stdout)["tracking_history"]] == ["pending", "in_transit"]


def test_errors_are_one_line_messages(profile: Path) -> None:
    unknown = runner.invoke(app, ["shipments", "show", "shp-nope", "--profile", str(profile)])
    assert unknown.exit_code != 0
    assert "unknown shipment 'shp-nope'" in unknown.output
    ship = ["shipments", "ship", "ord-1", "--from", "wh", "--weight-oz", "24", "--service", "Teleport"]
    bad_service = runner.invoke(app, [*ship, "--profile", str(profile)])
    assert bad_service.exit_code != 0
    assert "no 'Teleport' rate for this parcel (offered:" in bad_service.output
    assert "Traceback" not in bad_service.output
    wrong_carrier = runner.invoke(app, ["shipments", "track", "x", "--carrier", "web", "--profile", str(profile)])
    assert "no enabled carrier channel 'web'" in wrong_carrier.output
