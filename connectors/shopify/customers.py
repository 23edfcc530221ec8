"""Customers' marketing consent and data erasure on Shopify (implements
:class:`~omnibridge.sdk.privacy.ConsentWriter` and :class:`~omnibridge.sdk.privacy.CustomerEraser`).

* ``email_marketing`` → ``customerEmailMarketingConsentUpdate`` (``SUBSCRIBED`` with ``SINGLE_OPT_IN``, or
  ``UNSUBSCRIBED``), ``sms_marketing`` → ``customerSmsMarketingConsentUpdate``; ``consentUpdatedAt`` is when the
  customer decided, so Shopify shows the decision's own time. Both set a state, so repeating one is harmless.
* erasure → ``customerRequestDataErasure``: Shopify erases the customer's personal data after its own delay
  (and refuses for a customer that does not exist: ``DOES_NOT_EXIST``, taken as already erased).

A user error is a refusal (``done=False`` with Shopify's message); transport and GraphQL errors raise.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

from omnibridge.sdk.privacy import ConsentUpdate, PrivacyResult

if TYPE_CHECKING:
    from connectors.shopify.client import ShopifyClient

__all__ = ["CONSENT_PURPOSES", "ERASURE_MUTATION", "erase_customer", "write_consent"]

CONSENT_PURPOSES = frozenset({"email_marketing", "sms_marketing"})

EMAIL_CONSENT_MUTATION = (
    "mutation EmailConsent($input: CustomerEmailMarketingConsentUpdateInput!) {\n"
    "  customerEmailMarketingConsentUpdate(input: $input) {\n"
    "    customer { id emailMarketingConsent { marketingState consentUpdatedAt } }\n"
    "    userErrors { field message code }\n"
    "  }\n"
    "}"
)
SMS_CONSENT_MUTATION = (
    "mutation SmsConsent($input: CustomerSmsMarketingConsentUpdateInput!) {\n"
    "  customerSmsMarketingConsentUpdate(input: $input) {\n"
    "    customer { id smsMarketingConsent { marketingState consentUpdatedAt } }\n"
    "    userErrors { field message code }\n"
    "  }\n"
    "}"
)
ERASURE_MUTATION = (
    "mutation Erase($customerId: ID!) {\n"
    "  customerRequestDataErasure(customerId: $customerId) {\n"
    "    customerId\n"
    "    userErrors { field message code }\n"
    "  }\n"
    "}"
)


def consent_variables(update: ConsentUpdate) -> dict[str, Any]:
    """The ``input`` of the mutation for ``update`` (email or SMS)."""
    consent: dict[str, Any] = {
        "marketingState": "SUBSCRIBED" if update.granted else "UNSUBSCRIBED",
        "consentUpdatedAt": update.decided_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }
    if update.granted:
        consent["marketingOptInLevel"] = "SINGLE_OPT_IN"
    key = "emailMarketingConsent" if update.purpose == "email_marketing" else "smsMarketingConsent"
    return {"input": {"customerId": update.customer_ref, key: consent}}


async def write_consent(client: ShopifyClient, update: ConsentUpdate) -> PrivacyResult:
    """Write ``update`` to the Shopify customer (see the module docstring)."""
    if update.purpose not in CONSENT_PURPOSES:
        return PrivacyResult(False, f"Shopify holds no {update.purpose} consent")
    email = update.purpose == "email_marketing"
    field = "customerEmailMarketingConsentUpdate" if email else "customerSmsMarketingConsentUpdate"
    data = await client.graphql(
        f"consent {update.purpose}",
        EMAIL_CONSENT_MUTATION if email else SMS_CONSENT_MUTATION,
        consent_variables(update),
        idempotent=True,
    )
    return _result(data.get(field))


async def erase_customer(client: ShopifyClient, customer_ref: str) -> PrivacyResult:
    """Request erasure of the Shopify customer ``customer_ref`` (a customer gid)."""
    data = await client.graphql("erase customer", ERASURE_MUTATION, {"customerId": customer_ref}, idempotent=True)
    payload = data.get("customerRequestDataErasure") or {}
    errors = payload.get("userErrors") or []
    if any(error.get("code") == "DOES_NOT_EXIST" for error in errors):
        return PrivacyResult(True, "no such customer on Shopify (already erased or never there)")
    return _result(payload)


def _result(payload: Any) -> PrivacyResult:
    errors = (payload or {}).get("userErrors") or []
    if errors:
        return PrivacyResult(False, "; ".join(str(error.get("message")) for error in errors))
    return PrivacyResult(True)
