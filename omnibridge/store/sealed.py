"""Personal data sealed at rest: which keyring a store uses, and sealing/opening column values.

Repositories call :func:`seal_json` / :func:`open_json` (JSON columns such as ``orders.ship_to``) and
:func:`seal_bytes` / :func:`open_bytes` (``webhook_inbox.raw_body``) with the session they run in; the keyring
is found from the session's database:

- a keyring registered for the database URL (:func:`use_keyring`: tests, ``omnibridge keys rotate``);
- else :func:`omnibridge.security.crypto.load_keyring`: ``OMNIBRIDGE_DATA_KEYS``, ``OMNIBRIDGE_KEY_FILE``, else
  the default key file — ``<store file>.keys`` next to a SQLite store, ``$XDG_CONFIG_HOME/omnibridge/data-keys``
  (``~/.config/...``) for PostgreSQL — generated owner-only on first use.

A value stored before encryption was switched on (a plain JSON object, raw bytes) is read as it is;
``omnibridge keys rotate`` seals it.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlmodel import Session

from omnibridge.security.crypto import Keyring, is_encrypted, load_keyring

_lock = threading.Lock()
_keyrings: dict[str, Keyring] = {}


def _key(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def default_key_file(url: URL) -> Path:
    """Where the generated key file of the store at ``url`` lives (see the module docstring)."""
    if url.drivername.startswith("sqlite") and url.database:
        return Path(url.database).with_name(Path(url.database).name + ".keys")
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "omnibridge" / "data-keys"


def use_keyring(url: URL | str, keyring: Keyring | None) -> None:
    """Use ``keyring`` for the store at ``url`` in this process (None: forget it, load again on next use)."""
    key = _key(sa.make_url(url) if isinstance(url, str) else url)
    with _lock:
        if keyring is None:
            _keyrings.pop(key, None)
        else:
            _keyrings[key] = keyring


def keyring_for_url(url: URL | str) -> Keyring:
    """The keyring of the store at ``url`` (loaded, or generated, once per process)."""
    parsed = sa.make_url(url) if isinstance(url, str) else url
    key = _key(parsed)
    with _lock:
        found = _keyrings.get(key)
        if found is None:
            found = _keyrings[key] = load_keyring(default_key_file(parsed))
        return found


def keyring_for(session: Session) -> Keyring:
    """The keyring of the database ``session`` runs against."""
    return keyring_for_url(session.get_bind().engine.url)


def seal_json(session: Session, value: Any, context: str) -> str | None:
    """``value`` (a JSON-able object, or None) as an ``enc:v1:`` string for a JSON column."""
    if value is None:
        return None
    return keyring_for(session).encrypt(json.dumps(value, separators=(",", ":")), context=context)


def open_json(session: Session, stored: Any, context: str) -> Any:
    """The object a JSON column holds: decrypted when sealed, as it is when stored before encryption."""
    if isinstance(stored, str) and is_encrypted(stored):
        return json.loads(keyring_for(session).decrypt(stored, context=context))
    return stored


def seal_bytes(session: Session, value: bytes, context: str) -> bytes:
    return keyring_for(session).encrypt_bytes(value, context=context)


def open_bytes(session: Session, stored: bytes, context: str) -> bytes:
    """The plaintext of a sealed bytes column (bytes stored before encryption as they are)."""
    return keyring_for(session).decrypt_bytes(stored, context=context) if is_encrypted(stored) else stored
