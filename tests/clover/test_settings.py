"""Clover profile settings: credentials stay secret, mistakes are named with what was expected."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from connectors.clover import connector
from connectors.clover.settings import CloverSettings


def test_defaults_are_clovers_limits_and_credentials_are_secret() -> None:
    settings = CloverSettings(merchant_id="TC4DGCJW1K4EW", access_token="tok-123", webhook_auth_code="code-9")
    assert (settings.requests_per_second, settings.max_concurrent) == (16.0, 5)
    assert str(settings.base_url) == "https://api.clover.com/"
    assert "tok-123" not in repr(settings)
    assert "code-9" not in repr(settings)
    assert connector.settings_model is CloverSettings


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"merchant_id": "tc4dgcjw1k4ew"}, "is not a Clover merchant id: expected the 13 upper-case letters"),
        ({"merchant_id": "SHORT"}, "e.g. TC4DGCJW1K4EW"),
        ({"max_concurrent": 0}, "max_concurrent"),
        ({"acess_token": "typo"}, "acess_token"),
    ],
)
def test_mistakes_are_named(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CloverSettings(**({"merchant_id": "TC4DGCJW1K4EW", "access_token": "t"} | values))
