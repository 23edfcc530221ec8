"""Feeds API 2021-06-30 of the Amazon emulator: documents, pre-signed "S3" URLs, feeds and their processing.

Pre-signed URL: ``{base}/_s3/{documentId}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=...&X-Amz-Expires=300&
X-Amz-SignedHeaders=content-type;host&X-Amz-Signature=<hex>``. The signature covers the method, the document, the
date and the declared ``Content-Type``, so an upload with any other Content-Type fails like S3 does (403
``SignatureDoesNotMatch``); after ``X-Amz-Expires`` seconds the URL answers 403 ``AccessDenied`` "Request has
expired". S3 errors are XML.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from connectors.amazon.emulator.common import format_time_ms
from connectors.amazon.emulator.listings import Listing, apply_patches
from connectors.amazon.spec_check import validate_feed_document

__all__ = ["FEED_TYPES", "Document", "FeedProcessor", "Presigner", "StoredFeed", "report_bytes", "s3_error"]

FEED_TYPES = ("JSON_LISTINGS_FEED",)
_AMZ_DATE = "%Y%m%dT%H%M%SZ"


@dataclass
class Document:
    """A feed document: an upload target (``kind`` ``input``) or a processing report (``result``)."""

    document_id: str
    content_type: str
    created: datetime
    kind: str = "input"
    body: bytes | None = None
    compression: str | None = None


@dataclass
class StoredFeed:
    """A submitted feed; ``body`` is the document as it was when createFeed was called."""

    feed_id: str
    feed_type: str
    marketplace_ids: list[str]
    created: datetime
    input_document_id: str
    body: bytes | None
    status: str = "IN_QUEUE"
    started: datetime | None = None
    ended: datetime | None = None
    result_document_id: str | None = None
    report: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``Feed`` object of getFeed."""
        feed: dict[str, Any] = {
            "feedId": self.feed_id,
            "feedType": self.feed_type,
            "marketplaceIds": list(self.marketplace_ids),
            "createdTime": format_time_ms(self.created),
            "processingStatus": self.status,
        }
        if self.started is not None:
            feed["processingStartTime"] = format_time_ms(self.started)
        if self.ended is not None:
            feed["processingEndTime"] = format_time_ms(self.ended)
        if self.result_document_id is not None:
            feed["resultFeedDocumentId"] = self.result_document_id
        return feed


class Presigner:
    """Signs and checks the emulator's pre-signed document URLs."""

    def __init__(self, secret: bytes, ttl_s: float) -> None:
        self.secret, self.ttl_s = secret, ttl_s

    def _signature(self, method: str, document_id: str, amz_date: str, content_type: str) -> str:
        message = "\n".join((method, document_id, amz_date, content_type)).encode("utf-8")
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def url(self, base: str, method: str, document: Document, now: datetime) -> str:
        """A URL for ``method`` (``PUT`` upload / ``GET`` download) on ``document``, valid ``ttl_s`` from now."""
        amz_date = now.strftime(_AMZ_DATE)
        content_type = document.content_type if method == "PUT" else ""
        query = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"AKIAEMULATOR/{now:%Y%m%d}/us-east-1/s3/aws4_request",
            "X-Amz-Date": amz_date,
            "X-Amz-Expires": str(int(self.ttl_s)),
            "X-Amz-SignedHeaders": "content-type;host" if method == "PUT" else "host",
            "X-Amz-Signature": self._signature(method, document.document_id, amz_date, content_type),
        }
        return f"{base.rstrip('/')}/_s3/{quote(document.document_id, safe='')}?{urlencode(query)}"

    def check(
        self, method: str, document_id: str, query: Mapping[str, str], content_type: str, now: datetime
    ) -> tuple[int, str, str] | None:
        """None when the request may proceed, else ``(status, S3 code, message)``."""
        amz_date, signature = query.get("X-Amz-Date", ""), query.get("X-Amz-Signature", "")
        try:
            signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=now.tzinfo)
            expires = int(query.get("X-Amz-Expires", "0"))
        except ValueError:
            return 403, "AccessDenied", "Query-string authentication requires the X-Amz-Date and X-Amz-Expires."
        expected = self._signature(method, document_id, amz_date, content_type if method == "PUT" else "")
        if not hmac.compare_digest(expected, signature):
            return (
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method (the Content-Type must be the one declared).",
            )
        if now > signed_at + timedelta(seconds=expires):
            return 403, "AccessDenied", "Request has expired"
        return None


