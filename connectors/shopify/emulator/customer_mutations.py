"""Customers' marketing consent and data erasure: ``customerEmailMarketingConsentUpdate``,
``customerSmsMarketingConsentUpdate`` and ``customerRequestDataErasure``, validated against the official schema of
the URL's version like every document (see :mod:`connectors.shopify.emulator.schema`).

The emulated shop's customers are added with :meth:`CustomerMutations.add`. Answers:

* a ``customerId`` that names no customer → a user error (``INVALID`` on ``customerId`` for the consent updates;
  ``DOES_NOT_EXIST`` for the erasure, as the schema's error code enum has it);
* email consent for a customer without an email, SMS consent for one without a phone → ``INVALID`` (Shopify
  requires the address the consent is about);
* otherwise the state is set (with ``consentUpdatedAt``, the time given or now) and the customer returned; an
  erasure request is recorded (Shopify erases after its own delay; the emulator only marks the request).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphql import GraphQLResolveInfo

from connectors.shopify.emulator.resolvers import parse_gid

__all__ = ["COMPLIANCE_TOPICS", "CustomerMutations", "EmulatedCustomer", "compliance_payload"]

COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")

Payload = dict[str, Any]


@dataclass
class EmulatedCustomer:
    """One customer of the emulated shop and what it consented to."""

    id: int
    email: str | None = None
    phone: str | None = None
    email_state: str = "NOT_SUBSCRIBED"
    email_updated_at: str | None = None
    sms_state: str = "NOT_SUBSCRIBED"
    sms_updated_at: str | None = None
    opt_in_level: str | None = None
    erasure_requested: bool = False


class CustomerMutations:
    """Mutation root values for customers' consent and erasure; ``now`` stamps updates given no time."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.customers: dict[int, EmulatedCustomer] = {}
        self._now = now

    def add(self, customer_id: int, *, email: str | None = None, phone: str | None = None) -> EmulatedCustomer:
        """Add (or replace) a customer of the emulated shop."""
        customer = self.customers[customer_id] = EmulatedCustomer(customer_id, email, phone)
        return customer

    def root(self) -> dict[str, Any]:
        return {
            "customerEmailMarketingConsentUpdate": self.email_consent,
            "customerSmsMarketingConsentUpdate": self.sms_consent,
            "customerRequestDataErasure": self.request_erasure,
        }

    def email_consent(self, info: GraphQLResolveInfo[Any], input: dict[str, Any]) -> Payload:
        del info
        customer = self._customer(input["customerId"])
        if customer is None:
            return {"customer": None, "userErrors": [_error("INVALID", "Customer not found", "customerId")]}
        if not customer.email:
            message = "An email address is required to set the email marketing consent state."
            return {"customer": None, "userErrors": [_error("INVALID", message, "emailMarketingConsent")]}
        consent = input["emailMarketingConsent"]
        customer.email_state = consent["marketingState"]
        customer.email_updated_at = consent.get("consentUpdatedAt") or self._now().isoformat()
        customer.opt_in_level = consent.get("marketingOptInLevel") or customer.opt_in_level
        return {"customer": _customer(customer), "userErrors": []}

    def sms_consent(self, info: GraphQLResolveInfo[Any], input: dict[str, Any]) -> Payload:
        del info
        customer = self._customer(input["customerId"])
        if customer is None:
            return {"customer": None, "userErrors": [_error("INVALID", "Customer not found", "customerId")]}
        if not customer.phone:
            message = "A phone number is required to set the SMS consent state."
            return {"customer": None, "userErrors": [_error("INVALID", message, "smsMarketingConsent")]}
        consent = input["smsMarketingConsent"]
        customer.sms_state = consent["marketingState"]
        customer.sms_updated_at = consent.get("consentUpdatedAt") or self._now().isoformat()
        return {"customer": _customer(customer), "userErrors": []}

    def request_erasure(self, info: GraphQLResolveInfo[Any], customerId: str) -> Payload:
        del info
        customer = self._customer(customerId)
        if customer is None:
            return {
                "customerId": None,
                "userErrors": [_error("DOES_NOT_EXIST", "Customer does not exist", "customerId")],
            }
        customer.erasure_requested = True
        return {"customerId": customerId, "userErrors": []}

    def _customer(self, customer_gid: str) -> EmulatedCustomer | None:
        numeric = parse_gid(customer_gid, "Customer")
        return self.customers.get(numeric) if numeric is not None else None


def _error(code: str, message: str, field: str) -> dict[str, Any]:
    return {"code": code, "field": ["input", field] if field != "customerId" else [field], "message": message}


def _customer(customer: EmulatedCustomer) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/Customer/{customer.id}",
        "emailMarketingConsent": {
            "marketingState": customer.email_state,
            "consentUpdatedAt": customer.email_updated_at,
            "marketingOptInLevel": customer.opt_in_level,
            "sourceLocation": None,
        }
        if customer.email
        else None,
        "smsMarketingConsent": {
            "marketingState": customer.sms_state,
            "consentUpdatedAt": customer.sms_updated_at,
            "marketingOptInLevel": None,
            "consentCollectedFrom": None,
            "sourceLocation": None,
        }
        if customer.phone
        else None,
    }


def compliance_payload(
    topic: str, shop_id: int, domain: str, customer: EmulatedCustomer | None, orders: list[int], request_id: int
) -> dict[str, Any]:
    """The body Shopify sends for a mandatory compliance webhook (shopify.dev "Privacy law compliance")."""
    if topic not in COMPLIANCE_TOPICS:
        raise ValueError(f"unknown compliance topic {topic!r}: expected one of {', '.join(COMPLIANCE_TOPICS)}")
    payload: dict[str, Any] = {"shop_id": shop_id, "shop_domain": domain}
    if topic == "shop/redact":
        return payload
    payload["customer"] = {
        "id": customer.id if customer else None,
        "email": customer.email if customer else None,
        "phone": customer.phone if customer else None,
    }
    if topic == "customers/redact":
        payload["orders_to_redact"] = list(orders)
    else:
        payload["orders_requested"] = list(orders)
        payload["data_request"] = {"id": request_id}
    return payload
