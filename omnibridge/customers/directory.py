"""One customer across channels: identities resolved into canonical customers, explicit merges and splits.

An identity (a channel's customer id) is attached to the customer that already owns it; otherwise to the
customer one of whose identities has the same normalised email, else the same E.164 phone (email first: when
the email names one customer and the phone another, the email wins); otherwise to a new customer. A customer's
name, email and phone are those of its most recently seen identity that has them. Merges and splits are made by
a person (``omnibridge customers merge|split``) and recorded in ``customer_merges`` with the identities moved.

Every function works in the caller's session (one transaction); :class:`CustomerDirectory` opens one per call.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.access import audit
from omnibridge.customers.identity import normalise_email, normalise_phone
from omnibridge.customers.protect import lookup_key, open_json, seal, seal_json
from omnibridge.errors import OmnibridgeError
from omnibridge.models import Customer
from omnibridge.store import Store
from omnibridge.store.customers import DETAILS, FIELD_CONTEXTS, get_customer
from omnibridge.store.engine import read_session, write_session
from omnibridge.store.sql import insert_ignore
from omnibridge.store.tables import CONSENT_DECISIONS, CUSTOMER_IDENTITIES, CUSTOMER_MERGES, CUSTOMERS, ORDERS

__all__ = ["CustomerDirectory", "MergeRecord", "ObservedIdentity", "new_customer_id"]

_DETAILS = ("email", "phone", "first_name", "last_name")


def new_customer_id() -> str:
    """A fresh canonical customer id (random: it carries nothing about the person)."""
    return f"cus_{uuid.uuid4().hex[:16]}"


@dataclass(frozen=True, slots=True)
class ObservedIdentity:
    """A customer as one channel gave it. ``region``: the ISO country a phone without country code is read in."""

    channel: str
    external_id: str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class MergeRecord:
    """One merge or split, as recorded."""

    kind: str
    customer_id: str
    other_id: str
    identities: list[dict[str, Any]]
    reason: str | None
    actor: str | None
    at: datetime


def resolve(session: Session, seen: ObservedIdentity, *, now: datetime, new_id: Callable[[], str]) -> str:
    """Attach ``seen`` to its canonical customer (see the module docstring) and return that customer's id."""
    email_key = lookup_key(session, "email", normalise_email(seen.email))
    phone_key = lookup_key(session, "phone", normalise_phone(seen.phone, seen.region))
    details = {name: getattr(seen, name) for name in _DETAILS if getattr(seen, name)}
    owner = _owner(session, seen.channel, seen.external_id)
    if owner is None:
        owner = _matching(session, "email_key", email_key) or _matching(session, "phone_key", phone_key)
        if owner is None:
            owner = new_id()
            session.execute(sa.insert(CUSTOMERS).values(id=owner, consent={}))
        values = {
            "channel": seen.channel,
            "external_id": seen.external_id,
            "customer_id": owner,
            "position": _identity_count(session, owner),
        }
        if not insert_ignore(session, CUSTOMER_IDENTITIES, values):  # a concurrent resolve attached it first
            owner = _owner(session, seen.channel, seen.external_id) or owner
    update: dict[str, Any] = {"seen_at": now}
    if email_key:
        update["email_key"] = email_key
    if phone_key:
        update["phone_key"] = phone_key
    if details:
        merged = {**_details(session, seen.channel, seen.external_id), **details}
        update["details"] = seal_json(session, merged, DETAILS)
    session.execute(_identity_where(sa.update(CUSTOMER_IDENTITIES), seen.channel, seen.external_id).values(update))
    refresh(session, owner)
    return owner


def refresh(session: Session, customer_id: str) -> None:
    """Re-derive a customer's name, email, phone and lookup keys from its identities (latest seen first)."""
    rows = session.execute(
        sa.select(CUSTOMER_IDENTITIES.c.details, CUSTOMER_IDENTITIES.c.email_key, CUSTOMER_IDENTITIES.c.phone_key)
        .where(CUSTOMER_IDENTITIES.c.customer_id == customer_id)
        .order_by(CUSTOMER_IDENTITIES.c.seen_at.desc().nulls_last(), CUSTOMER_IDENTITIES.c.position)
    ).all()
    values: dict[str, Any] = {}
    for sealed, email_key, phone_key in rows:
        details = open_json(session, sealed, DETAILS) or {}
        for name in _DETAILS:
            if name not in values and details.get(name):
                values[name] = seal(session, details[name], FIELD_CONTEXTS[name])
        if "email_key" not in values and email_key:
            values["email_key"] = email_key
        if "phone_key" not in values and phone_key:
            values["phone_key"] = phone_key
    if values:
        session.execute(sa.update(CUSTOMERS).where(CUSTOMERS.c.id == customer_id).values(values))