def s3_error(code: str, message: str, request_id: str) -> bytes:
    """S3's XML error body."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
    ).encode()


class FeedProcessor:
    """Applies a JSON_LISTINGS_FEED document to the listings and builds its processing report.

    ``listings`` is the emulator's SKU → :class:`Listing` map (mutated in place); ``new_listing(sku,
    product_type)`` creates a listing for an ``UPDATE`` of an unknown SKU.
    """

    def __init__(
        self, seller_id: str, listings: dict[str, Listing], new_listing: Callable[[str, str], Listing]
    ) -> None:
        self.seller_id, self.listings, self.new_listing = seller_id, listings, new_listing

    def run(self, feed_id: str, body: bytes | None, now: datetime) -> tuple[str, dict[str, Any]]:
        """Process one feed; returns ``(DONE | FATAL, report)``."""
        header = {"sellerId": self.seller_id, "version": "2.0", "feedId": feed_id}
        if body is None:
            return "FATAL", self._fatal(header, "No feed document was uploaded to the pre-signed URL.")
        try:
            document = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return "FATAL", self._fatal(header, f"The feed document is not valid JSON: {exc}.")
        problems = validate_feed_document(document)
        if problems:
            shown = "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
            return "FATAL", self._fatal(
                header, f"The feed document does not match the JSON_LISTINGS_FEED schema: {shown}"
            )
        if document["header"]["sellerId"] != self.seller_id:
            return "FATAL", self._fatal(
                header, f"The feed header sellerId {document['header']['sellerId']!r} is not this seller."
            )
        issues: list[dict[str, Any]] = []
        accepted = invalid = 0
        for message in document["messages"]:
            found = self._apply(message, now)
            issues.extend(found)
            if any(i["severity"] == "ERROR" for i in found):
                invalid += 1
            else:
                accepted += 1
        errors = sum(1 for i in issues if i["severity"] == "ERROR")
        report = {
            "header": header,
            "issues": issues,
            "summary": {
                "errors": errors,
                "warnings": sum(1 for i in issues if i["severity"] == "WARNING"),
                "messagesProcessed": accepted + invalid,
                "messagesAccepted": accepted,
                "messagesInvalid": invalid,
            },
        }
        return "DONE", report

    @staticmethod
    def _fatal(header: dict[str, Any], message: str) -> dict[str, Any]:
        return {
            "header": header,
            "issues": [{"code": "4000003", "severity": "ERROR", "message": message}],
            "summary": {
                "errors": 1,
                "warnings": 0,
                "messagesProcessed": 0,
                "messagesAccepted": 0,
                "messagesInvalid": 0,
            },
        }

    def _apply(self, message: Mapping[str, Any], now: datetime) -> list[dict[str, Any]]:
        message_id, sku, operation = int(message["messageId"]), str(message["sku"]), str(message["operationType"])

        def problem(code: str, text: str, attribute: str | None = None) -> dict[str, Any]:
            found: dict[str, Any] = {"messageId": message_id, "sku": sku, "code": code, "severity": "ERROR"}
            found["message"] = text
            if attribute:
                found["attributeName"] = attribute
            return found

        listing = self.listings.get(sku)
        replace_all = [
            {"op": "replace", "path": f"/attributes/{name}", "value": value}
            for name, value in (message.get("attributes") or {}).items()
        ]
        if operation == "UPDATE":
            target = self.new_listing(sku, str(message["productType"]))
            patches: list[Any] = replace_all
        elif listing is None:
            return [problem("4000004", f"SKU {sku!r} does not exist for this seller; {operation} needs a listing.")]
        elif operation == "DELETE":
            del self.listings[sku]
            return []
        else:
            target = listing
            patches = replace_all if operation == "PARTIAL_UPDATE" else list(message["patches"])
        found = apply_patches(target, patches)
        if found:
            return [problem(i["code"], i["message"], (i.get("attributeNames") or [None])[0]) for i in found]
        if operation == "UPDATE" and listing is not None:
            listing.attributes, listing.product_type = target.attributes, target.product_type
            target = listing
        target.updated = now
        self.listings[sku] = target
        return []


def report_bytes(report: Mapping[str, Any], compression: str | None) -> bytes:
    """The processing report as stored in its result document (gzipped when ``compression == "GZIP"``)."""
    raw = json.dumps(report, separators=(",", ":")).encode("utf-8")
    return gzip.compress(raw, mtime=0) if compression == "GZIP" else raw
