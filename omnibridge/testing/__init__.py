"""Testing tools for connector authors (the conformance kit; see :mod:`omnibridge.testing.harness`), and
:mod:`omnibridge.testing.processes` for harnesses and benchmarks that run omnibridge as a real process."""

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
