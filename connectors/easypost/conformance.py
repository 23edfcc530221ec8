"""The EasyPost connector's conformance harness: the real connector against its emulator served over HTTP.

``tests/conformance/test_easypost.py`` turns it into a test class with
``omnibridge.testing.conformance_suite(EasyPostHarness)``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.easypost import connector as spec
from connectors.easypost import mapper
from connectors.easypost.emulator import EasyPostEmulator, EasyPostEmulatorConfig
from connectors.easypost.emulator.state import example
from connectors.easypost.settings import EasyPostSettings
from connectors.easypost.webhooks import SIGNATURE_HEADER, sign
from omnibridge.sdk.carrier import CarrierAddress, CarrierQuote, Label, Parcel, Rate, ShipmentRequest, TrackingUpdate
from omnibridge.sdk.emulator import run_server
from omnibridge.testing import ConformanceHarness, ConformanceSession, EmulatorControl, MapperFixture, WebhookVector

__all__ = ["EasyPostControl", "EasyPostHarness", "sample_request"]

API_KEY = "EZTKconformance0000000000"
WEBHOOK_SECRET = "conformance-secret-\u00e9\u2163"  # noqa: S105 - test secret; non-ASCII: EasyPost NFKD-normalises it


def sample_request(reference: str = "conformance-shipment") -> ShipmentRequest:
    """A domestic parcel the emulator can rate with every carrier account."""
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
        ),
        parcel=Parcel(
            weight_oz=Decimal("21.5"), length_in=Decimal("10"), width_in=Decimal("8"), height_in=Decimal("4")
        ),
    )


class EasyPostControl(EmulatorControl):
    """The conformance back door onto an :class:`EasyPostEmulator`."""

    def __init__(self, emu: EasyPostEmulator) -> None:
        self.emu = emu

    def refused_requests(self) -> int:
        return self.emu.refused

    def api_requests(self) -> int:
        return self.emu.answered

    def fail_next(self, status: int, *, count: int = 1) -> None:
        self.emu.fail_next(status, count)

    def lose_next_response(self, *, count: int = 1) -> None:
        self.emu.lose_next_response(count)

    def sample_shipment(self) -> ShipmentRequest:
        return sample_request()

    def labels_bought(self, shipment_ref: str) -> int:
        return self.emu.labels_bought(shipment_ref)

    def advance_tracking(self, tracking_code: str) -> None:
        self.emu.advance_tracking(tracking_code)


def _event(description: str, result: dict[str, Any]) -> bytes:
    event = example("events-retrieve.json")
    event.update(id="evt_conformance000000000000000001", description=description, result=result)
    return json.dumps(event, separators=(",", ":")).encode()


class EasyPostHarness(ConformanceHarness):
    """Starts an :class:`EasyPostEmulator` on a local port per session and builds the connector via
    ``spec.factory``."""

    spec = spec
    rate_probe_requests = 30

    def session(self) -> AbstractAsyncContextManager[ConformanceSession]:
        return self._session()

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[ConformanceSession]:
        emu = EasyPostEmulator(
            EasyPostEmulatorConfig(api_key=API_KEY, webhook_secret=WEBHOOK_SECRET, latency_ms=(1.0, 3.0))
        )
        async with run_server(emu.app) as server:
            settings = EasyPostSettings(
                base_url=f"{server.url}/v2",
                api_key=API_KEY,
                webhook_secret=WEBHOOK_SECRET,
                requests_per_second=20.0,
                burst=10,
                max_attempts=4,
                initial_backoff_seconds=0.05,
            )
            client = self.spec.factory(settings) if self.spec.factory is not None else None
            try:
                yield ConformanceSession(client, settings, EasyPostControl(emu), "CONF-SKU-1", "")
            finally:
                if client is not None:
                    await client.aclose()
                await emu.webhooks.aclose()

    def mapper_fixtures(self) -> Sequence[MapperFixture]:
        created = example("shipments-create.json")
        bought = example("shipments-buy.json")
        tracker = example("trackers-retrieve.json")
        return (
            MapperFixture("official shipments-create example", created, mapper.parse_quote, _quote(created)),
            MapperFixture("official shipments-buy example", bought, mapper.parse_label, _label(bought)),
            MapperFixture("official trackers-retrieve example", tracker, mapper.parse_tracker, _updates(tracker)),
        )

    def webhook_vectors(self) -> Sequence[WebhookVector]:
        tracker = example("trackers-retrieve.json")
        body = _event("tracker.updated", tracker)
        signed = {SIGNATURE_HEADER: sign(WEBHOOK_SECRET, body), "Content-Type": "application/json"}
        wrong_key = {SIGNATURE_HEADER: sign("another-secret", body), "Content-Type": "application/json"}
        return (
            WebhookVector(
                "tracker.updated signed with the NFKD-normalised secret",
                body,
                signed,
                signature_headers=(SIGNATURE_HEADER,),
                expected_delivery_id="evt_conformance000000000000000001",
            ),
            WebhookVector("signed with another secret", body, wrong_key, valid=False),
            WebhookVector("unsigned", body, {"Content-Type": "application/json"}, valid=False),
        )


# Expected values of the mapper fixtures, written out from the official example bodies.


def _quote(body: dict[str, Any]) -> CarrierQuote:
    account = "ca_9685a1198a75477885a3cdca37559bac"
    return CarrierQuote(
        "shp_a9b97f431c00435cb16ec2d6a14ed109",
        (
            Rate(
                "rate_76e0cae29e294e6db279c76bbe2f27e9", "USPS", "GroundAdvantage", Decimal("8.20"), "USD", 3, account
            ),
            Rate("rate_e5b3aaafb00f48a4ab27d9f20a801b40", "USPS", "Priority", Decimal("11.01"), "USD", 2, account),
            Rate("rate_9c291b87bdec47a0b3ed151c60b21fb4", "USPS", "Express", Decimal("51.20"), "USD", 2, account),
        ),
    )


def _label(body: dict[str, Any]) -> Label:
    return Label(
        shipment_ref="shp_40b6f049f00348b18de3804a26f7fd62",
        tracking_code="9434600208303109842228",
        carrier="USPS",
        service="GroundAdvantage",
        label_url=body["postage_label"]["label_url"],
        amount=Decimal("8.20"),
        currency="USD",
        tracker_ref="trk_bebe7357cc7e4ebc9248bdd7191084af",
    )


def _updates(body: dict[str, Any]) -> list[TrackingUpdate]:
    detail = {"status_detail": "status_update", "source": "USPS"}
    return [
        TrackingUpdate(
            tracking_code="EZ1000000001",
            carrier="USPS",
            carrier_status="pre_transit",
            occurred_at=datetime(2025, 4, 9, 20, 40, 17, tzinfo=UTC),
            ref="easypost:EZ1000000001:2025-04-09T20:40:17Z:pre_transit:status_update",
            message="Pre-Shipment Info Sent to USPS",
            location=None,
            detail=detail,
        ),
        TrackingUpdate(
            tracking_code="EZ1000000001",
            carrier="USPS",
            carrier_status="pre_transit",
            occurred_at=datetime(2025, 4, 10, 9, 17, 17, tzinfo=UTC),
            ref="easypost:EZ1000000001:2025-04-10T09:17:17Z:pre_transit:status_update",
            message="Shipping Label Created",
            location="HOUSTON, TX 77063",
            detail=detail,
        ),
    ]
