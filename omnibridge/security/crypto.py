"""Encryption of personal data at rest, and keyed hashes for looking it up.

Every encrypted value names the key it was sealed with, so keys can be rotated without a flag day:

``enc:v1:<kid>:<b64>``
    ``kid`` is the key id; ``b64`` is URL-safe base64 (no padding) of a 12-byte random nonce followed by the
    AES-256-GCM ciphertext and tag. An optional ``context`` (say ``"orders.ship_to"``) is bound in as
    associated data, so a value copied into another column does not decrypt there.

Keys (a :class:`Keyring`) come from, in order:

1. ``OMNIBRIDGE_DATA_KEYS``: ``KID:BASE64KEY[,KID:BASE64KEY...]``, the first one active (encrypts), the others
   only decrypt (older keys kept until ``omnibridge keys rotate`` has re-encrypted everything), with
   ``OMNIBRIDGE_INDEX_KEY`` (base64, 32 bytes) for blind indexes;
2. a key file named by ``OMNIBRIDGE_KEY_FILE``;
3. a default key file (next to a SQLite store);

a key file that does not exist yet is generated owner-only (0600) on first use.

A key file is JSON: ``{"active": "KID", "data": {"KID": "BASE64KEY", ...}, "index": "BASE64KEY"}``; data keys
are 32 random bytes (AES-256). The blind index key is separate from the data keys: a
:meth:`Keyring.blind_index` is HMAC-SHA256 of a normalised value, so equal values can be found without storing
them in clear.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from omnibridge.errors import OmnibridgeError

PREFIX = "enc:v1:"
BYTES_PREFIX = PREFIX.encode()
KEYS_ENV = "OMNIBRIDGE_DATA_KEYS"
INDEX_KEY_ENV = "OMNIBRIDGE_INDEX_KEY"
KEY_FILE_ENV = "OMNIBRIDGE_KEY_FILE"
KEY_BYTES = 32
_NONCE = 12


class DataKeyError(OmnibridgeError):
    """A key is missing, malformed, or does not open a value (wrong key, tampered value)."""


def _b64d(text: str, what: str) -> bytes:
    try:
        text = text.rstrip("=").replace("+", "-").replace("/", "_")
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise DataKeyError(f"{what} is not base64") from None


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _key(text: str, what: str) -> bytes:
    raw = _b64d(text.strip(), what)
    if len(raw) != KEY_BYTES:
        raise DataKeyError(f"{what} must be {KEY_BYTES} bytes of base64 (got {len(raw)} bytes)")
    return raw


@dataclass(frozen=True)
class Keyring:
    """The data keys (``active`` encrypts, all decrypt) and the blind index key.

    ``source`` says where the keys came from (for ``omnibridge keys status``); it never holds key material.
    """

    active: str
    data: Mapping[str, bytes]
    index: bytes
    source: str = "memory"
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.active not in self.data:
            raise DataKeyError(f"active key {self.active!r} is not among the data keys {sorted(self.data)}")
        for kid, key in self.data.items():
            if not kid or ":" in kid or len(key) != KEY_BYTES:
                raise DataKeyError(f"data key {kid!r}: expected an id without ':' and {KEY_BYTES} bytes")
            self._ciphers[kid] = AESGCM(key)
        if len(self.index) != KEY_BYTES:
            raise DataKeyError(f"the blind index key must be {KEY_BYTES} bytes")

    # -- encryption -----------------------------------------------------------------------------------

    def encrypt(self, plaintext: str, *, context: str = "") -> str:
        """``plaintext`` sealed with the active key, as ``enc:v1:<kid>:<b64>``."""
        return self.encrypt_bytes(plaintext.encode(), context=context).decode()

    def decrypt(self, value: str, *, context: str = "") -> str:
        """The plaintext of an ``enc:v1:`` value; raises :class:`DataKeyError` for an unknown key id or a value
        that does not authenticate (tampered, or sealed under another context)."""
        return self.decrypt_bytes(value.encode(), context=context).decode()

    def encrypt_bytes(self, plaintext: bytes, *, context: str = "") -> bytes:
        """Like :meth:`encrypt`, for bytes (raw webhook bodies): ``b"enc:v1:<kid>:<b64>"``."""
        nonce = secrets.token_bytes(_NONCE)
        sealed = self._ciphers[self.active].encrypt(nonce, plaintext, context.encode() or None)
        return f"{PREFIX}{self.active}:{_b64e(nonce + sealed)}".encode()

    def decrypt_bytes(self, value: bytes, *, context: str = "") -> bytes:
        """The plaintext of a ``b"enc:v1:..."`` value (see :meth:`decrypt`)."""
        kid, blob = _split(value)
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise DataKeyError(
                f"a value is encrypted with key {kid!r}, which is not configured (known: {sorted(self.data)}); "
                f"set {KEYS_ENV} or {KEY_FILE_ENV} to the keys this store was written with"
            )
        raw = _b64d(blob, f"value encrypted with key {kid!r}")
        try:
            return cipher.decrypt(raw[:_NONCE], raw[_NONCE:], context.encode() or None)
        except InvalidTag:
            raise DataKeyError(f"a value encrypted with key {kid!r} does not authenticate (tampered?)") from None

    def needs_rotation(self, value: str | bytes) -> bool:
        """True when ``value`` is encrypted with another key than the active one (or not encrypted at all)."""
        raw = value.encode() if isinstance(value, str) else value
        return not is_encrypted(raw) or _split(raw)[0] != self.active

    # -- blind index --------------------------------------------------------------------------------------

    def blind_index(self, value: str, *, purpose: str = "") -> str:
        """HMAC-SHA256 (hex) of ``value`` under the index key, for equality lookups; normalise ``value`` first
        (say, a lower-cased email). ``purpose`` separates indexes of different fields."""
        message = f"{purpose}\x00{value}".encode()
        return hmac.new(self.index, message, hashlib.sha256).hexdigest()

    # -- serialisation ----------------------------------------------------------------------------------------

    def to_json(self) -> str:
        """The key file form (holds key material: write it owner-only)."""
        return json.dumps(
            {"active": self.active, "data": {k: _b64e(v) for k, v in self.data.items()}, "index": _b64e(self.index)},
            indent=2,
        )


def is_encrypted(value: str | bytes | None) -> bool:
    """True for an ``enc:v1:`` value."""
    if value is None:
        return False
    return value.startswith(BYTES_PREFIX) if isinstance(value, bytes) else value.startswith(PREFIX)


def key_id(value: str | bytes) -> str:
    """The key id of an ``enc:v1:`` value."""
    return _split(value.encode() if isinstance(value, str) else value)[0]


def _split(value: bytes) -> tuple[str, str]:
    if not value.startswith(BYTES_PREFIX):
        raise DataKeyError("a value expected to be encrypted (enc:v1:KID:DATA) is not")
    kid, sep, blob = value[len(BYTES_PREFIX) :].partition(b":")
    if not sep:
        raise DataKeyError("an encrypted value has no key id (expected enc:v1:KID:DATA)")
    return kid.decode(errors="replace"), blob.decode(errors="replace")


def new_keyring(*, source: str = "memory") -> Keyring:
    """A keyring with one fresh random data key and a fresh index key."""
    kid = "k" + secrets.token_hex(4)
    return Keyring(kid, {kid: secrets.token_bytes(KEY_BYTES)}, secrets.token_bytes(KEY_BYTES), source)


def with_new_active_key(keyring: Keyring) -> Keyring:
    """``keyring`` with a fresh active data key; the older keys stay for reading, the index key is kept."""
    kid = "k" + secrets.token_hex(4)
    data = {kid: secrets.token_bytes(KEY_BYTES), **keyring.data}
    return Keyring(kid, data, keyring.index, keyring.source)


def parse_env(data_keys: str, index_key: str | None) -> Keyring:
    """A keyring from ``OMNIBRIDGE_DATA_KEYS`` / ``OMNIBRIDGE_INDEX_KEY`` values (see the module docstring)."""
    data: dict[str, bytes] = {}
    for part in (p.strip() for p in data_keys.split(",")):
        if not part:
            continue
        kid, sep, key = part.partition(":")
        if not sep or not kid:
            raise DataKeyError(f"{KEYS_ENV}: expected KID:BASE64KEY[,KID:BASE64KEY...], got an entry without a key id")
        data[kid.strip()] = _key(key, f"{KEYS_ENV} key {kid.strip()!r}")
    if not data:
        raise DataKeyError(f"{KEYS_ENV} is set but holds no key: expected KID:BASE64KEY[,KID:BASE64KEY...]")
    if not index_key:
        raise DataKeyError(f"{KEYS_ENV} is set without {INDEX_KEY_ENV}: set both (base64, {KEY_BYTES} bytes each)")
    return Keyring(next(iter(data)), data, _key(index_key, INDEX_KEY_ENV), f"environment ({KEYS_ENV})")


def read_key_file(path: Path) -> Keyring:
    """The keyring in key file ``path``; raises :class:`DataKeyError` naming the file and what is wrong."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataKeyError(f"cannot read key file {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise DataKeyError(f"key file {path} is not JSON: expected {{'active', 'data', 'index'}}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict) or "active" not in doc or "index" not in doc:
        raise DataKeyError(f"key file {path}: expected a JSON object with 'active', 'data' and 'index'")
    data = {str(kid): _key(str(key), f"key file {path} key {kid!r}") for kid, key in doc["data"].items()}
    return Keyring(str(doc["active"]), data, _key(str(doc["index"]), f"key file {path} index key"), f"file {path}")


def write_key_file(path: Path, keyring: Keyring, *, exclusive: bool = False) -> None:
    """Write ``keyring`` to ``path`` owner-only (0600), atomically (a crash leaves the old file or the new);
    ``exclusive``: raise :class:`FileExistsError` rather than replace an existing file (two first uses racing
    keep one key)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(keyring.to_json())
            out.flush()
            os.fsync(out.fileno())
        if exclusive:
            os.link(tmp, path)
            tmp.unlink()
        else:
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_keyring(default_file: Path | None, *, environ: Mapping[str, str] | None = None) -> Keyring:
    """The keyring from the environment, else the key file ``OMNIBRIDGE_KEY_FILE`` names, else ``default_file``; a
    key file that does not exist is generated (0600, in a 0700 folder when it creates the folder). Raises
    :class:`DataKeyError` when none is configured and there is no default.
    """
    env = os.environ if environ is None else environ
    if env.get(KEYS_ENV):
        return parse_env(env[KEYS_ENV], env.get(INDEX_KEY_ENV))
    path = Path(env[KEY_FILE_ENV]) if env.get(KEY_FILE_ENV) else default_file
    if path is None:
        raise DataKeyError(f"no data keys: set {KEYS_ENV} and {INDEX_KEY_ENV}, or {KEY_FILE_ENV} to a key file")
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            write_key_file(path, new_keyring(), exclusive=True)
    return read_key_file(path)
