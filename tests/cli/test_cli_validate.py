"""`omnibridge validate`: one clear line per problem (file, line, field, expectation), exit 1, no traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import WriteFile
from typer.testing import CliRunner

from omnibridge.cli.app import app

runner = CliRunner()

ACME_PROFILE = "connector: acme-wms\nsettings: {base_url: 'https://wms.example', api_key: k, warehouse_code: W}\n"


def _single_error(path: Path) -> str:
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_yaml_syntax_error(write: WriteFile, base_profile: str) -> None:
    path = write("omnibridge.yaml", base_profile.replace("  currency: USD", "   currency: USD"))
    line = _single_error(path)
    assert line.startswith(f"{path}:4: merchant: invalid YAML: mapping values are not allowed here")
    assert "(expected valid YAML" in line


def test_unknown_key(write: WriteFile, base_profile: str) -> None:
    path = write("omnibridge.yaml", base_profile + "chanels: []\n")
    line = _single_error(path)
    assert line == (
        f"{path}:11: chanels: unknown key 'chanels'; did you mean 'channels'? "
        "(expected one of: version, merchant, store, locations, channels, availability, routing, pickup, server, "
        "privacy, warehouse)"
    )


def test_wrong_type(write: WriteFile, base_profile: str) -> None:
    write("acme.yaml", ACME_PROFILE)
    path = write(
        "omnibridge.yaml",
        base_profile + "channels:\n  - id: wms\n    connector: acme-wms\n    profile: acme.yaml\n    priority: ten\n",
    )
    assert _single_error(path) == f"{path}:15: channels[0].priority: invalid value 'ten' (expected an integer)"


def test_missing_environment_variable(write: WriteFile, base_profile: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OB_DB_PASSWORD", raising=False)
    path = write("omnibridge.yaml", base_profile + "store:\n  url: postgresql+psycopg://ob:${OB_DB_PASSWORD}@db/ob\n")
    assert _single_error(path) == (
        f"{path}:12: store.url: environment variable 'OB_DB_PASSWORD' is not set "
        "(expected 'OB_DB_PASSWORD' set in the environment, or a default: ${OB_DB_PASSWORD:-value})"
    )


def test_unknown_connector(write: WriteFile, base_profile: str) -> None:
    write("acme.yaml", ACME_PROFILE.replace("acme-wms", "acme-wsm"))
    path = write(
        "omnibridge.yaml", base_profile + "channels:\n  - {id: wms, connector: acme-wsm, profile: acme.yaml}\n"
    )
    assert _single_error(path) == (
        f"{path}:12: channels[0].connector: unknown connector 'acme-wsm'; did you mean 'acme-wms'? "
        "(expected an installed connector: acme-wms)"
    )


def test_every_error_line_has_the_same_shape(write: WriteFile, base_profile: str) -> None:
    text = base_profile.replace("USD", "DOLLARS").replace("warehouse\n", "depot\n") + "extra: 1\n"
    result = runner.invoke(app, ["validate", str(write("omnibridge.yaml", text))])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 3
    for line in lines:
        assert re.match(r"^.+omnibridge\.yaml:\d+: [\w.\[\]]+: .+ \(expected .+\)$", line), line


def test_valid_profile_prints_a_summary(write: WriteFile, base_profile: str) -> None:
    write("acme.yaml", ACME_PROFILE)
    text = base_profile + (
        "store:\n  url: postgresql+psycopg://ob:hunter22@db/ob\n"
        "channels:\n  - {id: wms, connector: acme-wms, profile: acme.yaml}\n"
    )
    path = write("omnibridge.yaml", text)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert f"profile {path} is valid" in result.stdout
    assert "merchant:  Trail & Co (USD, America/Denver)" in result.stdout
    assert "store:     postgresql+psycopg://ob:***@db/ob" in result.stdout
    assert "locations: 1: wh (warehouse)" in result.stdout
    assert "channels:  1: wms (acme-wms)" in result.stdout
    assert "hunter22" not in result.output


def test_no_channels_note(write: WriteFile, base_profile: str) -> None:
    result = runner.invoke(app, ["validate", str(write("omnibridge.yaml", base_profile))])
    assert result.exit_code == 0
    assert "note: no channels are configured" in result.stdout


def test_default_profile_is_cwd_omnibridge_yaml(
    write: WriteFile, base_profile: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("omnibridge.yaml", base_profile)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "omnibridge.yaml is valid" in result.stdout


def test_profile_from_environment_variable(write: WriteFile, base_profile: str) -> None:
    path = write("elsewhere/shop.yaml", base_profile)
    result = runner.invoke(app, ["validate"], env={"OMNIBRIDGE_PROFILE": str(path)})
    assert result.exit_code == 0, result.output
    assert f"profile {path} is valid" in result.stdout


def test_missing_profile(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"{tmp_path / 'none.yaml'}: profile not found (expected an existing profile; create one with 'omnibridge init')"
    )


def test_an_empty_credential_is_refused(write: WriteFile, base_profile: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_KEY", "")
    acme = write(
        "acme.yaml",
        "connector: acme-wms\nsettings:\n  base_url: https://wms.example\n  api_key: ${ACME_KEY}\n"
        "  warehouse_code: W\n",
    )
    path = write(
        "omnibridge.yaml", base_profile + "channels:\n  - {id: wms, connector: acme-wms, profile: acme.yaml}\n"
    )
    line = _single_error(path)
    assert line == (
        f"{acme}:4: settings.api_key: this credential is empty (an environment variable that is unset or set to "
        "nothing?) (expected a non-empty value)"
    )
