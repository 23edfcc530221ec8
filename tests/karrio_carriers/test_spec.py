"""The karrio carriers' specs, settings and quote references (no karrio needed)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import SecretStr, ValidationError

from connectors.karrio.gateway import karrio_available
from connectors.karrio.mapper import decode_shipment_ref, encode_shipment_ref, shipment_payload
from connectors.karrio.settings import FedexSettings, UpsSettings
from connectors.karrio.spec import carrier_spec
from omnibridge.sdk.carrier import CarrierAddress, Parcel, ShipmentRequest


def _request(**parcel: Decimal | None) -> ShipmentRequest:
    address = CarrierAddress(
        name="A", street1="1 Main St", city="Austin", postal_code="78701", country="us", state="TX"
    )
    return ShipmentRequest(
        reference="order-7", from_address=address, to_address=address, parcel=Parcel(weight_oz=Decimal("7.5"), **parcel)
    )


def test_a_carrier_whose_karrio_package_is_missing_fails_to_load_by_name() -> None:
    assert not karrio_available("no_such_carrier")
    with pytest.raises(
        ImportError,
        match=r"karrio's Nowhere package is not installed: pip install -e '\.\[carriers\]' in the omnibridge checkout",
    ):
        carrier_spec("no_such_carrier", "Nowhere", UpsSettings, "", "https://example.invalid")


def test_settings_keep_credentials_secret_and_refuse_unknown_keys() -> None:
    settings = UpsSettings(client_id=SecretStr("id-1"), client_secret=SecretStr("s3cret"), account_number="A1B2C3")
    assert "s3cret" not in repr(settings)
    assert settings.server_url is None
    assert not settings.test_mode
    with pytest.raises(ValidationError, match="extra_forbidden"):
        FedexSettings.model_validate({"api_key": "k", "secret_key": "s", "account_number": "1", "apikey": "x"})
    with pytest.raises(ValidationError, match="server_url"):
        FedexSettings.model_validate({"api_key": "k", "secret_key": "s", "account_number": "1", "server_url": "nope"})


@pytest.mark.parametrize(
    "dims",
    [{}, {"length_in": Decimal("10.5"), "width_in": Decimal("6"), "height_in": Decimal("4.25")}],
    ids=["weight-only", "with-dimensions"],
)
def test_shipment_ref_round_trips(dims: dict[str, Decimal]) -> None:
    request = _request(**dims)
    ref = encode_shipment_ref(request)
    assert ref.startswith("kr1.")
    assert decode_shipment_ref(ref) == request


def test_payload_sends_ounces_and_inches_and_asks_sender_billing_for_labels() -> None:
    request = _request(length_in=Decimal("10"), width_in=Decimal("6"), height_in=Decimal("4"))
    rate = shipment_payload(request)
    assert rate["parcels"] == [
        {"weight": 7.5, "weight_unit": "OZ", "length": 10.0, "width": 6.0, "height": 4.0, "dimension_unit": "IN"}
    ]
    assert rate["recipient"]["country_code"] == "US"
    assert "service" not in rate
    label = shipment_payload(request, service="ups_ground")
    assert label["service"] == "ups_ground"
    assert label["payment"] == {"paid_by": "sender"}
    assert shipment_payload(_request())["parcels"] == [{"weight": 7.5, "weight_unit": "OZ"}]


def test_discovery_reports_each_carrier_as_a_load_failure_without_karrio(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from omnibridge.sdk.registry import discover_connectors

    monkeypatch.setattr("connectors.karrio.spec.karrio_available", lambda package: False)  # no karrio installed
    for module in ("ups", "fedex", "usps", "dhl_express"):
        monkeypatch.delitem(sys.modules, f"connectors.karrio.{module}", raising=False)
    registry = discover_connectors()
    failures = {failure.name: failure.error for failure in registry.failures}
    for carrier in ("ups", "fedex", "usps", "dhl_express"):
        assert registry.get(carrier) is None
        assert "pip install -e '.[carriers]' in the omnibridge checkout" in failures[carrier]
    assert registry.get("square") is not None
