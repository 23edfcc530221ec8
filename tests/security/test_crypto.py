"""The data-at-rest crypto: authenticated, key-identified values, key sources and blind indexes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from omnibridge.security.crypto import (
    DataKeyError,
    is_encrypted,
    key_id,
    load_keyring,
    new_keyring,
    parse_env,
    read_key_file,
    with_new_active_key,
    write_key_file,
)


def test_values_round_trip_and_name_their_key() -> None:
    keys = new_keyring()
    sealed = keys.encrypt("Ada Lovelace", context="orders.ship_to")
    assert sealed.startswith(f"enc:v1:{keys.active}:")
    assert "Ada" not in sealed
    assert key_id(sealed) == keys.active
    assert is_encrypted(sealed)
    assert keys.decrypt(sealed, context="orders.ship_to") == "Ada Lovelace"
    assert keys.encrypt("x") != keys.encrypt("x")  # a fresh nonce each time
    body = keys.encrypt_bytes(b'{"email": "a@b"}')
    assert is_encrypted(body)
    assert keys.decrypt_bytes(body) == b'{"email": "a@b"}'


def test_tampered_or_moved_values_do_not_decrypt() -> None:
    keys = new_keyring()
    sealed = keys.encrypt("secret", context="a")
    with pytest.raises(DataKeyError, match="does not authenticate"):
        keys.decrypt(sealed, context="b")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(DataKeyError):
        keys.decrypt(flipped, context="a")
    with pytest.raises(DataKeyError, match="not configured"):
        new_keyring().decrypt(sealed, context="a")


def test_rotation_keeps_old_keys_for_reading() -> None:
    old = new_keyring()
    sealed = old.encrypt("x")
    new = with_new_active_key(old)
    assert new.active != old.active
    assert new.decrypt(sealed) == "x"
    assert new.needs_rotation(sealed)
    assert not new.needs_rotation(new.encrypt("x"))
    assert new.blind_index("a@b", purpose="email") == old.blind_index("a@b", purpose="email")


def test_blind_index_is_keyed_and_separated_by_purpose() -> None:
    keys = new_keyring()
    assert keys.blind_index("a@b", purpose="email") == keys.blind_index("a@b", purpose="email")
    assert keys.blind_index("a@b", purpose="email") != keys.blind_index("a@b", purpose="phone")
    assert keys.blind_index("a@b") != new_keyring().blind_index("a@b")


def test_environment_keys_first_is_active() -> None:
    a, b = new_keyring(), new_keyring()
    env = {
        "OMNIBRIDGE_DATA_KEYS": f"new:{_b64(a.data[a.active])},old:{_b64(b.data[b.active])}",
        "OMNIBRIDGE_INDEX_KEY": _b64(a.index),
    }
    keys = load_keyring(None, environ=env)
    assert keys.active == "new"
    assert set(keys.data) == {"new", "old"}
    with pytest.raises(DataKeyError, match="OMNIBRIDGE_INDEX_KEY"):
        parse_env(env["OMNIBRIDGE_DATA_KEYS"], None)
    with pytest.raises(DataKeyError, match="32 bytes"):
        parse_env("k:c2hvcnQ", env["OMNIBRIDGE_INDEX_KEY"])


def test_default_key_file_is_generated_owner_only_once(tmp_path: Path) -> None:
    path = tmp_path / "store.db.keys.json"
    first = load_keyring(path, environ={})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keyring(path, environ={}).data == first.data
    assert read_key_file(path).active == first.active
    with pytest.raises(DataKeyError, match="no data keys"):
        load_keyring(None, environ={})


def test_key_file_from_environment_and_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    keys = new_keyring()
    write_key_file(path, keys)
    assert load_keyring(None, environ={"OMNIBRIDGE_KEY_FILE": str(path)}).data == keys.data
    path.write_text("nope")
    with pytest.raises(DataKeyError, match="not JSON"):
        read_key_file(path)
    with pytest.raises(DataKeyError, match="cannot read"):
        read_key_file(tmp_path / "missing.json")


def _b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode()
