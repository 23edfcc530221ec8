"""Conformance harnesses of the karrio-driven carriers: the real connector (karrio inside) against the carrier's
emulator served over HTTP. ``tests/conformance/test_karrio_<carrier>.py`` turns each into a test class.
"""

from __future__ import annotations

import itertools
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import SecretStr

from connectors.karrio.carriers import DHL_EXPRESS, FEDEX, UPS, USPS, CarrierProfile, RawScan
from connectors.karrio.dhl_express import connector as dhl_express_spec
from connectors.karrio.emulators.base import CarrierEmulator
from connectors.karrio.emulators.dhl_express import DhlExpressEmulator
from connectors.karrio.emulators.fedex import FedexEmulator
from connectors.karrio.emulators.ups import UpsEmulator
from connectors.karrio.emulators.usps import UspsEmulator
from connectors.karrio.fedex import connector as fedex_spec
from connectors.karrio.mapper import decode_shipment_ref, encode_shipment_ref
from connectors.karrio.settings import (
    DhlExpressSettings,
    FedexSettings,
    KarrioCarrierSettings,
    UpsSettings,
    UspsSettings,
)
from connectors.karrio.ups import connector as ups_spec
from connectors.karrio.usps import connector as usps_spec
from omnibridge.sdk.carrier import CarrierAddress, Parcel, ShipmentRequest
from omnibridge.sdk.emulator import run_server
from omnibridge.testing import ConformanceHarness, ConformanceSession, EmulatorControl, MapperFixture

__all__ = [
    "CarrierControl",
    "DhlExpressHarness",
    "FedexHarness",
    "KarrioCarrierHarness",
    "UpsHarness",
    "UspsHarness",
    "sample_request",
    "sample_request_gb",
]

CLIENT_ID = "conformance-client"
CLIENT_SECRET = "conformance-secret"  # noqa: S105 - the emulator's test credential
_references = itertools.count(1)


SAMPLE_PARCEL = Parcel(weight_oz=Decimal("20"), length_in=Decimal("10"), width_in=Decimal("6"), height_in=Decimal("4"))
"""20 oz, 10x6x4 in: every emulated carrier rates it with all its services."""


def sample_request(reference: str = "conformance-shipment") -> ShipmentRequest:
    """A domestic US parcel (20 oz, 10x6x4 in) every emulated carrier rates with all its services."""
    return ShipmentRequest(
        reference=reference,
        from_address=CarrierAddress(
            name="Omnibridge Warehouse",
            street1="417 Montgomery Street",
            city="San Francisco",
            postal_code="94104",
            country="US",
            state="CA",
            phone="4153334445",
        ),
        to_address=CarrierAddress(
            name="Dr. Steve Brule",
            street1="179 N Harbor Dr",
            city="Redondo Beach",
            postal_code="90277",
            country="US",
            state="CA",
            phone="3105551234",
        ),
        parcel=SAMPLE_PARCEL,
    )


def sample_request_gb(reference: str = "conformance-shipment") -> ShipmentRequest:
    """A UK domestic parcel (DHL Express rates domestic products inside one country, not inside the US)."""
    return ShipmentRequest(
        reference=reference,
        from_address=CarrierAddress(
            name="Omnibridge Warehouse",
            street1="Unit 4, Heathrow Logistics Park",
            city="London",
            postal_code="TW6 2GA",
            country="GB",
            phone="+442071234567",
            email="warehouse@omnibridge.example",
        ),
        to_address=CarrierAddress(
            name="Ada Lovelace",
            street1="1 Piccadilly",
            city="Manchester",
            postal_code="M1 1AE",
            country="GB",
            phone="+441611234567",
            email="ada@example.org",
        ),
        parcel=SAMPLE_PARCEL,
    )


class CarrierControl(EmulatorControl):
    """The conformance back door onto a :class:`CarrierEmulator`. Labels are counted per shipment reference
    (what the carrier sees of omnibridge's shipment id), so ``labels_bought`` takes a quote's ``shipment_ref``."""

    def __init__(self, emulator: CarrierEmulator, sample: Callable[[str], ShipmentRequest] = sample_request) -> None:
        self.emulator = emulator
        self.sample = sample

    def refused_requests(self) -> int:
        return self.emulator.refused_requests

    def api_requests(self) -> int:
        return self.emulator.api_requests

    def fail_next(self, status: int, *, count: int = 1) -> None:
        self.emulator.fail_next(status, count)

    def lose_next_response(self, *, count: int = 1) -> None:
        self.emulator.lose_next_response(count)

    def sample_shipment(self) -> ShipmentRequest:
        return self.sample(f"conformance-{next(_references)}")

    def labels_bought(self, shipment_ref: str) -> int:
        return self.emulator.labels_by_reference[decode_shipment_ref(shipment_ref).reference]

    def advance_tracking(self, tracking_code: str) -> None:
        self.emulator.advance(tracking_code)


