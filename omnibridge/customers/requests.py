"""Privacy requests forwarded by channels (Shopify's mandatory compliance webhooks), tracked to their deadline.

A :class:`~omnibridge.sdk.privacy.PrivacyRequestEvent` is recorded (:func:`record_request`) in the same
transaction as the webhook delivery that carried it, once per channel and request ref, with a deadline of
:data:`DEADLINE` after receipt (Shopify: "complete the action within 30 days"). The subject's contact details are
kept sealed until the request is done, then dropped.

:meth:`PrivacyRequests.process` acts on open requests:

* ``redact`` — the customer (found by the channel's customer id, else by email or phone) is erased
  (:class:`~omnibridge.customers.privacy.PrivacyService`; the requesting channel is not asked again), and the
  orders the request names lose their addresses even when no customer is known;
* ``data_request`` — an export of everything held is written to ``<export dir>/privacy-request-<id>.json``
  (owner-only), for the merchant to send to the customer;
* ``shop_redact`` — every order of the channel loses its address and every customer known only there is erased.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.customers import directory
from omnibridge.customers.privacy import PrivacyService, erase_in_store, erase_orders, export_customer
from omnibridge.customers.protect import open_json, seal_json
from omnibridge.errors import OmnibridgeError
from omnibridge.sdk.privacy import PrivacyRequestEvent
from omnibridge.store.customers import SUBJECT
from omnibridge.store.engine import read_session, write_session
from omnibridge.store.sql import insert_ignore
from omnibridge.store.tables import CUSTOMER_IDENTITIES, CUSTOMERS, ORDERS, PRIVACY_REQUESTS

__all__ = ["DEADLINE", "KINDS", "PrivacyRequest", "PrivacyRequests", "record_request"]

DEADLINE = timedelta(days=30)
KINDS = ("data_request", "redact", "shop_redact")


@dataclass(frozen=True, slots=True)
class PrivacyRequest:
    """One request as tracked. ``status``: ``open``, ``done`` or ``incomplete`` (something could not be erased:
    ``result`` says what)."""

    id: int
    channel: str
    kind: str
    external_ref: str
    customer_id: str | None
    received_at: datetime
    deadline_at: datetime
    status: str
    result: dict[str, Any] | None
    done_at: datetime | None

    def deadline_status(self, now: datetime) -> str:
        """``done``, ``overdue by N day(s)`` or ``due in N day(s)``."""
        if self.status != "open":
            return self.status
        if now > self.deadline_at:
            return f"overdue by {(now - self.deadline_at).days} day(s)"
        return f"due in {(self.deadline_at - now).days} day(s)"


def record_request(session: Session, channel: str, event: PrivacyRequestEvent) -> bool:
    """Record ``event`` (False: that request was already recorded)."""
    customer_id = _customer_of(session, channel, event)
    subject = {
        "customer_ref": event.customer_ref,
        "email": event.email,
        "phone": event.phone,
        "orders": list(event.orders),
        "shop": event.shop,
    }
    return insert_ignore(
        session,
        PRIVACY_REQUESTS,
        {
            "channel": channel,
            "external_ref": event.ref,
            "kind": event.kind,
            "customer_ref": None,
            "customer_id": customer_id,
            "subject": seal_json(session, subject, SUBJECT),
            "received_at": event.received_at,
            "deadline_at": event.received_at + DEADLINE,
            "status": "open",
        },
    )


class PrivacyRequests:
    """The tracked requests of a store, and acting on them."""

    def __init__(self, service: PrivacyService, export_dir: Path) -> None:
        self.service = service
        self.store = service.store
        self.export_dir = export_dir

    def list_requests(self, *, status: str | None = None) -> list[PrivacyRequest]:
        """Requests, oldest deadline first (only ``status`` ones when given)."""
        with read_session(self.store.engine) as session:
            query = sa.select(PRIVACY_REQUESTS).order_by(PRIVACY_REQUESTS.c.deadline_at, PRIVACY_REQUESTS.c.id)
            if status is not None:
                query = query.where(PRIVACY_REQUESTS.c.status == status)
            return [_request(row) for row in session.execute(query)]

    async def process(self) -> list[PrivacyRequest]:
        """Act on every open request (see the module docstring); the requests done now, as they stand. A request
        that fails (a channel down, a store error) stays open with the reason in ``result`` and is tried again."""
        done: list[PrivacyRequest] = []
        for request in self.list_requests(status="open"):
            with read_session(self.store.engine) as session:
                subject = open_json(session, _subject(session, request.id), SUBJECT) or {}
            try:
                result, status = await self._act(request, subject)
            except OmnibridgeError as exc:  # stays open, with the reason; the next run tries again
                with write_session(self.store.engine) as session:
                    session.execute(
                        sa.update(PRIVACY_REQUESTS)
                        .where(PRIVACY_REQUESTS.c.id == request.id)
                        .values(result={"error": str(exc)})
                    )
                continue
            with write_session(self.store.engine) as session:
                session.execute(
                    sa.update(PRIVACY_REQUESTS)
                    .where(PRIVACY_REQUESTS.c.id == request.id)
                    .values(status=status, result=result, subject=None, done_at=self.store.now())
                )
            done.extend(r for r in self.list_requests() if r.id == request.id)
        return done

    async def _act(self, request: PrivacyRequest, subject: dict[str, Any]) -> tuple[dict[str, Any], str]:
        customer_id = request.customer_id or self._find(request.channel, subject)
        if request.kind == "data_request":
            return {"file": str(self._export(request.id, customer_id))}, "done"
        if request.kind == "redact":
            result: dict[str, Any] = {"erased": [], "not_erased": []}
            if customer_id is not None and self._live(customer_id):
                report = await self.service.erase(customer_id, requested_by=request.channel, retry_later=True)
                result = report.as_dict()
            with write_session(self.store.engine) as session:
                found = erase_orders(session, request.channel, subject.get("orders") or [])
            if found:
                result["erased"].append(f"addresses of {found} order(s) named by the request")
            return result, "done" if not result["not_erased"] else "incomplete"
        with write_session(self.store.engine) as session:
            return _shop_redact(session, request.channel, now=self.store.now()), "done"

    def _find(self, channel: str, subject: dict[str, Any]) -> str | None:
        event = PrivacyRequestEvent(
            "", "", self.store.now(), subject.get("customer_ref"), subject.get("email"), subject.get("phone")
        )
        with read_session(self.store.engine) as session:
            return _customer_of(session, channel, event)

    def _live(self, customer_id: str) -> bool:
        with read_session(self.store.engine) as session:
            row = session.execute(
                sa.select(CUSTOMERS.c.redacted_at, CUSTOMERS.c.merged_into).where(CUSTOMERS.c.id == customer_id)
            ).first()
        return row is not None and row.redacted_at is None and row.merged_into is None

    def _export(self, request_id: int, customer_id: str | None) -> Path:
        data: dict[str, Any] = {"request": request_id, "held": None}
        if customer_id is not None:
            with read_session(self.store.engine) as session:
                data["held"] = export_customer(session, customer_id)
        self.export_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.export_dir / f"privacy-request-{request_id}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2)
        return path


def _customer_of(session: Session, channel: str, event: PrivacyRequestEvent) -> str | None:
    if event.customer_ref:
        owner = session.execute(
            sa.select(CUSTOMER_IDENTITIES.c.customer_id).where(
                CUSTOMER_IDENTITIES.c.channel == channel, CUSTOMER_IDENTITIES.c.external_id == event.customer_ref
            )
        ).scalar_one_or_none()
        if owner is not None:
            return str(owner)
    matches = directory.find_by_contact(session, email=event.email, phone=event.phone)
    return matches[0] if len(matches) == 1 else None


def _shop_redact(session: Session, channel: str, *, now: datetime) -> dict[str, Any]:
    refs = list(session.execute(sa.select(ORDERS.c.external_id).where(ORDERS.c.channel == channel)).scalars())
    orders = erase_orders(session, channel, refs)
    only_here = session.execute(
        sa.select(CUSTOMER_IDENTITIES.c.customer_id)
        .group_by(CUSTOMER_IDENTITIES.c.customer_id)
        .having(sa.func.min(CUSTOMER_IDENTITIES.c.channel) == channel)
        .having(sa.func.max(CUSTOMER_IDENTITIES.c.channel) == channel)
    ).scalars()
    customers = 0
    for customer_id in list(only_here):
        erase_in_store(session, customer_id, now=now)
        customers += 1
    return {"erased": [f"addresses of {orders} order(s)", f"{customers} customer(s) known only on {channel}"]}


def _subject(session: Session, request_id: int) -> Any:
    query = sa.select(PRIVACY_REQUESTS.c.subject).where(PRIVACY_REQUESTS.c.id == request_id)
    return session.execute(query).scalar_one_or_none()


def _request(row: Any) -> PrivacyRequest:
    return PrivacyRequest(
        row.id,
        row.channel,
        row.kind,
        row.external_ref,
        row.customer_id,
        row.received_at,
        row.deadline_at,
        row.status,
        dict(row.result) if row.result else None,
        row.done_at,
    )
