"""The content fingerprint that tells a re-delivery of an event from a different event under the same key."""

from __future__ import annotations

import hashlib
import json

from omnibridge.models import StockMovement
from omnibridge.store.types import to_utc


def fingerprint(movement: StockMovement) -> str:
    """A SHA-256 hex digest of what the movement *says*: source, kind, SKU, location, quantity, when it
    occurred (as a UTC instant, so the same moment written with another offset matches) and reference.
    The free-text ``note`` is left out: re-deliveries may word it differently."""
    content = [
        movement.source,
        movement.kind.value,
        movement.sku,
        movement.location_id,
        movement.quantity,
        to_utc(movement.occurred_at).isoformat(),
        movement.reference,
    ]
    return hashlib.sha256(json.dumps(content, separators=(",", ":")).encode()).hexdigest()
