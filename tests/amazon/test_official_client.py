"""Amazon's client libraries against the Amazon emulator on a loopback port.

Two libraries: ``python-amazon-sp-api`` (package ``sp_api``, the most used) and Amazon's own ``amzn-sp-api``
(package ``spapi``). The calls our connector and a merchant's own scripts make: the LWA token exchange, getOrders
(paged), getOrder, getOrderItems, getListingsItem, searchListingsItems, patchListingsItem, createFeedDocument +
the upload to its pre-signed URL + createFeed + getFeed + the processing report, createRestrictedDataToken +
getOrderAddress. Whatever a library sends must be accepted and whatever the emulator answers must parse in it.
Each library runs in a child process (tests/official_clients.py): both cache LWA tokens process-wide.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from official_clients import drive, served

from connectors.amazon.emulator import AmazonEmulator, AmazonEmulatorConfig
from omnibridge.sdk.emulator import RequestRecorder

SP_API = Path(__file__).with_name("sp_api_driver.py")
SPAPI = Path(__file__).with_name("amzn_sp_api_driver.py")
SELLER = "A2SELLERTEST"
SKU = "TENT-2P-GRN"
CREDENTIALS = {
    "client_id": "amzn1.application-oa2-client.test",
    "client_secret": "test-client-secret",
    "refresh_token": "Atzr|test-refresh",
}


@dataclass
class Served:
    emu: AmazonEmulator
    url: str

    def drive(self, script: Path, scenario: str, **arguments: Any) -> Any:
        return drive(script, scenario, base_url=self.url, seller_id=SELLER, **CREDENTIALS, **arguments)


@pytest.fixture
def amazon() -> Iterator[Served]:
    config = AmazonEmulatorConfig(
        seller_id=SELLER,
        client_id=CREDENTIALS["client_id"],
        client_secret=CREDENTIALS["client_secret"],
        refresh_token=CREDENTIALS["refresh_token"],
        rate_scale=1000.0,
        feed_processing_s=0.1,
    )
    emu = AmazonEmulator(config, recorder=RequestRecorder("amazon", None))
    emu.control.seed_listing(SKU, title="Trail tent", price="199.00", quantity=10)
    emu.control.seed_listing("STOVE-1", title="Camp stove", price="49.00", quantity=4)
    with served(emu.app) as url:
        # sp_api sends ``host: endpoint[8:]`` (it assumes https://), so on http the Host header is cut short:
        # pre-signed URLs must not be built from it.
        config.public_url = url
        yield Served(emu, url)


def _since() -> str:
    return (datetime.now(UTC) - timedelta(days=1)).isoformat().replace("+00:00", "Z")


LIBRARIES = [pytest.param(SP_API, id="python-amazon-sp-api"), pytest.param(SPAPI, id="amzn-sp-api")]


@pytest.mark.parametrize("script", LIBRARIES)
def test_lwa_token_exchange(amazon: Served, script: Path) -> None:
    assert amazon.drive(script, "lwa") == {"access_token": "Atza|", "expires_in": 3600}


@pytest.mark.parametrize("script", LIBRARIES)
def test_orders_paged_then_one_with_its_items(amazon: Served, script: Path) -> None:
    first = amazon.emu.control.create_order(SKU, 2)
    second = amazon.emu.control.create_order(lines=[("STOVE-1", 1), (SKU, 1)])
    got = amazon.drive(script, "orders", created_after=_since(), order_id=second)
    assert sorted(got.pop("pages")) == sorted([[first], [second]])  # one a page, through NextToken
    assert got == {
        "status": "Unshipped",
        "city": "Boulder",
        "name": None,  # buyer PII only with a restricted data token
        "items": [["STOVE-1", 1], [SKU, 1]],
    }


@pytest.mark.parametrize("script", LIBRARIES)
def test_unknown_order_is_the_librarys_not_found_error(amazon: Served, script: Path) -> None:
    got = amazon.drive(script, "missing_order")
    assert got["code"] == 404
    assert [e["code"] for e in got["errors"]] == ["NotFound"]


@pytest.mark.parametrize("script", LIBRARIES)
def test_listing_read_patch_and_search(amazon: Served, script: Path) -> None:
    got = amazon.drive(script, "listings", sku=SKU, quantity=7)
    assert got == {"sku": SKU, "quantity": 10, "patch": "ACCEPTED", "search": [SKU]}
    assert amazon.emu.control.listing_quantity(SKU) == 7


def test_listing_product_types_and_relationships_as_amazon_sends_them(amazon: Served) -> None:
    # includedData=productTypes,relationships was accepted and ignored: a script reading the product type a
    # listing was created with (needed for every patch) found nothing.
    assert amazon.drive(SP_API, "product_type", sku=SKU) == {
        "product_types": [{"marketplaceId": "ATVPDKIKX0DER", "productType": "PRODUCT"}],
        "relationships": [{"marketplaceId": "ATVPDKIKX0DER", "relationships": []}],
    }
    assert amazon.drive(SPAPI, "product_type", sku=SKU) == {
        "product_types": [["ATVPDKIKX0DER", "PRODUCT"]],
        "relationships": [["ATVPDKIKX0DER", []]],
    }


@pytest.mark.parametrize("script", LIBRARIES)
def test_feed_upload_processing_and_report(amazon: Served, script: Path) -> None:
    document = {
        "header": {"sellerId": SELLER, "version": "2.0", "issueLocale": "en_US"},
        "messages": [
            {
                "messageId": 1,
                "sku": "STOVE-1",
                "operationType": "PATCH",
                "productType": "PRODUCT",
                "patches": [
                    {
                        "op": "replace",
                        "path": "/attributes/fulfillment_availability",
                        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 9}],
                    }
                ],
            }
        ],
    }
    got = amazon.drive(script, "feed", document=document)
    assert got["document_id"] == "amzn1.tortuga."
    assert got["status"] == "DONE"
    assert got["report"]["summary"]["messagesAccepted"] == 1
    assert amazon.emu.control.listing_quantity("STOVE-1") == 9


@pytest.mark.parametrize("script", LIBRARIES)
def test_restricted_data_token_opens_the_buyers_address(amazon: Served, script: Path) -> None:
    order_id = amazon.emu.control.create_order(SKU, 1)
    got = amazon.drive(script, "restricted", order_id=order_id)
    assert got == {"expires_in": 3600, "address_name": "Jordan Rivera", "order_name": "Jordan Rivera"}


def test_amzn_sp_api_confirms_a_shipment_and_reads_its_package(amazon: Served) -> None:
    order_id = amazon.emu.control.create_order(lines=[(SKU, 2)])
    item_id = amazon.emu.control.order_items(order_id)[0]["OrderItemId"]
    supply_source = amazon.emu.config.supply_source_ids[0]
    got = amazon.drive(
        SPAPI,
        "confirm_shipment",
        order_id=order_id,
        items=[[item_id, 2]],
        tracking_number="1Z999AA10123456784",
        supply_source_id=supply_source,
    )
    assert got == {"answer": None, "status": "Shipped", "packages": [["1", "1Z999AA10123456784", "UPS"]]}
    assert amazon.emu.control.packages(order_id)["1"]["shipFromSupplySourceId"] == supply_source


def test_amzn_sp_api_updates_an_in_store_pickup(amazon: Served) -> None:
    order_id = amazon.emu.control.create_order(SKU, 1, pickup_at="store-1")
    got = amazon.drive(SPAPI, "pickup_status", order_id=order_id, statuses=["ReadyForPickup", "PickedUp"])
    # a second ReadyForPickup after PickedUp is refused in Amazon's error shape, which the SDK raises
    assert got == {"answers": [None, None], "ispu": True, "status": "Shipped", "refused": [400, "InvalidInput"]}
    assert amazon.emu.control.pickup_status(order_id) == "PickedUp"


def test_amzn_sp_api_reads_the_returns_report_gzipped(amazon: Served) -> None:
    amazon.emu.config.report_compression = "GZIP"
    amazon.emu.config.report_processing_s = 0.1
    now = datetime.now(UTC)
    amazon.emu.control.add_return(SKU, 1, order_id="111-0000001-0000001", requested_at=now - timedelta(days=2))
    got = amazon.drive(
        SPAPI,
        "returns_report",
        start=(now - timedelta(days=30)).isoformat().replace("+00:00", "Z"),
        end=now.isoformat().replace("+00:00", "Z"),
    )
    assert got == {
        "status": "DONE",
        "compression": "GZIP",
        "header": ["Order ID", "Order date", "Return request date", "Return request status"],
        "orders": ["111-0000001-0000001"],
    }
