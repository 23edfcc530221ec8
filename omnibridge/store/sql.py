"""Dialect-aware statements the repositories share: insert-or-ignore and upsert, each one atomic statement
(``INSERT ... ON CONFLICT``) so that concurrent writers never race between a check and an insert."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session


def dialect_insert(session: Session, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
    """An ``INSERT`` for ``table`` in the session's dialect, with ``on_conflict_*`` available."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignore(session: Session, table: sa.Table, values: Mapping[str, Any]) -> bool:
    """Insert ``values`` unless that violates a unique constraint; True if a row was inserted."""
    return insert_ignore_key(session, table, values) is not None


def insert_ignore_key(session: Session, table: sa.Table, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """Insert ``values`` unless that violates a unique constraint; the new row's primary key, or None."""
    statement = _insert_ignore_statement(session.get_bind().dialect.name, table)
    row = session.connection().execute(statement, dict(values)).first()
    return None if row is None else tuple(row)


@functools.cache
def _insert_ignore_statement(dialect: str, table: sa.Table) -> sa.Executable:
    # Built once per table: the values arrive as execution parameters, so SQLAlchemy compiles it once too.
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    # rowcount is unreliable with RETURNING; the returned row is not
    return insert.on_conflict_do_nothing().returning(*table.primary_key.columns)


def upsert(session: Session, table: sa.Table, values: Mapping[str, Any], *, key: Sequence[str]) -> None:
    """Insert ``values``, or update every other column of the row whose ``key`` columns match."""
    statement = _upsert_statement(session.get_bind().dialect.name, table, tuple(values), tuple(key))
    session.connection().execute(statement, dict(values))


@functools.cache
def _upsert_statement(dialect: str, table: sa.Table, columns: tuple[str, ...], key: tuple[str, ...]) -> sa.Executable:
    # Built once per table and set of columns, like _insert_ignore_statement: the values are execution parameters.
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    update = {name: insert.excluded[name] for name in columns if name not in key}
    if update:
        return insert.on_conflict_do_update(index_elements=list(key), set_=update)
    return insert.on_conflict_do_nothing(index_elements=list(key))


def dump(model: BaseModel | None) -> dict[str, Any] | None:
    """A nested value object as JSON-ready data (Decimals and datetimes as strings), or None."""
    return None if model is None else model.model_dump(mode="json")


def dump_all(models: Sequence[BaseModel]) -> list[dict[str, Any]]:
    return [model.model_dump(mode="json") for model in models]
