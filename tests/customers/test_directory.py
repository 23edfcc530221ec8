"""One customer across channels: resolution by normalised email and E.164 phone, merges and splits with history."""

from __future__ import annotations

from itertools import count

import pytest
import sqlalchemy as sa

from omnibridge.customers.directory import CustomerDirectory, ObservedIdentity
from omnibridge.customers.identity import normalise_email, normalise_phone
from omnibridge.errors import OmnibridgeError
from omnibridge.store import Store
from omnibridge.store.tables import CUSTOMER_IDENTITIES, CUSTOMERS


def directory(store: Store) -> CustomerDirectory:
    ids = count(1)
    return CustomerDirectory(store, new_id=lambda: f"cus-{next(ids)}")


def test_emails_are_trimmed_and_lowercased_but_gmail_dots_are_kept() -> None:
    assert normalise_email("  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com"
    assert normalise_email("a.da@gmail.com") != normalise_email("ada@gmail.com")
    assert normalise_email("not an email") is None
    assert normalise_email("ada@localhost") is None


def test_phones_become_e164_in_the_address_country() -> None:
    assert normalise_phone("(415) 555-0132", "US") == "+14155550132"
    assert normalise_phone("+44 20 7946 0958") == "+442079460958"
    assert normalise_phone("020 7946 0958", "GB") == "+442079460958"
    assert normalise_phone("12", "US") is None


def test_identities_from_four_channels_resolve_to_one_customer(store: Store) -> None:
    people = directory(store)
    shopify = people.resolve(
        ObservedIdentity("shopify", "gid://shopify/Customer/7", email="Ada@Example.com", first_name="Ada")
    )
    square = people.resolve(
        ObservedIdentity("square", "SQ-1", email=" ada@example.COM ", phone="(415) 555-0132", region="US")
    )
    clover = people.resolve(ObservedIdentity("clover", "CL-9", phone="+1 415-555-0132"))
    amazon = people.resolve(ObservedIdentity("amazon", "AMZ-1", email="x7k2@marketplace.amazon.com"))
    assert shopify == square == clover
    assert amazon != shopify
    customer = people.require(shopify)
    assert [(i.channel, i.external_id) for i in customer.identities] == [
        ("shopify", "gid://shopify/Customer/7"),
        ("square", "SQ-1"),
        ("clover", "CL-9"),
    ]
    assert customer.first_name == "Ada"
    assert customer.phone == "+1 415-555-0132"
    assert people.find(email="ADA@example.com") == [shopify]
    assert people.find(phone="+14155550132") == [shopify]
    # seeing an identity again attaches nothing new
    assert people.resolve(ObservedIdentity("square", "SQ-1")) == shopify


def test_a_merge_moves_identities_orders_and_is_recorded(store: Store) -> None:
    people = directory(store)
    ada = people.resolve(ObservedIdentity("shopify", "7", email="ada@example.com"))
    other = people.resolve(ObservedIdentity("square", "SQ-1", email="a.lovelace@example.com"))
    assert ada != other
    record = people.merge(ada, other, reason="same person, two emails", actor="ops")
    assert record.identities == [{"channel": "square", "external_id": "SQ-1"}]
    assert [i.external_id for i in people.require(ada).identities] == ["7", "SQ-1"]
    assert people.require(other).merged_into == ada
    assert people.resolve(ObservedIdentity("square", "SQ-1")) == ada
    assert [(h.kind, h.customer_id, h.other_id, h.reason) for h in people.history(other)] == [
        ("merge", ada, other, "same person, two emails")
    ]
    assert [c.id for c in people.list_customers()] == [ada]
    with pytest.raises(OmnibridgeError, match="was merged into"):
        people.merge(other, ada)


def test_a_split_moves_identities_to_a_new_customer_with_history(store: Store) -> None:
    people = directory(store)
    ada = people.resolve(ObservedIdentity("shopify", "7", email="family@example.com", first_name="Ada"))
    assert people.resolve(ObservedIdentity("square", "SQ-1", email="family@example.com", first_name="Byron")) == ada
    record = people.split(ada, [("square", "SQ-1")], reason="shared family email")
    assert record.kind == "split"
    split_off = people.require(record.other_id)
    assert [i.external_id for i in split_off.identities] == ["SQ-1"]
    assert split_off.first_name == "Byron"
    assert people.require(ada).first_name == "Ada"
    assert [h.kind for h in people.history(ada)] == ["split"]
    with pytest.raises(OmnibridgeError, match="has no identity square:SQ-1"):
        people.split(ada, [("square", "SQ-1")])
    with pytest.raises(OmnibridgeError, match="would leave it empty"):
        people.split(ada, [("shopify", "7")])


def test_names_emails_and_phones_are_stored_encrypted_and_found_by_blind_index(store: Store) -> None:
    people = directory(store)
    ada = people.resolve(
        ObservedIdentity(
            "shopify", "7", email="Ada@Example.com", phone="+14155550132", first_name="Ada", last_name="King"
        )
    )
    with store.engine.connect() as connection:
        dump = " ".join(
            repr(tuple(row))
            for table in (CUSTOMERS, CUSTOMER_IDENTITIES)
            for row in connection.execute(sa.select(table))
        )
    for clear in ("ada@example.com", "Ada@Example.com", "4155550132", "Ada", "King"):
        assert clear not in dump
    assert "enc:v1:t1:" in dump
    assert people.find(email=" ADA@example.com") == [ada]
    assert people.require(ada).last_name == "King"