class KarrioCarrierHarness(ConformanceHarness):
    """Shared by the carriers: start the emulator, build the connector through ``spec.factory``."""

    profile: ClassVar[CarrierProfile]
    account_number: ClassVar[str]
    emulator_class: ClassVar[Callable[..., CarrierEmulator]]
    # The emulators enforce no rate limit (the carriers document none); the burst only checks nothing breaks.
    rate_probe_requests = 12

    @classmethod
    def sample(cls, reference: str) -> ShipmentRequest:
        """A shipment the carrier's emulator rates and labels."""
        return sample_request(reference)

    @abstractmethod
    def make_settings(self, server_url: str) -> KarrioCarrierSettings:
        raise NotImplementedError

    def session(self) -> AbstractAsyncContextManager[ConformanceSession]:
        return self._session()

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[ConformanceSession]:
        emulator = self.emulator_class(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, account_number=self.account_number
        )
        async with run_server(emulator.app) as server:
            settings = self.make_settings(server.url)
            assert self.spec.factory is not None
            connector = self.spec.factory(settings)
            try:
                control = CarrierControl(emulator, self.sample)
                yield ConformanceSession(connector=connector, settings=settings, control=control)
            finally:
                await connector.aclose()

    def mapper_fixtures(self) -> Sequence[MapperFixture]:
        request = self.sample("fixture-shipment")
        return (
            MapperFixture(
                name="shipment_ref round trip",
                payload=encode_shipment_ref(request),
                parse=decode_shipment_ref,
                expected=request,
                render=encode_shipment_ref,
            ),
            *self.carrier_fixtures(),
        )

    def carrier_fixtures(self) -> Sequence[MapperFixture]:
        return ()


_SCAN_1 = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
_SCAN_2 = datetime(2026, 3, 3, 14, 40, 5, tzinfo=UTC)


class UpsHarness(KarrioCarrierHarness):
    """UPS through karrio against :class:`UpsEmulator`."""

    spec = ups_spec
    profile = UPS
    account_number = "A1B2C3"
    emulator_class = UpsEmulator

    def make_settings(self, server_url: str) -> UpsSettings:
        return UpsSettings(
            client_id=SecretStr(CLIENT_ID),
            client_secret=SecretStr(CLIENT_SECRET),
            account_number=self.account_number,
            server_url=server_url,  # pydantic validates the str into HttpUrl
            test_mode=True,
            max_attempts=3,
            retry_backoff_seconds=0.01,
            timeout_seconds=20,
        )

    def carrier_fixtures(self) -> Sequence[MapperFixture]:
        number = "1ZA1B2C30312345678"
        track: list[tuple[str, dict[str, Any]]] = [
            (
                number,
                {
                    "trackResponse": {
                        "shipment": [
                            {
                                "inquiryNumber": number,
                                "package": [
                                    {
                                        "trackingNumber": number,
                                        "activity": [
                                            {
                                                "status": {"type": "I", "code": "DP"},
                                                "date": "20260303",
                                                "time": "094005",
                                                "gmtDate": "20260303",
                                                "gmtTime": "14:40:05",
                                                "gmtOffset": "-05:00",
                                            },
                                            {
                                                "status": {"type": "M", "code": "MP"},
                                                "date": "20260302",
                                                "time": "091500",
                                            },
                                        ],
                                    }
                                ],
                            }
                        ]
                    }
                },
            )
        ]
        ship = {
            "ShipmentResponse": {
                "ShipmentResults": {
                    "ShipmentCharges": {"TotalCharges": {"CurrencyCode": "USD", "MonetaryValue": "13.97"}},
                    "ShipmentIdentificationNumber": number,
                }
            }
        }
        return (
            MapperFixture(
                name="UPS track activities (newest first, status.type, GMT time when given, else local time as UTC)",
                payload=track,
                parse=lambda raw: UPS.scans(raw, number),
                expected=[RawScan("I", _SCAN_2), RawScan("M", _SCAN_1)],
            ),
            MapperFixture(
                name="UPS ship response charge",
                payload=ship,
                parse=UPS.label_charge,
                expected=(Decimal("13.97"), "USD"),
            ),
        )


class FedexHarness(KarrioCarrierHarness):
    """FedEx through karrio against :class:`FedexEmulator`."""

    spec = fedex_spec
    profile = FEDEX
    account_number = "740561073"
    emulator_class = FedexEmulator

    def make_settings(self, server_url: str) -> FedexSettings:
        return FedexSettings(
            api_key=SecretStr(CLIENT_ID),
            secret_key=SecretStr(CLIENT_SECRET),
            account_number=self.account_number,
            server_url=server_url,  # pydantic validates the str into HttpUrl
            test_mode=True,
            max_attempts=3,
            retry_backoff_seconds=0.01,
            timeout_seconds=20,
        )

    def carrier_fixtures(self) -> Sequence[MapperFixture]:
        number = "794912345678"
        track = {
            "output": {
                "completeTrackResults": [
                    {
                        "trackingNumber": number,
                        "trackResults": [
                            {
                                "scanEvents": [
                                    {"date": "2026-03-03T09:40:05-05:00", "eventType": "IT"},
                                    {"date": "2026-03-02T09:15:00+00:00", "eventType": "OC"},
                                ]
                            }
                        ],
                    }
                ]
            }
        }
        ship = {
            "output": {
                "transactionShipments": [
                    {
                        "completedShipmentDetail": {
                            "shipmentRating": {
                                "actualRateType": "PAYOR_ACCOUNT_PACKAGE",
                                "shipmentRateDetails": [
                                    {"rateType": "PAYOR_LIST_PACKAGE", "totalNetCharge": 15.2, "currency": "USD"},
                                    {"rateType": "PAYOR_ACCOUNT_PACKAGE", "totalNetCharge": 13.12, "currency": "USD"},
                                ],
                            }
                        }
                    }
                ]
            }
        }
        return (
            MapperFixture(
                name="FedEx scan events (eventType, offsets kept)",
                payload=track,
                parse=lambda raw: [(s.code, s.occurred_at.astimezone(UTC)) for s in FEDEX.scans(raw, number)],
                expected=[("IT", _SCAN_2), ("OC", _SCAN_1)],
            ),
            MapperFixture(
                name="FedEx ship response charge (the actual rate type)",
                payload=ship,
                parse=FEDEX.label_charge,
                expected=(Decimal("13.12"), "USD"),
            ),
        )


