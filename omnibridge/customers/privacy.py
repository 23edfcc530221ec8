"""Data-subject requests: export everything held about a customer, and erase it.

**Export** (:func:`export_customer`): the customer, each channel identity with the contact details it gave, every
consent decision, merges and splits, the customer's orders (addresses included), their shipments and returns,
and the privacy requests about the customer — one JSON-ready dict.

**Erase** (:meth:`PrivacyService.erase`): first each channel that can erase (a connector that is a
:class:`~omnibridge.sdk.privacy.CustomerEraser`) is asked to, then in one transaction the store keeps no personal
data of the customer:

* the customer row keeps only its random id and ``redacted_at`` (name, email, phone, address, lookup keys and
  consent mirror blanked), as do customers that were merged into it; its identities, consent decisions and merge
  history are deleted;
* its orders and their shipments keep lines, totals, statuses and the country only (``ship_to`` becomes
  ``{"country": ...}``), so they still count in reports;
* stored webhook bodies that mention the customer (an email, a phone, the name, a channel customer id, or one of
  its orders' ids) are replaced by ``{"redacted": true}``;
* privacy requests about the customer keep their deadline and outcome, not the subject's contact details.

What could not be erased is listed in the report (a channel without erasure, a refusal); nothing of it is
personal data beyond the channel's own customer id, which the merchant needs to erase it there by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.access import audit
from omnibridge.customers import consent, directory
from omnibridge.customers.identity import normalise_phone
from omnibridge.errors import ConnectorError, OmnibridgeError, RetriableConnectorError
from omnibridge.sdk.privacy import CustomerEraser
from omnibridge.store import Store, sync_state
from omnibridge.store import orders as order_repo
from omnibridge.store import shipments as shipment_repo
from omnibridge.store.customers import get_customer
from omnibridge.store.engine import read_session, write_session
from omnibridge.store.tables import (
    CONSENT_DECISIONS,
    CUSTOMER_IDENTITIES,
    CUSTOMER_MERGES,
    CUSTOMERS,
    INBOX,
    ORDERS,
    PRIVACY_REQUESTS,
    RETURNS,
    SHIPMENTS,
)

__all__ = ["ErasureReport", "PrivacyService", "erase_in_store", "export_customer"]

REDACTED_BODY = b'{"redacted":true}'


@dataclass(slots=True)
class ErasureReport:
    """What an erasure did: ``erased`` lists what was removed, ``not_erased`` what was not and why."""

    customer_id: str
    erased: list[str] = field(default_factory=list)
    not_erased: list[dict[str, str]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.not_erased

    def as_dict(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "erased": self.erased, "not_erased": self.not_erased}


def export_customer(session: Session, customer_id: str) -> dict[str, Any]:
    """Everything the store holds about ``customer_id`` (see the module docstring), JSON-ready."""
    customer = get_customer(session, customer_id)
    if customer is None:
        raise OmnibridgeError(f"no customer {customer_id!r}; 'omnibridge customers list' shows their ids")
    related = [customer_id, *_merged_into(session, customer_id)]
    orders = _orders_of(session, related)
    return {
        "customer": customer.model_dump(mode="json", exclude={"identities"}),
        "identities": directory.identity_details(session, customer_id),
        "consent": [
            {
                "purpose": d.purpose,
                "granted": d.granted,
                "source": d.source,
                "decided_at": d.decided_at.isoformat(),
                "recorded_at": d.recorded_at.isoformat(),
                "current": d.current,
            }
            for d in consent.decisions(session, customer_id)
        ],
        "merges": [
            {"kind": m.kind, "customer_id": m.customer_id, "other_id": m.other_id, "at": m.at.isoformat()}
            for m in directory.history(session, customer_id)
        ],
        "orders": [o.model_dump(mode="json") for o in orders],
        "shipments": [
            s.model_dump(mode="json") for o in orders for s in shipment_repo.shipments_of_order(session, o.id)
        ],
        "returns": [
            {k: v.isoformat() if isinstance(v, datetime) else v for k, v in r._mapping.items()}
            for r in session.execute(sa.select(RETURNS).where(RETURNS.c.order_id.in_([o.id for o in orders])))
        ],
        "privacy_requests": [
            {
                "id": r.id,
                "channel": r.channel,
                "kind": r.kind,
                "status": r.status,
                "deadline_at": r.deadline_at.isoformat(),
            }
            for r in session.execute(sa.select(PRIVACY_REQUESTS).where(PRIVACY_REQUESTS.c.customer_id.in_(related)))
        ],
    }


def erase_in_store(session: Session, customer_id: str, *, now: datetime) -> list[str]:
    """Remove the customer's personal data from the store (see the module docstring); what was erased."""
    customer = get_customer(session, customer_id)
    if customer is None:
        raise OmnibridgeError(f"no customer {customer_id!r}; 'omnibridge customers list' shows their ids")
    if customer.merged_into is not None:
        raise OmnibridgeError(f"customer {customer_id!r} was merged into {customer.merged_into!r}; erase that one")
    related = [customer_id, *_merged_into(session, customer_id)]
    needles = _needles(session, related)
    orders = _orders_of(session, related)
    for order in orders:
        needles.update(_id_needles(order.external_id))
    erased: list[str] = []
    for order in orders:
        session.execute(sa.update(ORDERS).where(ORDERS.c.id == order.id).values(ship_to=_country_only(order.ship_to)))
        for shipment in shipment_repo.shipments_of_order(session, order.id):
            country = _country_only(shipment.ship_to)
            session.execute(sa.update(SHIPMENTS).where(SHIPMENTS.c.id == shipment.id).values(ship_to=country))
    if orders:
        erased.append(f"addresses of {len(orders)} order(s) and their shipments")
    bodies = _redact_bodies(session, {n for n in needles if n})
    if bodies:
        erased.append(f"{bodies} stored webhook bod{'y' if bodies == 1 else 'ies'}")
    identities = len(directory.identity_details(session, customer_id))
    session.execute(sa.delete(CUSTOMER_IDENTITIES).where(CUSTOMER_IDENTITIES.c.customer_id.in_(related)))
    if identities:
        erased.append(f"{identities} channel identit{'y' if identities == 1 else 'ies'}")
    session.execute(sa.delete(CONSENT_DECISIONS).where(CONSENT_DECISIONS.c.customer_id.in_(related)))
    session.execute(
        sa.delete(CUSTOMER_MERGES).where(
            sa.or_(CUSTOMER_MERGES.c.customer_id.in_(related), CUSTOMER_MERGES.c.other_id.in_(related))
        )
    )
    session.execute(sa.update(PRIVACY_REQUESTS).where(PRIVACY_REQUESTS.c.customer_id.in_(related)).values(subject=None))
    blank = dict.fromkeys(("email", "phone", "first_name", "last_name", "default_address", "email_key", "phone_key"))
    session.execute(
        sa.update(CUSTOMERS).where(CUSTOMERS.c.id.in_(related)).values(**blank, consent={}, redacted_at=now)
    )
    erased.append("name, email, phone, address and consent history")
    return erased


