"""The conformance suite on the example third-party plugin (``acme-wms``), in both of its write modes."""

from __future__ import annotations

import importlib.util
import os

import pytest

from omnibridge.testing import conformance_suite

# As in tests/sdk: skipped locally when the plugin is not installed; under CI=true it must be, so this fails.
if importlib.util.find_spec("omnibridge_acme") is None and os.environ.get("CI") != "true":
    pytest.skip(
        "omnibridge-acme-connector is not installed (run `pip install -e tests/plugins/omnibridge-acme-connector`)",
        allow_module_level=True,
    )

from omnibridge_acme.conformance import AcmeAdjustHarness, AcmeHarness

TestAcmeConformance = conformance_suite(AcmeHarness)
TestAcmeAdjustConformance = conformance_suite(AcmeAdjustHarness)
