"""The contract between omnibridge's consent hub and data-subject requests and the channels that hold customers.

Two optional capabilities, each a :class:`typing.Protocol` a connector implements when its vendor can do it:

* :class:`ConsentWriter` (Shopify ``customerEmailMarketingConsentUpdate``/``customerSmsMarketingConsentUpdate``,
  Square ``email_unsubscribed``): write a consent decision to the channel's customer;
* :class:`CustomerEraser` (Shopify ``customerRequestDataErasure``, Square ``DeleteCustomer``): ask the channel to
  erase a customer's personal data.

And one event a connector returns from ``webhook_events``: :class:`PrivacyRequestEvent`, a data-subject request
the channel forwarded (Shopify's mandatory compliance webhooks), which omnibridge records with its deadline.

Contracts every implementation keeps: each call is safe to repeat (writing the same consent again, erasing a
customer already erased or gone, answers normally); a definite refusal by the vendor is returned as a result with
``done=False`` and the vendor's reason; infrastructure failures raise
:class:`~omnibridge.errors.RetriableConnectorError`, bad credentials :class:`~omnibridge.errors.FatalConnectorError`.
``customer_ref`` is the vendor's own customer id (a Shopify customer gid, a Square customer id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

__all__ = [
    "ConsentUpdate",
    "ConsentWriter",
    "CustomerEraser",
    "PrivacyRequestEvent",
    "PrivacyResult",
]


@dataclass(frozen=True, slots=True)
class ConsentUpdate:
    """A consent decision for one customer on one channel. ``purpose``: ``email_marketing``, ``sms_marketing`` or
    ``analytics``; ``decided_at``: when the customer decided (aware)."""

    customer_ref: str
    purpose: str
    granted: bool
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class PrivacyResult:
    """What the channel did: ``done`` (written, erased or already so), or not with the vendor's ``reason``."""

    done: bool
    reason: str | None = None


@runtime_checkable
class ConsentWriter(Protocol):
    """Optional: a channel that holds marketing consent and accepts it from omnibridge."""

    consent_purposes: frozenset[str]
    """The purposes this channel holds (others are not sent to it)."""

    async def write_consent(self, update: ConsentUpdate) -> PrivacyResult:
        """Make the channel's customer ``update.customer_ref`` hold the decision."""
        ...


@runtime_checkable
class CustomerEraser(Protocol):
    """Optional: a channel that can erase a customer's personal data on request."""

    async def erase_customer(self, customer_ref: str) -> PrivacyResult:
        """Erase (or request erasure of) the channel's customer ``customer_ref``."""
        ...


@dataclass(frozen=True, slots=True)
class PrivacyRequestEvent:
    """A data-subject request a channel forwarded. ``kind``: ``data_request`` (export what is held), ``redact``
    (erase the customer) or ``shop_redact`` (erase everything of the shop). ``ref`` identifies the request on the
    channel (unique per channel); ``customer_ref``, ``email`` and ``phone`` name the customer where given;
    ``orders`` are the channel's order refs the request names."""

    ref: str
    kind: str
    received_at: datetime
    customer_ref: str | None = None
    email: str | None = None
    phone: str | None = None
    orders: tuple[str, ...] = ()
    shop: str | None = None
