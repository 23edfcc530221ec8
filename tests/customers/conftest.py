"""Customers' tests run with fixed data keys from the environment (no key file is written)."""

from __future__ import annotations

import base64

import pytest

from omnibridge.security.crypto import INDEX_KEY_ENV, KEYS_ENV


@pytest.fixture(autouse=True)
def data_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEYS_ENV, "t1:" + base64.b64encode(b"d" * 32).decode())
    monkeypatch.setenv(INDEX_KEY_ENV, base64.b64encode(b"i" * 32).decode())
