"""End to end on the emulators: orders placed on Shopify, Amazon and Square are pulled by ``omnibridge sync
--once`` with their ship-to, ``orders list --json`` shows them, and ``shipments ship web:1001 --from den-wh`` (and
the Amazon order by its id) buys exactly one label from the EasyPost emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from demo_emulators import DemoEmulators, served_demo_emulators
from typer.testing import CliRunner

from connectors.shopify.emulator.state import ShippingAddress
from omnibridge.cli.app import app
from omnibridge.config import load_profile
from omnibridge.demo import world
from omnibridge.store import open_store

runner = CliRunner()
SKU = "TENT-2P-GRN"
SQUARE_RECIPIENT = {
    "display_name": "Jaiden Urie",
    "phone_number": "1-303-555-0182",
    "address": {
        "address_line_1": "1955 Broadway",
        "locality": "Boulder",
        "administrative_district_level_1": "CO",
        "postal_code": "80302",
        "country": "US",
    },
}


Shop = DemoEmulators


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    """The demo's full profile with its ledger seeded, every emulator served from a background event loop (the CLI
    runs its own)."""
    with served_demo_emulators(tmp_path) as served:
        with open_store(load_profile(served.profile).store_url) as store:
            world.seed_ledger(store, golden=True)
        yield served


def _cli(shop: Shop, *args: str) -> Any:
    result = runner.invoke(app, [*args, "--profile", str(shop.profile)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else result.output


def test_orders_pulled_from_three_channels_carry_their_ship_to_and_ship_once(shop: Shop) -> None:
    placed = shop.shopify.place_order(
        [(SKU, 1)],
        shop.web_locations["den-wh"],
        ShippingAddress(
            first_name="Ada",
            last_name="Lovelace",
            address1="1 Market St",
            city="Denver",
            province_code="CO",
            zip="80202",
            country_code="US",
        ),
    )
    assert placed["order_number"] == 1001
    amazon_id = shop.vendors.amazon.control.create_order(SKU, 1)
    square_order = shop.square.online_order(shop.pos_locations["boulder"], [(SKU, 1)], SQUARE_RECIPIENT)

    _cli(shop, "sync", "--once", "--json")
    listed = {o["id"]: o for o in _cli(shop, "orders", "list", "--json")["orders"]}
    web = next(o for o in listed.values() if o["channel"] == "web" and o["number"] == "#1001")
    assert (web["ship_to"]["name"], web["ship_to"]["city"], web["ship_to"]["postal_code"]) == (
        "Ada Lovelace",
        "Denver",
        "80202",
    )
    assert listed[f"amazon:{amazon_id}"]["ship_to"]["line1"] == "1200 Pearl St"  # read with a restricted data token
    square = listed[f"pos:{square_order['id']}"]
    assert (square["ship_to"]["name"], square["ship_to"]["line1"], square["ship_to"]["region"]) == (
        "Jaiden Urie",
        "1955 Broadway",
        "CO",
    )

    ship = ["shipments", "ship", "web:1001", "--from", "den-wh", "--weight-oz", "40", "--json"]
    first = _cli(shop, *ship)
    assert first["order_id"] == web["id"]
    assert first["ship_to"]["city"] == "Denver"
    again = _cli(shop, *ship)
    assert again["id"] == first["id"]
    easypost = shop.vendors.easypost
    assert sum(easypost.state.labels_bought.values()) == 1  # a second run buys no second label

    amazon = _cli(shop, "shipments", "ship", f"amazon:{amazon_id}", "--from", "den-wh", "--weight-oz", "24", "--json")
    assert amazon["ship_to"]["postal_code"] == "80302"
    _cli(shop, "shipments", "ship", f"amazon:{amazon_id}", "--from", "den-wh", "--weight-oz", "24", "--json")
    assert sum(easypost.state.labels_bought.values()) == 2
