"""Throwaway databases for benchmarks: a SQLite file in a temporary directory, a PostgreSQL schema dropped after."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

POSTGRES_ENV = "OMNIBRIDGE_TEST_POSTGRES_URL"
POSTGRES_SKIPPED = f"PostgreSQL skipped: set {POSTGRES_ENV} (scripts/start-postgres.sh) to include it."


def postgres_base() -> str | None:
    """The PostgreSQL server to benchmark on, if one is configured."""
    return os.environ.get(POSTGRES_ENV) or None


@contextmanager
def sqlite_url() -> Iterator[str]:
    """A ``sqlite:///`` URL of a file in a fresh temporary directory, removed on exit."""
    with tempfile.TemporaryDirectory(prefix="omnibridge-bench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


@contextmanager
def postgres_url(base: str) -> Iterator[str]:
    """A URL on ``base`` whose connections use a fresh schema, dropped (with everything in it) on exit."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, poolclass=sa.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield (
            make_url(base)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
