"""Pure mapping between SP-API payloads and the channel contract. No I/O here.

Orders v0 uses PascalCase (``AmazonOrderId``, ``OrderItems``); Listings Items 2021-08-01 and Feeds 2021-06-30 use
camelCase in responses and snake_case attribute names in what is written (``fulfillment_availability``). Money is
``{"CurrencyCode": "USD", "Amount": "19.99"}`` (decimal strings, major units).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from omnibridge.sdk import ConnectorError, MapResult, ok, skip, warning
from omnibridge.sdk.channel import (
    OrderEvent,
    OrderEventKind,
    OrderLineEvent,
    PushStatus,
    ShipTo,
    unsettled_status,
)
from omnibridge.sdk.listings import ListingUpdate
from omnibridge.sdk.pickup import PickupDetails, PickupState

MFN_CHANNEL = "DEFAULT"
"""``fulfillment_channel_code`` of merchant-fulfilled stock, and the one location this connector reports."""
LOCATION_NAME = "Amazon (merchant fulfilled)"
FULFILLMENT_PATH = "/attributes/fulfillment_availability"
UNKNOWN_SKU_CODES = frozenset({"4000004"})
"""Issue codes meaning "the seller has no listing with this SKU" (a PATCH needs one). Amazon documents no code for
it; this is the emulator's. Live Amazon often *accepts* a patch for an unknown SKU and keeps an incomplete
listing instead: see :data:`OFFER_ATTRIBUTES`."""
OFFER_ATTRIBUTES = frozenset({"condition_type", "purchasable_offer"})
"""Attributes every listing Amazon sells has. An ACCEPTED patch whose issues report one of them missing
(``categories: ["MISSING_ATTRIBUTE"]``, e.g. code 18448 "Attributes tagged as relevant_attributes are incomplete")
left an incomplete listing: the seller had no listing with this SKU, so the write is ``UNKNOWN_SKU``."""

ORDER_KINDS: Mapping[str, OrderEventKind] = {
    "PendingAvailability": OrderEventKind.PLACED,  # pre-order: sold, not yet released
    "Pending": OrderEventKind.PLACED,
    "Unshipped": OrderEventKind.PLACED,
    "PartiallyShipped": OrderEventKind.PLACED,
    "Shipped": OrderEventKind.COMPLETED,
    "InvoiceUnconfirmed": OrderEventKind.COMPLETED,  # shipped; only the invoice confirmation is missing
    "Canceled": OrderEventKind.CANCELLED,
    "Unfulfillable": OrderEventKind.UPDATED,  # FBA only; never reaches merchant stock
}


def parse_time(raw: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime (``None`` if missing or malformed; naive taken as UTC)."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def format_time(value: datetime) -> str:
    """An aware datetime as ISO 8601 UTC with ``Z`` (seconds precision, as the Orders API documents it)."""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- orders ---------------------------------------------------------------------------------------------------


def _money(raw: Any) -> tuple[Decimal | None, str | None]:
    if not isinstance(raw, dict):
        return None, None
    currency = raw.get("CurrencyCode")
    try:
        amount = Decimal(str(raw.get("Amount")))
    except InvalidOperation:
        return None, currency if isinstance(currency, str) else None
    return (amount if amount.is_finite() else None), (currency if isinstance(currency, str) else None)


def map_order(order: Any, items: Sequence[Any]) -> MapResult[OrderEvent]:
    """An Orders v0 ``Order`` and its ``OrderItems`` to an :class:`OrderEvent`.

    Status: Pending, Unshipped, PartiallyShipped (and PendingAvailability) → PLACED; Shipped (and
    InvoiceUnconfirmed) → COMPLETED; Canceled → CANCELLED; Unfulfillable → UPDATED. ``ref`` and ``name`` are the
    ``AmazonOrderId``, ``occurred_at`` its ``LastUpdateDate``. Each line: ``line_ref`` = ``OrderItemId``, ``sku`` =
    ``SellerSKU``, ``quantity`` = ``QuantityOrdered``, ``location_ref`` = ``DEFAULT``, ``unit_price`` =
    ``ItemPrice`` / quantity (Amazon's ItemPrice is for the whole line). Amazon-fulfilled (AFN) orders are skipped:
    they never touch the merchant's stock.
    """
    if not isinstance(order, dict) or not isinstance(order.get("AmazonOrderId"), str):
        return skip("order without AmazonOrderId", field_path="AmazonOrderId")
    ref: str = order["AmazonOrderId"]
    if order.get("FulfillmentChannel") == "AFN":
        return skip("Amazon-fulfilled (AFN) order: not merchant stock", field_path="FulfillmentChannel", record_id=ref)
    status = order.get("OrderStatus")
    kind = ORDER_KINDS.get(status) if isinstance(status, str) else None
    if kind is None:
        return skip(f"unknown OrderStatus {status!r}", field_path="OrderStatus", record_id=ref)
    occurred_at = parse_time(order.get("LastUpdateDate")) or parse_time(order.get("PurchaseDate"))
    if occurred_at is None:
        return skip("order without LastUpdateDate", field_path="LastUpdateDate", record_id=ref)
    lines: list[OrderLineEvent] = []
    notes = []
    for index, item in enumerate(items):
        path = f"OrderItems.{index}"
        if not isinstance(item, dict) or not isinstance(item.get("OrderItemId"), str):
            return skip("order item without OrderItemId", field_path=f"{path}.OrderItemId", record_id=ref)
        quantity = item.get("QuantityOrdered")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            return skip(
                f"item {item['OrderItemId']} QuantityOrdered {quantity!r} is not a whole number",
                field_path=f"{path}.QuantityOrdered",
                record_id=ref,
            )
        sku = item.get("SellerSKU") if isinstance(item.get("SellerSKU"), str) and item.get("SellerSKU") else None
        if sku is None:
            notes.append(warning(f"item {item['OrderItemId']} has no SellerSKU", field_path=f"{path}.SellerSKU"))
        amount, _ = _money(item.get("ItemPrice"))
        unit_price = str((amount / quantity).quantize(Decimal("0.01"))) if amount is not None and quantity else None
        lines.append(OrderLineEvent(item["OrderItemId"], sku, quantity, MFN_CHANNEL, unit_price))
    total, currency = _money(order.get("OrderTotal"))
    return ok(
        OrderEvent(
            ref=ref,
            kind=kind,
            occurred_at=occurred_at,
            lines=tuple(lines),
            name=ref,
            currency=currency,
            total=str(total) if total is not None else None,
            status=str(status),
            ship_to=map_shipping_address(order.get("ShippingAddress")),
            pickup=pickup_details(order, kind),
        ),
        *notes,
    )


def pickup_details(order: Mapping[str, Any], kind: OrderEventKind) -> PickupDetails | None:
    """In-store pickup (``IsISPU`` true): collected at the supply source Amazon names in
    ``FulfillmentInstruction.FulfillmentSupplySourceId`` (None when it names none). Orders v0 shows no pickup
    status, so a Shipped order is COLLECTED, a Canceled one CANCELLED and any other RESERVED."""
    if order.get("IsISPU") is not True:
        return None
    instruction = order.get("FulfillmentInstruction")
    source = instruction.get("FulfillmentSupplySourceId") if isinstance(instruction, Mapping) else None
    state = {OrderEventKind.COMPLETED: PickupState.COLLECTED, OrderEventKind.CANCELLED: PickupState.CANCELLED}.get(
        kind, PickupState.RESERVED
    )
    return PickupDetails(location_ref=source if isinstance(source, str) and source else None, state=state)


def map_shipping_address(raw: Any) -> ShipTo | None:
    """An Orders v0 ``Address`` → :class:`ShipTo` (None without a ``CountryCode``). Without a Restricted Data Token
    Amazon sends only City, StateOrRegion, PostalCode and CountryCode: the ship-to then has no name or street."""
    if not isinstance(raw, dict):
        return None

    def text(key: str) -> str | None:
        value = raw.get(key)
        return value.strip() or None if isinstance(value, str) else None

    country = text("CountryCode")
    if country is None:
        return None
    return ShipTo(
        country=country,
        name=text("Name"),
        line1=text("AddressLine1"),
        line2=" ".join(part for part in (text("AddressLine2"), text("AddressLine3")) if part) or None,
        city=text("City"),
        region=text("StateOrRegion"),
        postal_code=text("PostalCode"),
        phone=text("Phone"),
    )


# --- listings -------------------------------------------------------------------------------------------------


def fulfillment_patch(quantity: int) -> dict[str, Any]:
    """The patch that sets the merchant-fulfilled quantity (absolute: ``replace``)."""
    return {
        "op": "replace",
        "path": FULFILLMENT_PATH,
        "value": [{"fulfillment_channel_code": MFN_CHANNEL, "quantity": quantity}],
    }


def listing_patches(update: ListingUpdate, *, marketplace_id: str, language_tag: str) -> list[dict[str, Any]]:
    """The patches for a title and/or price: ``item_name`` and ``purchasable_offer`` (``our_price`` schedule
    ``value_with_tax``, audience ALL). A field left ``None`` gets no patch."""
    patches: list[dict[str, Any]] = []
    if update.title is not None:
        patches.append(
            {
                "op": "replace",
                "path": "/attributes/item_name",
                "value": [{"value": update.title, "language_tag": language_tag, "marketplace_id": marketplace_id}],
            }
        )
    if update.price is not None:
        patches.append(
            {
                "op": "replace",
                "path": "/attributes/purchasable_offer",
                "value": [
                    {
                        "marketplace_id": marketplace_id,
                        "currency": update.currency,
                        "audience": "ALL",
                        # JSON number: Decimal -> float keeps two-decimal prices exact in their shortest repr.
                        "our_price": [{"schedule": [{"value_with_tax": float(update.price)}]}],
                    }
                ],
            }
        )
    return patches


def patch_body(product_type: str, patches: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A ``ListingsItemPatchRequest``."""
    return {"productType": product_type, "patches": [dict(p) for p in patches]}


def mfn_quantity(item: Any) -> int | None:
    """The DEFAULT (merchant-fulfilled) quantity of a ``getListingsItem`` answer; ``None`` when the listing has no
    merchant-fulfilled offer. A DEFAULT entry without ``quantity`` shows 0."""
    entries = item.get("fulfillmentAvailability") if isinstance(item, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("fulfillmentChannelCode") == MFN_CHANNEL:
            quantity = entry.get("quantity", 0)
            return quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else None
    return None


def error_issues(issues: Any) -> list[dict[str, Any]]:
    """The issues of severity ERROR (warnings do not stop a submission)."""
    found = issues if isinstance(issues, list) else []
    return [i for i in found if isinstance(i, dict) and i.get("severity", "ERROR") == "ERROR"]


def is_unknown_sku(issues: Sequence[Mapping[str, Any]]) -> bool:
    """True when the issues say the seller has no listing with this SKU."""
    return any(str(issue.get("code")) in UNKNOWN_SKU_CODES for issue in issues)


def describe_issues(issues: Sequence[Mapping[str, Any]]) -> str:
    """Listing issues as one line: ``code: message; ...``."""
    return "; ".join(f"{i.get('code', '?')}: {i.get('message', '')}".strip() for i in issues) or "no issue detail"


# --- feeds ----------------------------------------------------------------------------------------------------


def feed_message(message_id: int, sku: str, product_type: str, patches: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One ``PATCH`` message of a ``JSON_LISTINGS_FEED``."""
    return {
        "messageId": message_id,
        "sku": sku,
        "operationType": "PATCH",
        "productType": product_type,
        "patches": [dict(p) for p in patches],
    }


def feed_document(seller_id: str, messages: Sequence[Mapping[str, Any]], *, issue_locale: str = "en_US") -> bytes:
    """A ``JSON_LISTINGS_FEED`` document (listings-feed-schema-v2), UTF-8 JSON."""
    document = {
        "header": {"sellerId": seller_id, "version": "2.0", "issueLocale": issue_locale},
        "messages": list(messages),
    }
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def report_errors(report: Any) -> dict[int, list[dict[str, Any]]]:
    """The ERROR issues of a processing report (listings-feed-processing-report-schema-v2), by ``messageId``.

    Raises ``ValueError`` when the report is not a JSON object with an ``issues`` list (or no ``summary``):
    guessing would report failed writes as applied.
    """
    if not isinstance(report, dict) or not isinstance(report.get("summary"), dict):
        raise ValueError("processing report has no summary")
    issues = report.get("issues", [])
    if not isinstance(issues, list):
        raise ValueError("processing report issues is not a list")
    errors: dict[int, list[dict[str, Any]]] = {}
    for issue in error_issues(issues):
        message_id = issue.get("messageId")
        if isinstance(message_id, int):
            errors.setdefault(message_id, []).append(issue)
    return errors


# --- errors ---------------------------------------------------------------------------------------------------


def amazon_errors(body: Any) -> list[dict[str, Any]]:
    """The ``errors`` array of an SP-API response (``[]`` when there is none)."""
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def describe_errors(errors: Sequence[Mapping[str, Any]]) -> str:
    """SP-API errors as one line: ``Code: message (details); ...``."""
    parts = []
    for error in errors:
        details = f" ({error['details']})" if error.get("details") else ""
        parts.append(f"{error.get('code', 'Unknown')}: {error.get('message', '')}{details}")
    return "; ".join(parts) or "no error detail"


# --- write outcomes -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """What became of one SKU's patches: ``APPLIED``, ``FAILED``, ``UNKNOWN_SKU`` or ``UNKNOWN`` (the call failed
    after other writes of its batch landed; see :func:`settled`), with Amazon's reason."""

    status: PushStatus
    message: str = ""


def settled(outcomes: Sequence[WriteOutcome | BaseException]) -> list[WriteOutcome]:
    """One outcome per write of a batch whose writes ran concurrently and some raised. Once one write landed
    (APPLIED), a write that raised a :class:`ConnectorError` gets an outcome of its own: ``FAILED`` when Amazon
    refused it, ``UNKNOWN`` when it may have landed (see :func:`omnibridge.sdk.channel.unsettled`). When none
    landed, the first error is raised: the batch failed as a whole."""
    landed = any(isinstance(outcome, WriteOutcome) and outcome.status is PushStatus.APPLIED for outcome in outcomes)
    results: list[WriteOutcome] = []
    for outcome in outcomes:
        if isinstance(outcome, WriteOutcome):
            results.append(outcome)
        elif landed and isinstance(outcome, ConnectorError):
            results.append(WriteOutcome(unsettled_status(outcome), str(outcome)))
        else:
            raise outcome
    return results


def outcome_of_issues(errors: Sequence[Mapping[str, Any]]) -> WriteOutcome:
    """The outcome of a submission with these ERROR issues (none: applied)."""
    if not errors:
        return WriteOutcome(PushStatus.APPLIED)
    status = PushStatus.UNKNOWN_SKU if is_unknown_sku(errors) else PushStatus.FAILED
    return WriteOutcome(status, describe_issues(errors))


def outcome_of_submission(response: Any) -> WriteOutcome:
    """The outcome of a ``ListingsItemSubmissionResponse``: ACCEPTED (or VALID) → APPLIED unless an ERROR issue
    came with it, or ``UNKNOWN_SKU`` when its issues say the offer's attributes are missing (an incomplete listing,
    see :data:`OFFER_ATTRIBUTES`); INVALID → FAILED or UNKNOWN_SKU by issue code."""
    if not isinstance(response, dict) or response.get("status") not in ("ACCEPTED", "VALID", "INVALID"):
        status = response.get("status") if isinstance(response, dict) else None
        return WriteOutcome(PushStatus.FAILED, f"unexpected submission status {status!r}")
    errors = error_issues(response.get("issues"))
    if response["status"] == "INVALID" and not errors:
        return WriteOutcome(PushStatus.FAILED, "submission INVALID without an ERROR issue")
    incomplete = missing_offer_issues(response.get("issues"))
    if not errors and incomplete:
        return WriteOutcome(PushStatus.UNKNOWN_SKU, f"no complete listing on Amazon: {describe_issues(incomplete)}")
    return outcome_of_issues(errors)


def missing_offer_issues(issues: Any) -> list[dict[str, Any]]:
    """The issues (any severity) saying one of :data:`OFFER_ATTRIBUTES` is missing."""
    found = issues if isinstance(issues, list) else []
    return [
        i
        for i in found
        if isinstance(i, dict)
        and "MISSING_ATTRIBUTE" in (i.get("categories") or [])
        and OFFER_ATTRIBUTES & set(i.get("attributeNames") or [])
    ]