def erase_orders(session: Session, channel: str, order_refs: Iterable[str]) -> int:
    """Blank the addresses of ``channel``'s orders ``order_refs`` (and their shipments, and webhook bodies naming
    them) when no customer is known for them; returns how many orders were found."""
    found = 0
    needles: set[str] = set()
    for ref in order_refs:
        order = order_repo.find_order(session, channel, ref)
        if order is None:
            continue
        found += 1
        needles.update(_id_needles(order.external_id))
        session.execute(sa.update(ORDERS).where(ORDERS.c.id == order.id).values(ship_to=_country_only(order.ship_to)))
        for shipment in shipment_repo.shipments_of_order(session, order.id):
            country = _country_only(shipment.ship_to)
            session.execute(sa.update(SHIPMENTS).where(SHIPMENTS.c.id == shipment.id).values(ship_to=country))
    _redact_bodies(session, needles)
    return found


class PrivacyService:
    """Export and erase over a :class:`Store`; ``erasers`` maps channel ids to connectors that can erase."""

    def __init__(self, store: Store, erasers: Mapping[str, CustomerEraser] | None = None) -> None:
        self.store = store
        self.erasers = dict(erasers or {})

    def export(self, customer_id: str) -> dict[str, Any]:
        """See :func:`export_customer`."""
        with read_session(self.store.engine) as session:
            return export_customer(session, customer_id)

    async def erase(
        self,
        customer_id: str,
        *,
        requested_by: str | None = None,
        retry_later: bool = False,
        actor: str | None = None,
    ) -> ErasureReport:
        """Ask every channel that can erase to do so, then erase the store (see the module docstring).
        ``requested_by``: the channel that forwarded the request (it erases on its own; it is not asked again).
        ``retry_later``: a channel that fails retriably (down, throttled) raises its
        :class:`RetriableConnectorError` before the store is touched, so the whole erasure can be done again later
        (asking a channel again is harmless); otherwise it is listed as not erased."""
        report = ErasureReport(customer_id)
        with read_session(self.store.engine) as session:
            customer = get_customer(session, customer_id)
            if customer is None:
                raise OmnibridgeError(f"no customer {customer_id!r}; 'omnibridge customers list' shows their ids")
            if customer.merged_into is not None:
                raise OmnibridgeError(
                    f"customer {customer_id!r} was merged into {customer.merged_into!r}; erase that one"
                )
        for identity in customer.identities:
            where = f"{identity.channel}:{identity.external_id}"
            if identity.channel == requested_by:
                report.erased.append(f"customer on {identity.channel} (erased by {identity.channel} itself)")
                continue
            eraser = self.erasers.get(identity.channel)
            if eraser is None:
                report.not_erased.append(
                    {"where": where, "reason": "this channel's connector cannot erase customers: erase it there"}
                )
                continue
            try:
                result = await eraser.erase_customer(identity.external_id)
            except RetriableConnectorError:
                if retry_later:
                    raise
                report.not_erased.append({"where": where, "reason": "the channel is unavailable: try again later"})
                continue
            except ConnectorError as exc:
                report.not_erased.append({"where": where, "reason": str(exc)})
                continue
            if result.done:
                report.erased.append(f"customer on {identity.channel} (erasure requested)")
            else:
                report.not_erased.append({"where": where, "reason": result.reason or "refused by the channel"})
        with write_session(self.store.engine) as session:
            report.erased.extend(erase_in_store(session, customer_id, now=self.store.now()))
            who = actor or (f"channel:{requested_by}" if requested_by else None)
            if who is not None:  # the audit log names the customer id only: no personal data in it
                audit.record(session, who, "customer.erase", customer_id, None, {"not_erased": len(report.not_erased)})
        return report


