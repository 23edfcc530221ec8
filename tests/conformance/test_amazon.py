"""The standard connector conformance suite for the Amazon SP-API connector, against its emulator."""

from connectors.amazon.conformance import AmazonHarness
from omnibridge.testing import conformance_suite

TestAmazonConformance = conformance_suite(AmazonHarness)
