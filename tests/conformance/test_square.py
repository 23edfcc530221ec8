"""The conformance suite on the Square connector and its emulator."""

from __future__ import annotations

from connectors.square.conformance import SquareHarness
from omnibridge.testing import conformance_suite

TestSquareConformance = conformance_suite(SquareHarness)
