"""``omnibridge shipments ship`` and ``resolve`` with a UPS channel (karrio) against the UPS emulator on a local
port: a lost purchase answer stops every later ``ship`` until a person resolves it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("karrio.mappers.ups", reason="karrio.ups is not installed (./dev setup installs it)")

import uvicorn
from support import WriteFile
from typer.testing import CliRunner

from connectors.karrio.emulators.ups import UpsEmulator
from omnibridge.cli.app import app
from omnibridge.config import load_profile
from omnibridge.models import Address, Order, OrderLine, OrderStatus, ShipmentLine
from omnibridge.sdk.emulator import free_port
from omnibridge.shipping import shipment_id_for
from omnibridge.store import open_store
from omnibridge.store.carrier_shipments import CarrierShipmentState, get_carrier_shipment
from omnibridge.store.engine import read_session

runner = CliRunner()
PLACED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SID = shipment_id_for("ord-1", "wh", [ShipmentLine(sku="TENT-2P", quantity=1, order_line_id="l1")])
SHIP = ["shipments", "ship", "ord-1", "--from", "wh", "--weight-oz", "24"]


@pytest.fixture
def ups() -> Iterator[tuple[UpsEmulator, str]]:
    """The UPS emulator on a local port in a background thread (the CLI runs its own event loop)."""
    emu = UpsEmulator(client_id="cli-client", client_secret="cli-secret", account_number="A1B2C3")
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
def profile(write: WriteFile, ups: tuple[UpsEmulator, str]) -> Path:
    _, url = ups
    write(
        "connectors/ups.yaml",
        f"""
        connector: ups
        settings:
          client_id: cli-client
          client_secret: cli-secret
          account_number: A1B2C3
          server_url: {url}
          test_mode: true
          max_attempts: 2
          retry_backoff_seconds: 0
          timeout_seconds: 20
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
          - {id: ups, connector: ups, profile: connectors/ups.yaml}
        """,
    )
    with open_store(load_profile(path).store_url) as store:
        store.save_order(
            Order(
                id="ord-1",
                channel="web",
                external_id="1001",
                status=OrderStatus.ACCEPTED,
                lines=[OrderLine(line_id="l1", sku="TENT-2P", quantity=1)],
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


def state(profile: Path) -> CarrierShipmentState | None:
    with open_store(load_profile(profile).store_url) as store, read_session(store.engine) as session:
        record = get_carrier_shipment(session, SID)
    return None if record is None else record.state


def lose_the_purchase(emu: UpsEmulator, profile: Path) -> None:
    """`ship` whose purchase answer is lost: UPS sold the label, omnibridge does not know it."""
    emu.lose_next_response()
    lost = runner.invoke(app, [*SHIP, "--profile", str(profile)])
    assert lost.exit_code == 1, lost.output
    assert emu.labels_by_reference[SID] == 1
    assert f"the label purchase for shipment {SID} (UPS, vendor shipment kr1." in lost.output
    assert "Traceback" not in lost.output


def test_a_lost_purchase_stops_ship_until_resolved_bought(profile: Path, ups: tuple[UpsEmulator, str]) -> None:
    emu, _ = ups
    lose_the_purchase(emu, profile)
    requests = emu.api_requests
    again = runner.invoke(app, [*SHIP, "--profile", str(profile)])  # a new run: a new process, a new connector
    assert again.exit_code == 1
    assert "may have gone through: check the carrier account; then run " in again.output
    assert f"`omnibridge shipments resolve {SID} --bought TRACKING` or `--not-bought`" in again.output
    assert emu.api_requests == requests  # UPS was not asked again
    assert emu.labels_by_reference[SID] == 1
    assert state(profile) is CarrierShipmentState.BUYING

    code = next(iter(emu.parcels))
    resolve = ["shipments", "resolve", SID, "--profile", str(profile)]
    resolved = runner.invoke(app, [*resolve, "--bought", code, "--cost", "12.19", "--json"])
    assert resolved.exit_code == 0, resolved.output
    shipment = json.loads(resolved.stdout)
    assert (shipment["tracking_number"], shipment["cost"]) == (code, {"amount": "12.19", "currency": "USD"})
    assert state(profile) is CarrierShipmentState.BOUGHT

    shipped = runner.invoke(app, [*SHIP, "--profile", str(profile), "--json"])
    assert shipped.exit_code == 0, shipped.output
    assert json.loads(shipped.stdout)["tracking_number"] == code
    assert emu.api_requests == requests  # returned as stored
    assert emu.labels_by_reference[SID] == 1

    twice = runner.invoke(app, [*resolve, "--bought", code])
    assert twice.exit_code == 0, twice.output
    assert f"recorded the label of {SID}: tracking {code}" in twice.output
    other = runner.invoke(app, [*resolve, "--bought", "1ZOTHER"])
    assert other.exit_code == 1
    # The tracking code embeds the UPS account number, which another test in the process may have registered as a
    # secret (then it is masked in output): compare what is left around it.
    assert "already has a bought label with tracking 1Z" in other.output
    assert f"{code[-8:]}, not 1ZOTHER" in other.output
    not_bought = runner.invoke(app, [*resolve, "--not-bought"])
    assert not_bought.exit_code == 1
    assert "cannot be marked not bought" in not_bought.output


def test_resolve_not_bought_returns_the_shipment_to_quoted(profile: Path, ups: tuple[UpsEmulator, str]) -> None:
    emu, _ = ups
    lose_the_purchase(emu, profile)
    resolve = ["shipments", "resolve", SID, "--profile", str(profile)]
    done = runner.invoke(app, [*resolve, "--not-bought"])
    assert done.exit_code == 0, done.output
    assert f"{SID} has no label: the next `omnibridge shipments ship` buys it" in done.output
    assert state(profile) is CarrierShipmentState.QUOTED
    again = runner.invoke(app, [*resolve, "--not-bought", "--carrier", "ups"])
    assert again.exit_code == 0, again.output
    assert f"nothing to resolve: no label purchase of {SID} is pending" in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([SID], "give either --bought TRACKING (the label exists) or --not-bought (it does not)"),
        ([SID, "--bought", "1Z1", "--not-bought"], "give either --bought TRACKING"),
        ([SID, "--not-bought", "--cost", "3"], "--label-url, --cost and --currency go with --bought"),
        ([SID, "--bought", "1Z1", "--cost", "ten"], "--cost 'ten' is not an amount (expected a number such as 12.19)"),
        ([SID, "--bought", "1Z1", "--cost", "-1"], "--cost '-1' is not an amount"),
        ([SID, "--bought", "1Z1", "--currency", "EUR"], "--currency goes with --cost"),
        ([SID, "--bought", "1Z1", "--cost", "3", "--currency", "euro"], "--currency 'euro' is not an ISO 4217 code"),
        ([SID, "--bought", " "], "--bought needs the label's tracking code"),
        (["shp-nope", "--not-bought"], "unknown shipment 'shp-nope'"),
        ([SID, "--not-bought", "--carrier", "parcels"], "no enabled carrier channel 'parcels'"),
    ],
)
def test_resolve_refuses_bad_input_with_one_line(profile: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["shipments", "resolve", *args, "--profile", str(profile)])
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output
