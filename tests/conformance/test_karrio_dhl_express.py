"""The conformance suite on the DHL Express connector (karrio's mydhl package against the DHL Express emulator)."""

from __future__ import annotations

import pytest

from omnibridge.testing import conformance_suite

pytest.importorskip("karrio.mappers.mydhl", reason="karrio.mydhl is not installed (./dev setup installs it)")
harness = pytest.importorskip("connectors.karrio.conformance")

TestDhlExpressConformance = conformance_suite(harness.DhlExpressHarness)