def _merged_into(session: Session, customer_id: str) -> list[str]:
    query = sa.select(CUSTOMERS.c.id).where(CUSTOMERS.c.merged_into == customer_id).order_by(CUSTOMERS.c.id)
    return list(session.execute(query).scalars())


def _orders_of(session: Session, customer_ids: list[str]) -> list[Any]:
    ids = session.execute(
        sa.select(ORDERS.c.id).where(ORDERS.c.customer_id.in_(customer_ids)).order_by(ORDERS.c.placed_at, ORDERS.c.id)
    ).scalars()
    return [o for o in (order_repo.get_order(session, i) for i in ids) if o is not None]


def _needles(session: Session, customer_ids: list[str]) -> set[str]:
    """Strings whose presence in a stored body means it is about one of ``customer_ids`` (lower-cased)."""
    found: set[str] = set()
    for customer_id in customer_ids:
        customer = get_customer(session, customer_id)
        if customer is None:
            continue
        people = [customer.model_dump(), *directory.identity_details(session, customer_id)]
        for person in people:
            for name in ("email", "phone"):
                if person.get(name):
                    found.add(str(person[name]).strip().lower())
            if person.get("phone"):
                found.add(normalise_phone(str(person["phone"])) or "")
            full = " ".join(str(person.get(n) or "") for n in ("first_name", "last_name")).strip()
            if " " in full:
                found.add(full.lower())
        for identity in customer.identities:
            found.update(_id_needles(identity.external_id))
        if customer.default_address and customer.default_address.name:
            found.add(customer.default_address.name.lower())
    return found


def _id_needles(external_id: str) -> set[str]:
    """A channel id as it appears in a body: the id itself, and a gid's number as a JSON ``id`` value (REST
    payloads carry ``"id": 1001`` for ``gid://shopify/Order/1001``)."""
    found = {external_id.lower()}
    tail = external_id.rsplit("/", 1)[-1]
    if tail.isdigit() and tail != external_id:
        found.update({f'"id":{tail},', f'"id":{tail}}}', f'"id":"{tail}"'})
    return found


def _redact_bodies(session: Session, needles: set[str]) -> int:
    if not needles:
        return 0
    ids = list(session.execute(sa.select(INBOX.c.id).order_by(INBOX.c.id)).scalars())
    redacted = 0
    for entry_id in ids:
        entry = sync_state.get_entry(session, entry_id)
        if entry is None or entry.delivery.raw_body == REDACTED_BODY:
            continue
        text = _compact(entry.delivery.raw_body)
        if any(needle in text for needle in needles):
            session.execute(sa.update(INBOX).where(INBOX.c.id == entry_id).values(raw_body=REDACTED_BODY))
            redacted += 1
    return redacted


def _compact(raw: bytes) -> str:
    """A body lower-cased, and re-serialised without spaces when it is JSON (so ``"id": 7`` reads ``"id":7``)."""
    try:
        return json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False).lower()
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", errors="replace").lower()


def _country_only(address: Any) -> dict[str, Any] | None:
    return None if address is None else {"country": address.country}
