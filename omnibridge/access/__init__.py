"""Who may do what, and a record of it: admin API tokens with roles (:mod:`omnibridge.access.tokens`) and the
hash-chained audit log (:mod:`omnibridge.access.audit`). See docs/security.md, "Access control and audit"."""

from omnibridge.access.actors import Actor, Role

__all__ = ["Actor", "Role"]
