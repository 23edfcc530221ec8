"""Idempotency keys derived from the engine's batch reference.

The sync engine records every write in its outbox before sending it and sends it with a batch reference
(``StockTarget.reference``). A connector that derives its vendor idempotency key from that reference *and the
exact content sent* gets the same key whenever the same write is sent again — the HTTP client retrying a call
whose answer was lost, or a caller repeating the call — so the vendor recognises the repeat, and a different key
whenever the content differs, so a key is never reused for another request (vendors reject that). The engine
itself never sends a write again after a restart: a write a stopped process left pending is abandoned and its
SKU re-planned after a read (see :mod:`omnibridge.store.propagation`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

_NAMESPACE = uuid.UUID("5b8f6c1e-8a57-4d0e-9a55-0b6f3f4d2a10")


def derived_key(reference: str, content: Any) -> str:
    """A UUID-shaped key, the same for the same ``reference`` and JSON-equal ``content``."""
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    return str(uuid.uuid5(_NAMESPACE, f"{reference}:{digest}"))


def shared_reference(references: Any) -> str | None:
    """The one non-empty reference all targets share, or None."""
    distinct = set(references)
    if len(distinct) == 1:
        only = distinct.pop()
        return only or None
    return None
