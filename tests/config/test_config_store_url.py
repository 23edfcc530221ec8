from __future__ import annotations

from pathlib import Path

import pytest

from omnibridge.config.store_url import check_store_url, mask_store_url, resolve_store_url, store_url_secrets


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///omnibridge.db",
        "sqlite:////abs/x.db",
        "sqlite://",
        "sqlite:///:memory:",
        "postgresql+psycopg://u:p@h/d",
    ],
)
def test_supported(url: str) -> None:
    assert check_store_url(url) is None


@pytest.mark.parametrize("url", ["mysql://u@h/d", "postgresql://u@h/d", "not a url", ""])
def test_unsupported(url: str) -> None:
    problem = check_store_url(url)
    assert problem is not None
    assert "sqlite" in problem.expected


def test_resolve(tmp_path: Path) -> None:
    assert resolve_store_url("sqlite:///a/b.db", tmp_path) == f"sqlite:///{tmp_path.resolve()}/a/b.db"
    assert resolve_store_url("sqlite:////abs/b.db", tmp_path) == "sqlite:////abs/b.db"
    assert resolve_store_url("sqlite:///:memory:", tmp_path) == "sqlite:///:memory:"
    assert resolve_store_url("postgresql+psycopg://u:p@h/d", tmp_path) == "postgresql+psycopg://u:p@h/d"


def test_mask_and_secrets() -> None:
    url = "postgresql+psycopg://u:p%40ss@h/d"
    assert mask_store_url(url) == "postgresql+psycopg://u:***@h/d"
    assert store_url_secrets(url) == ["p%40ss", "p@ss"]
    assert store_url_secrets("sqlite:///x.db") == []
