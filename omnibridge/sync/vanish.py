"""Nothing vanishes: what the sync could not apply becomes an incident an operator sees (``omnibridge incidents``),
besides its log line and its counter.

* a dead letter (an inbox entry that could not be applied, or a delivery that could not be stored as received)
  -> incident ``dead_letter`` (logged as ``webhook.dead``, counted in ``omnibridge_engine_dead_total``);
* an event line skipped because its SKU is missing or unknown or its location is not mapped -> incident
  ``skipped_line`` (logged as ``apply.skipped``, counted in ``omnibridge_engine_skipped_total``).

Each incident's ``dedupe_key`` names what it is about, so a re-delivery or a replay never records it twice.
"""

from __future__ import annotations

import hashlib

from omnibridge.store import Incident

DEAD_LETTER = "dead_letter"
SKIPPED_LINE = "skipped_line"
_KEY_MAX = 255


def _key(*parts: str) -> str:
    key = ":".join(parts)
    if len(key) <= _KEY_MAX:
        return key
    return key[: _KEY_MAX - 17] + ":" + hashlib.sha256(key.encode()).hexdigest()[:16]


def dead_letter(channel: str, entry_id: int | None, reason: str, topic: str = "") -> Incident:
    """The incident for inbox entry ``entry_id`` of ``channel`` dead-lettered with ``reason``."""
    digest = hashlib.sha256(reason.encode()).hexdigest()[:12]
    return Incident(
        kind=DEAD_LETTER,
        decision="dead",
        summary=f"{channel}: webhook delivery {entry_id} ({topic or 'no topic'}) is a dead letter: {reason}; "
        "see 'omnibridge deadletters list', replay it once the cause is fixed or discard it with a reason",
        dedupe_key=_key("dead-letter", channel, str(entry_id), digest),
        channel=channel,
        data={"entry_id": entry_id, "topic": topic, "reason": reason},
    )


def skipped_line(channel: str, what: str, reason: str, sku: str | None, location_ref: str | None) -> Incident:
    """The incident for one event line of ``channel`` (``what``: e.g. ``refund R line L``) skipped for ``reason``."""
    return Incident(
        kind=SKIPPED_LINE,
        decision="skipped",
        summary=f"{channel}: {what}: {reason}; its stock was not changed (add the SKU or the location mapping, "
        "then replay or adjust by hand)",
        dedupe_key=_key("skipped", channel, what),
        channel=channel,
        sku=sku if sku is None or len(sku) <= _KEY_MAX else None,
        data={"what": what, "reason": reason, "location_ref": location_ref},
    )
