"""Admin API tokens on every backend: shown once, stored hashed, refused once revoked or expired, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from support import TickingClock

from omnibridge.access import Actor, Role, audit, tokens
from omnibridge.errors import OmnibridgeError
from omnibridge.store import Store
from omnibridge.store.tables import API_TOKENS

ADMIN = Actor("user", "alice")


def test_a_token_is_shown_once_and_only_its_hash_is_stored(store: Store) -> None:
    created, token = tokens.create(store, Role.OPERATOR, "night shift", ADMIN)
    assert token.startswith(f"obt_{created.id}_")
    assert len(token) == 4 + 12 + 1 + 43
    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(API_TOKENS)).one()._asdict()
    assert token not in {str(value) for value in stored.values()}
    assert token.split("_", 2)[2] not in str(stored)
    assert stored["token_hash"] == tokens.hash_token(token)
    found = tokens.authenticate(store, token)
    assert found is not None
    assert (found.id, found.name, found.role) == (created.id, "night shift", Role.OPERATOR)


def test_wrong_malformed_and_unknown_tokens_are_refused(store: Store) -> None:
    created, token = tokens.create(store, Role.ADMIN, "ci", ADMIN)
    assert tokens.authenticate(store, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert tokens.authenticate(store, "obt_000000000000_" + token.split("_", 2)[2]) is None
    assert tokens.authenticate(store, "") is None
    assert tokens.authenticate(store, created.id) is None


def test_a_revoked_token_is_refused_and_listed_as_revoked(store: Store) -> None:
    created, token = tokens.create(store, Role.VIEWER, "grafana", ADMIN)
    revoked = tokens.revoke(store, created.id, Actor("user", "bob"))
    assert revoked.revoked_by == "user:bob"
    assert tokens.authenticate(store, token) is None
    [listed] = tokens.tokens(store)
    assert listed.state(store.now()) == "revoked"
    with pytest.raises(OmnibridgeError, match="already revoked"):
        tokens.revoke(store, created.id, ADMIN)
    with pytest.raises(OmnibridgeError, match="no API token 'nope'"):
        tokens.revoke(store, "nope", ADMIN)


def test_an_expired_token_is_refused(store: Store, clock: TickingClock) -> None:
    _, token = tokens.create(store, Role.VIEWER, "temp", ADMIN, expires_days=1)
    assert tokens.authenticate(store, token) is not None
    clock.now += timedelta(days=1)
    assert tokens.authenticate(store, token) is None
    assert tokens.tokens(store)[0].state(store.now()) == "expired"


def test_bad_names_and_expiry_are_refused(store: Store) -> None:
    with pytest.raises(OmnibridgeError, match="--name"):
        tokens.create(store, Role.VIEWER, "  ", ADMIN)
    with pytest.raises(OmnibridgeError, match="--expires 0"):
        tokens.create(store, Role.VIEWER, "x", ADMIN, expires_days=0)
    assert tokens.tokens(store) == []


def test_creation_and_revocation_are_audited_without_the_token(store: Store) -> None:
    created, token = tokens.create(store, Role.ADMIN, "ops", ADMIN, expires_days=30)
    tokens.revoke(store, created.id, Actor("user", "bob"))
    found = audit.records(store)
    assert [(r.action, r.actor, r.subject) for r in found] == [
        ("token.create", "user:alice", f"token:{created.id}"),
        ("token.revoke", "user:bob", f"token:{created.id}"),
    ]
    assert found[0].after["role"] == "admin"
    assert found[1].after["state"] == "revoked"
    assert token.split("_", 2)[2] not in str([r.as_dict() for r in found])


def test_roles_include_the_ones_below() -> None:
    assert Role.ADMIN.allows(Role.OPERATOR)
    assert Role.OPERATOR.allows(Role.VIEWER)
    assert not Role.VIEWER.allows(Role.OPERATOR)
    assert not Role.OPERATOR.allows(Role.ADMIN)
    assert Role.parse(" Operator ") is Role.OPERATOR
    with pytest.raises(ValueError, match="expected one of: viewer, operator, admin"):
        Role.parse("root")
