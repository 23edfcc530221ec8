"""Customers, their identities on each channel, and what they consented to."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from omnibridge.models.common import Address, CanonicalModel


class ChannelIdentity(CanonicalModel):
    channel: str
    external_id: str


class Consent(CanonicalModel):
    """What the customer agreed to, and when it was last recorded. Absent consent means no."""

    marketing_email: bool = False
    marketing_sms: bool = False
    data_processing: bool = Field(default=True, description="Order processing itself (contract basis)")
    recorded_at: datetime | None = None
    source: str | None = Field(default=None, description="Channel or system that recorded the consent")


class Customer(CanonicalModel):
    """One person across channels. Redaction (a privacy request) blanks the personal fields."""

    id: str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    default_address: Address | None = None
    identities: list[ChannelIdentity] = Field(default_factory=list)
    consent: Consent = Field(default_factory=Consent)
    redacted_at: datetime | None = None
