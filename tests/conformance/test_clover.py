"""The standard connector conformance suite for the Clover connector, against its emulator."""

from connectors.clover.conformance import CloverHarness
from omnibridge.testing import conformance_suite

TestCloverConformance = conformance_suite(CloverHarness)
