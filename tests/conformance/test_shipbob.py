"""The conformance suite on the ShipBob connector (3PL) and its emulator."""

from __future__ import annotations

from connectors.shipbob.conformance import ShipBobHarness
from omnibridge.testing import conformance_suite

TestShipBobConformance = conformance_suite(ShipBobHarness)
