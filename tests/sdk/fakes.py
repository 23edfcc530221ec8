"""Test doubles shared by the SDK tests."""

from __future__ import annotations

import importlib.metadata
import os

import pytest


class FakeClock:
    """A monotonic clock that moves only when something sleeps on it; records every wait."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


ACME_DISTRIBUTION = "omnibridge-acme-connector"
ACME_INSTALL_HINT = "pip install -e tests/plugins/omnibridge-acme-connector"


def acme_installed() -> bool:
    try:
        importlib.metadata.distribution(ACME_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


# Skipped locally when the example plugin is not installed; under CI=true the tests run and fail instead.
requires_acme = pytest.mark.skipif(
    not acme_installed() and os.environ.get("CI") != "true",
    reason=f"{ACME_DISTRIBUTION} is not installed (run `{ACME_INSTALL_HINT}`)",
)
