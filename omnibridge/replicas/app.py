"""The procrastinate App of a replica: jobs live in the store's own PostgreSQL database and schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from omnibridge.errors import OmnibridgeError

if TYPE_CHECKING:
    from procrastinate import App

POOL_SIZE = 12
"""Connections of a replica's procrastinate pool (its worker's jobs, LISTEN, heartbeats, deferrals)."""


def replica_url_error(store_url: str) -> str | None:
    """Why ``store_url`` cannot serve replicas (one line naming what is wrong and what was expected), or None."""
    try:
        url = make_url(store_url)
    except ArgumentError:
        return f"store {store_url!r} is not a database URL; --replica expects postgresql+psycopg://..."
    if url.get_backend_name() != "postgresql":
        return (
            f"--replica needs a PostgreSQL store, but the profile's store is {url.get_backend_name()} "
            "(expected store: postgresql+psycopg://...; SQLite serves one daemon: run without --replica)"
        )
    return None


def conninfo(store_url: str) -> str:
    """The libpq URI of the store's SQLAlchemy URL (same host, database, user and ``options``, hence schema)."""
    return make_url(store_url).set(drivername="postgresql").render_as_string(hide_password=False)


def build_app(store_url: str, *, pool_size: int = POOL_SIZE) -> App:
    """An (unopened) procrastinate App over the store's database, with the psycopg connector. Raises
    :class:`OmnibridgeError` when the store is not PostgreSQL or procrastinate is not installed."""
    error = replica_url_error(store_url)
    if error is not None:
        raise OmnibridgeError(error)
    try:
        from procrastinate import App, PsycopgConnector
    except ImportError:
        raise OmnibridgeError(
            "--replica needs procrastinate, which is not installed (expected: pip install 'omnibridge[replicas]')"
        ) from None
    connector = PsycopgConnector(conninfo=conninfo(store_url), min_size=2, max_size=pool_size)
    return App(connector=connector)
