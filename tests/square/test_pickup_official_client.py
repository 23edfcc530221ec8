"""Square's official Python SDK (``squareup``) against the emulator's pickups, refunds and return orders: what
the SDK sends must pass the emulator's spec check, and what the emulator answers must parse into its models
(scenarios ``pickup`` and ``refund`` of official_client_driver.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from official_clients import drive, served

from .emulator_support import SKU, TOKEN, Shop, make_shop

DRIVER = Path(__file__).with_name("official_client_driver.py")


@pytest.fixture
def shop() -> Iterator[tuple[Shop, str]]:
    shop = make_shop(requests_per_second=1000.0, burst=1000)
    with served(shop.emu.app) as url:
        yield shop, url


def _drive(shop: tuple[Shop, str], scenario: str, **arguments: Any) -> Any:
    return drive(DRIVER, scenario, token=TOKEN, base_url=shop[1], **arguments)


def test_a_pickup_order_walks_its_states_through_update_order(shop: tuple[Shop, str]) -> None:
    emulated, _ = shop
    got = _drive(
        shop,
        "pickup",
        location_id=emulated.location_id,
        object_id=emulated.variation_id,
        pickup_at=emulated.iso(7200),
        expires_at=emulated.iso(3 * 86400),
        too_late=emulated.iso(8 * 86400),
    )
    assert got == {
        "states": ["RESERVED", "PREPARED", "COMPLETED"],
        "errors": ["INVALID_VALUE", "INVALID_VALUE"],  # the expiry beyond 7 days, then the move back
        "window": "PT30M",
        "curbside": True,
        "stamps": [True, True, True],
        "expires_at": emulated.iso(3 * 86400),
    }
    types = [e["type"] for e in emulated.emu.events]
    assert types == ["order.created"] + ["order.fulfillment.updated", "order.updated"] * 3


def test_refund_payment_get_refund_and_a_return_order(shop: tuple[Shop, str]) -> None:
    emulated, _ = shop
    sale = emulated.emu.pos_sale(emulated.location_id, [(SKU, 2)])
    payment = emulated.emu.pay(sale["id"])
    uid = sale["line_items"][0]["uid"]
    back = emulated.emu.till_return(sale["id"], [(uid, 1)])
    got = _drive(shop, "refund", payment_id=payment, return_order_id=back["id"])
    assert got == {
        "made": ["PENDING", sale["id"], 500],
        "got": "COMPLETED",
        "return": [sale["id"], [[uid, "1"]]],
    }
