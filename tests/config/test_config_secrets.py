"""Promise 9: credentials read by the loader are registered for masking and never shown by it."""

from __future__ import annotations

import uuid

import pytest
from support import WriteFile

from omnibridge.config import ProfileErrors, load_profile, profile_summary
from omnibridge.logs import mask_secrets
from omnibridge.sdk.registry import ConnectorRegistry


def _secret() -> str:
    return f"sk-{uuid.uuid4().hex}"


def test_settings_secrets_and_store_password_are_registered_and_nothing_else(
    write: WriteFile, base_profile: str, registry: ConnectorRegistry
) -> None:
    api_key, db_password, plain_secret = _secret(), _secret(), _secret()
    write(
        "c.yaml",
        "connector: acme-wms\nsettings:\n  base_url: https://a.example\n"
        f"  api_key: {plain_secret}\n  warehouse_code: ${{WH}}\n",
    )
    text = base_profile + (
        "store:\n  url: postgresql+psycopg://ob:${DB_PASSWORD}@db/ob\n"
        "channels:\n  - {id: a, connector: acme-wms, profile: c.yaml}\n"
    )
    env = {"DB_PASSWORD": db_password, "WH": f"wh-{api_key}"}
    profile = load_profile(write("omnibridge.yaml", text), registry=registry, env=env)

    for value in (db_password, plain_secret):  # the store password from the environment, a SecretStr inline
        assert mask_secrets(f"log line with {value} inside") == "log line with *** inside"
    # a setting that is not a credential prints, even when it came from the environment
    assert mask_secrets(f"warehouse wh-{api_key}") == f"warehouse wh-{api_key}"

    shown = repr(profile) + profile_summary(profile) + repr(profile.channels[0])
    for value in (db_password, plain_secret):
        assert value not in shown
    assert "ob:***@db" in profile_summary(profile)


def test_error_messages_do_not_show_values_from_the_environment(write: WriteFile, base_profile: str) -> None:
    secret = _secret()
    text = base_profile.replace("    capabilities: [ships]\n", "    capabilities: [ships]\n    active: ${ACTIVE}\n", 1)
    with pytest.raises(ProfileErrors) as caught:
        load_profile(write("omnibridge.yaml", text), env={"ACTIVE": secret})
    [error] = caught.value.errors
    assert error.field == "locations[0].active"
    assert secret not in error.render()
    assert "hidden" in error.message


def test_error_messages_do_not_show_secret_settings(
    write: WriteFile, base_profile: str, registry: ConnectorRegistry
) -> None:
    write("c.yaml", "connector: acme-wms\nsettings:\n  base_url: https://a.example\n  api_key: [1, 2]\n  token: abc\n")
    path = write("omnibridge.yaml", base_profile + "channels:\n  - {id: a, connector: acme-wms, profile: c.yaml}\n")
    with pytest.raises(ProfileErrors) as caught:
        load_profile(path, registry=registry, env={})
    text = str(caught.value)
    assert "settings.api_key: invalid value (a list)" in text
    assert "abc" not in text.replace("settings.token", "")


def test_store_password_is_masked_in_errors_about_the_url(write: WriteFile, base_profile: str) -> None:
    secret = _secret()
    with pytest.raises(ProfileErrors) as caught:
        load_profile(write("omnibridge.yaml", base_profile + f"store:\n  url: mysql://u:{secret}@h/db\n"), env={})
    assert secret not in str(caught.value)


def test_validator_messages_are_not_shown_for_secret_fields(
    write: WriteFile, base_profile: str, registry: ConnectorRegistry
) -> None:
    from pydantic import BaseModel, SecretStr, field_validator

    from omnibridge.sdk.metadata import ConnectorKind, ConnectorSpec
    from omnibridge.sdk.registry import RegisteredConnector

    class Strict(BaseModel):
        api_token: SecretStr

        @field_validator("api_token")
        @classmethod
        def _check(cls, value: SecretStr) -> SecretStr:
            raise ValueError(f"token {value.get_secret_value()} has the wrong prefix")

    spec = ConnectorSpec(
        id="strict", label="S", kind=ConnectorKind.POS, settings_model=Strict, capabilities=frozenset()
    )
    secret = _secret()
    write("c.yaml", f"connector: strict\nsettings:\n  api_token: {secret}\n")
    path = write("omnibridge.yaml", base_profile + "channels:\n  - {id: a, connector: strict, profile: c.yaml}\n")
    with pytest.raises(ProfileErrors) as caught:
        load_profile(path, registry=ConnectorRegistry({"strict": RegisteredConnector(spec, "x:y", None, None)}, []))
    [error] = caught.value.errors
    assert error.field == "settings.api_token"
    assert secret not in error.render()
