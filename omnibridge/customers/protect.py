"""How customers' personal data is kept in the store: sealed values and blind-index lookup keys.

Names, emails, phones, addresses and each channel's contact details are stored encrypted
(:mod:`omnibridge.security.crypto`: AES-GCM, the key id in every value, a context per column so a value copied
elsewhere does not open); a normalised email or phone is found by its blind index (HMAC-SHA256 under the index
key), never by plaintext. Every read and write of customers' personal data goes through this module.

The keyring is the store's (:func:`keyring_for`): the same rule as the rest of the store's sealed columns —
``OMNIBRIDGE_DATA_KEYS``/``OMNIBRIDGE_INDEX_KEY``, else ``OMNIBRIDGE_KEY_FILE``, else ``<store file>.keys`` next
to a SQLite store (``$XDG_CONFIG_HOME/omnibridge/data-keys`` for PostgreSQL), generated owner-only on first use.
A value stored before encryption was switched on is read as it is.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL
from sqlmodel import Session

from omnibridge.security.crypto import Keyring, is_encrypted, load_keyring

__all__ = ["keyring_for", "lookup_key", "open_json", "seal", "seal_json", "unseal", "use_keyring"]

_lock = threading.Lock()
_keyrings: dict[str, Keyring] = {}


def _default_key_file(url: URL) -> Path:
    if url.drivername.startswith("sqlite") and url.database:
        return Path(url.database).with_name(Path(url.database).name + ".keys")
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "omnibridge" / "data-keys"


def use_keyring(url: URL, keyring: Keyring | None) -> None:
    """Use ``keyring`` for the store at ``url`` in this process (None: load it again on next use)."""
    with _lock:
        if keyring is None:
            _keyrings.pop(url.render_as_string(hide_password=False), None)
        else:
            _keyrings[url.render_as_string(hide_password=False)] = keyring


def keyring_for(session: Session) -> Keyring:
    """The keyring of the store ``session`` runs against (loaded, or generated, once per process)."""
    url = session.get_bind().engine.url
    key = url.render_as_string(hide_password=False)
    with _lock:
        found = _keyrings.get(key)
        if found is None:
            found = _keyrings[key] = load_keyring(_default_key_file(url))
        return found


def seal(session: Session, value: str | None, context: str) -> str | None:
    """``value`` encrypted for column ``context`` (None stays None)."""
    return None if value is None else keyring_for(session).encrypt(value, context=context)


def unseal(session: Session, value: str | None, context: str) -> str | None:
    """The plaintext :func:`seal` stored (a value stored in clear before encryption, as it is)."""
    if value is None or not is_encrypted(value):
        return value
    return keyring_for(session).decrypt(value, context=context)


def seal_json(session: Session, value: Any, context: str) -> str | None:
    """A JSON-able ``value`` as one encrypted string (None stays None)."""
    return None if value is None else seal(session, json.dumps(value, separators=(",", ":")), context)


def open_json(session: Session, stored: Any, context: str) -> Any:
    """What :func:`seal_json` stored (a JSON value stored in clear, as it is)."""
    if isinstance(stored, str) and is_encrypted(stored):
        return json.loads(keyring_for(session).decrypt(stored, context=context))
    return stored


def lookup_key(session: Session, kind: str, normalised: str | None) -> str | None:
    """The blind index a normalised ``kind`` (``email`` or ``phone``) value is looked up by, or None."""
    return None if normalised is None else keyring_for(session).blind_index(normalised, purpose=f"customer.{kind}")
