"""The conformance suite on the USPS connector (karrio's usps package against the USPS emulator)."""

from __future__ import annotations

import pytest

from omnibridge.testing import conformance_suite

pytest.importorskip("karrio.mappers.usps", reason="karrio.usps is not installed (./dev setup installs it)")
harness = pytest.importorskip("connectors.karrio.conformance")

TestUspsConformance = conformance_suite(harness.UspsHarness)
