"""Customers, their identities on each channel, and what they consented to."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from omnibridge.models.common import Address, CanonicalModel


class ChannelIdentity(CanonicalModel):
    channel: str
    """Channel id."""
    external_id: str
    """The customer's id on that channel."""


class Consent(CanonicalModel):
    """What the customer agreed to, and when it was last recorded. Absent consent means no."""

    marketing_email: bool = False
    """May be sent marketing email."""
    marketing_sms: bool = False
    """May be sent marketing SMS."""
    analytics: bool = False
    """May be included in analytics beyond what running the orders needs."""
    data_processing: bool = Field(default=True, description="Order processing itself (contract basis)")
    recorded_at: datetime | None = None
    """When the consent was last recorded."""
    source: str | None = Field(default=None, description="Channel or system that recorded the consent")


class Customer(CanonicalModel):
    """One person across channels. Redaction (a privacy request) blanks the personal fields."""

    id: str
    """omnibridge's customer id."""
    email: str | None = None
    """Email address."""
    phone: str | None = None
    """Phone number."""
    first_name: str | None = None
    """Given name."""
    last_name: str | None = None
    """Family name."""
    default_address: Address | None = None
    """Default shipping address."""
    identities: list[ChannelIdentity] = Field(default_factory=list)
    """Who this customer is on each channel."""
    consent: Consent = Field(default_factory=Consent)
    """What the customer agreed to."""
    redacted_at: datetime | None = None
    """Set when personal data was erased on request."""
    merged_into: str | None = None
    """Set when this customer was merged into another (it then has no identities)."""
