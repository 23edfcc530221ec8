"""Re-encrypting sealed columns with the active key, in batches, while the daemon runs.

:data:`SEALED` lists every sealed column (a table, its key column, the column, its encryption context, JSON or
bytes). :func:`reseal` walks each table by its key in batches of ``batch`` rows, each batch its own short write
transaction, and seals with the active key every value that is not sealed with it yet: values sealed with an
older key and values stored in clear before encryption. It is resumable by construction: a value already sealed
with the active key is skipped, so a rerun after an interruption continues where the work is left. The daemon
keeps running: a batch holds the write lock only for its own rows, and a row the daemon writes meanwhile is
sealed as it is written. :func:`census` counts the values per key id for ``omnibridge keys status``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa

from omnibridge.security.crypto import Keyring, is_encrypted, key_id
from omnibridge.store import customers
from omnibridge.store.engine import read_session, write_session
from omnibridge.store.orders import SHIP_TO as ORDER_SHIP_TO
from omnibridge.store.shipments import SHIP_TO as SHIPMENT_SHIP_TO
from omnibridge.store.sync_state import RAW_BODY
from omnibridge.store.tables import CUSTOMER_IDENTITIES, CUSTOMERS, INBOX, ORDERS, PRIVACY_REQUESTS, SHIPMENTS

CLEAR = "clear"
"""The census's name for values stored before encryption (not sealed)."""


@dataclass(frozen=True)
class SealedColumn:
    """One sealed column: ``kind`` ``json`` (a JSON column holding an ``enc:v1:`` string), ``text`` (a text column
    holding one) or ``bytes``. ``key`` names the primary key column, or its columns for a composite key."""

    table: sa.Table
    key: str | tuple[str, ...]
    column: str
    context: str
    kind: Literal["json", "text", "bytes"]

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column}"

    @property
    def key_expr(self) -> Any:
        if isinstance(self.key, str):
            return self.table.c[self.key]
        return sa.tuple_(*(self.table.c[name] for name in self.key))

    def key_of(self, row: Any) -> Any:
        """The key value of a row selected as ``(*key columns, value)``."""
        return row[0] if isinstance(self.key, str) else tuple(row[: len(self.key)])


SEALED: list[SealedColumn] = [
    SealedColumn(ORDERS, "id", "ship_to", ORDER_SHIP_TO, "json"),
    SealedColumn(SHIPMENTS, "id", "ship_to", SHIPMENT_SHIP_TO, "json"),
    SealedColumn(INBOX, "id", "raw_body", RAW_BODY, "bytes"),
    SealedColumn(CUSTOMERS, "id", "email", customers.EMAIL, "text"),
    SealedColumn(CUSTOMERS, "id", "phone", customers.PHONE, "text"),
    SealedColumn(CUSTOMERS, "id", "first_name", customers.FIRST_NAME, "text"),
    SealedColumn(CUSTOMERS, "id", "last_name", customers.LAST_NAME, "text"),
    SealedColumn(CUSTOMERS, "id", "default_address", customers.ADDRESS, "json"),
    SealedColumn(CUSTOMER_IDENTITIES, ("channel", "external_id"), "details", customers.DETAILS, "json"),
    SealedColumn(PRIVACY_REQUESTS, "id", "subject", customers.SUBJECT, "json"),
]
"""Every sealed column; a repository that seals another column adds it here so rotation covers it."""


@dataclass
class ResealReport:
    """What :func:`reseal` did, per column: values looked at and values sealed again."""

    scanned: Counter[str] = field(default_factory=Counter)
    resealed: Counter[str] = field(default_factory=Counter)
    batches: int = 0


def _key_columns(column: SealedColumn) -> list[Any]:
    names = (column.key,) if isinstance(column.key, str) else column.key
    return [column.table.c[name] for name in names]


def _rows(engine: sa.Engine, column: SealedColumn, batch: int) -> Iterator[list[tuple[Any, Any]]]:
    keys, value = _key_columns(column), column.table.c[column.column]
    last: Any = None
    while True:
        query = sa.select(*keys, value).where(value.is_not(None)).order_by(*keys).limit(batch)
        if column.kind == "json":
            query = query.where(sa.cast(value, sa.Text) != "null")
        if last is not None:
            query = query.where(column.key_expr > (sa.tuple_(*last) if isinstance(last, tuple) else last))
        with read_session(engine) as session:
            rows = [(column.key_of(row), row[-1]) for row in session.execute(query).all()]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _stale(keyring: Keyring, stored: Any) -> bool:
    if stored is None:
        return False
    if isinstance(stored, str | bytes) and is_encrypted(stored):
        return key_id(stored) != keyring.active
    return True


def _sealed(keyring: Keyring, column: SealedColumn, stored: Any) -> Any:
    if column.kind == "bytes":
        raw = bytes(stored)
        plain = keyring.decrypt_bytes(raw, context=column.context) if is_encrypted(raw) else raw
        return keyring.encrypt_bytes(plain, context=column.context)
    if isinstance(stored, str) and is_encrypted(stored):
        text = keyring.decrypt(stored, context=column.context)
    elif column.kind == "text":
        text = str(stored)
    else:
        text = json.dumps(stored, separators=(",", ":"))
    return keyring.encrypt(text, context=column.context)


def reseal(
    engine: sa.Engine,
    keyring: Keyring,
    *,
    batch: int = 500,
    progress: Callable[[str, int, int], None] | None = None,
) -> ResealReport:
    """Seal every value of :data:`SEALED` with ``keyring``'s active key (see the module docstring);
    ``progress(column, scanned, resealed)`` is called after each batch."""
    report = ResealReport()
    for column in SEALED:
        keys, value = _key_columns(column), column.table.c[column.column]
        report.scanned[column.name] = report.resealed[column.name] = 0
        for rows in _rows(engine, column, batch):
            stale = [row_key for row_key, stored in rows if _stale(keyring, stored)]
            if stale:
                with write_session(engine) as session:
                    # Read again under the write lock: the daemon may have changed a row since the batch was read.
                    current = session.execute(sa.select(*keys, value).where(column.key_expr.in_(stale))).all()
                    for row in current:
                        row_key, stored = column.key_of(row), row[-1]
                        if _stale(keyring, stored):
                            new = _sealed(keyring, column, stored)
                            where = [
                                k == v
                                for k, v in zip(
                                    keys, row_key if isinstance(row_key, tuple) else (row_key,), strict=True
                                )
                            ]
                            session.execute(sa.update(column.table).where(*where).values({column.column: new}))
                            report.resealed[column.name] += 1
            report.scanned[column.name] += len(rows)
            report.batches += 1
            if progress is not None:
                progress(column.name, report.scanned[column.name], report.resealed[column.name])
    return report


def census(engine: sa.Engine, *, batch: int = 2000) -> dict[str, Counter[str]]:
    """Per sealed column, how many values each key id seals (``clear``: stored before encryption)."""
    counts: dict[str, Counter[str]] = {}
    for column in SEALED:
        found: Counter[str] = Counter()
        for rows in _rows(engine, column, batch):
            for _, stored in rows:
                if stored is None:  # a JSON null: nothing stored
                    continue
                raw = bytes(stored) if column.kind == "bytes" else stored
                found[key_id(raw) if isinstance(raw, str | bytes) and is_encrypted(raw) else CLEAR] += 1
        counts[column.name] = found
    return counts
