"""The SKU bucket: ``sha256(master SKU)`` modulo a fixed :data:`BUCKETS`, the same in every replica.

Python's ``hash()`` is salted per process, so it cannot be used: every replica must map a SKU to the same bucket.
:data:`BUCKETS` is fixed for the life of a store (changing it re-maps every SKU and needs a drained queue).
"""

from __future__ import annotations

import hashlib

BUCKETS = 256
"""How many buckets SKUs are spread over (fixed for the life of a store)."""


def bucket(sku: str, buckets: int = BUCKETS) -> int:
    """The bucket of master SKU ``sku``: the first 8 bytes of its SHA-256, big-endian, modulo ``buckets``."""
    if buckets <= 0:
        raise ValueError(f"buckets must be positive, got {buckets}")
    return int.from_bytes(hashlib.sha256(sku.encode()).digest()[:8], "big") % buckets