def merge(
    session: Session, survivor: str, other: str, *, now: datetime, reason: str | None, actor: str | None
) -> MergeRecord:
    """Move every identity, order and consent decision of ``other`` to ``survivor``; ``other`` is marked merged."""
    if survivor == other:
        raise OmnibridgeError(f"cannot merge customer {survivor!r} into itself")
    for customer_id in (survivor, other):
        _live(session, customer_id)
    moved = _identities(session, other)
    session.execute(
        sa.update(CUSTOMER_IDENTITIES)
        .where(CUSTOMER_IDENTITIES.c.customer_id == other)
        .values(customer_id=survivor, position=CUSTOMER_IDENTITIES.c.position + _identity_count(session, survivor))
    )
    session.execute(sa.update(ORDERS).where(ORDERS.c.customer_id == other).values(customer_id=survivor))
    session.execute(
        sa.update(CONSENT_DECISIONS).where(CONSENT_DECISIONS.c.customer_id == other).values(customer_id=survivor)
    )
    session.execute(sa.update(CUSTOMERS).where(CUSTOMERS.c.id == other).values(merged_into=survivor))
    refresh(session, survivor)
    from omnibridge.customers.consent import mirror_consent

    mirror_consent(session, survivor)
    return _record(session, "merge", survivor, other, moved, now=now, reason=reason, actor=actor)


def split(
    session: Session,
    customer_id: str,
    identities: Sequence[tuple[str, str]],
    *,
    now: datetime,
    new_id: Callable[[], str],
    reason: str | None,
    actor: str | None,
) -> MergeRecord:
    """Move ``identities`` (channel, external id) of ``customer_id`` to a new customer and return the record.

    The orders of a channel move with them when no identity on that channel stays behind. Consent decisions stay:
    the new customer starts with none (absent consent means no), so no one's consent is applied to another.
    """
    _live(session, customer_id)
    owned = {(i["channel"], i["external_id"]) for i in _identities(session, customer_id)}
    wanted = list(dict.fromkeys(identities))
    for channel, external_id in wanted:
        if (channel, external_id) not in owned:
            raise OmnibridgeError(
                f"customer {customer_id!r} has no identity {channel}:{external_id}; "
                f"expected one of: {', '.join(sorted(f'{c}:{e}' for c, e in owned)) or 'none'}"
            )
    if len(wanted) == len(owned):
        raise OmnibridgeError(f"splitting every identity off customer {customer_id!r} would leave it empty")
    other = new_id()
    session.execute(sa.insert(CUSTOMERS).values(id=other, consent={}))
    for position, (channel, external_id) in enumerate(wanted):
        session.execute(
            _identity_where(sa.update(CUSTOMER_IDENTITIES), channel, external_id).values(
                customer_id=other, position=position
            )
        )
    staying = {channel for channel, _ in owned - set(wanted)}
    for channel in {channel for channel, _ in wanted} - staying:
        session.execute(
            sa.update(ORDERS)
            .where(ORDERS.c.customer_id == customer_id, ORDERS.c.channel == channel)
            .values(customer_id=other)
        )
    for customer in (customer_id, other):
        _clear_derived(session, customer)
        refresh(session, customer)
    moved = [{"channel": c, "external_id": e} for c, e in wanted]
    return _record(session, "split", customer_id, other, moved, now=now, reason=reason, actor=actor)


def history(session: Session, customer_id: str) -> list[MergeRecord]:
    """Every merge and split that involved ``customer_id``, oldest first."""
    rows = session.execute(
        sa.select(CUSTOMER_MERGES)
        .where(sa.or_(CUSTOMER_MERGES.c.customer_id == customer_id, CUSTOMER_MERGES.c.other_id == customer_id))
        .order_by(CUSTOMER_MERGES.c.id)
    ).all()
    return [MergeRecord(r.kind, r.customer_id, r.other_id, list(r.identities), r.reason, r.actor, r.at) for r in rows]


