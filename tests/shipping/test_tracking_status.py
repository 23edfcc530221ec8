"""mappings/tracking-status.yaml and its loader: canonical statuses, unknown codes, validation messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import WriteFile

from omnibridge.errors import ConfigError, ConfigErrors
from omnibridge.models import TrackingStatus
from omnibridge.shipping.tracking_status import PACKAGED_MAP, REPO_MAP, TrackingMap, default_map_path, load_tracking_map

EASYPOST_STATUSES = [
    "unknown",
    "pre_transit",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "available_for_pickup",
    "return_to_sender",
    "failure",
    "cancelled",
    "error",
]


@pytest.fixture(scope="module")
def tracking_map() -> TrackingMap:
    return load_tracking_map()


def test_the_default_map_covers_the_five_carriers(tracking_map: TrackingMap) -> None:
    assert tracking_map.carriers() == ["dhl_express", "easypost", "fedex", "ups", "usps"]
    assert default_map_path() == REPO_MAP


def test_the_packaged_copy_is_identical_to_the_repository_map() -> None:
    assert PACKAGED_MAP.read_text(encoding="utf-8") == REPO_MAP.read_text(encoding="utf-8")
    assert load_tracking_map(PACKAGED_MAP) == load_tracking_map(REPO_MAP)


def test_every_easypost_status_is_mapped(tracking_map: TrackingMap) -> None:
    mapped = {status: tracking_map.canonical("easypost", status) for status in EASYPOST_STATUSES}
    assert mapped == {
        "unknown": TrackingStatus.UNKNOWN,
        "pre_transit": TrackingStatus.PENDING,
        "in_transit": TrackingStatus.IN_TRANSIT,
        "out_for_delivery": TrackingStatus.OUT_FOR_DELIVERY,
        "delivered": TrackingStatus.DELIVERED,
        "available_for_pickup": TrackingStatus.READY_FOR_PICKUP,
        "return_to_sender": TrackingStatus.RETURN_TO_SENDER,
        "failure": TrackingStatus.DELIVERY_FAILED,
        "cancelled": TrackingStatus.CANCELLED,
        "error": TrackingStatus.EXCEPTION,
    }


@pytest.mark.parametrize(
    ("carrier", "code", "expected"),
    [
        ("ups", "M", TrackingStatus.PENDING),
        ("ups", "i", TrackingStatus.IN_TRANSIT),  # codes match ignoring case
        ("UPS", "D", TrackingStatus.DELIVERED),  # carrier ids too
        ("ups", "X", TrackingStatus.EXCEPTION),
        ("ups", "RS", TrackingStatus.RETURN_TO_SENDER),
        ("ups", "MV", TrackingStatus.CANCELLED),
        ("fedex", "OC", TrackingStatus.PENDING),
        ("fedex", "HL", TrackingStatus.READY_FOR_PICKUP),
        ("fedex", "DL", TrackingStatus.DELIVERED),
        ("fedex", "DE", TrackingStatus.EXCEPTION),
        ("usps", "01", TrackingStatus.DELIVERED),
        ("usps", "OF", TrackingStatus.OUT_FOR_DELIVERY),
        ("dhl_express", "OK", TrackingStatus.DELIVERED),
        ("dhl_express", "transit", TrackingStatus.IN_TRANSIT),
    ],
)
def test_carrier_codes_map_to_canonical_statuses(
    tracking_map: TrackingMap, carrier: str, code: str, expected: TrackingStatus
) -> None:
    assert tracking_map.canonical(carrier, code) is expected


def test_unmapped_codes_and_carriers_are_unknown_never_an_error(tracking_map: TrackingMap) -> None:
    assert tracking_map.canonical("ups", "ZZ") is TrackingStatus.UNKNOWN
    assert tracking_map.canonical("royal_mail", "delivered") is TrackingStatus.UNKNOWN
    assert tracking_map.canonical("easypost", "") is TrackingStatus.UNKNOWN


def test_a_wrong_status_names_file_line_carrier_code_and_value(write: WriteFile) -> None:
    path = write("map.yaml", 'ups:\n  "D": delivered\n  "X": lost_forever\n')
    with pytest.raises(ConfigError) as caught:
        load_tracking_map(path)
    message = str(caught.value)
    assert f"{path}:3: ups.X: 'lost_forever' is not a canonical tracking status" in message
    assert "expected one of pending, in_transit" in message


def test_an_unquoted_numeric_code_is_refused_with_a_hint(write: WriteFile) -> None:
    path = write("map.yaml", "usps:\n  01: delivered\n")
    with pytest.raises(ConfigError, match=r"usps: code '01' is not a string \(expected a quoted code, e.g. \"01\"\)"):
        load_tracking_map(path)


def test_several_problems_are_reported_together(write: WriteFile) -> None:
    path = write("map.yaml", 'ups:\n  "D": delivered\n  "d": delivered\nfedex: [DL]\n"": {}\n')
    with pytest.raises(ConfigErrors) as caught:
        load_tracking_map(path)
    lines = caught.value.render().splitlines()
    assert any("ups.d: code listed twice" in line for line in lines)
    assert any("fedex: the carrier's codes are not a mapping" in line for line in lines)
    assert any("empty carrier id" in line for line in lines)
    assert len(lines) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the tracking status map is empty"),
        ("- ups\n", "the top level is not a mapping"),
        ("ups: {D: delivered\n", "not valid YAML"),
    ],
)
def test_malformed_files_are_config_errors(write: WriteFile, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_tracking_map(write("map.yaml", text) if text else _empty(write))


def _empty(write: WriteFile) -> Path:
    path = write("map.yaml", "x")
    path.write_text("", encoding="utf-8")
    return path


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the tracking status map"):
        load_tracking_map(tmp_path / "nope.yaml")


def test_a_merchant_map_named_by_the_environment_replaces_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corrected = tmp_path / "tracking.yaml"
    corrected.write_text("ups:\n  X: delivery_failed\n", encoding="utf-8")
    monkeypatch.setenv("OMNIBRIDGE_TRACKING_MAP", str(corrected))
    merchant_map = load_tracking_map()
    assert merchant_map.canonical("ups", "X") is TrackingStatus.DELIVERY_FAILED
    assert merchant_map.carriers() == ["ups"]
