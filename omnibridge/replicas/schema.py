"""procrastinate's tables and functions in the store's PostgreSQL schema, applied once (idempotent).

:func:`ensure_schema` runs on every :func:`~omnibridge.store.open_store` of a PostgreSQL store when procrastinate
is installed (the ``replicas`` extra): a store without ``procrastinate_jobs`` in its schema (``current_schema()``,
as the store's own tables) gets procrastinate's ``schema.sql``; one that has it is left alone (one query). Concurrent
openings are serialised by the same advisory lock as the store's migrations. SQLite is never touched.

Upgrading procrastinate across a release that changes its schema needs its own migrations
(``procrastinate schema --migrations`` lists them; docs/operations.md).
"""

from __future__ import annotations

import importlib.util

import sqlalchemy as sa

from omnibridge.store.engine import write_engine
from omnibridge.store.migrate import _PG_MIGRATION_LOCK


def available() -> bool:
    """True when procrastinate is installed (the ``replicas`` extra)."""
    return importlib.util.find_spec("procrastinate") is not None


def has_schema(engine: sa.Engine) -> bool:
    """True when procrastinate's job table is in the store's schema."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT to_regclass('procrastinate_jobs')")).scalar() is not None


def ensure_schema(engine: sa.Engine) -> bool:
    """Apply procrastinate's schema to a PostgreSQL store that lacks it; True when it was applied now. Does
    nothing on SQLite or without procrastinate installed."""
    if engine.dialect.name != "postgresql" or not available() or has_schema(engine):
        return False
    from procrastinate.schema import SchemaManager

    with write_engine(engine).begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        if conn.execute(sa.text("SELECT to_regclass('procrastinate_jobs')")).scalar() is not None:
            return False  # another process applied it while this one waited
        conn.connection.driver_connection.execute(SchemaManager.get_schema())  # type: ignore[union-attr]
    return True
