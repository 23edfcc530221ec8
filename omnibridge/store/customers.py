"""Customers and their identities on each channel."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from omnibridge.errors import ConflictError
from omnibridge.models import Address, ChannelIdentity, Consent, Customer
from omnibridge.store.sql import dump, insert_ignore, upsert
from omnibridge.store.tables import CUSTOMER_IDENTITIES, CUSTOMERS, CustomerIdentityRow, CustomerRow


def save_customer(session: Session, customer: Customer) -> None:
    """Insert or update ``customer`` by id, with exactly the identities it lists.

    Raises :class:`ConflictError` if one of its channel identities already belongs to another customer.
    """
    upsert(
        session,
        CUSTOMERS,
        {
            "id": customer.id,
            "email": customer.email,
            "phone": customer.phone,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "default_address": dump(customer.default_address),
            "consent": customer.consent.model_dump(mode="json"),
            "redacted_at": customer.redacted_at,
        },
        key=["id"],
    )
    session.execute(sa.delete(CUSTOMER_IDENTITIES).where(CUSTOMER_IDENTITIES.c.customer_id == customer.id))
    for position, identity in enumerate(customer.identities):
        values = {
            "channel": identity.channel,
            "external_id": identity.external_id,
            "customer_id": customer.id,
            "position": position,
        }
        if not insert_ignore(session, CUSTOMER_IDENTITIES, values):
            owner = _owner(session, identity.channel, identity.external_id)
            raise ConflictError(
                f"{identity.channel} customer {identity.external_id!r} already belongs to customer {owner!r}, "
                f"not {customer.id!r}"
            )


def get_customer(session: Session, customer_id: str) -> Customer | None:
    row = session.get(CustomerRow, customer_id)
    if row is None:
        return None
    identities = session.exec(
        select(CustomerIdentityRow)
        .where(CustomerIdentityRow.customer_id == customer_id)
        .order_by(col(CustomerIdentityRow.position))
    ).all()
    return Customer(
        id=row.id,
        email=row.email,
        phone=row.phone,
        first_name=row.first_name,
        last_name=row.last_name,
        default_address=None if row.default_address is None else Address.model_validate(row.default_address),
        identities=[ChannelIdentity(channel=i.channel, external_id=i.external_id) for i in identities],
        consent=Consent.model_validate(row.consent),
        redacted_at=row.redacted_at,
    )


def find_customer(session: Session, channel: str, external_id: str) -> Customer | None:
    owner = _owner(session, channel, external_id)
    return None if owner is None else get_customer(session, owner)


def _owner(session: Session, channel: str, external_id: str) -> str | None:
    row = session.get(CustomerIdentityRow, (channel, external_id))
    return None if row is None else row.customer_id
