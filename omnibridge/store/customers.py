"""Customers and their identities on each channel."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from omnibridge.customers.identity import normalise_email, normalise_phone
from omnibridge.customers.protect import lookup_key, seal, unseal
from omnibridge.errors import ConflictError
from omnibridge.models import Address, ChannelIdentity, Consent, Customer
from omnibridge.store.sql import dump, insert_ignore, upsert
from omnibridge.store.tables import CUSTOMER_IDENTITIES, CUSTOMERS, CustomerIdentityRow, CustomerRow


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
            "email": seal(customer.email),
            "phone": seal(customer.phone),
            "first_name": seal(customer.first_name),
            "last_name": seal(customer.last_name),
            "default_address": _seal_address(customer.default_address),
            "consent": customer.consent.model_dump(mode="json"),
            "redacted_at": customer.redacted_at,
            "email_key": lookup_key("email", normalise_email(customer.email)),
            "phone_key": lookup_key("phone", normalise_phone(customer.phone, region)),
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
        email=unseal(row.email),
        phone=unseal(row.phone),
        first_name=unseal(row.first_name),
        last_name=unseal(row.last_name),
        default_address=_unseal_address(row.default_address),
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


_SEALED_ADDRESS_FIELDS = ("name", "company", "line1", "line2", "city", "postal_code", "phone")


def _seal_address(address: Address | None) -> dict[str, object] | None:
    data = dump(address)
    if data is None:
        return None
    return {k: seal(v) if k in _SEALED_ADDRESS_FIELDS and isinstance(v, str) else v for k, v in data.items()}


def _unseal_address(data: dict[str, object] | None) -> Address | None:
    if data is None:
        return None
    plain = {k: unseal(v) if k in _SEALED_ADDRESS_FIELDS and isinstance(v, str) else v for k, v in data.items()}
    return Address.model_validate(plain)
