"""Testing tools for connector authors (the conformance kit). See :mod:`omnibridge.testing.harness`."""

from omnibridge.testing.harness import (
    ConformanceHarness,
    ConformanceSession,
    EmulatorControl,
    FileOutcome,
    MapperFixture,
    WebhookVector,
)

__all__ = [
    "ConformanceHarness",
    "ConformanceSession",
    "EmulatorControl",
    "FileOutcome",
    "MapperFixture",
    "WebhookVector",
]
