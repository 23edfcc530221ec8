"""``omnibridge orders list|show`` and ``shipments ship`` naming an order as merchants see it (``web:2001``).

(The shared ``profile`` fixture also holds ``web`` order ``ord-1`` whose channel id is ``1001``.)"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.easypost.emulator import EasyPostEmulator
from omnibridge.cli.app import app
from omnibridge.config import load_profile
from omnibridge.models import Address, Order, OrderLine, OrderStatus
from omnibridge.store import open_store

from .test_cli_shipments import PLACED, emulator, profile  # noqa: F401  (fixtures)

runner = CliRunner()
BUYER = Address(
    name="Jordan Rivera", line1="1200 Pearl St", city="Boulder", region="CO", postal_code="80302", country="US"
)


def _order(
    ref: str, number: str | None, channel: str = "web", ship_to: Address | None = BUYER, hours: int = 1
) -> Order:
    return Order(
        id=f"{channel}:{ref}",
        channel=channel,
        external_id=ref,
        number=number,
        status=OrderStatus.ACCEPTED,
        lines=[OrderLine(line_id=f"{ref}-l1", sku="TENT-2P", quantity=1, location_id="wh")],
        ship_to=ship_to,
        placed_at=PLACED + timedelta(hours=hours),
        updated_at=PLACED + timedelta(hours=hours),
    )


@pytest.fixture
def orders(profile: Path) -> Path:  # noqa: F811
    with open_store(load_profile(profile).store_url) as store:
        store.save_order(_order("gid://shopify/Order/5501", "#2001"))
        store.save_order(_order("gid://shopify/Order/5502", "#2002", hours=2))
        store.save_order(_order("gid://shopify/Order/5503", "#2002", hours=3))
        store.save_order(_order("902-3159896-1390916", "902-3159896-1390916", channel="amazon", hours=4))
        store.save_order(_order("sq-1", "Ticket 7", channel="pos", ship_to=None, hours=5))
    return profile


def test_ship_an_order_named_by_its_shopify_number(orders: Path, emulator: tuple[EasyPostEmulator, str]) -> None:  # noqa: F811
    emu, _ = emulator
    args = ["--from", "wh", "--weight-oz", "24", "--profile", str(orders), "--json"]
    shipped = runner.invoke(app, ["shipments", "ship", "web:2001", *args])
    assert shipped.exit_code == 0, shipped.output
    assert json.loads(shipped.stdout)["order_id"] == "web:gid://shopify/Order/5501"
    again = runner.invoke(app, ["shipments", "ship", "web:#2001", *args])
    assert again.exit_code == 0, again.output
    assert sum(emu.state.labels_bought.values()) == 1
    amazon = runner.invoke(app, ["shipments", "ship", "amazon:902-3159896-1390916", *args])
    assert amazon.exit_code == 0, amazon.output
    assert json.loads(amazon.stdout)["ship_to"]["postal_code"] == "80302"

    shown = runner.invoke(app, ["orders", "show", "web:2001", "--profile", str(orders)])
    assert shown.exit_code == 0, shown.output
    out = shown.output
    assert "number  #2001" in out
    assert "LINE" in out
    assert "COMMITTED" in out
    assert "SHIPPED" in out
    assert "SHIPMENT" in out
    assert "TRACKING" in out
    assert "Jordan Rivera; 1200 Pearl St; Boulder, CO, 80302, US" in out
    as_json = json.loads(runner.invoke(app, ["orders", "show", "web:#2001", "--json", "--profile", str(orders)]).stdout)
    assert as_json["order"]["id"] == "web:gid://shopify/Order/5501"
    assert [s["order_id"] for s in as_json["shipments"]] == ["web:gid://shopify/Order/5501"]
    assert next(h["event"] for h in as_json["history"]) == "placed"


def test_orders_list_filters_and_aligns(orders: Path) -> None:
    listed = runner.invoke(app, ["orders", "list", "--json", "--profile", str(orders)])
    assert listed.exit_code == 0, listed.output
    found = json.loads(listed.stdout)["orders"]
    assert next(o["id"] for o in found) == "pos:sq-1"  # newest first
    assert found[1]["ship_to"]["city"] == "Boulder"
    web = json.loads(runner.invoke(app, ["orders", "list", "--channel", "web", "--json", "-p", str(orders)]).stdout)
    assert {o["number"] for o in web["orders"]} == {"#2001", "#2002", None}  # None: ord-1
    since = (PLACED + timedelta(hours=3, minutes=30)).isoformat()
    recent = runner.invoke(app, ["orders", "list", "--since", since, "--json", "-p", str(orders)])
    assert [o["id"] for o in json.loads(recent.stdout)["orders"]] == ["pos:sq-1", "amazon:902-3159896-1390916"]
    table = runner.invoke(app, ["orders", "list", "-p", str(orders)]).output.splitlines()
    assert table[0].split() == ["ORDER", "NUMBER", "STATUS", "LINES", "UNITS", "SHIP", "TO", "PLACED"]
    assert len({line.index("accepted") for line in table[1:]}) == 1  # the status column is aligned
    bad = runner.invoke(app, ["orders", "list", "--status", "shipped", "-p", str(orders)])
    assert bad.exit_code == 1
    assert "not an order status" in bad.output


def test_ambiguous_unknown_and_unshippable_orders_are_one_line_errors(orders: Path) -> None:
    ambiguous = runner.invoke(app, ["orders", "show", "web:2002", "-p", str(orders)])
    assert ambiguous.exit_code == 1
    assert "names 2 orders" in ambiguous.output
    assert "web:gid://shopify/Order/5502" in ambiguous.output
    assert "web:gid://shopify/Order/5503" in ambiguous.output
    unknown = runner.invoke(
        app, ["shipments", "ship", "web:9999", "--from", "wh", "--weight-oz", "1", "-p", str(orders)]
    )
    assert unknown.exit_code == 1
    assert "no order 'web:9999'" in unknown.output
    pos = runner.invoke(
        app, ["shipments", "ship", "pos:Ticket 7", "--from", "wh", "--weight-oz", "1", "-p", str(orders)]
    )
    assert pos.exit_code == 1
    assert "order pos:sq-1 has no ship-to address" in pos.output
    assert "Traceback" not in pos.output
