"""How customers' personal data is kept in the store: sealed values and blind-index lookup keys.

Names, emails, phones, addresses and each channel's contact details are stored encrypted
(:mod:`omnibridge.security.crypto`: AES-GCM, the key id in every value, a context per column so a value copied
elsewhere does not open); a normalised email or phone is found by its blind index (HMAC-SHA256 under the index
key), never by plaintext. Every read and write of customers' personal data goes through this module, with the
store's keyring (:mod:`omnibridge.store.sealed`: the same keys as every sealed column, reloaded after a rotation).
A value stored before encryption was switched on is read as it is; ``omnibridge keys rotate`` seals it.
"""

from __future__ import annotations

from sqlmodel import Session

from omnibridge.security.crypto import DataKeyError, is_encrypted
from omnibridge.store.sealed import keyring_for, open_json, seal_json

__all__ = ["keyring_for", "lookup_key", "open_json", "seal", "seal_json", "unseal"]


def seal(session: Session, value: str | None, context: str) -> str | None:
    """``value`` encrypted for column ``context`` (None stays None)."""
    return None if value is None else keyring_for(session).encrypt(value, context=context)


def unseal(session: Session, value: str | None, context: str) -> str | None:
    """The plaintext :func:`seal` stored (a value stored in clear before encryption, as it is)."""
    if value is None or not is_encrypted(value):
        return value
    try:
        return keyring_for(session).decrypt(value, context=context)
    except DataKeyError:  # sealed with a key this process has not loaded yet (a rotation under way)
        return keyring_for(session, reload=True).decrypt(value, context=context)


def lookup_key(session: Session, kind: str, normalised: str | None) -> str | None:
    """The blind index a normalised ``kind`` (``email`` or ``phone``) value is looked up by, or None."""
    return None if normalised is None else keyring_for(session).blind_index(normalised, purpose=f"customer.{kind}")
