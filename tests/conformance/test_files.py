"""The files connector (ERP/WMS folder feed) against the conformance kit; its emulator is the folder."""

from connectors.files.conformance import FilesHarness
from omnibridge.testing import conformance_suite

TestFilesConformance = conformance_suite(FilesHarness)
