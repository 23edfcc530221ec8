"""The conformance suite on the UPS connector (karrio's ups package against the UPS emulator)."""

from __future__ import annotations

import pytest

from omnibridge.testing import conformance_suite

pytest.importorskip("karrio.mappers.ups", reason="karrio.ups is not installed (./dev setup installs it)")
harness = pytest.importorskip("connectors.karrio.conformance")

TestUpsConformance = conformance_suite(harness.UpsHarness)
