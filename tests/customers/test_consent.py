"""The consent hub: the latest decision wins, whatever order decisions arrive in, and is written back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest

from omnibridge.customers.consent import ConsentHub
from omnibridge.customers.directory import CustomerDirectory, ObservedIdentity
from omnibridge.errors import OmnibridgeError
from omnibridge.sdk.privacy import ConsentUpdate, PrivacyResult
from omnibridge.store import Store

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


class RecordingWriter:
    consent_purposes = frozenset({"email_marketing", "sms_marketing"})

    def __init__(self) -> None:
        self.updates: list[ConsentUpdate] = []

    async def write_consent(self, update: ConsentUpdate) -> PrivacyResult:
        self.updates.append(update)
        return PrivacyResult(True)


def test_an_older_decision_arriving_late_never_overwrites_a_newer_one(store: Store) -> None:
    customer = CustomerDirectory(store).resolve(ObservedIdentity("shopify", "7", email="ada@example.com"))
    writer = RecordingWriter()
    hub = ConsentHub(store, {"shopify": writer})

    async def scenario() -> None:
        newer = await hub.decide(customer, "email_marketing", True, source="square", decided_at=T0 + timedelta(hours=1))
        assert newer.current
        older = await hub.decide(customer, "email_marketing", False, source="clover", decided_at=T0)
        assert not older.current

    anyio.run(scenario)
    current = hub.current(customer)
    assert current["email_marketing"].granted is True
    assert current["email_marketing"].source == "square"
    assert [d.granted for d in hub.decisions(customer)] == [True, False]
    assert writer.updates == [ConsentUpdate("7", "email_marketing", True, T0 + timedelta(hours=1))]
    assert CustomerDirectory(store).require(customer).consent.marketing_email is True


def test_the_latest_decision_is_written_back_except_to_its_source_and_unheld_purposes(store: Store) -> None:
    people = CustomerDirectory(store)
    customer = people.resolve(ObservedIdentity("shopify", "7", email="ada@example.com"))
    people.resolve(ObservedIdentity("square", "SQ-1", email="ada@example.com"))
    shopify, square = RecordingWriter(), RecordingWriter()
    hub = ConsentHub(store, {"shopify": shopify, "square": square})

    async def scenario() -> None:
        revoked = await hub.decide(customer, "sms_marketing", False, source="shopify", decided_at=T0)
        assert revoked.writeback == {"square:SQ-1": {"done": True, "reason": None}}
        await hub.decide(customer, "analytics", True, source="cli", decided_at=T0)

    anyio.run(scenario)
    assert shopify.updates == []
    assert [u.purpose for u in square.updates] == ["sms_marketing"]
    assert people.require(customer).consent.analytics is True


def test_unknown_purposes_and_customers_are_refused(store: Store) -> None:
    hub = ConsentHub(store)
    with pytest.raises(OmnibridgeError, match="unknown consent purpose 'newsletter'"):
        anyio.run(lambda: hub.decide("cus-x", "newsletter", True, source="cli"))
    with pytest.raises(OmnibridgeError, match="no customer 'cus-x'"):
        anyio.run(lambda: hub.decide("cus-x", "analytics", True, source="cli"))