def find_by_contact(session: Session, *, email: str | None = None, phone: str | None = None) -> list[str]:
    """Ids of the live customers with that email or phone (normalised before lookup)."""
    keys = [
        k
        for k in (
            lookup_key(session, "email", normalise_email(email)),
            lookup_key(session, "phone", normalise_phone(phone)),
        )
        if k
    ]
    if not keys:
        return []
    column = sa.or_(CUSTOMER_IDENTITIES.c.email_key.in_(keys), CUSTOMER_IDENTITIES.c.phone_key.in_(keys))
    found = session.execute(sa.select(CUSTOMER_IDENTITIES.c.customer_id).where(column).distinct()).scalars()
    direct = session.execute(
        sa.select(CUSTOMERS.c.id).where(
            sa.or_(CUSTOMERS.c.email_key.in_(keys), CUSTOMERS.c.phone_key.in_(keys)), CUSTOMERS.c.merged_into.is_(None)
        )
    ).scalars()
    return sorted({*found, *direct})


class CustomerDirectory:
    """The directory over a :class:`Store`, each call in its own transaction."""

    def __init__(self, store: Store, *, new_id: Callable[[], str] = new_customer_id) -> None:
        self.store = store
        self._new_id = new_id

    def resolve(self, seen: ObservedIdentity) -> str:
        """See :func:`resolve`."""
        with write_session(self.store.engine) as session:
            return resolve(session, seen, now=self.store.now(), new_id=self._new_id)

    def merge(self, survivor: str, other: str, *, reason: str | None = None, actor: str | None = None) -> MergeRecord:
        """See :func:`merge`."""
        with write_session(self.store.engine) as session:
            record = merge(session, survivor, other, now=self.store.now(), reason=reason, actor=actor)
            if actor is not None:
                audit.record(session, actor, "customer.merge", survivor, {"merged": other}, {"reason": reason})
            return record

    def split(
        self,
        customer_id: str,
        identities: Sequence[tuple[str, str]],
        *,
        reason: str | None = None,
        actor: str | None = None,
    ) -> MergeRecord:
        """See :func:`split`."""
        with write_session(self.store.engine) as session:
            record = split(
                session, customer_id, identities, now=self.store.now(), new_id=self._new_id, reason=reason, actor=actor
            )
            if actor is not None:
                moved = [f"{channel}:{ref}" for channel, ref in identities]
                audit.record(session, actor, "customer.split", customer_id, {"identities": moved}, {"reason": reason})
            return record

    def get(self, customer_id: str) -> Customer | None:
        """The customer with its identities, or None."""
        with read_session(self.store.engine) as session:
            return get_customer(session, customer_id)

    def require(self, customer_id: str) -> Customer:
        """The customer, or :class:`OmnibridgeError` naming the id."""
        customer = self.get(customer_id)
        if customer is None:
            raise OmnibridgeError(f"no customer {customer_id!r}; 'omnibridge customers list' shows their ids")
        return customer

    def list_customers(self, *, include_merged: bool = False, limit: int = 200) -> list[Customer]:
        """Customers by id (merged ones only when asked)."""
        with read_session(self.store.engine) as session:
            query = sa.select(CUSTOMERS.c.id).order_by(CUSTOMERS.c.id).limit(limit)
            if not include_merged:
                query = query.where(CUSTOMERS.c.merged_into.is_(None))
            ids = list(session.execute(query).scalars())
            return [c for c in (get_customer(session, i) for i in ids) if c is not None]

    def history(self, customer_id: str) -> list[MergeRecord]:
        """See :func:`history`."""
        with read_session(self.store.engine) as session:
            return history(session, customer_id)

    def find(self, *, email: str | None = None, phone: str | None = None) -> list[str]:
        """See :func:`find_by_contact`."""
        with read_session(self.store.engine) as session:
            return find_by_contact(session, email=email, phone=phone)

    def identity_details(self, customer_id: str) -> list[dict[str, Any]]:
        """Each identity with the contact details its channel gave (unsealed), in position order."""
        with read_session(self.store.engine) as session:
            return identity_details(session, customer_id)


