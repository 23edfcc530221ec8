"""Admin API bearer tokens: created with a role, shown once, stored hashed, revoked for good.

A token reads ``obt_<id>_<secret>``: ``id`` (12 hex digits) is its public name, shown in lists and audit records;
``secret`` is 32 random bytes (URL-safe base64). The store keeps only the SHA-256 of the whole token, so a copy
of the database cannot be used to call the API. :func:`authenticate` finds the row by id and compares the hashes
in constant time; an unknown, revoked or expired token is refused the same way.

Every creation and revocation is recorded in the audit log in the same transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa

from omnibridge.access import audit
from omnibridge.access.actors import Actor, Role
from omnibridge.errors import OmnibridgeError
from omnibridge.store.engine import read_session, write_session
from omnibridge.store.store import Store
from omnibridge.store.tables import API_TOKENS

PREFIX = "obt_"
_SHAPE = re.compile(r"^obt_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$")
MAX_NAME = 128


class UnknownTokenError(OmnibridgeError):
    """No API token has that id."""


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token as listed (never its secret)."""

    id: str
    name: str
    role: Role
    created_at: datetime
    created_by: str
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    def state(self, now: datetime) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def as_dict(self, now: datetime) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "state": self.state(now),
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revoked_by": self.revoked_by,
        }

    @property
    def actor(self) -> Actor:
        return Actor.token(self.id, self.name)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _row(row: sa.Row[tuple[object, ...]]) -> ApiToken:
    m = row._mapping
    return ApiToken(
        id=m["id"],
        name=m["name"],
        role=Role(m["role"]),
        created_at=m["created_at"],
        created_by=m["created_by"],
        expires_at=m["expires_at"],
        revoked_at=m["revoked_at"],
        revoked_by=m["revoked_by"],
    )


def create(
    store: Store, role: Role, name: str, actor: Actor, *, expires_days: int | None = None
) -> tuple[ApiToken, str]:
    """Create a token; returns it and the token string, which is never available again."""
    label = " ".join(name.split())
    if not label or len(label) > MAX_NAME:
        raise OmnibridgeError(f"--name: give the token a name of 1 to {MAX_NAME} characters (who or what uses it)")
    if expires_days is not None and expires_days < 1:
        raise OmnibridgeError(f"--expires {expires_days}: expected a number of days, 1 or more")
    token_id = secrets.token_hex(6)
    token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    now = store.now()
    expires = now + timedelta(days=expires_days) if expires_days is not None else None
    created = ApiToken(token_id, label, role, now, str(actor), expires)
    with write_session(store.engine) as session:
        session.execute(
            sa.insert(API_TOKENS).values(
                id=token_id,
                name=label,
                role=role.value,
                token_hash=hash_token(token),
                created_at=now,
                created_by=str(actor),
                expires_at=expires,
            )
        )
        after = {"name": label, "role": role.value, "expires_at": expires.isoformat() if expires else None}
        audit.record(session, actor, "token.create", f"token:{token_id}", None, after, at=now)
    return created, token


def tokens(store: Store) -> list[ApiToken]:
    """Every token, oldest first, revoked and expired ones included."""
    with read_session(store.engine) as session:
        rows = session.execute(sa.select(API_TOKENS).order_by(API_TOKENS.c.created_at, API_TOKENS.c.id))
        return [_row(row) for row in rows]


def revoke(store: Store, token_id: str, actor: Actor) -> ApiToken:
    """Revoke a token for good (it is kept, listed as revoked); an unknown or already revoked id is an error."""
    now = store.now()
    with write_session(store.engine) as session:
        row = session.execute(sa.select(API_TOKENS).where(API_TOKENS.c.id == token_id).with_for_update()).first()
        if row is None:
            raise UnknownTokenError(f"no API token {token_id!r}; see 'omnibridge tokens list' for the ids")
        found = _row(row)
        if found.revoked_at is not None:
            raise OmnibridgeError(f"API token {token_id} was already revoked at {found.revoked_at.isoformat()}")
        session.execute(
            sa.update(API_TOKENS).where(API_TOKENS.c.id == token_id).values(revoked_at=now, revoked_by=str(actor))
        )
        before = {"name": found.name, "role": found.role.value, "state": found.state(now)}
        audit.record(
            session, actor, "token.revoke", f"token:{token_id}", before, {**before, "state": "revoked"}, at=now
        )
    return replace(found, revoked_at=now, revoked_by=str(actor))


def authenticate(store: Store, token: str) -> ApiToken | None:
    """The active token ``token`` is, or None (malformed, unknown, revoked or expired)."""
    shape = _SHAPE.match(token.strip())
    if shape is None:
        return None
    with read_session(store.engine) as session:
        row = session.execute(sa.select(API_TOKENS).where(API_TOKENS.c.id == shape.group(1))).first()
    if row is None or not hmac.compare_digest(str(row._mapping["token_hash"]), hash_token(token.strip())):
        return None
    found = _row(row)
    return found if found.state(store.now()) == "active" else None
