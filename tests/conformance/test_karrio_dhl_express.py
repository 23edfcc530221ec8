"""The conformance suite on the DHL Express connector (karrio's mydhl package against the DHL Express emulator)."""

from __future__ import annotations

import pytest

from omnibridge.testing import conformance_suite

pytest.importorskip("karrio.mappers.mydhl", reason="karrio.mydhl is not installed (pip install 'omnibridge[carriers]')")
harness = pytest.importorskip("connectors.karrio.conformance")

TestDhlExpressConformance = conformance_suite(harness.DhlExpressHarness)

# The carrier's ship endpoint has no idempotency key and karrio offers no lookup of a shipment by reference, so a
# purchase whose response was lost cannot be completed safely: the connector refuses to buy again (it may
# have been bought) rather than risk a second label. See /work/notes/karrio-findings.md.
TestDhlExpressConformance.test_idempotent_retry = pytest.mark.xfail(  # type: ignore[attr-defined]
    reason="carrier label purchase is not idempotent; a lost response is reported, never re-bought", strict=True
)(TestDhlExpressConformance.test_idempotent_retry)  # type: ignore[attr-defined]