def identity_details(session: Session, customer_id: str) -> list[dict[str, Any]]:
    """Each identity of ``customer_id`` with its channel's contact details (unsealed) and when it was last seen."""
    rows = session.execute(
        sa.select(CUSTOMER_IDENTITIES)
        .where(CUSTOMER_IDENTITIES.c.customer_id == customer_id)
        .order_by(CUSTOMER_IDENTITIES.c.position)
    ).all()
    return [
        {
            "channel": r.channel,
            "external_id": r.external_id,
            **(open_json(session, r.details, DETAILS) or {}),
            "seen_at": r.seen_at.isoformat() if r.seen_at else None,
        }
        for r in rows
    ]


def _identity_where(statement: Any, channel: str, external_id: str) -> Any:
    return statement.where(CUSTOMER_IDENTITIES.c.channel == channel, CUSTOMER_IDENTITIES.c.external_id == external_id)


def _owner(session: Session, channel: str, external_id: str) -> str | None:
    query = _identity_where(sa.select(CUSTOMER_IDENTITIES.c.customer_id), channel, external_id)
    return session.execute(query).scalar_one_or_none()


def _details(session: Session, channel: str, external_id: str) -> dict[str, Any]:
    query = _identity_where(sa.select(CUSTOMER_IDENTITIES.c.details), channel, external_id)
    return dict(open_json(session, session.execute(query).scalar_one_or_none(), DETAILS) or {})


def _matching(session: Session, column: str, key: str | None) -> str | None:
    if key is None:
        return None
    query = (
        sa.select(CUSTOMER_IDENTITIES.c.customer_id)
        .join(CUSTOMERS, CUSTOMERS.c.id == CUSTOMER_IDENTITIES.c.customer_id)
        .where(CUSTOMER_IDENTITIES.c[column] == key, CUSTOMERS.c.redacted_at.is_(None))
        .order_by(CUSTOMER_IDENTITIES.c.customer_id)
        .limit(1)
    )
    found = session.execute(query).scalar_one_or_none()
    if found is None:  # a customer saved whole (Store.save_customer), without identity details
        direct = (
            sa.select(CUSTOMERS.c.id)
            .where(CUSTOMERS.c[column] == key, CUSTOMERS.c.redacted_at.is_(None), CUSTOMERS.c.merged_into.is_(None))
            .order_by(CUSTOMERS.c.id)
            .limit(1)
        )
        found = session.execute(direct).scalar_one_or_none()
    return found


def _identity_count(session: Session, customer_id: str) -> int:
    query = sa.select(sa.func.count()).where(CUSTOMER_IDENTITIES.c.customer_id == customer_id)
    return int(session.execute(query).scalar_one())


def _identities(session: Session, customer_id: str) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.select(CUSTOMER_IDENTITIES.c.channel, CUSTOMER_IDENTITIES.c.external_id)
        .where(CUSTOMER_IDENTITIES.c.customer_id == customer_id)
        .order_by(CUSTOMER_IDENTITIES.c.position)
    ).all()
    return [{"channel": c, "external_id": e} for c, e in rows]


def _live(session: Session, customer_id: str) -> None:
    row = session.execute(
        sa.select(CUSTOMERS.c.merged_into, CUSTOMERS.c.redacted_at).where(CUSTOMERS.c.id == customer_id)
    ).first()
    if row is None:
        raise OmnibridgeError(f"no customer {customer_id!r}; 'omnibridge customers list' shows their ids")
    if row.merged_into is not None:
        raise OmnibridgeError(f"customer {customer_id!r} was merged into {row.merged_into!r}; use that one")
    if row.redacted_at is not None:
        raise OmnibridgeError(f"customer {customer_id!r} was erased on request; nothing is left to merge or split")


def _clear_derived(session: Session, customer_id: str) -> None:
    cleared = dict.fromkeys(("email", "phone", "first_name", "last_name", "email_key", "phone_key"))
    session.execute(sa.update(CUSTOMERS).where(CUSTOMERS.c.id == customer_id).values(cleared))


def _record(
    session: Session,
    kind: str,
    customer_id: str,
    other_id: str,
    identities: list[dict[str, Any]],
    *,
    now: datetime,
    reason: str | None,
    actor: str | None,
) -> MergeRecord:
    session.execute(
        sa.insert(CUSTOMER_MERGES).values(
            kind=kind,
            customer_id=customer_id,
            other_id=other_id,
            identities=identities,
            reason=reason,
            actor=actor,
            at=now,
        )
    )
    return MergeRecord(kind, customer_id, other_id, identities, reason, actor, now)
