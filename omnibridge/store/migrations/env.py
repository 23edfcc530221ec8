"""Alembic environment for omnibridge's store.

omnibridge runs migrations in-process (``omnibridge.store.migrate``): the caller passes an open SQLAlchemy
connection in ``config.attributes["connection"]``. Run by hand with ``alembic -c .../alembic.ini``, the URL
in the ini file (or ``-x url=...``) is used instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from omnibridge.store.tables import metadata

config = context.config


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    engine = sa.create_engine(str(url))
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