class UspsHarness(KarrioCarrierHarness):
    """USPS through karrio against :class:`UspsEmulator`."""

    spec = usps_spec
    profile = USPS
    account_number = "1000123456"
    emulator_class = UspsEmulator

    def make_settings(self, server_url: str) -> UspsSettings:
        return UspsSettings(
            client_id=SecretStr(CLIENT_ID),
            client_secret=SecretStr(CLIENT_SECRET),
            account_number=self.account_number,
            crid="56982563",
            mid="902912345",
            server_url=server_url,  # pydantic validates the str into HttpUrl
            test_mode=True,
            max_attempts=3,
            retry_backoff_seconds=0.01,
            timeout_seconds=20,
        )

    def carrier_fixtures(self) -> Sequence[MapperFixture]:
        number = "9400100000000000000017"
        track = [
            (
                number,
                {
                    "trackingNumber": number,
                    "trackingEvents": [
                        {
                            "eventCode": "10",
                            "eventTimestamp": "2026-03-03T08:40:05",
                            "GMTTimestamp": "2026-03-03T14:40:05Z",
                        },
                        {"eventCode": "GX", "eventTimestamp": "2026-03-02T09:15:00"},
                    ],
                },
            )
        ]
        label = [{"labelMetadata": {"trackingNumber": number, "postage": 8.54}, "labelImage": "JVBERi0="}]
        return (
            MapperFixture(
                name="USPS tracking events (eventCode, GMTTimestamp, local time without one read as UTC)",
                payload=track,
                parse=lambda raw: USPS.scans(raw, number),
                expected=[RawScan("10", _SCAN_2), RawScan("GX", _SCAN_1)],
            ),
            MapperFixture(
                name="USPS label metadata postage",
                payload=label,
                parse=USPS.label_charge,
                expected=(Decimal("8.54"), "USD"),
            ),
        )


class DhlExpressHarness(KarrioCarrierHarness):
    """DHL Express (karrio's MyDHL package) against :class:`DhlExpressEmulator`, with a UK domestic parcel."""

    spec = dhl_express_spec
    profile = DHL_EXPRESS
    account_number = "953123456"
    emulator_class = DhlExpressEmulator

    @classmethod
    def sample(cls, reference: str) -> ShipmentRequest:
        return sample_request_gb(reference)

    def make_settings(self, server_url: str) -> DhlExpressSettings:
        return DhlExpressSettings(
            username=SecretStr(CLIENT_ID),
            password=SecretStr(CLIENT_SECRET),
            account_number=self.account_number,
            server_url=server_url,  # pydantic validates the str into HttpUrl
            test_mode=True,
            max_attempts=3,
            retry_backoff_seconds=0.01,
            timeout_seconds=20,
        )

    def carrier_fixtures(self) -> Sequence[MapperFixture]:
        number = "1234567890"
        track = {
            "shipments": [
                {
                    "shipmentTrackingNumber": number,
                    "events": [
                        {"date": "2026-03-03", "time": "15:40:05", "GMTOffset": "+01:00", "typeCode": "DF"},
                        {"date": "2026-03-02", "time": "09:15:00", "typeCode": "PU"},
                    ],
                }
            ]
        }
        ship = {
            "shipmentTrackingNumber": number,
            "shipmentCharges": [
                {"currencyType": "PULCL", "priceCurrency": "EUR", "price": 35.2},
                {"currencyType": "BILLC", "priceCurrency": "GBP", "price": 29.83},
            ],
        }
        return (
            MapperFixture(
                name="MyDHL tracking events (typeCode, local time with GMTOffset)",
                payload=track,
                parse=lambda raw: [(s.code, s.occurred_at.astimezone(UTC)) for s in DHL_EXPRESS.scans(raw, number)],
                expected=[("DF", _SCAN_2), ("PU", _SCAN_1)],
            ),
            MapperFixture(
                name="MyDHL shipment charge in the billing currency",
                payload=ship,
                parse=DHL_EXPRESS.label_charge,
                expected=(Decimal("29.83"), "GBP"),
            ),
        )
