"""Schema migrations (Alembic, run in-process from the package's ``migrations`` directory).

:func:`ensure_head` runs on every :func:`~omnibridge.store.open_store`: a new database is created, an older one
is upgraded, and one stamped by a *newer* omnibridge is refused rather than touched. To add a migration, see
``docs/store.md``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from omnibridge.errors import StoreError
from omnibridge.store.engine import write_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_PG_MIGRATION_LOCK = 0x6F6D6E69  # arbitrary advisory-lock key ("omni") serialising concurrent upgrades


def alembic_config() -> Config:
    """A programmatic Alembic config pointing at the package's migrations (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision this omnibridge knows."""
    head = _scripts().get_current_head()
    assert head is not None, "the package ships at least one migration"
    return head


def known_revisions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is stamped with, or None for a database omnibridge never migrated."""
    with engine.connect() as conn:
        return _current(conn)


def _current(conn: sa.Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _refuse_newer(revision: str | None) -> None:
    if revision is not None and revision not in known_revisions():
        raise StoreError(
            f"database schema {revision} is newer than this omnibridge ({head_revision()}); upgrade omnibridge"
        )


def upgrade(engine: sa.Engine) -> str:
    """Migrate the database to head in one transaction and return the head revision.

    Raises :class:`StoreError` if the database carries a revision this omnibridge does not know (a newer one).
    Concurrent upgrades are serialised (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock).
    """
    with write_engine(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        revision = _current(conn)
        _refuse_newer(revision)
        if revision != head_revision():
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    return head_revision()


def ensure_head(engine: sa.Engine) -> None:
    """Upgrade to head unless already there (the common case costs one query)."""
    revision = current_revision(engine)
    _refuse_newer(revision)
    if revision != head_revision():
        upgrade(engine)
