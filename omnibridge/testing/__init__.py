"""Testing tools for connector authors (the conformance kit). See :mod:`omnibridge.testing.harness`."""

from omnibridge.testing.harness import (
    ConformanceHarness,
    ConformanceSession,
    EmulatorControl,
    FileOutcome,
    MapperFixture,
    WebhookVector,
)
from omnibridge.testing.suite import conformance_suite

__all__ = [
    "ConformanceHarness",
    "ConformanceSession",
    "EmulatorControl",
    "FileOutcome",
    "MapperFixture",
    "WebhookVector",
    "conformance_suite",
]
