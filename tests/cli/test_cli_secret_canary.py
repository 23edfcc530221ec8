"""Canary: a credential never prints (logs, CLI errors); ordinary words, URLs and database paths always do."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omnibridge.cli.app import app
from omnibridge.config import load_profile
from omnibridge.errors import OmnibridgeError
from omnibridge.logs import configure_logging, get_logger

ORDINARY = "HTTP 401 Unauthorized: This API refused the request; credentials: see the docs; Basic authentication"


def canary_profile(tmp_path: Path, base_profile: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str, str, Path]:
    """A profile whose channel's api_key (a SecretStr) and base URL both come from the environment."""
    key = f"canary-{uuid.uuid4().hex}"
    url = f"https://wms-{uuid.uuid4().hex[:8]}.example.test/api/v2"
    database = tmp_path / "session-token-store.db"
    monkeypatch.setenv("ACME_KEY", key)
    monkeypatch.setenv("ACME_URL", url)
    (tmp_path / "acme.yaml").write_text(
        "connector: acme-wms\nsettings:\n  base_url: ${ACME_URL}\n  api_key: ${ACME_KEY}\n"
        "  warehouse_code: ${WH:-MAIN}\n",
        encoding="utf-8",
    )
    profile = tmp_path / "omnibridge.yaml"
    profile.write_text(
        base_profile
        + f"store:\n  url: sqlite:///{database}\nchannels:\n  - {{id: wms, connector: acme-wms, profile: acme.yaml}}\n",
        encoding="utf-8",
    )
    load_profile(profile)  # registers the credentials, as every command does
    return profile, key, url, database


def test_logs_hide_the_credential_and_keep_ordinary_text(
    tmp_path: Path, base_profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, key, url, database = canary_profile(tmp_path, base_profile, monkeypatch)
    buffer = io.StringIO()
    configure_logging(json=True, stream=buffer)
    get_logger("canary").error(
        f"{ORDINARY} (key {key})", url=url, path=str(database), detail=f"GET {url}?api_key={key} at {database}"
    )
    [line] = [json.loads(text) for text in buffer.getvalue().splitlines()]
    assert key not in buffer.getvalue()
    assert line["event"] == f"{ORDINARY} (key ***)"
    assert (line["url"], line["path"]) == (url, str(database))
    assert line["detail"] == f"GET {url}?api_key=*** at {database}"


def test_cli_errors_hide_the_credential_and_keep_ordinary_text(
    tmp_path: Path, base_profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile, key, url, database = canary_profile(tmp_path, base_profile, monkeypatch)

    async def failing(_: Path) -> None:
        raise OmnibridgeError(f"{ORDINARY}: {url} answered for key {key}; store {database}")

    monkeypatch.setattr("omnibridge.cli.sync.run_sync_once", failing)
    result = CliRunner().invoke(app, ["sync", "--once", "--profile", str(profile)])
    assert result.exit_code == 1
    assert key not in result.stderr + result.stdout
    assert result.stderr == f"error: {ORDINARY}: {url} answered for key ***; store {database}\n"
