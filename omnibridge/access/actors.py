"""Roles and actors: who may do what (:class:`Role`), and who did it (:class:`Actor`)."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a token may do, each role including the ones below it.

    * ``viewer``: read everything the API serves (incidents, dead letters, orders, metrics when protected);
    * ``operator``: a viewer who also acts: replay and discard dead letters, resolve incidents, accept, reject and
      re-route orders;
    * ``admin``: everything, including API tokens, the audit log and encryption keys.
    """

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what ``needed`` may."""
        return self.rank >= needed.rank

    @classmethod
    def parse(cls, value: str) -> Role:
        """``value`` as a role; ``ValueError`` naming the roles otherwise."""
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise ValueError(f"{value!r} is not a role; expected one of: {', '.join(r.value for r in cls)}") from None


_RANKS = {Role.VIEWER: 1, Role.OPERATOR: 2, Role.ADMIN: 3}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change, as the audit log names them: ``token:<id> (<name>)``, ``user:<os user>`` or
    ``system:<component>``."""

    kind: str
    id: str
    name: str = ""

    def __str__(self) -> str:
        label = f"{self.kind}:{self.id}"
        return f"{label} ({self.name})" if self.name and self.name != self.id else label

    @classmethod
    def os_user(cls) -> Actor:
        """The person running a CLI command, by their operating-system user name."""
        try:
            user = getpass.getuser()
        except Exception:  # no user name in the environment or the password database
            user = "unknown"
        return cls("user", user)

    @classmethod
    def token(cls, token_id: str, name: str) -> Actor:
        return cls("token", token_id, name)

    @classmethod
    def system(cls, component: str) -> Actor:
        return cls("system", component)
