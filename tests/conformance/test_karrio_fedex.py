"""The conformance suite on the FedEx connector (karrio's fedex package against the FedEx emulator)."""

from __future__ import annotations

import pytest

from omnibridge.testing import conformance_suite

pytest.importorskip("karrio.mappers.fedex", reason="karrio.fedex is not installed (./dev setup installs it)")
harness = pytest.importorskip("connectors.karrio.conformance")

TestFedexConformance = conformance_suite(harness.FedexHarness)
