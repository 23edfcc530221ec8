"""karrio's PDF bundling runs on pypdf, never PyPDF2 (issue 15: PyPDF2 3.0.1 loops forever on crafted PDFs)."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest

pytest.importorskip("karrio.mappers.fedex", reason="karrio.fedex is not installed (./dev setup installs it)")

from pypdf import PdfReader

from connectors.karrio import pdf
from connectors.karrio.emulators.fedex import tiny_pdf
from connectors.karrio.gateway import build_gateway


class _Refused:
    """Stands in for PyPDF2's merger: any use of it fails the test."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("karrio parsed a PDF with PyPDF2")


def test_a_gateway_built_by_omnibridge_bundles_labels_with_pypdf_not_pypdf2(monkeypatch: pytest.MonkeyPatch) -> None:
    import PyPDF2

    monkeypatch.setattr(PyPDF2, "PdfMerger", _Refused)
    build_gateway(
        "fedex",
        {"api_key": "key", "secret_key": "secret", "account_number": "123456789"},
        server_url="http://127.0.0.1:9",
        test_mode=True,
    )
    import karrio.lib as lib

    label = base64.b64encode(tiny_pdf()).decode()
    bundled = lib.bundle_base64([label, label, label], "PDF")  # what karrio does with a multi-package label
    assert len(PdfReader(io.BytesIO(base64.b64decode(bundled))).pages) == 3


def test_the_audit_check_finds_the_pypdf_bundler_in_place() -> None:
    assert pdf.mitigation_problem() is None
