"""Persistent state on SQLite or PostgreSQL: :func:`open_store` returns a :class:`Store`.

See ``docs/store.md`` for backends, URLs, locking, migrations and the ledger's semantics.
"""

from omnibridge.store.propagation import Incident, KnownLevel, LevelKey, LevelNote, OutboxItem
from omnibridge.store.store import Clock, Store, open_store, utc_now
from omnibridge.store.sync_state import InboxEntry, InboxStatus

__all__ = [
    "Clock",
    "InboxEntry",
    "InboxStatus",
    "Incident",
    "KnownLevel",
    "LevelKey",
    "LevelNote",
    "OutboxItem",
    "Store",
    "open_store",
    "utc_now",
]
