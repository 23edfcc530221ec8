"""The consent hub: one decision per customer and purpose wins, the latest one, whatever order they arrive in.

Every decision is kept (``consent_decisions``: purpose, granted or not, the channel or person it came from, when
the customer decided and when omnibridge recorded it). The current consent of a purpose is the decision with the
latest ``decided_at`` (on a tie, the one recorded last); a decision older than the current one is kept as history
and changes nothing, so a late webhook never undoes a newer choice. ``customers.consent`` mirrors the current
state for readers of :class:`~omnibridge.models.Customer`.

A decision that becomes current is written back to each channel the customer has an identity on whose connector
is a :class:`~omnibridge.sdk.privacy.ConsentWriter` holding that purpose, except the channel it came from; each
channel's answer is stored with the decision (``writeback``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.errors import ConnectorError, OmnibridgeError
from omnibridge.sdk.privacy import ConsentUpdate, ConsentWriter
from omnibridge.store import Store
from omnibridge.store.engine import read_session, write_session
from omnibridge.store.tables import CONSENT_DECISIONS, CUSTOMER_IDENTITIES, CUSTOMERS

__all__ = ["PURPOSES", "ConsentDecision", "ConsentHub", "current_consent", "mirror_consent", "record_decision"]

PURPOSES = ("email_marketing", "sms_marketing", "analytics")
_MIRROR = {"email_marketing": "marketing_email", "sms_marketing": "marketing_sms", "analytics": "analytics"}


@dataclass(frozen=True, slots=True)
class ConsentDecision:
    """One recorded decision. ``current``: whether it is the one that counts for its purpose now."""

    id: int
    customer_id: str
    purpose: str
    granted: bool
    source: str
    decided_at: datetime
    recorded_at: datetime
    current: bool = False
    writeback: dict[str, Any] = field(default_factory=dict)


def record_decision(
    session: Session,
    customer_id: str,
    purpose: str,
    granted: bool,
    *,
    source: str,
    decided_at: datetime,
    now: datetime,
) -> ConsentDecision:
    """Record a decision and say whether it is now the current one for its purpose (see the module docstring)."""
    if purpose not in PURPOSES:
        raise OmnibridgeError(f"unknown consent purpose {purpose!r}; expected one of: {', '.join(PURPOSES)}")
    if decided_at.tzinfo is None:
        raise OmnibridgeError("a consent decision's time must carry a timezone")
    # lock the customer row: decisions for one customer are ordered, so the mirror matches the latest decision
    row = session.execute(
        sa.select(CUSTOMERS.c.merged_into, CUSTOMERS.c.redacted_at)
        .where(CUSTOMERS.c.id == customer_id)
        .with_for_update()
    ).first()
    if row is None:
        raise OmnibridgeError(f"no customer {customer_id!r}; 'omnibridge customers list' shows their ids")
    if row.merged_into is not None:
        raise OmnibridgeError(f"customer {customer_id!r} was merged into {row.merged_into!r}; use that one")
    if row.redacted_at is not None:
        raise OmnibridgeError(f"customer {customer_id!r} was erased on request")
    decision_id = session.execute(
        sa.insert(CONSENT_DECISIONS)
        .values(
            customer_id=customer_id,
            purpose=purpose,
            granted=granted,
            source=source,
            decided_at=decided_at,
            recorded_at=now,
        )
        .returning(CONSENT_DECISIONS.c.id)
    ).scalar_one()
    current = _current_row(session, customer_id, purpose)
    mirror_consent(session, customer_id)
    return ConsentDecision(
        decision_id,
        customer_id,
        purpose,
        granted,
        source,
        decided_at,
        now,
        current is not None and current.id == decision_id,
    )


def current_consent(session: Session, customer_id: str) -> dict[str, ConsentDecision]:
    """The current decision per purpose (purposes never decided are absent: no consent)."""
    found: dict[str, ConsentDecision] = {}
    for purpose in PURPOSES:
        row = _current_row(session, customer_id, purpose)
        if row is not None:
            found[purpose] = _decision(row, current=True)
    return found


def decisions(session: Session, customer_id: str) -> list[ConsentDecision]:
    """Every decision of ``customer_id``, in the order they were recorded."""
    current_ids = {d.id for d in current_consent(session, customer_id).values()}
    rows = session.execute(
        sa.select(CONSENT_DECISIONS)
        .where(CONSENT_DECISIONS.c.customer_id == customer_id)
        .order_by(CONSENT_DECISIONS.c.id)
    ).all()
    return [_decision(r, current=r.id in current_ids) for r in rows]


def mirror_consent(session: Session, customer_id: str) -> None:
    """Copy the current decisions into ``customers.consent``."""
    current = current_consent(session, customer_id)
    mirror: dict[str, Any] = {name: False for name in _MIRROR.values()}
    mirror["data_processing"] = True
    for purpose, decision in current.items():
        mirror[_MIRROR[purpose]] = decision.granted
    if current:
        latest = max(current.values(), key=lambda d: (d.decided_at, d.id))
        mirror["recorded_at"] = latest.decided_at.isoformat()
        mirror["source"] = latest.source
    session.execute(sa.update(CUSTOMERS).where(CUSTOMERS.c.id == customer_id).values(consent=mirror))


class ConsentHub:
    """Record decisions in a :class:`Store` and write current ones back to the channels (see module docstring).

    ``writers`` maps channel ids to their connectors that are consent writers.
    """

    def __init__(self, store: Store, writers: Mapping[str, ConsentWriter] | None = None) -> None:
        self.store = store
        self.writers = dict(writers or {})

    async def decide(
        self, customer_id: str, purpose: str, granted: bool, *, source: str, decided_at: datetime | None = None
    ) -> ConsentDecision:
        """Record a decision (``decided_at`` defaults to now) and, if it is current, write it back."""
        now = self.store.now()
        with write_session(self.store.engine) as session:
            decision = record_decision(
                session, customer_id, purpose, granted, source=source, decided_at=decided_at or now, now=now
            )
            identities = session.execute(
                sa.select(CUSTOMER_IDENTITIES.c.channel, CUSTOMER_IDENTITIES.c.external_id)
                .where(CUSTOMER_IDENTITIES.c.customer_id == customer_id)
                .order_by(CUSTOMER_IDENTITIES.c.position)
            ).all()
        if not decision.current:
            return decision
        answers: dict[str, Any] = {}
        for channel, external_id in identities:
            writer = self.writers.get(channel)
            if writer is None or channel == source or purpose not in writer.consent_purposes:
                continue
            update = ConsentUpdate(external_id, purpose, granted, decision.decided_at)
            try:
                result = await writer.write_consent(update)
                answers[f"{channel}:{external_id}"] = {"done": result.done, "reason": result.reason}
            except ConnectorError as exc:
                answers[f"{channel}:{external_id}"] = {"done": False, "reason": str(exc)}
        if answers:
            with write_session(self.store.engine) as session:
                session.execute(
                    sa.update(CONSENT_DECISIONS).where(CONSENT_DECISIONS.c.id == decision.id).values(writeback=answers)
                )
        return ConsentDecision(
            decision.id,
            decision.customer_id,
            decision.purpose,
            decision.granted,
            decision.source,
            decision.decided_at,
            decision.recorded_at,
            decision.current,
            answers,
        )

    def current(self, customer_id: str) -> dict[str, ConsentDecision]:
        """See :func:`current_consent`."""
        with read_session(self.store.engine) as session:
            return current_consent(session, customer_id)

    def decisions(self, customer_id: str) -> list[ConsentDecision]:
        """See :func:`decisions`."""
        with read_session(self.store.engine) as session:
            return decisions(session, customer_id)


def _current_row(session: Session, customer_id: str, purpose: str) -> Any:
    return session.execute(
        sa.select(CONSENT_DECISIONS)
        .where(CONSENT_DECISIONS.c.customer_id == customer_id, CONSENT_DECISIONS.c.purpose == purpose)
        .order_by(CONSENT_DECISIONS.c.decided_at.desc(), CONSENT_DECISIONS.c.id.desc())
        .limit(1)
    ).first()


def _decision(row: Any, *, current: bool) -> ConsentDecision:
    return ConsentDecision(
        row.id,
        row.customer_id,
        row.purpose,
        row.granted,
        row.source,
        row.decided_at,
        row.recorded_at,
        current,
        dict(row.writeback or {}),
    )
