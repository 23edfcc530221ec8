"""EasyPost's official Python library (``easypost``) against the EasyPost emulator on a loopback port.

The library authenticates with ``Authorization: Bearer KEY`` and a merchant following EasyPost's docs sends
parcel dimensions as strings (``"10.5"``); both must work, next to the Basic auth our connector uses. The
library runs in a child process (see tests/official_clients.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from official_clients import drive, served

from connectors.easypost.emulator import EasyPostEmulator, EasyPostEmulatorConfig

DRIVER = Path(__file__).with_name("official_client_driver.py")
KEY = "EZTKofficial000000000000"
FROM = {
    "name": "Trail & Co",
    "street1": "417 Montgomery St",
    "city": "San Francisco",
    "state": "CA",
    "zip": "94104",
    "country": "US",
    "phone": "4155550100",
}
TO = {
    "name": "Dana Buyer",
    "street1": "1600 Pennsylvania Ave NW",
    "city": "Washington",
    "state": "DC",
    "zip": "20500",
    "country": "US",
}


@pytest.fixture
def emulator() -> Iterator[tuple[EasyPostEmulator, str]]:
    emu = EasyPostEmulator(EasyPostEmulatorConfig(api_key=KEY, list_requests_per_second=100.0))
    with served(emu.app) as url:
        yield emu, url


def _drive(emulator: tuple[EasyPostEmulator, str], scenario: str, **arguments: Any) -> Any:
    return drive(DRIVER, scenario, api_key=KEY, api_base=f"{emulator[1]}/v2", **arguments)


def test_create_buy_track_and_list_with_string_dimensions(emulator: tuple[EasyPostEmulator, str]) -> None:
    parcel = {"length": "10.5", "width": "8", "height": "4.25", "weight": "15.4"}
    got = _drive(emulator, "ship", from_address=FROM, to_address=TO, parcel=parcel)
    assert got["parcel"] == {"length": 10.5, "width": 8.0, "height": 4.25, "weight": 15.4}
    assert got["tracking_code"]
    assert got["label_url"].startswith("https://")
    assert got["tracker_status"] == "unknown"  # a new tracker, until the carrier scans the parcel
    assert got["listed"] == [got["id"]]
    assert emulator[0].labels_bought(got["id"]) == 1


def test_a_parcel_without_a_usable_weight_is_refused(emulator: tuple[EasyPostEmulator, str]) -> None:
    parcel = {"length": "10.5", "width": "8", "height": "4", "weight": "heavy"}
    got = _drive(emulator, "refused", shipment={"from_address": FROM, "to_address": TO, "parcel": parcel})
    assert got == {"status": 422, "code": "PARCEL.INVALID_PARAMS"}


def test_a_wrong_bearer_key_is_401(emulator: tuple[EasyPostEmulator, str]) -> None:
    got = drive(DRIVER, "refused", api_key="EZTKwrong", api_base=f"{emulator[1]}/v2", shipment={"parcel": {}})
    assert got == {"status": 401, "code": "APIKEY.INACTIVE"}
