from connectors.easypost.conformance import EasyPostHarness
from omnibridge.testing import conformance_suite

TestEasypostConformance = conformance_suite(EasyPostHarness)
