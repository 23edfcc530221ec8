"""How customers' personal data is kept in the store: sealed values and lookup keys.

:func:`seal` turns a name, email or phone into what is stored and :func:`unseal` back; :func:`lookup_key` gives
the key a normalised email or phone is found by. Every read and write of personal data in
:mod:`omnibridge.customers` goes through these three, so the storage form is decided here only.
"""

from __future__ import annotations

__all__ = ["lookup_key", "seal", "unseal"]


def seal(value: str | None) -> str | None:
    """The stored form of ``value`` (None stays None)."""
    return value


def unseal(value: str | None) -> str | None:
    """The value :func:`seal` stored."""
    return value


def lookup_key(kind: str, normalised: str | None) -> str | None:
    """The key a normalised ``kind`` (``email`` or ``phone``) value is looked up by, or None."""
    return None if normalised is None else f"{kind}:{normalised}"
