from __future__ import annotations

import io
import json
import logging
import string
import uuid

import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from omnibridge.logs import (
    MASK,
    configure_logging,
    get_logger,
    is_secret_key,
    mask_secrets,
    redact_mapping,
    register_secret,
)


def _json_lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def _unique_secret() -> str:
    return f"sk_{uuid.uuid4().hex}"


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "api_key",
        "X-Api-Key",
        "Authorization",
        "X-Shopify-Access-Token",
        "x-amz-access-token",
        "client_secret",
        "refresh_token",
        "signature",
        "credentials",
        "passwd",
        "Cookie",
    ],
)
def test_secret_key_names_are_recognised(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["sku", "quantity", "location_id", "event", "status"])
def test_ordinary_key_names_are_not_secret(key: str) -> None:
    assert not is_secret_key(key)


def test_values_under_secret_keys_are_masked_at_any_depth() -> None:
    buffer = io.StringIO()
    configure_logging(json=True, stream=buffer)
    get_logger("test").info(
        "calling vendor",
        client_secret="cs-111111",
        headers={"Authorization": "Bearer abcdef123", "Accept": "application/json"},
        settings={"nested": {"password": "hunter2hunter2"}},
        sku="ABC-1",
    )
    output = buffer.getvalue()
    for secret in ("cs-111111", "abcdef123", "hunter2hunter2"):
        assert secret not in output
    [line] = _json_lines(buffer)
    assert line["client_secret"] == MASK
    assert line["headers"] == {"Authorization": MASK, "Accept": "application/json"}
    assert line["settings"] == {"nested": {"password": MASK}}
    assert line["sku"] == "ABC-1"
    assert line["event"] == "calling vendor"


def test_registered_secret_is_masked_wherever_it_appears() -> None:
    secret = _unique_secret()
    register_secret(secret)
    buffer = io.StringIO()
    configure_logging(json=True, stream=buffer)
    log = get_logger("test")
    log.info(f"token is {secret} in the message", detail=[f"prefix-{secret}-suffix"], note=secret)
    try:
        raise RuntimeError(f"vendor echoed {secret}")
    except RuntimeError:
        log.exception("call failed")
    logging.getLogger("httpx").warning("stdlib line with %s", secret)
    output = buffer.getvalue()
    assert secret not in output
    lines = _json_lines(buffer)
    assert lines[0]["event"] == f"token is {MASK} in the message"
    assert lines[0]["detail"] == [f"prefix-{MASK}-suffix"]
    assert "RuntimeError: vendor echoed ***" in str(lines[1]["exception"])
    assert lines[2]["event"] == f"stdlib line with {MASK}"
    assert lines[2]["logger"] == "httpx"


def test_console_format_is_redacted_too() -> None:
    secret = _unique_secret()
    register_secret(secret)
    buffer = io.StringIO()
    configure_logging(json=False, stream=buffer)
    get_logger("test").warning("console", api_key="plain-key-value", value=secret)
    output = buffer.getvalue()
    assert "console" in output
    assert "plain-key-value" not in output
    assert secret not in output


def test_short_values_are_not_registered() -> None:
    register_secret("abc")
    assert mask_secrets("abc def") == "abc def"


def test_bearer_credentials_and_secret_pairs_in_free_text_are_masked() -> None:
    text = "GET https://x.test/a?access_token=qwerty12&page=2 Authorization: Bearer eyJhbGciOi.x.y"
    masked = mask_secrets(text)
    assert "qwerty12" not in masked
    assert "eyJhbGciOi" not in masked
    assert "page=2" in masked


def test_redact_mapping_leaves_flags_and_none_alone() -> None:
    assert redact_mapping({"signature_valid": True, "token": None, "token_value": "t0k3n-value"}) == {
        "signature_valid": True,
        "token": None,
        "token_value": MASK,
    }


def test_configuring_twice_keeps_one_handler_and_the_new_level() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(json=True, stream=first)
    configure_logging(json=True, level="WARNING", stream=second)
    assert [h.get_name() for h in logging.getLogger().handlers].count("omnibridge") == 1
    log = get_logger("test")
    log.info("hidden")
    log.warning("shown")
    assert first.getvalue() == ""
    assert [line["event"] for line in _json_lines(second)] == ["shown"]


def test_unknown_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
        configure_logging(level="LOUD")


def test_get_logger_configures_redaction_when_nothing_else_did(capsys: pytest.CaptureFixture[str]) -> None:
    structlog.reset_defaults()
    assert not structlog.is_configured()
    get_logger("test").warning("unconfigured", password="pw-123456")
    assert structlog.is_configured()
    captured = capsys.readouterr()
    assert "unconfigured" in captured.err
    assert "pw-123456" not in captured.err


@settings(max_examples=50, deadline=None)
@given(secret=st.text(alphabet=string.ascii_uppercase + string.digits, min_size=6, max_size=40))
def test_any_registered_secret_never_reaches_output(secret: str) -> None:
    register_secret(secret)
    buffer = io.StringIO()
    configure_logging(json=True, stream=buffer)
    get_logger("prop").error(f"a{secret}b", field=secret, nested={"x": [secret]})
    assert secret not in buffer.getvalue()
