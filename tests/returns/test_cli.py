"""``omnibridge returns``: create with a label (EasyPost emulator), receive, decide, list and show; a repeated
receive changes nothing and every refusal is one line with a non-zero exit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from returns_support import TEE, ship_order, world
from support import WriteFile, serve_in_thread
from typer.testing import CliRunner

from connectors.easypost.emulator import EasyPostEmulator
from omnibridge.cli.app import app
from omnibridge.config import load_profile
from omnibridge.models import Address
from omnibridge.store import open_store

runner = CliRunner()


@pytest.fixture
def emulator() -> Iterator[tuple[EasyPostEmulator, str]]:
    emu = EasyPostEmulator()
    with serve_in_thread(emu.app) as urls:
        yield emu, urls[0]


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
          - id: soho
            name: SoHo store
            type: store
            capabilities: [ships, pickup]
            address: {line1: 120 Prince St, city: New York, region: NY, postal_code: "10012", country: US}
        channels:
          - id: parcels
            connector: easypost
            profile: connectors/easypost.yaml
        """,
    )
    with open_store(load_profile(path).store_url) as store:
        w = world(store)
        ship_order(w.applier, "1002", 1, 0)
        order = store.get_order("web:1001")
        assert order is not None
        customer = Address(name="Ada", line1="179 N Harbor Dr", city="Redondo Beach", postal_code="90277", country="US")
        store.save_order(order.model_copy(update={"ship_to": customer}))
    return path


def on_hand(profile: Path, sku: str, location: str) -> int:
    with open_store(load_profile(profile).store_url) as store:
        return store.position(sku, location).on_hand


def test_a_web_return_by_post_with_a_label_one_unit_damaged(
    profile: Path, emulator: tuple[EasyPostEmulator, str]
) -> None:
    emu, _ = emulator
    p = ["--profile", str(profile)]
    created = runner.invoke(
        app,
        ["returns", "create", "web:1001", "--line", f"{TEE}=2", "--reason", "too small", "--by-post", "--label", *p],
    )
    assert created.exit_code == 0, created.output
    vendor = next(iter(emu.state.shipments.values()))
    assert vendor["is_return"] is True
    assert f"label: usps {vendor['tracking_code']}" in created.output.lower()
    assert "web:1001:r1  order web:1001  open  by post to wh" in created.output

    received = runner.invoke(
        app, ["returns", "receive", "web:1001:r1", "--at", "wh", "--restock", "1", "--damaged", "1", *p]
    )
    assert received.exit_code == 0, received.output
    assert "closed" in received.output
    assert on_hand(profile, TEE, "wh") == 8  # 10 - 2 - 1 shipped, + 1 restocked
    again = runner.invoke(
        app, ["returns", "receive", "web:1001:r1", "--at", "wh", "--restock", "1", "--damaged", "1", *p]
    )
    assert again.exit_code == 1
    assert again.output.strip() == "error: return web:1001:r1 is closed: nothing to receive"
    assert on_hand(profile, TEE, "wh") == 8  # 10 - 2 - 1 shipped, + 1 restocked

    listed = runner.invoke(app, ["returns", "list", "--format", "json", "--status", "closed", *p])
    assert [item["id"] for item in json.loads(listed.stdout)] == ["web:1001:r1"]
    shown = runner.invoke(app, ["returns", "show", "web:1001:r1", "--json", *p])
    assert json.loads(shown.stdout)["lines"][0] | {} == json.loads(shown.stdout)["lines"][0]
    assert (json.loads(shown.stdout)["lines"][0]["restocked"], json.loads(shown.stdout)["lines"][0]["damaged"]) == (
        1,
        1,
    )


def test_an_online_order_returned_at_a_store_is_inspected_then_restocked_there(profile: Path) -> None:
    p = ["--profile", str(profile)]
    created = runner.invoke(
        app, ["returns", "create", "web:1002", "--line", f"{TEE}=1", "--reason", "gift", "--at-store", "soho", *p]
    )
    assert created.exit_code == 0, created.output
    rid = "web:1002:r1"
    held = runner.invoke(app, ["returns", "receive", rid, "--at", "soho", "--inspect", "1", *p])
    assert held.exit_code == 0, held.output
    assert on_hand(profile, TEE, "soho") == 0
    decided = runner.invoke(app, ["returns", "decide", rid, "--sku", TEE, "--restock", "1", *p])
    assert decided.exit_code == 0, decided.output
    assert on_hand(profile, TEE, "soho") == 1
    table = runner.invoke(app, ["returns", "list", *p])
    assert table.output.splitlines()[0].split() == [
        "ID",
        "ORDER",
        "STATUS",
        "BACK",
        "TO",
        "UNITS",
        "RESTOCKED",
        "TRACKING",
    ]
    assert "web:1002:r1  web:1002  closed  store soho      1          1  -" in table.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "web:1001", "--line", "TEE-M", "--reason", "x", "--by-post"], "--line 'TEE-M' is not SKU=QTY"),
        (["create", "web:1001", "--line", "TEE-M=5", "--reason", "x", "--by-post"], "5 to return but 2 can come back"),
        (["create", "web:1001", "--line", "TEE-M=1", "--reason", "x"], "--by-post or --at-store LOCATION"),
        (["receive", "web:1001:r9", "--at", "wh", "--restock", "1"], "no return 'web:1001:r9'"),
        (["receive", "web:1001:r9", "--at", "mars", "--restock", "1"], "location 'mars' is not a location"),
        (["list", "--status", "lost"], "status 'lost' is not a return status"),
    ],
)
def test_refusals_are_one_line(profile: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["returns", *args, "--profile", str(profile)])
    assert result.exit_code != 0
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
