"""What the demo reports: the events, the final agreement, API calls and webhooks per channel, Amazon's feeds."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.amazon.emulator import AmazonEmulator
from omnibridge.demo import script
from omnibridge.sync import SyncReport

ACCEPTED_OUTCOMES = frozenset({"propagated", "ignored as duplicate", "rejected, nothing applied", "delivered"})
"""Every scripted event must end in one of these for the demo to pass."""
REFUSED_KEYS = ("throttled", "rate_limited", "quota_exceeded")
"""Names of the requests a vendor refused for going over its rate limit, per vendor."""


@dataclass
class Mismatch:
    """A position where ``channel`` shows something other than the ledger's projection (the demo's closing check,
    and the test harnesses' and benchmarks' convergence check, :mod:`omnibridge.testing.agreement`)."""

    channel: str
    sku: str
    location_id: str
    shows: int
    ledger: int


@dataclass
class DemoReport:
    first_sync: dict[str, Any]
    events: list[script.EventRecord]
    final_read_back: dict[str, Any]
    levels_checked: int
    mismatches: list[Mismatch]
    api_calls: dict[str, dict[str, int]]
    webhooks: dict[str, dict[str, int]]
    engine: dict[str, int]
    skus: int
    notes: list[str] = field(default_factory=list)
    amazon_feeds: list[dict[str, Any]] = field(default_factory=list)
    carriers: dict[str, dict[str, int]] = field(default_factory=dict)
    channels_checked: list[str] = field(default_factory=list)
    inconsistencies: list[str] = field(default_factory=list)
    """What ``omnibridge verify`` found wrong in the demo's store at the end (empty: the ledger is consistent)."""
    fulfilment: dict[str, Any] | None = None
    """The second act, order fulfilment (:mod:`omnibridge.demo.fulfilment_day`), when it was played."""
    collect: dict[str, Any] | None = None
    """The third act, click-and-collect and returns (:mod:`omnibridge.demo.collect_day`), when it was played."""

    @property
    def ok(self) -> bool:
        return (
            not self.mismatches
            and not self.inconsistencies
            and all(self.event_ok(event) for event in self.events)
            and (self.fulfilment is None or bool(self.fulfilment.get("ok")))
            and (self.collect is None or bool(self.collect.get("ok")))
        )

    @staticmethod
    def event_ok(event: script.EventRecord) -> bool:
        return event.outcome in ACCEPTED_OUTCOMES

    @property
    def shipment(self) -> dict[str, Any] | None:
        """The shipment scene's details (label, tracking steps and history), if it ran."""
        for event in self.events:
            if event.kind == "shipment":
                return {"outcome": event.outcome, **event.detail}
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "channels_agree": not self.mismatches,
            "channels_checked": self.channels_checked,
            "catalog_skus": self.skus,
            "first_sync": self.first_sync,
            "amazon_feeds": self.amazon_feeds,
            "events": [event.as_dict() for event in self.events],
            "shipment": self.shipment,
            "final_read_back": self.final_read_back,
            "levels_checked": self.levels_checked,
            "mismatches": [vars(m) for m in self.mismatches],
            "ledger_consistent": not self.inconsistencies,
            "inconsistencies": self.inconsistencies,
            "api_calls": self.api_calls,
            "webhooks": self.webhooks,
            "inbox": self.engine,
            "carrier_inbox": self.carriers,
            "notes": self.notes,
            "fulfilment": self.fulfilment,
            "collect": self.collect,
        }


def sync_summary(report: SyncReport) -> dict[str, Any]:
    return {row["channel"]: row for row in report.as_dict()["channels"]}


def api_calls(counter: Any, throttle_key: str) -> dict[str, int]:
    """Requests a vendor answered, by operation: ``total``, the refused ones under ``throttle_key``, then each."""
    calls = {str(name): int(count) for name, count in dict(counter).items()}
    refused = calls.pop(throttle_key, 0)
    return {"total": sum(calls.values()), throttle_key: refused, **dict(sorted(calls.items()))}


def amazon_calls(emulator: AmazonEmulator, connector: Any) -> dict[str, int]:
    """Amazon's answered requests by SP-API operation (the emulator's count), the feed documents the connector
    moved on the pre-signed URLs (not SP-API operations: the connector's count) and the 429 QuotaExceeded."""
    control = emulator.control
    counted = dict(control.calls())
    client_calls = getattr(getattr(connector, "api", None), "calls", {})
    for name in ("uploadFeedDocument", "downloadFeedDocument"):
        if client_calls.get(name):
            counted[name] = int(client_calls[name])
    calls = api_calls(counted, "quota_exceeded")
    calls["quota_exceeded"] = control.refused_requests()
    return calls


def webhook_stats(sender: Any) -> dict[str, int]:
    deliveries = list(sender.deliveries)
    return {
        "deliveries": len(deliveries),
        "duplicates_sent": sum(1 for d in deliveries if d.duplicate),
        "attempts": sum(len(d.attempts) for d in deliveries),
        "delivered": sum(1 for d in deliveries if d.delivered),
        "gave_up": sum(1 for d in deliveries if d.gave_up),
    }


def _seconds_between(start: Any, end: Any) -> float | None:
    if not isinstance(start, str) or not isinstance(end, str):
        return None
    try:
        return round((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds(), 3)
    except ValueError:
        return None


def amazon_feeds(emulator: AmazonEmulator) -> list[dict[str, Any]]:
    """Every feed the connector submitted: its status, message count (from the uploaded document) and the
    processing report's summary."""
    control = emulator.control
    feeds: list[dict[str, Any]] = []
    for feed in control.feeds():
        feed_id = str(feed.get("feedId"))
        document = control.feed_document(feed_id)
        messages = json.loads(document).get("messages", []) if document else []
        report = control.report(feed_id) or {}
        summary = report.get("summary", {}) if isinstance(report, dict) else {}
        feeds.append(
            {
                "feed_id": feed_id,
                "feed_type": feed.get("feedType"),
                "processing_status": feed.get("processingStatus"),
                "messages": len(messages),
                "document_bytes": len(document or b""),
                "messages_accepted": summary.get("messagesAccepted"),
                "messages_invalid": summary.get("messagesInvalid"),
                "errors": summary.get("errors"),
                "processing_seconds": _seconds_between(feed.get("createdTime"), feed.get("processingEndTime")),
            }
        )
    return feeds
