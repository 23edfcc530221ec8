"""Customers and their identities on each channel."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from omnibridge.customers.identity import normalise_email, normalise_phone
from omnibridge.customers.protect import lookup_key, open_json, seal, seal_json, unseal
from omnibridge.errors import ConflictError
from omnibridge.models import Address, ChannelIdentity, Consent, Customer
from omnibridge.store.sql import dump, insert_ignore, upsert
from omnibridge.store.tables import CUSTOMER_IDENTITIES, CUSTOMERS, CustomerIdentityRow, CustomerRow

EMAIL = "customers.email"
PHONE = "customers.phone"
FIRST_NAME = "customers.first_name"
LAST_NAME = "customers.last_name"
ADDRESS = "customers.default_address"
DETAILS = "customer_identities.details"
SUBJECT = "privacy_requests.subject"
"""Encryption contexts of the customers' sealed columns (see :mod:`omnibridge.customers.protect`)."""
FIELD_CONTEXTS = {"email": EMAIL, "phone": PHONE, "first_name": FIRST_NAME, "last_name": LAST_NAME}


def save_customer(session: Session, customer: Customer) -> None:
    """Insert or update ``customer`` by id, with exactly the identities it lists (an identity it keeps keeps the
    contact details its channel gave). Names, email, phone and address are stored sealed
    (:mod:`omnibridge.customers.protect`), with the lookup keys of the normalised email and phone.

    Raises :class:`ConflictError` if one of its channel identities already belongs to another customer.
    """
    region = customer.default_address.country if customer.default_address else None
    upsert(
        session,
        CUSTOMERS,
        {
            "id": customer.id,
            "email": seal(session, customer.email, EMAIL),
            "phone": seal(session, customer.phone, PHONE),
            "first_name": seal(session, customer.first_name, FIRST_NAME),
            "last_name": seal(session, customer.last_name, LAST_NAME),
            "default_address": seal_json(session, dump(customer.default_address), ADDRESS),
            "consent": customer.consent.model_dump(mode="json"),
            "redacted_at": customer.redacted_at,
            "email_key": lookup_key(session, "email", normalise_email(customer.email)),
            "phone_key": lookup_key(session, "phone", normalise_phone(customer.phone, region)),
        },
        key=["id"],
    )
    kept = [(i.channel, i.external_id) for i in customer.identities]
    stale = sa.delete(CUSTOMER_IDENTITIES).where(CUSTOMER_IDENTITIES.c.customer_id == customer.id)
    if kept:
        stale = stale.where(sa.tuple_(CUSTOMER_IDENTITIES.c.channel, CUSTOMER_IDENTITIES.c.external_id).not_in(kept))
    session.execute(stale)
    for position, identity in enumerate(customer.identities):
        values = {
            "channel": identity.channel,
            "external_id": identity.external_id,
            "customer_id": customer.id,
            "position": position,
        }
        if insert_ignore(session, CUSTOMER_IDENTITIES, values):
            continue
        owner = _owner(session, identity.channel, identity.external_id)
        if owner == customer.id:
            session.execute(
                sa.update(CUSTOMER_IDENTITIES)
                .where(CUSTOMER_IDENTITIES.c.channel == identity.channel)
                .where(CUSTOMER_IDENTITIES.c.external_id == identity.external_id)
                .values(position=position)
            )
        else:
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
        email=unseal(session, row.email, EMAIL),
        phone=unseal(session, row.phone, PHONE),
        first_name=unseal(session, row.first_name, FIRST_NAME),
        last_name=unseal(session, row.last_name, LAST_NAME),
        default_address=_address(open_json(session, row.default_address, ADDRESS)),
        identities=[ChannelIdentity(channel=i.channel, external_id=i.external_id) for i in identities],
        consent=Consent.model_validate(row.consent),
        redacted_at=row.redacted_at,
        merged_into=row.merged_into,
    )


def find_customer(session: Session, channel: str, external_id: str) -> Customer | None:
    owner = _owner(session, channel, external_id)
    return None if owner is None else get_customer(session, owner)


def _owner(session: Session, channel: str, external_id: str) -> str | None:
    row = session.get(CustomerIdentityRow, (channel, external_id))
    return None if row is None else row.customer_id


def _address(data: object) -> Address | None:
    return None if data is None else Address.model_validate(data)
