"""The audit log: every change a person or a token made, appended with who, what, when, before and after.

Call :func:`record` in the transaction that makes the change (a :class:`~omnibridge.store.unit_of_work.UnitOfWork`
or a write session), so the change and its record commit or roll back together::

    with store.unit_of_work() as uow:
        ...  # the change
        audit.record(uow, actor, "order.reroute", order.id, before={...}, after={...})

Actions are ``<thing>.<verb>``: ``deadletter.replay``, ``deadletter.discard``, ``incident.resolve``,
``token.create``, ``token.revoke``, ``order.accept``, ``order.reject``, ``order.reroute``, ``customer.merge``,
``customer.erase``, ``key.rotate``, ``profile.reload``. ``before`` and ``after`` are JSON-ready values (anything
else is stored as its ``str``); never put a secret or a token in them.

**The chain.** Record ``n`` stores ``prev_hash`` (record ``n-1``'s hash; 64 zeros for the first) and
``hash = SHA-256(prev_hash + canonical content)``, where the canonical content is the record's id, time, actor,
action, subject, before and after as compact JSON with sorted keys. The ``audit_head`` row holds the last id and
hash. An append locks that row first (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite every write transaction
already holds the database's write lock from its ``BEGIN IMMEDIATE``), so concurrent appenders queue and never
fork the chain; the primary key on the position would refuse a fork anyway.

:func:`verify` walks the chain and names the first record that was edited, deleted or moved, and notices records
cut off the end (the head still names them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.access.actors import Actor
from omnibridge.store.engine import read_session
from omnibridge.store.store import Store
from omnibridge.store.tables import AUDIT_HEAD, AUDIT_LOG
from omnibridge.store.types import to_utc
from omnibridge.store.unit_of_work import UnitOfWork

GENESIS = "0" * 64
"""The ``prev_hash`` of the first record."""
HEAD_ID = 1

after_head_locked: Callable[[], None] | None = None
"""Test hook: called by :func:`record` once it holds the head row, before it appends."""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One record of the audit log, as stored."""

    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    before: Any
    after: Any
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "before": self.before,
            "after": self.after,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def _json_ready(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _moment(at: datetime) -> str:
    return to_utc(at).isoformat(timespec="microseconds")


def canonical(record_id: int, at: datetime, actor: str, action: str, subject: str, before: Any, after: Any) -> str:
    """A record's canonical content: what its hash covers."""
    content = {
        "id": record_id,
        "at": _moment(at),
        "actor": actor,
        "action": action,
        "subject": subject,
        "before": before,
        "after": after,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


def _session(target: UnitOfWork | Session) -> Session:
    return target.session if isinstance(target, UnitOfWork) else target


def _lock_head(session: Session) -> tuple[int, str]:
    query = sa.select(AUDIT_HEAD.c.last_id, AUDIT_HEAD.c.last_hash).where(AUDIT_HEAD.c.id == HEAD_ID)
    row = session.execute(query.with_for_update()).first()
    if row is None:  # a schema created without the migration's head row
        session.execute(sa.insert(AUDIT_HEAD).values(id=HEAD_ID, last_id=0, last_hash=GENESIS))
        row = session.execute(query.with_for_update()).first()
    assert row is not None
    return int(row.last_id), str(row.last_hash)


def record(
    target: UnitOfWork | Session,
    actor: Actor | str,
    action: str,
    subject: str,
    before: Any = None,
    after: Any = None,
    *,
    at: datetime | None = None,
) -> AuditRecord:
    """Append one record in ``target``'s write transaction (see the module docstring) and return it.

    ``actor`` is who made the change, ``action`` what (``deadletter.discard``), ``subject`` what it was made to
    (``inbox:41``, an order id, a token id); ``before`` and ``after`` its state either side (JSON-ready).
    ``at`` defaults to the unit of work's clock (or the current time for a plain session).
    """
    session = _session(target)
    if at is None:
        at = target.now() if isinstance(target, UnitOfWork) else datetime.now().astimezone()
    at = to_utc(at)
    last_id, last_hash = _lock_head(session)
    if after_head_locked is not None:
        after_head_locked()
    who, before_json, after_json = str(actor), _json_ready(before), _json_ready(after)
    record_id = last_id + 1
    digest = chain_hash(last_hash, canonical(record_id, at, who, action, subject, before_json, after_json))
    session.execute(
        sa.insert(AUDIT_LOG).values(
            id=record_id,
            at=at,
            actor=who,
            action=action,
            subject=subject,
            before=before_json,
            after=after_json,
            prev_hash=last_hash,
            hash=digest,
        )
    )
    session.execute(sa.update(AUDIT_HEAD).where(AUDIT_HEAD.c.id == HEAD_ID).values(last_id=record_id, last_hash=digest))
    return AuditRecord(record_id, at, who, action, subject, before_json, after_json, last_hash, digest)


def _record(row: Any) -> AuditRecord:
    return AuditRecord(
        id=int(row.id),
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        before=row.before,
        after=row.after,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def records(
    store: Store,
    *,
    action: str | None = None,
    subject: str | None = None,
    after_id: int = 0,
    limit: int = 200,
) -> list[AuditRecord]:
    """Records in chain order, optionally of one action (``deadletter.discard``, or a prefix ``deadletter.``) or
    subject, from after ``after_id``."""
    query = sa.select(AUDIT_LOG).where(AUDIT_LOG.c.id > after_id).order_by(AUDIT_LOG.c.id).limit(limit)
    if action is not None:
        if action.endswith("."):
            query = query.where(AUDIT_LOG.c.action.startswith(action, autoescape=True))
        else:
            query = query.where(AUDIT_LOG.c.action == action)
    if subject is not None:
        query = query.where(AUDIT_LOG.c.subject == subject)
    with read_session(store.engine) as session:
        return [_record(row) for row in session.execute(query)]


@dataclass(frozen=True, slots=True)
class Verification:
    """What :func:`verify` found: ``checked`` records, and the first break (None: the chain is intact)."""

    checked: int
    broken_id: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None

    def as_dict(self) -> dict[str, Any]:
        """``audit verify --json``: intact or not, records checked, the first broken record and why."""
        return {"intact": self.intact, "checked": self.checked, "broken_id": self.broken_id, "problem": self.problem}


_BATCH = 1000


def verify(store: Store) -> Verification:
    """Walk the whole chain in one read transaction and report the first record that breaks it: an edited
    record (its content no longer matches its hash), a deleted or moved one (a gap, or a ``prev_hash`` that is
    not the previous record's hash) and records cut off the end (the head names a later record)."""
    checked, expected_id, prev_hash = 0, 1, GENESIS
    with read_session(store.engine) as session:
        head = session.execute(sa.select(AUDIT_HEAD).where(AUDIT_HEAD.c.id == HEAD_ID)).first()
        while True:
            query = sa.select(AUDIT_LOG).where(AUDIT_LOG.c.id >= expected_id).order_by(AUDIT_LOG.c.id).limit(_BATCH)
            rows = [_record(row) for row in session.execute(query)]
            for row in rows:
                if row.id != expected_id:
                    missing = f"#{expected_id}" if row.id == expected_id + 1 else f"#{expected_id} to #{row.id - 1}"
                    return Verification(checked, expected_id, f"record {missing} is missing (deleted)")
                if row.prev_hash != prev_hash:
                    place = "is not the first record" if row.id == 1 else f"does not follow record #{row.id - 1}"
                    return Verification(checked, row.id, f"record #{row.id} {place} (moved or replaced)")
                content = canonical(row.id, row.at, row.actor, row.action, row.subject, row.before, row.after)
                if chain_hash(prev_hash, content) != row.hash:
                    return Verification(checked, row.id, f"record #{row.id} was changed after it was written")
                checked, expected_id, prev_hash = checked + 1, row.id + 1, row.hash
            if len(rows) < _BATCH:
                break
    last_id = expected_id - 1
    if head is not None and (int(head.last_id), str(head.last_hash)) != (last_id, prev_hash):
        if int(head.last_id) > last_id:
            gone = f"#{last_id + 1}" + (f" to #{head.last_id}" if head.last_id > last_id + 1 else "")
            return Verification(checked, last_id + 1, f"record {gone} is missing (deleted from the end)")
        return Verification(checked, last_id, f"the log's head does not name record #{last_id} (edited)")
    return Verification(checked)
